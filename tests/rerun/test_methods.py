"""Pruning methods: L1-norm, random, GReg-1, GReg-2 (growing regularisation) on tiny models."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from audit.core.catalog import ENGINE_METHODS, engine_method  # noqa: E402
from audit.errors import UnknownName  # noqa: E402
from audit.rerun.config import OptimizerCfg, PruneStageCfg, recipe_from_data  # noqa: E402
from audit.rerun.data import load_data  # noqa: E402
from audit.rerun.methods import greg_stage  # noqa: E402
from audit.rerun.models import build_model  # noqa: E402
from audit.rerun.prune import prune_groups, resolve_ratios  # noqa: E402
from audit.rerun.runs import run_recipe  # noqa: E402


def _setup(seed=0):
    torch.manual_seed(seed)
    model = build_model("resnet20", 10)
    data = load_data("digits", image_size=8, train_limit=64, test_limit=32)
    ratios = resolve_ratios("resnet20", 0.5)

    def batches_for(epoch):
        g = torch.Generator().manual_seed(epoch)
        return data.train.batches(32, g, False)

    return model, ratios, batches_for


def _norms(model, name):
    return model.get_submodule(name).weight.detach().abs().flatten(1).sum(1)


def test_registry_of_methods():
    assert set(ENGINE_METHODS) == {"l1", "random", "greg1", "greg2"}
    assert ENGINE_METHODS["greg1"].stage == "greg-selected" and ENGINE_METHODS["l1"].stage is None
    assert engine_method("GReg-2").id == "greg2" and engine_method("L1-norm").id == "l1"
    with pytest.raises(UnknownName):
        engine_method("taylor")


def test_greg1_shrinks_the_filters_l1_picks_and_prunes_them():
    model, ratios, batches_for = _setup()
    name = prune_groups(model, "resnet20")[0].name
    before = _norms(model, name).clone()
    cfg = PruneStageCfg(epochs=4, lr=1e-2, reg_step=0.5, reg_interval=1, reg_ceiling=2.0, stabilize=2)
    out = greg_stage(model, "resnet20", ratios, batches_for, torch.device("cpu"), cfg, OptimizerCfg(), uniform=False)
    assert out.finished and out.penalty == 2.0
    kept = out.kept[name]
    l1_kept = sorted(sorted(range(len(before)), key=lambda i: (-float(before[i]), i))[:len(kept)])
    assert kept == l1_kept  # GReg-1 prunes the filters L1 picked at the start
    after = _norms(model, name)
    dropped = [i for i in range(len(before)) if i not in kept]
    # the penalised filters shrank, relative to the kept ones
    assert float(after[dropped].mean() / before[dropped].mean()) < float(after[kept].mean() / before[kept].mean())


def test_greg2_penalises_all_then_picks_at_the_ceiling():
    model, ratios, batches_for = _setup()
    groups = prune_groups(model, "resnet20")
    cfg = PruneStageCfg(epochs=4, lr=1e-2, reg_step=0.5, reg_interval=1, reg_ceiling=1.0, stabilize=2)
    out = greg_stage(model, "resnet20", ratios, batches_for, torch.device("cpu"), cfg, OptimizerCfg(), uniform=True)
    assert out.finished
    for g in groups:
        assert len(out.kept[g.name]) == g.channels - int(Fraction(1, 2) * g.channels)
        norms = _norms(model, g.name)
        # kept = largest L1 norm after the uniform penalty
        dropped = [i for i in range(g.channels) if i not in out.kept[g.name]]
        assert float(norms[dropped].max()) <= float(norms[out.kept[g.name]].min()) + 1e-6


@pytest.mark.parametrize("method,label", [("greg1", "GReg-1"), ("greg2", "GReg-2"), ("random", "random filter pruning")])
def test_methods_run_as_recipes(tmp_path, method, label):
    rec = recipe_from_data({
        "name": f"tiny-{method}", "model": {"network": "resnet20"},
        "dataset": {"name": "digits", "image_size": 8, "train_limit": 64, "test_limit": 32},
        "pretrain": {"epochs": 1, "lr_schedule": "0:1e-1"},
        "pruning": {"method": method, "ratio": 0.5,
                    **({"stage": {"epochs": 2, "lr": 1e-2, "reg_step": 0.5, "stabilize": 1}} if "greg" in method
                       else {})},
        "finetune": {"epochs": 1, "lr_schedule": "0:1e-2"}, "batch_size": 32, "seed": 0})
    out = run_recipe(rec, tmp_path)
    r = out.result
    assert r.method == label
    assert r.compression.speedup > 1.5
    if "greg" in method:
        assert r.prune is not None and r.prune.epochs >= 1 and "growing-regularisation" in (r.prune.notes or "")
    # deterministic: the same recipe in another folder gives the same metrics
    again = run_recipe(rec, tmp_path / "again")
    assert again.result.top1 == r.top1


def test_l1_recipes_keep_their_hash():
    """Adding pruning.stage to the recipe model must not re-address existing l1 runs."""
    from audit.rerun.config import recipe_hash, resolved

    rec = recipe_from_data({"model": {"network": "resnet20"}, "dataset": {"name": "digits"},
                            "pretrain": {"epochs": 1, "lr_schedule": "0:1e-1"}, "pruning": {"ratio": 0.5},
                            "finetune": {"epochs": 1, "lr_schedule": "0:1e-2"}})
    assert "stage" not in resolved(rec)["pruning"]
    assert recipe_hash(resolved(rec))


def test_stage_with_a_one_shot_method_is_an_error():
    from audit.rerun.errors import RecipeError

    with pytest.raises(RecipeError, match=r"pruning: 'stage' is the pruning stage of greg1/greg2; l1 prunes in one shot"):
        recipe_from_data({"model": {"network": "resnet20"}, "dataset": {"name": "digits"},
                          "pretrain": {"epochs": 1, "lr_schedule": "0:1e-1"},
                          "pruning": {"method": "l1", "ratio": 0.5, "stage": {"epochs": 1}},
                          "finetune": {"epochs": 1, "lr_schedule": "0:1e-2"}})


# Recorded with the engine before the GReg stage ran on the shared training loop (its own loop then),
# fp32, one process, CPU (torch 2.14, 2 threads): the stage on the one loop must give the very same
# kept filters, stage account and final metrics.
GREG_PINS = [
    ("greg1", True, "4 iterations, penalty up to 1", 21.875, 68.75, 32.03125, "9.38",
     {
         "layer1.0.conv1": [2, 6, 7, 9, 11, 12, 13, 14],
         "layer1.1.conv1": [1, 4, 7, 8, 9, 11, 12, 15],
         "layer1.2.conv1": [0, 1, 2, 5, 6, 12, 13, 15],
         "layer2.0.conv1": [0, 2, 5, 7, 8, 9, 12, 14, 15, 16, 19, 23, 24, 25, 27, 29],
         "layer2.1.conv1": [1, 3, 5, 6, 7, 8, 9, 11, 16, 19, 20, 21, 24, 26, 27, 29],
         "layer2.2.conv1": [0, 1, 3, 4, 6, 7, 8, 9, 11, 19, 20, 21, 26, 27, 29, 31],
         "layer3.0.conv1": [1, 2, 3, 7, 8, 10, 11, 13, 15, 16, 18, 20, 21, 23, 26, 27, 28, 29, 30, 32, 34, 35, 36, 43, 45, 47, 49, 52, 54, 56, 58, 61],
         "layer3.1.conv1": [1, 3, 6, 9, 11, 13, 16, 17, 19, 20, 21, 22, 23, 25, 26, 29, 32, 36, 37, 40, 42, 43, 44, 46, 47, 49, 50, 51, 53, 56, 59, 62],
         "layer3.2.conv1": [0, 1, 2, 8, 9, 11, 15, 16, 19, 20, 26, 29, 30, 31, 32, 33, 37, 40, 41, 42, 43, 45, 47, 50, 51, 52, 53, 55, 57, 59, 60, 63],
     }),
    ("greg2", True, "5 iterations, penalty up to 1", 34.375, 68.75, 35.9375, "10.94",
     {
         "layer1.0.conv1": [2, 6, 7, 9, 11, 12, 13, 14],
         "layer1.1.conv1": [1, 4, 7, 8, 9, 11, 12, 15],
         "layer1.2.conv1": [0, 1, 2, 5, 6, 12, 13, 15],
         "layer2.0.conv1": [0, 2, 5, 7, 8, 9, 12, 14, 15, 16, 19, 23, 24, 25, 27, 29],
         "layer2.1.conv1": [1, 3, 5, 6, 7, 8, 9, 11, 16, 19, 20, 21, 24, 26, 27, 29],
         "layer2.2.conv1": [0, 1, 3, 4, 6, 7, 8, 9, 11, 19, 20, 21, 26, 27, 29, 31],
         "layer3.0.conv1": [1, 2, 3, 7, 8, 10, 11, 13, 15, 16, 18, 20, 21, 23, 26, 27, 28, 29, 30, 32, 34, 35, 36, 43, 45, 47, 49, 52, 54, 56, 58, 61],
         "layer3.1.conv1": [1, 3, 6, 9, 11, 13, 16, 17, 19, 20, 21, 22, 23, 25, 26, 29, 32, 36, 37, 40, 42, 43, 44, 46, 47, 49, 50, 51, 53, 56, 59, 62],
         "layer3.2.conv1": [0, 1, 2, 8, 9, 11, 14, 15, 16, 19, 20, 26, 29, 30, 31, 32, 33, 37, 40, 42, 43, 45, 47, 50, 51, 52, 53, 55, 57, 59, 60, 63],
     }),
    ("greg2", False, "8 iterations, penalty up to 0.4 (stage epochs ran out before the ceiling + stabilisation)", 40.625, 73.4375, 40.625, "20.31",
     {
         "layer1.0.conv1": [2, 6, 7, 9, 11, 12, 13, 14],
         "layer1.1.conv1": [1, 4, 7, 8, 9, 11, 12, 15],
         "layer1.2.conv1": [0, 1, 2, 5, 6, 12, 13, 15],
         "layer2.0.conv1": [0, 2, 5, 7, 8, 9, 12, 14, 15, 16, 19, 23, 24, 25, 27, 29],
         "layer2.1.conv1": [1, 3, 5, 6, 7, 8, 9, 11, 16, 19, 20, 21, 24, 26, 27, 29],
         "layer2.2.conv1": [0, 1, 3, 4, 6, 7, 8, 9, 11, 19, 20, 21, 26, 27, 29, 31],
         "layer3.0.conv1": [1, 2, 3, 7, 8, 10, 11, 13, 15, 16, 18, 20, 21, 23, 26, 27, 28, 29, 30, 32, 34, 35, 36, 43, 45, 47, 49, 52, 54, 56, 58, 61],
         "layer3.1.conv1": [1, 3, 6, 9, 11, 13, 16, 17, 19, 20, 21, 22, 23, 25, 26, 29, 32, 36, 37, 40, 42, 43, 44, 46, 47, 48, 49, 51, 53, 56, 59, 62],
         "layer3.2.conv1": [0, 1, 2, 8, 9, 11, 14, 15, 16, 19, 20, 26, 29, 30, 31, 32, 33, 37, 40, 42, 43, 45, 47, 50, 51, 52, 53, 55, 57, 59, 60, 63],
     }),
]


@pytest.mark.parametrize("method,finish,stage_note,top1,top5,train_acc,after_prune,kept", GREG_PINS,
                         ids=["greg1-finished", "greg2-finished", "greg2-epochs-ran-out"])
def test_greg_stage_results_are_pinned(tmp_path, method, finish, stage_note, top1, top5, train_acc, after_prune, kept):
    rec = recipe_from_data({
        "name": f"pin-{method}", "model": {"network": "resnet20"},
        "dataset": {"name": "digits", "image_size": 8, "train_limit": 128, "test_limit": 64},
        "pretrain": {"epochs": 1, "lr_schedule": "0:1e-1"},
        "pruning": {"method": method, "ratio": 0.5,
                    "stage": {"epochs": 2, "lr": 1e-2, "reg_step": 0.5 if finish else 0.05, "stabilize": 1}},
        "finetune": {"epochs": 2, "lr_schedule": "0:1e-2"}, "batch_size": 32, "seed": 0})
    out = run_recipe(rec, tmp_path)
    assert json.loads((out.run_dir / "prune.json").read_text())["kept"] == kept
    assert out.result.prune is not None and (out.result.prune.notes or "").split(": ", 1)[1].split(";")[0] == stage_note
    assert f"test top-1 right after pruning (before finetuning): {after_prune}" in (out.result.notes or "")
    last = out.history[-1]
    assert (last["top1"], last["top5"], last["train_acc"]) == (top1, top5, train_acc)


def test_a_hook_sees_the_true_gradients_under_a_grad_scaler():
    """Under a GradScaler the loop unscales before the hook, so a penalty added there (GReg's) is not
    divided by the loss scale: the step equals the unscaled one exactly (the scale is a power of two)."""
    from audit.rerun.train import TrainHook, make_optimizer, train_epoch

    class Record(TrainHook):
        def __init__(self):
            self.grads = []

        def after_backward(self, model):
            self.grads.append(model.weight.grad.clone())
            model.weight.grad.add_(0.5 * model.weight)  # an L2 penalty's gradient

    x, y = torch.randn(16, 4, generator=torch.Generator().manual_seed(0)), torch.arange(16) % 3
    results = []
    for scaler in (None, torch.amp.GradScaler("cpu", init_scale=2.0**10)):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 3)
        hook = Record()
        train_epoch(model, make_optimizer(model, 0.1, 0.9, 0.0, False), [(x[:8], y[:8]), (x[8:], y[8:])],
                    torch.device("cpu"), scaler=scaler, hook=hook)
        results.append((hook.grads, model.weight.detach().clone()))
    (plain_grads, plain_w), (scaled_grads, scaled_w) = results
    assert all(torch.equal(a, b) for a, b in zip(plain_grads, scaled_grads)) and len(plain_grads) == 2
    assert torch.equal(plain_w, scaled_w)


def test_a_hook_can_end_the_epoch():
    from audit.rerun.train import TrainHook, make_optimizer, train_epoch

    class StopAtThree(TrainHook):
        def after_step(self, iteration):
            return iteration == 3

    model = torch.nn.Linear(4, 3)
    batches = [(torch.randn(2, 4), torch.tensor([0, 1])) for _ in range(5)]
    stats = train_epoch(model, make_optimizer(model, 0.1, 0.0, 0.0, False), batches, torch.device("cpu"),
                        hook=StopAtThree(), first_iteration=1)
    assert stats["steps"] == 2 and stats["images"] == 4  # iterations 2 and 3 of the stage
