"""Pruning methods: L1-norm, random, GReg-1, GReg-2 (growing regularisation) on tiny models."""

from __future__ import annotations

from fractions import Fraction

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from audit.rerun.data import load_data  # noqa: E402
from audit.rerun.methods import METHODS, canonical, greg_stage  # noqa: E402
from audit.rerun.models import build_model  # noqa: E402
from audit.rerun.prune import prune_groups, resolve_ratios  # noqa: E402
from audit.rerun.config import OptimizerCfg, PruneStageCfg, recipe_from_data  # noqa: E402
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
    assert set(METHODS) == {"l1", "random", "greg1", "greg2"}
    assert METHODS["greg1"].stage is not None and METHODS["l1"].stage is None
    assert canonical("GReg-2") == "greg2" and canonical("L1-norm") == "l1" and canonical("taylor") is None


def test_greg1_shrinks_the_filters_l1_picks_and_prunes_them():
    model, ratios, batches_for = _setup()
    name = prune_groups(model, "resnet20")[0].name
    before = _norms(model, name).clone()
    cfg = PruneStageCfg(epochs=4, lr=1e-2, reg_step=0.5, reg_interval=1, reg_ceiling=2.0, stabilize=2)
    out = greg_stage(model, "resnet20", ratios, batches_for, torch.device("cpu"), cfg, OptimizerCfg(), uniform=False)
    assert out["finished"] and out["penalty"] == 2.0
    kept = out["kept"][name]
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
    assert out["finished"]
    for g in groups:
        assert len(out["kept"][g.name]) == g.channels - int(Fraction(1, 2) * g.channels)
        norms = _norms(model, g.name)
        # kept = largest L1 norm after the uniform penalty
        dropped = [i for i in range(g.channels) if i not in out["kept"][g.name]]
        assert float(norms[dropped].max()) <= float(norms[out["kept"][g.name]].min()) + 1e-6


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
