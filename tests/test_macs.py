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
