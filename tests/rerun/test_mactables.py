"""The torch-free MAC tables count exactly what the engine's counter counts, and are up to date."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.rerun

pytest.importorskip("torch")

from audit.core import macs  # noqa: E402
from audit.core.catalog import engine_networks, network  # noqa: E402
from audit.rerun.flops import flops_report  # noqa: E402
from audit.rerun.mactables import TABLE_DIR, main, table_text  # noqa: E402


def _settings(net: str) -> list[tuple]:
    """(ratios, overrides, skip, rounding, convention, input size) covering uniform, stage-wise, mapping, skip,
    residual streams, every rounding rule and every convention."""
    info = network(net)
    small = 64 if info.family == "tv-resnet" else 16
    if info.family == "vgg":
        return [(0.5, None, (), "ceil-pruned", "MACs", None), (0.3, None, (), "floor-pruned", "outputs-only", small),
                ({"0": 0.5, "7-10": 0.5}, {"3": 0.1}, ("conv8",), "floor-kept", "ptflops", None),
                (0.7, None, (), "ceil-pruned", "2xMACs", small)]
    stages = ",".join(["0"] + ["0.37"] * (len(info.ratio_layout) - 2) + ["0"])
    out = [(0.5, None, (), "ceil-pruned", "MACs", None),
           (stages, None, ("layer1.0", "layer2.1"), "floor-kept", "ptflops", small),
           ({"layer1": 0.6, "layer2.0": 0.2}, None, (), "floor-pruned", "no-projection", None),
           (0.95, None, (), "ceil-pruned", "outputs-only", small), (0.3, None, (), "floor-kept", "2xMACs", None)]
    if info.family == "tv-resnet" or info.shortcut == "B":
        out.append(({"layer2.residual": 0.25, "stem": 0.5, "layer1": 0.3}, None, (), "ceil-pruned", "ptflops", small))
        out.append(({"layer3.residual": 0.2}, None, (), "floor-kept", "no-projection", None))
    return out


_BIG = {"resnet110", "resnet110-optb", "resnet164"}


def _check(net: str, settings: list[tuple]) -> None:
    for ratios, overrides, skip, rounding, convention, size in settings:
        engine = flops_report(net, ratios, 7, size, overrides=overrides, skip=skip, rounding=rounding,
                              convention=convention).to_json()
        table = macs.flops_json(net, ratios, overrides=overrides, skip=skip, rounding=rounding,
                                convention=convention, input_size=size, classes=7)
        assert table == engine, (net, ratios, rounding, convention, size)


@pytest.mark.parametrize("net", [n for n in engine_networks() if n not in _BIG])
def test_table_count_equals_engine_count(net):
    """Every other setting of every engine network but the three deepest (those: the slow test)."""
    _check(net, _settings(net)[::2])


@pytest.mark.slow
@pytest.mark.parametrize("net", engine_networks())
def test_table_count_equals_engine_count_all_settings(net):
    _check(net, _settings(net))


@pytest.mark.parametrize("net", engine_networks())
def test_tables_are_up_to_date(net):
    assert (TABLE_DIR / f"{net}.json").read_text(encoding="utf-8") == table_text(net), \
        f"run python -m audit.rerun.mactables {net}"


def test_check_mode_reports_stale_tables(tmp_path, monkeypatch, capsys):
    import audit.rerun.mactables as mt

    monkeypatch.setattr(mt, "TABLE_DIR", tmp_path)
    assert main(["--check", "resnet20"]) == 1
    assert "stale MAC tables: resnet20" in capsys.readouterr().out
    (tmp_path / "resnet20.json").write_text(table_text("resnet20"), encoding="utf-8")
    assert main(["--check", "resnet20"]) == 0


@pytest.mark.parametrize("net,size,ratios", [("resnet56", 32, 0), ("resnet56", 32, 0.5), ("vgg16-2fc", 32, 0.5),
                                             ("resnet18", 64, {"layer2.residual": 0.5, "layer3": 0.3})])
def test_ptflops_convention_is_what_torch_pruning_prints(net, size, ratios):
    import warnings

    import torch

    tp = pytest.importorskip("torch_pruning")
    from audit.rerun.prune import pruned_architecture, resolve_ratios

    r = resolve_ratios(net, ratios)
    c = macs.count_macs(net, ratios, convention="ptflops", input_size=size, classes=10)
    plan = {k: int(row["kept"]) for k, row in zip(r, flops_report(net, ratios, 10, size).to_json()["layers"])}
    torch.manual_seed(0)
    model = pruned_architecture(net, 10, plan).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ops, params = tp.utils.count_ops_and_params(model, torch.zeros(1, 3, size, size))
    assert (int(ops), int(params)) == (c.pruned_macs, c.pruned_params)
