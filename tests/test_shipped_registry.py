"""The shipped registry validates, and holds what the seed paper reports."""

from __future__ import annotations

import json

import pytest

from audit.registry.store import default_registry_dir, load_registry, registry_files, validate

SHIPPED = default_registry_dir()

# The seed's Tab. 1 (ResNet-50 / ImageNet-1K): method, pruned top-1, speedup, as printed.
TAB1 = [
    ("SFP", 74.61, 1.72), ("DCP", 74.95, 2.25), ("GAL-0.5", 71.95, 1.76), ("Taylor-FO", 74.50, 1.82),
    ("CCP-AC", 75.32, 2.18), ("ProvableFP", 75.21, 1.43), ("HRank", 74.98, 1.78), ("GReg-1", 75.16, 2.31),
    ("GReg-2", 75.36, 2.31), ("CC", 75.59, 2.12), ("L1-norm", 75.24, 2.31),
    ("GAL-1", 69.88, 2.59), ("Factorized", 74.55, 2.33), ("LFPC", 74.46, 2.55), ("GReg-1", 74.85, 2.56),
    ("GReg-2", 74.93, 2.56), ("CC", 74.54, 2.68), ("L1-norm", 74.77, 2.56),
]


@pytest.mark.parametrize("path", registry_files(SHIPPED), ids=lambda p: p.name)
def test_every_shipped_file_validates(path):
    validate([path])


def test_whole_registry_validates():
    reg = load_registry()
    assert len(reg.entries) >= 60


def test_every_tab1_row_is_listed(cli):
    code, out, err = cli("registry", "list", "--network", "resnet50", "--dataset", "imagenet-1k", "--json")
    assert code == 0, err
    rows = json.loads(out)
    reg = load_registry()
    for method, top1, speedup in TAB1:
        canonical = reg.resolve_method(method)
        assert any(r["method"] == canonical and r["top1"] == top1 and r["speedup"] is not None
                   and abs(r["speedup"] - speedup) < 0.005 for r in rows), (method, top1, speedup)


def test_show_greg2_both_operating_points_with_the_90_epoch_schedule(cli):
    code, out, err = cli("registry", "show", "GReg-2")
    assert code == 0, err
    assert "2.31×" in out and "2.56×" in out
    assert "90 ep, 0:1e-2,30:1e-3,60:1e-4,75:1e-5" in out


def test_seed_reimplementation_base_is_inferred_not_stated():
    reg = load_registry()
    reimpl = [e for e in reg.results_of("L1-norm") if e.result.reimplementation_of == "li2017-l1-norm"
              and e.result.network == "resnet50"]
    assert len(reimpl) == 2
    for e in reimpl:
        assert e.result.base.identity is not None
        assert e.result.is_inferred("base.identity")


def test_original_l1_recipe_is_20_epochs_at_fixed_0001():
    reg = load_registry()
    # the paper's own ImageNet rows (the ShrinkBench grid rows appended to the file state no recipe)
    originals = [e for e in reg.results_of("L1-norm") if e.paper.id == "li2017-l1-norm"
                 and e.result.dataset == "imagenet-1k" and e.result.finetune is not None]
    assert originals
    for e in originals:
        ft = e.result.finetune
        assert ft.epochs == 20 and ft.lr_schedule.lrs() == (0.001,) * 20
