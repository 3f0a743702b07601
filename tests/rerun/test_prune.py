"""Physical L1-norm filter pruning: the kept filters, the small-dense function, the conventions."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from audit.rerun.errors import RatioError  # noqa: E402
from audit.rerun.models import NETWORKS, build_model, init_weights  # noqa: E402
from audit.rerun.prune import (  # noqa: E402
    kept_count,
    masked_copy,
    prune_groups,
    prune_model,
    pruned_architecture,
    resolve_ratios,
    select_filters,
)

CASES = [
    ("resnet20", 0.5, 16),
    ("resnet56", [0, 0.3, 0.5, 0.7, 0], 16),
    ("resnet18", 0.6, 32),
    ("resnet34", 0.5, 32),
    ("resnet50", [0, 0.6, 0.6, 0.6, 0.21, 0], 32),
    ("vgg19", {"1-15": 0.5}, 16),
    # the layouts beyond the seed's: residual streams with the stem, option B, bottleneck CIFAR, VGG-16 heads
    ("resnet18", {"stem": 0.5, "layer2.residual": 0.25, "layer3": 0.5, "layer4.residual": 0.3}, 32),
    ("resnet50", {"stem": 0.3, "layer1.residual": 0.5, "layer2": 0.4, "layer4.residual": 0.2}, 32),
    pytest.param("resnet56-optb", {"stem": 0.5, "layer2.residual": 0.4, "layer3": 0.5}, 16, marks=pytest.mark.slow),
    pytest.param("resnet164", {"layer1": 0.5, "stem": 0.25, "layer3.residual": 0.5}, 16, marks=pytest.mark.slow),
    ("vgg16-2fc", {"0": 0.5, "7-12": 0.5}, 16),
    ("vgg16-1fc", 0.6, 16),
]


def _randomise_bn(model: nn.Module, seed: int) -> None:
    """Non-trivial BN statistics/affine parameters, as after training."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.2)
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)


@pytest.mark.parametrize("net,ratio,size", CASES)
def test_small_dense_equals_masked_large(net, ratio, size):
    torch.manual_seed(1)
    model = build_model(net, 10)
    _randomise_bn(model, 2)
    model.eval()
    pruned, report = prune_model(model, net, resolve_ratios(net, ratio))
    masked = masked_copy(model, report).eval()
    if net == "resnet164":  # 164 layers of random BN: float32 rounding grows past the tolerance; compare in float64
        masked, pruned = masked.double(), pruned.double()
    x = torch.randn(4, 3, size, size, generator=torch.Generator().manual_seed(3), dtype=next(pruned.parameters()).dtype)
    with torch.no_grad():
        a, b = masked(x), pruned.eval()(x)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # and pruning really removed parameters
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in model.parameters())
    # the original model is untouched
    assert all(g.channels == model.get_submodule(g.name).out_channels for g in prune_groups(model, net))


@pytest.mark.parametrize("net,ratio,size", CASES)
def test_keeps_exactly_the_largest_l1_filters(net, ratio, size):
    torch.manual_seed(4)
    model = build_model(net, 10)
    ratios = resolve_ratios(net, ratio)
    pruned, report = prune_model(model, net, ratios)
    for g in prune_groups(model, net):
        w = model.get_submodule(g.name).weight.detach().numpy().astype(np.float64)
        norms = np.abs(w.reshape(w.shape[0], -1)).sum(axis=1)
        if g.kind != "conv":
            continue  # residual streams: ranked on their lead conv (test_residual_stream_surgery)
        n_removed = min(int(np.ceil(float(ratios[g.name]) * g.channels - 1e-9)), g.channels - 1)
        expected = np.sort(np.argsort(-norms, kind="stable")[: g.channels - n_removed])
        assert report.kept[g.name] == expected.tolist(), g.name
        # the small conv holds exactly those filters, in order
        new = pruned.get_submodule(g.name).weight.detach()
        assert new.shape[0] == len(expected)
        src = model.get_submodule(g.name).weight.detach()[torch.tensor(expected)]
        if new.shape[1] == src.shape[1]:
            torch.testing.assert_close(new, src, rtol=0, atol=0)


def test_conventions_resnets():
    m = build_model("resnet34", 10)
    names = [g.name for g in prune_groups(m, "resnet34")]
    assert len(names) == 16 and all(n.endswith(".conv1") for n in names)  # first conv of every basic block
    m50 = build_model("resnet50", 10)
    names50 = [g.name for g in prune_groups(m50, "resnet50")]
    assert len(names50) == 32 and not any("conv3" in n or "downsample" in n for n in names50)
    pruned, _ = prune_model(m50, "resnet50", resolve_ratios("resnet50", [0, 0.6, 0.6, 0.6, 0.21, 0]))
    blk = pruned.layer1[0]
    assert (blk.conv1.out_channels, blk.conv2.in_channels, blk.conv2.out_channels, blk.conv3.in_channels,
            blk.conv3.out_channels) == (25, 25, 25, 25, 256)
    assert pruned.conv1.out_channels == 64 and pruned.fc.in_features == 2048
    r20, _ = prune_model(build_model("resnet20", 10), "resnet20", resolve_ratios("resnet20", 0.5))
    assert r20.layer2[0].conv1.out_channels == 16 and r20.layer2[0].conv2.out_channels == 32


def test_vgg_last_conv_feeds_classifier():
    m = build_model("vgg19", 100)
    pruned, report = prune_model(m, "vgg19", resolve_ratios("vgg19", {"1-15": 0.5}))
    assert pruned.classifier.in_features == 256 and pruned.features[0].out_channels == 64
    assert pruned.features[3].out_channels == 32 and pruned.features[3].in_channels == 64


def test_ties_are_deterministic():
    w = torch.ones(6, 2, 3, 3)
    w[4] *= 2
    assert select_filters(w, 3) == [0, 1, 4]  # the largest, then the lowest indices among equals
    assert select_filters(w, 3) == select_filters(w.clone(), 3)


def test_random_baseline_shares_all_but_the_ranking():
    torch.manual_seed(0)
    m = build_model("resnet56", 10)
    ratios = resolve_ratios("resnet56", 0.5)
    p_l1, r_l1 = prune_model(m, "resnet56", ratios, "l1")
    p_rnd, r_rnd = prune_model(m, "resnet56", ratios, "random", seed=3)
    p_rnd2, r_rnd2 = prune_model(m, "resnet56", ratios, "random", seed=3)
    assert r_l1.plan() == r_rnd.plan()
    assert r_rnd.kept == r_rnd2.kept  # seeded
    assert r_rnd.kept != r_l1.kept
    assert [p.shape for p in p_l1.parameters()] == [p.shape for p in p_rnd.parameters()]


def test_scratch_architecture_is_freshly_initialised():
    torch.manual_seed(0)
    m = build_model("resnet20", 10)
    pruned, report = prune_model(m, "resnet20", resolve_ratios("resnet20", 0.5))
    torch.manual_seed(0)
    scratch = pruned_architecture("resnet20", 10, report.plan())
    assert [p.shape for p in scratch.parameters()] == [p.shape for p in pruned.parameters()]
    # new weights, not the large model's kept slices
    assert not torch.equal(scratch.layer1[0].conv2.weight, pruned.layer1[0].conv2.weight)
    # the family's initialisation on the small shapes: kaiming normal std = sqrt(2 / fan_in)
    w = scratch.layer3[0].conv2.weight  # 32 inputs x 3 x 3
    assert abs(float(w.detach().std()) - (2 / (32 * 9)) ** 0.5) < 0.01


@pytest.mark.parametrize("net,size", [(n, s) for n in sorted(NETWORKS) for s in (8, 16)
                                      if not (n.startswith("vgg") and s < 16)])  # VGGs: four max-pools need 16x16
def test_models_small_inputs(net, size):
    torch.manual_seed(0)
    m = build_model(net, 13).eval()
    with torch.no_grad():
        assert m(torch.randn(2, 3, size, size)).shape == (2, 13)


def test_cifar_resnet_depths_and_shortcut():
    for d, blocks in [(20, 3), (32, 5), (44, 7), (56, 9), (110, 18)]:
        m = build_model(f"resnet{d}", 10)
        assert len(m.layer1) == blocks
        convs = [x for x in m.modules() if isinstance(x, nn.Conv2d)]
        assert len(convs) == d - 1  # option A: the shortcut has no conv
    vgg = build_model("vgg19", 100)
    assert sum(isinstance(x, nn.Conv2d) for x in vgg.modules()) == 16
    assert [x for x in vgg.modules() if isinstance(x, nn.Linear)][0].in_features == 512


def test_init_is_deterministic():
    torch.manual_seed(5)
    a = build_model("resnet20", 10)
    torch.manual_seed(5)
    b = build_model("resnet20", 10)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    init_weights(a, "cifar-resnet")
    assert kept_count(3, resolve_ratios("resnet20", 0.5)["layer1.0.conv1"]) == 1


def test_residual_stream_surgery():
    """Li et al.'s ResNet-34-pruned-C: layer3's second convs, projection and readers share the kept channels."""
    torch.manual_seed(0)
    m = build_model("resnet34", 10)
    pruned, report = prune_model(m, "resnet34", resolve_ratios("resnet34", {"layer3.residual": 0.2}))
    kept = report.kept["layer3.residual"]
    assert len(kept) == 256 - 52  # ceil(0.2 * 256) = 52 removed
    w = m.layer3[0].downsample[0].weight.detach().abs().flatten(1).sum(1)  # ranked on the projection
    assert kept == sorted(torch.argsort(-w.double(), stable=True)[:len(kept)].tolist())
    assert all(b.conv2.out_channels == len(kept) for b in pruned.layer3)
    assert all(b.conv1.in_channels == len(kept) for b in list(pruned.layer3)[1:])
    assert pruned.layer4[0].conv1.in_channels == pruned.layer4[0].downsample[0].in_channels == len(kept)
    assert pruned.layer3[0].conv1.in_channels == 128 and pruned.layer3[0].conv1.out_channels == 256


def test_per_conv_list_and_unprunable_convs():
    r = resolve_ratios("resnet20", [0] + [0.5, 0] * 9)  # 19 convs: stem, then conv1/conv2 of 9 blocks
    assert r == resolve_ratios("resnet20", 0.5)
    with pytest.raises(RatioError, match="conv layer1.0.conv2 of resnet20 is not pruned by surgery"):
        resolve_ratios("resnet20", [0] + [0.5, 0.5] * 9)
    with pytest.raises(RatioError, match="share their output channels"):
        resolve_ratios("resnet56-optb", [0.1] + [0.5, 0.4] * 27 + [0, 0])


def test_recipe_skip_error_is_located(tmp_path):
    from audit.rerun.config import load_recipe
    from audit.rerun.errors import RecipeProblems

    p = tmp_path / "r.yaml"
    p.write_text("name: s\nmodel: {network: resnet20}\ndataset: {name: digits}\npruning:\n  ratio: 0.5\n"
                 "  skip: [layer1.0, layer1.9]\npretrain: {epochs: 1, lr_schedule: \"0:1e-1\"}\n"
                 "finetune: {epochs: 1, lr_schedule: \"0:1e-2\"}\n")
    with pytest.raises(RecipeProblems) as info:
        load_recipe(p)
    assert str(info.value).startswith(f"{p}:6: pruning.skip[1]: 'layer1.9' names no prunable layer of resnet20. Did you mean")


def test_greg_recipe_with_residual_streams_is_refused(tmp_path):
    from audit.rerun.config import load_recipe
    from audit.rerun.errors import RecipeProblems

    p = tmp_path / "r.yaml"
    p.write_text("name: s\nmodel: {network: resnet18}\ndataset: {name: digits}\npruning:\n  method: greg1\n"
                 "  ratio: {layer2.residual: 0.3}\npretrain: {epochs: 1, lr_schedule: \"0:1e-1\"}\n"
                 "finetune: {epochs: 1, lr_schedule: \"0:1e-2\"}\n")
    with pytest.raises(RecipeProblems, match=r"r.yaml:5: pruning.method: greg1's penalty covers the conv groups only"):
        load_recipe(p)
