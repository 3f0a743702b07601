"""Any torchvision CNN: the project's selection, Torch-Pruning's surgery; identical to the own surgery on the
seed's networks; the library's rounding never decides."""

from __future__ import annotations

import warnings
from fractions import Fraction

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")
pytest.importorskip("torch_pruning")

from torch import nn  # noqa: E402

from audit.rerun.anycnn import prune_with_graph, torchvision_model  # noqa: E402
from audit.rerun.errors import RatioError  # noqa: E402
from audit.rerun.models import build_model  # noqa: E402
from audit.rerun.prune import kept_count, prune_groups, prune_model, resolve_ratios, select_filters  # noqa: E402

warnings.filterwarnings("ignore", module="torch_pruning")


@pytest.mark.parametrize("net,ratios,size", [
    pytest.param("resnet56", "0,0.3,0.5,0.7,0", 32, marks=pytest.mark.slow),
    ("resnet56", "0,0.95,0.95,0.95,0", 32),
    pytest.param("resnet50", "0,0.6,0.6,0.6,0.21,0", 64, marks=pytest.mark.slow),
    ("vgg19", {"1-15": 0.5}, 32),
])
def test_graph_surgery_is_bit_identical_to_the_own_surgery(net, ratios, size):
    torch.manual_seed(0)
    dense = build_model(net, 10).eval()
    r = resolve_ratios(net, ratios)
    own, report = prune_model(dense, net, r)
    lib, lib_report = prune_with_graph(dense, {k: v for k, v in r.items() if v}, torch.zeros(1, 3, size, size))
    assert {k: v for k, v in report.kept.items() if k in lib_report.kept} == lib_report.kept
    a, b = own.state_dict(), lib.state_dict()
    assert list(a) == list(b)
    assert all(a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a)


def test_the_library_rounding_never_decides():
    # case tp-keeps-zero: Torch-Pruning's int(16 * (1 - 0.95)) = 0 would leave the layer unpruned
    torch.manual_seed(0)
    dense = build_model("resnet56", 10).eval()
    targets = {g.name: 0.95 for g in prune_groups(dense, "resnet56")}
    pruned, rep = prune_with_graph(dense, targets, torch.zeros(1, 3, 32, 32))
    assert pruned.layer1[0].conv1.out_channels == 1 and pruned.layer2[0].conv1.out_channels == 1
    assert pruned.layer3[8].conv1.out_channels == kept_count(64, Fraction(95, 100)) == 3


def _check_selection(model, pruned, rep, ratio):
    mods, new = dict(model.named_modules()), dict(pruned.named_modules())
    assert rep.kept
    for name, keep in rep.kept.items():
        conv = mods[name]
        assert len(keep) == kept_count(conv.out_channels, Fraction(str(ratio))) == new[name].out_channels
        assert keep == select_filters(conv.weight, len(keep))
        kept_w = conv.weight.detach()[torch.tensor(keep)]
        if new[name].in_channels == conv.in_channels:
            assert torch.equal(new[name].weight.detach(), kept_w)


@pytest.mark.slow
def test_mobilenet_v2():
    torch.manual_seed(0)
    m = torchvision_model("mobilenet_v2", 10).eval()
    x = torch.randn(2, 3, 32, 32)
    pruned, rep = prune_with_graph(m, 0.5, x)
    _check_selection(m, pruned, rep, 0.5)
    assert pruned.eval()(x).shape == (2, 10)
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in m.parameters())
    depthwise = [mod for mod in pruned.modules() if isinstance(mod, nn.Conv2d) and mod.groups > 1]
    assert all(d.groups == d.in_channels == d.out_channels for d in depthwise)
    again, rep2 = prune_with_graph(m, 0.5, x, method="random", seed=1)
    assert rep2.kept == prune_with_graph(m, 0.5, x, method="random", seed=1)[1].kept != rep.kept


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16_bn", "densenet121", "googlenet"])
def test_other_torchvision_cnns(name):
    torch.manual_seed(0)
    m = torchvision_model(name, 10).eval()
    x = torch.randn(1, 3, 64, 64)
    pruned, rep = prune_with_graph(m, 0.5, x)
    _check_selection(m, pruned, rep, 0.5)
    assert pruned.eval()(x).shape == (1, 10)


def test_bad_targets_are_one_line():
    m = build_model("resnet20", 10).eval()
    with pytest.raises(RatioError, match="not prunable convs of this model: layer9.conv1"):
        prune_with_graph(m, {"layer9.conv1": 0.5}, torch.zeros(1, 3, 16, 16))
    with pytest.raises(RatioError, match="outside"):
        prune_with_graph(m, 1.5, torch.zeros(1, 3, 16, 16))
