"""The torch-free MAC tables: published layouts counted to the MAC, layouts, rounding rules, errors."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest
from conftest import ROOT

from audit.core import catalog, macs
from audit.core.macs import LayoutError, MacCount, count_macs, has_table, kept_count
from audit.errors import AuditError, UnknownName

LI_R56_A_SKIP = ("layer1.7", "layer2.0", "layer3.0", "layer3.8")
LI_R56_B_SKIP = ("layer1.7", "layer1.8", "layer2.0", "layer2.7", "layer3.0", "layer3.8")
LI_R34_SKIP = ("layer1.0", "layer2.0", "layer2.3", "layer3.0", "layer3.5")  # rethinking's skip [2,8,14,16,26]


@pytest.mark.parametrize("net,ratios,skip,pruned,pct", [
    ("resnet56", "0,0.1,0.1,0.1,0", LI_R56_A_SKIP, 112_435_840, 10.40),
    ("resnet56", "0,0.6,0.3,0.1,0", LI_R56_B_SKIP, 90_907_264, 27.56),
    ("resnet110", "0,0.5,0,0,0", ("layer1.17",), 212_779_648, 15.86),
    ("resnet110", "0,0.5,0.4,0.3,0", ("layer1.17", "layer2.0", "layer3.0"), 155_124_352, 38.66),
])
def test_li_cifar_resnets(net, ratios, skip, pruned, pct):
    c = count_macs(net, ratios, skip=skip)
    assert c.pruned_macs == pruned and round(c.flops_reduction_pct, 2) == pct


def test_li_r56_b_as_a_mapping_equals_the_list():
    a = count_macs("resnet56", {"layer1": 0.6, "layer2": 0.3, "layer3": 0.1}, skip=LI_R56_B_SKIP)
    b = count_macs("resnet56", "layer1=0.6,layer2=0.3,layer3=0.1", skip=LI_R56_B_SKIP)
    assert a == b == count_macs("resnet56", [0, 0.6, 0.3, 0.1, 0], skip=LI_R56_B_SKIP)


def test_li_vgg16_a():
    # Li Tab. 2 / rethinking's vggprune.py: conv0 and conv7-12 at 50 %, head 512-512-10
    c = count_macs("vgg16-2fc", {"0": 0.5, "7-12": 0.5})
    assert (c.dense_macs, c.pruned_macs, round(c.flops_reduction_pct, 2)) == (313_463_808, 206_279_680, 34.19)
    assert (c.dense_params, c.pruned_params) == (14_987_722, 5_397_034)
    per_conv = count_macs("vgg16-2fc", [0.5, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])  # 13 convs
    assert per_conv == c
    one_fc = count_macs("vgg16-1fc", {"0": 0.5, "7-12": 0.5})
    assert one_fc.dense_macs == 313_463_808 - 512 * 512


@pytest.mark.parametrize("ratios,pct", [("0,0.3,0.3,0.3,0,0", 15.46), ("0,0.5,0.6,0.4,0,0", 24.19)])
def test_li_resnet34_a_b_without_projections(ratios, pct):
    c = count_macs("resnet34", ratios, skip=LI_R34_SKIP, convention="no-projection", rounding="floor-kept")
    assert round(c.flops_reduction_pct, 2) == pct
    with_proj = count_macs("resnet34", ratios, skip=LI_R34_SKIP)
    assert round(with_proj.flops_reduction_pct, 2) != pct


def test_li_resnet34_c_residual_stream():
    c = count_macs("resnet34", {"layer3.residual": 0.2}, convention="no-projection")
    assert c.pruned_macs == 3_374_446_592 and round(c.flops_reduction_pct, 1) == 7.4
    assert count_macs("resnet34", {"layer3.residual": 0.2}).pruned_macs == 3_391_105_024


def test_greg_resnet34_with_skips():
    c = count_macs("resnet34", "0,0.5,0.6,0.4,0,0", skip=LI_R34_SKIP)
    assert c.pruned_macs == 2_782_269_440 and round(c.speedup, 4) == 1.3168


@pytest.mark.parametrize("ratio,gmacs,speedup", [("0.1", 3.30, 1.11), ("0.5", 1.90, 1.93), ("0.95", 0.30, 12.06)])
def test_seed_tab4_row_unchanged(ratio, gmacs, speedup):
    c = count_macs("resnet34", ratio, classes=100)
    assert round(c.pruned_macs / 1e9, 2) == gmacs and round(c.speedup, 2) == speedup


def test_resnet50_at_its_own_size_and_classes():
    c = count_macs("resnet50", [0, 0.6, 0.6, 0.6, 0.21, 0])
    assert c.dense_macs == 4_089_184_256 and c.pruned_macs == 1_771_649_680
    small = count_macs("resnet50", [0, 0.6, 0.6, 0.6, 0.21, 0], input_size=32, classes=10)
    assert small.dense_macs < c.dense_macs / 40


def test_hrank_per_conv_lists_under_hrank_counting():
    r56 = [0.1] + [0.6] * 35 + [0.0] * 2 + [0.6] * 6 + [0.4] * 3 + [0.1, 0.4] * 4
    assert len(r56) == 55
    c = count_macs("resnet56", r56, convention="outputs-only", rounding="floor-pruned")
    assert c.pruned_macs == 62_715_530 and round(c.flops_reduction_pct, 1) == 50.0  # HRank README: 62.72M
    c110 = count_macs("resnet110", [0.1] + [0.4] * 108, convention="outputs-only", rounding="floor-pruned")
    assert c110.pruned_macs == 156_884_618  # HRank README: 156.90M
    with pytest.raises(LayoutError, match="not pruned by surgery.*outputs-only"):
        count_macs("resnet56", r56)


def test_conventions():
    base = count_macs("resnet56", 0.5)
    assert count_macs("resnet56", 0.5, convention="2xMACs").pruned_macs == 2 * base.pruned_macs
    pt = count_macs("resnet56", 0.5, convention="ptflops")
    assert pt.dense_macs > base.dense_macs and pt.dense_params == base.dense_params
    assert count_macs("resnet56", 0.5, convention="no-projection") == base  # option A: no projections
    assert count_macs("resnet56-optb", 0.5, convention="no-projection").dense_macs < count_macs(
        "resnet56-optb", 0.5).dense_macs


def test_rounding_rules():
    assert kept_count(64, Fraction(3, 10)) == 44 == kept_count(64, Fraction(3, 10), "floor-kept")
    assert kept_count(10, Fraction(7, 10), "floor-pruned") == 3
    assert kept_count(10, Fraction(65, 100)) == 3 and kept_count(10, Fraction(65, 100), "floor-pruned") == 4
    assert kept_count(10, Fraction(65, 100), "floor-kept") == 3
    for rule in macs.ROUNDINGS:  # the tp-keeps-zero case: 16 filters at 0.95 keep one, whatever the rule
        assert kept_count(16, Fraction(95, 100), rule) == 1
    with pytest.raises(LayoutError, match="unknown rounding rule 'round'"):
        count_macs("resnet56", 0.5, rounding="round")


def test_mac_count_properties():
    c = MacCount(200, 50, 10, 4)
    assert (c.speedup, c.flops_reduction_pct, c.params_reduction_pct) == (4.0, 75.0, 60.0)


def test_every_engine_network_has_a_table():
    assert all(has_table(n) for n in catalog.engine_networks())
    assert not has_table("mobilenetv2")


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: count_macs("resnet65", 0.5), UnknownName, "Did you mean 'resnet56'"),
    (lambda: count_macs("resnet56", [0, 0.5, 0.5]), LayoutError,
     "a ratio list for resnet56 has 5 entries [stem, layer1, layer2, layer3, fc], got 3 (or 55: one per conv"),
    (lambda: count_macs("resnet56", 0.5, skip=("layer1.9",)), LayoutError, "'layer1.9' names no prunable layer"),
    (lambda: count_macs("resnet56", [0.1, 0.5, 0.5, 0.5, 0]), LayoutError, "the stem of resnet56 is never pruned"),
    (lambda: count_macs("resnet56", 0.5, convention="FLOPs"), LayoutError, "unknown counting convention 'FLOPs'"),
    (lambda: count_macs("resnet56", "layer1=x"), LayoutError, "'x' for resnet56 layer1 is not a number"),
    (lambda: count_macs("resnet56", {"fc": 0.2}), LayoutError, "the fc of resnet56 is never pruned"),
])
def test_errors_are_one_line(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, AuditError) and msg in str(info.value) and "\n" not in str(info.value)


def test_skip_error_is_located():
    with pytest.raises(LayoutError) as info:
        count_macs("resnet20", 0.5, skip=("layer1.0", "layer1.9"))
    assert info.value.field == ("skip", 1)


def test_macs_module_never_imports_torch():
    code = ("import sys\nfrom audit.core.macs import count_macs\ncount_macs('resnet50', 0.5)\n"
            "assert 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# ---------------------------------------------------------------------- rerun flops from the tables
def _imported_after(argv: list[str]) -> set[str]:
    code = ("import contextlib, io, sys\nfrom audit.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main({argv!r}) == 0\n"
            "print('\\n'.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_rerun_flops_answers_without_torch():
    mods = _imported_after(["rerun", "flops", "--network", "resnet56", "--ratios", "0,0.6,0.3,0.1,0",
                            "--skip", "layer1.7,layer1.8", "--json"])
    assert "audit.core.macs" in mods
    for heavy in ("torch", "torchvision", "audit.rerun.flops"):
        assert heavy not in mods, heavy


def test_cli_skip_list_and_mapping(cli):
    import json

    code, out, _ = cli("rerun", "flops", "--network", "resnet56", "--ratios", "layer1=0.6,layer2=0.3,layer3=0.1",
                       "--skip", "layer1.7,layer1.8,layer2.0", "--skip", "layer2.7,layer3.0,layer3.8", "--json")
    d = json.loads(out)
    assert code == 0 and d["pruned_macs"] == 90_907_264 and round(d["flops_reduction_pct"], 2) == 27.56
    kept = {row["layer"]: row["kept"] for row in d["layers"]}
    assert kept["layer1.7.conv1"] == 16 and kept["layer1.6.conv1"] == 6 and kept["layer2.0.conv1"] == 32


def test_cli_vgg16_example(cli):
    code, out, _ = cli("rerun", "flops", "--network", "vgg16-2fc", "--ratios", "0=0.5,7-12=0.5")
    assert code == 0
    assert "speedup 1.5196x (34.19% MACs removed), params -63.99%" in " ".join(out.split())


def test_cli_conventions_and_rounding(cli):
    import json

    code, out, _ = cli("rerun", "flops", "--network", "resnet34", "--ratios", "0,0.3,0.3,0.3,0,0", "--skip",
                       ",".join(LI_R34_SKIP), "--convention", "no-projection", "--rounding", "floor-kept", "--json")
    d = json.loads(out)
    assert code == 0 and round(d["flops_reduction_pct"], 2) == 15.46
    assert d["convention_name"] == "no-projection" and d["rounding"] == "floor-kept"
    code, out, _ = cli("rerun", "flops", "--network", "resnet56", "--ratios", "0.5", "--convention", "2xMACs")
    assert code == 0 and "MACs (G, alt.)" in out


@pytest.mark.parametrize("args,msg", [
    (["--network", "resnet56", "--ratios", "0.5", "--skip", "layer1.9"], "'layer1.9' names no prunable layer"),
    (["--network", "resnet56", "--ratios", "0.5", "--rounding", "nearest"], "unknown rounding rule 'nearest'"),
    (["--network", "resnet56", "--ratios", "0.5", "--convention", "flops"], "unknown counting convention"),
    (["--network", "resnet56", "--ratios", "layer1:0.5"], "is not a number"),
    (["--network", "vgg16", "--ratios", "0.5"], "unknown network 'vgg16' for the rerun engine"),
])
def test_cli_bad_layouts_are_one_line(cli, args, msg):
    code, out, err = cli("rerun", "flops", *args)
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1 and msg in lines[0] and "Traceback" not in err


def test_flops_help_shows_the_layout_brackets(cli):
    from rich.text import Text

    from audit.cli.rerun import _RATIOS_HELP

    code, out, _ = cli("rerun", "flops", "--help")
    assert code == 0 and "[ stem, layer1, ..., fc ]" in " ".join(out.split())
    # a markup renderer keeps them too (rich takes "[stem, ...]" for a tag and drops it)
    assert Text.from_markup(_RATIOS_HELP).plain == _RATIOS_HELP


def test_flops_result_uses_the_results_dataset_and_convention(cli, base_registry):
    import json

    import yaml
    from conftest import paper, res, write

    r = res("r56-b", "L1-norm", 93.0, 1.99, dataset="cifar-100", network="resnet56", ft=(40, "0:1e-2"),
            base=None)
    r["compression"].update(layerwise_ratios=[0, 0.5, 0.5, 0.5, 0], ratio_layout="[stem, layer1, layer2, layer3, fc]",
                            flops={"dense": 0.25, "pruned": 0.126, "scale": "G", "convention": "2xMACs"})
    write(base_registry, "zz2099-test.yaml",
          yaml.safe_dump(paper("zz2099-test", [{"name": "Test", "description": "d"}], [{**r, "method": "L1-norm"}])))
    code, out, err = cli("rerun", "flops", "--result", "zz2099-test/r56-b", "--registry", str(base_registry),
                         "--json")
    assert code == 0, err
    d = json.loads(out)
    assert (d["num_classes"], d["input_size"], d["convention_name"]) == (100, 32, "2xMACs")
    assert d["dense_macs"] == 2 * count_macs("resnet56", 0.5, classes=100).dense_macs
    assert d["check"]["agrees"] is True
