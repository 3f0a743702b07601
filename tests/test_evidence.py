"""Evidence model v2: every form a published number takes, and the arithmetic checker.

The fixtures under ``tests/fixtures/evidence/`` are written in the shapes real tables print (a change
column, drop-only rows, error rates, absolute counts, a catalog extension, an erratum, per-conv ratios,
repeated finetuning, stripes in 2xMACs); the numbers are made up for the tests.
"""

from __future__ import annotations

import json

import pytest
from conftest import BASE, FIXTURES, SHIPPED

EVIDENCE = FIXTURES / "evidence"


@pytest.fixture(scope="module")
def reg():
    from audit.registry.store import load_registry

    return load_registry(EVIDENCE)


def _result(reg, key):
    return reg.find_result(key).result


def test_every_form_validates(cli):
    code, out, err = cli("registry", "validate", str(EVIDENCE))
    assert code == 0, err
    assert out.startswith("ok: 6 file(s)")


# ---------------------------------------------------------------------- accuracy forms
def test_change_column_is_stored_with_its_sign_convention(reg):
    r = _result(reg, "delta-table/r56-drop-column")
    assert r.top1_change.sign == "drop" and r.top1_change.gain == pytest.approx(-0.30)
    assert r.top1_gain == pytest.approx(-0.30)


def test_drop_only_results_are_accepted_and_compared_on_changes(reg):
    from audit.core.compare import compare_methods

    a, b = _result(reg, "drop-only/r56-dropa"), _result(reg, "drop-only/r56-dropb")
    assert a.top1 is None and a.top1_value is None and a.top1_gain == pytest.approx(-0.05)
    assert b.top1_gain == pytest.approx(-0.40)
    rep = compare_methods(reg, "DropA", "DropB", tolerance=0.05)
    (group,) = rep.groups
    (op,) = group.operating_points  # 45.0 % of FLOPs removed is 1.82x: one operating point
    pair = op.calibrated
    assert pair is not None and str(pair.setup) == "S1"
    assert pair.delta.top1 is None
    # compared on the drops: DropA loses 0.05, DropB 0.40 -> A's drop is 0.35 smaller
    assert pair.delta.drop == pytest.approx(-0.35)


def test_error_rate_gives_a_derived_top1(reg):
    from audit.core import fmt

    r = _result(reg, "error-rates/r56-grid")
    assert r.top1.mean is None and r.top1_value == pytest.approx(93.06)
    assert fmt.top1(r).startswith("93.06" + fmt.DERIVED)
    derived = {d.path: d for d in r.derived_values()}
    assert derived["top1"].rule == "100 - printed error 6.94"
    assert derived["compression.speedup"].value == pytest.approx(0.125 / 0.0910)
    assert derived["compression.params_reduction_pct"].value == pytest.approx(100 * (1 - 0.73 / 0.85))


def test_list_marks_derived_values(cli):
    code, out, _ = cli("registry", "list", "--registry", str(EVIDENCE), "--json")
    assert code == 0
    rows = {row["key"]: row for row in json.loads(out)}
    grid = rows["error-rates/r56-grid"]
    assert grid["top1"] == pytest.approx(93.06) and grid["speedup"] == pytest.approx(1.3736)
    assert set(grid["derived"].split()) >= {"top1", "speedup"}
    assert rows["delta-table/r56-right-delta"]["derived"] == "flops_reduction_pct"
    assert rows["drop-only/r56-dropa"]["top1"] is None
    assert rows["drop-only/r56-dropa"]["top1_change"] == pytest.approx(-0.05)


def test_runs_as_a_lower_bound(tmp_path):
    from audit.registry.schema import Metric

    m = Metric(mean=75.0, std=0.1, runs=3, runs_bound="at-least", statistic="mean", epoch="last")
    from audit.core import fmt

    assert fmt.metric(m) == "75.00±0.10 (n≥3)"
    with pytest.raises(ValueError, match="single-run"):
        Metric(mean=75.0, runs=3, statistic="single-run")
    with pytest.raises(ValueError, match="needs its value"):
        Metric(std=0.1)


# ---------------------------------------------------------------------- compression forms
def test_catalog_extension_absolute_params_and_superseded_values(reg):
    r = _result(reg, "catalog-extension/wrn")
    assert reg.network("wrn-16-8").family == "other" and reg.network("WRN-16-8").id == "wrn-16-8"
    assert r.compression.params.pruned == 7.04
    r110 = _result(reg, "catalog-extension/r110")
    old = {a.field: a for a in r110.alternatives}
    assert old["compression.flops.pruned"].value == 148.70 and old["compression.flops.pruned"].status == "superseded"
    assert r110.compression.flops.pruned == 156.90  # the current value is the field itself


def test_networks_the_catalog_must_hold():
    from audit.core import catalog

    for n in ("densenet40", "googlenet", "vgg16", "resnet110", "resnet164", "mobilenetv2"):
        assert n in catalog.NETWORKS
    assert catalog.NETWORKS["resnet50"].dense_macs == 4_089_184_256


def test_unknown_network_suggests_only_close_names(tmp_path, cli):
    import yaml
    from conftest import paper, res, write

    d = tmp_path / "reg"
    d.mkdir()
    write(d, "p.yaml", yaml.safe_dump(paper("p", [{"name": "M"}], [res("a", "M", 90.0, 2.0, network="densenet100",
                                                                          dataset="cifar-10")])))
    code, _, err = cli("registry", "validate", "--registry", str(d))
    assert code == 1
    assert "unknown network 'densenet100'. Did you mean " in err
    assert "'densenet40'" in err.split("Did you mean", 1)[1]
    assert "resnet" not in err.split("Did you mean", 1)[1].split("(")[0]
    assert "declare it under 'networks:'" in err


def test_network_declared_twice_names_both_files(tmp_path, cli):
    import shutil

    d = tmp_path / "reg"
    shutil.copytree(EVIDENCE, d)
    text = (EVIDENCE / "catalog-extension.yaml").read_text(encoding="utf-8")
    (d / "copy2.yaml").write_text(text.replace("id: catalog-extension", "id: copy2")
                                  .replace("name: ReadmeNet", "name: ReadmeNet2").replace("method: ReadmeNet",
                                                                                          "method: ReadmeNet2"),
                                  encoding="utf-8")
    code, _, err = cli("registry", "validate", "--registry", str(d))
    assert code == 1
    assert "copy2.yaml" in err and "network 'wrn-16-8' (or an alias of it) is already declared by" in err
    assert "catalog-extension.yaml" in err


def test_a_catalog_network_cannot_be_redeclared(tmp_path, cli):
    import shutil

    d = tmp_path / "reg"
    shutil.copytree(EVIDENCE, d)
    p = d / "catalog-extension.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("aliases: [WRN-16-8]", "aliases: [ResNet-56]"),
                 encoding="utf-8")
    code, _, err = cli("registry", "validate", "--registry", str(d))
    assert code == 1 and "already declared by the network catalog (networks.yaml)" in err


def test_per_conv_ratios_stem_and_repeats(reg):
    r = _result(reg, "per-conv/r56-per-layer")
    assert r.compression.conv_ratios[0] == 0.1 and r.compression.rounding == "floor-kept"
    assert r.finetune.repeats == "per-layer" and r.finetune.total_epochs is None
    r2 = _result(reg, "per-conv/r56-rounds")
    assert r2.finetune.total_epochs == 90
    assert any(d.path == "finetune.total_epochs" and d.value == 90 for d in r2.derived_values())


def test_repeated_finetuning_budget_is_unknown_in_compare(reg):
    from audit.core.classify import features

    f = features(_result(reg, "per-conv/r56-per-layer"))
    assert f.ft_epochs is None and f.ft_epochs_inf is None
    f2 = features(_result(reg, "per-conv/r56-rounds"))
    assert f2.ft_epochs == 90


def test_stripe_granularity_and_2xmacs(reg):
    r = _result(reg, "stripe-2xmacs/r56-stripes")
    assert r.granularity == "stripe" and r.compression.flops.convention == "2xMACs"


def test_granularity_not_stated_stays_unknown(reg, cli):
    """A result that states no granularity is not presumed filter pruning (a transcribed table row rarely
    says whether the method removes filters or single weights)."""
    r = _result(reg, "per-conv/r56-per-layer")
    assert r.granularity is None
    code, out, _ = cli("registry", "show", "li2017-l1-norm/resnet34-pruned-b", "--registry", str(BASE))
    assert code == 0 and "pruning, granularity not stated" in " ".join(out.split())


def test_unknown_granularity_is_one_line(tmp_path, cli):
    import shutil

    d = tmp_path / "reg"
    shutil.copytree(EVIDENCE, d)
    p = d / "stripe-2xmacs.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("granularity: stripe\n  dataset: cifar-10\n  network: resnet56"
                                                       "\n  top1_change: {value: 0.12",
                                                       "granularity: stripes\n  dataset: cifar-10\n  network: "
                                                       "resnet56\n  top1_change: {value: 0.12"), encoding="utf-8")
    code, _, err = cli("registry", "validate", "--registry", str(d))
    assert code == 1
    assert "stripe-2xmacs.yaml:8: results[0].granularity: unknown granularity 'stripes'. Did you mean 'stripe'" in err


def test_a_result_needs_some_accuracy(tmp_path, cli):
    import yaml
    from conftest import paper, write

    d = tmp_path / "reg"
    d.mkdir()
    r = {"id": "a", "method": "M", "dataset": "cifar-10", "network": "resnet56", "compression": {"speedup": 2.0},
         "sources": [{"where": "Tab. 1"}]}
    write(d, "p.yaml", yaml.safe_dump(paper("p", [{"name": "M"}], [r])))
    code, _, err = cli("registry", "validate", "--registry", str(d))
    assert code == 1 and "a result needs an accuracy: top1, top5, top1_change or top5_change" in err


def test_alternative_must_name_a_value(tmp_path, cli):
    import shutil

    d = tmp_path / "reg"
    shutil.copytree(EVIDENCE, d)
    p = d / "catalog-extension.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("field: compression.flops_reduction_pct",
                                                       "field: compression.flops.dense"), encoding="utf-8")
    code, _, err = cli("registry", "validate", "--registry", str(d))
    assert code == 1 and "'compression.flops.dense' names no value of this result" in err


# ---------------------------------------------------------------------- the checker
@pytest.fixture(scope="module")
def findings():
    from audit.core.catalog import NETWORKS
    from audit.registry.check import check_entries, mac_table_speedup
    from audit.registry.store import load_registry

    reg = load_registry(EVIDENCE)
    return check_entries(reg.entries, speedup_at=mac_table_speedup, networks={**NETWORKS, **reg.networks})


def _by(findings, key, check):
    return [f for f in findings.findings if f.key == key and f.check == check]


def test_wrong_change_column_is_flagged_with_the_recomputed_value(findings):
    (f,) = _by(findings, "delta-table/r56-wrong-delta", "delta")
    assert f.severity == "error" and f.recomputed == pytest.approx(0.30)
    assert "printed Δ +0.45" in f.message and "93.50 - 93.20 = +0.30" in f.message
    assert f.tolerance == pytest.approx(0.015)
    assert f.printed == {"top1": "93.50", "base.top1": "93.20", "top1_change": "0.45"}
    assert not _by(findings, "delta-table/r56-right-delta", "delta")
    assert not _by(findings, "delta-table/r56-drop-column", "delta")  # a drop column read in its own sign


def test_error_rate_and_speedup_arithmetic(findings):
    assert [f.check for f in findings.findings if f.key == "error-rates/r56-both"] == [
        "error-rate", "speedup-reduction", "std-zero"]
    (sp,) = _by(findings, "error-rates/r56-both", "speedup-reduction")
    assert sp.recomputed == pytest.approx(1.666667, abs=1e-5)
    assert not [f for f in findings.findings if f.key == "error-rates/r56-grid" and f.severity != "info"]


def test_convention_from_the_dense_count(findings):
    (f,) = _by(findings, "stripe-2xmacs/r56-stated-wrong", "convention")
    assert f.severity == "error" and "states MACs" in f.message and "is 2xMACs" in f.message
    assert not _by(findings, "stripe-2xmacs/r56-stripes", "convention")  # 2xMACs stated and right
    (note,) = _by(findings, "error-rates/r56-grid", "convention")
    assert note.severity == "info" and "is MACs" in note.message


def test_printed_precision_sets_the_tolerance():
    from audit.core.fmt import half_unit

    assert half_unit("93.53", 93.53) == pytest.approx(0.005)
    assert half_unit("2", 2.0) == 0.5
    assert half_unit("1.5e-3", 1.5e-3) == pytest.approx(5e-5)
    assert half_unit(None, 1.99) == pytest.approx(0.005)


def test_a_printed_199_against_a_computed_1993_is_fine(tmp_path):
    from conftest import write

    from audit.registry.check import check_entries
    from audit.registry.store import load_registry

    d = tmp_path / "reg"
    d.mkdir()
    write(d, "p.yaml", "paper: {id: p, title: T, authors: [A], venue: V, year: 2020}\nmethods: [{name: M}]\n"
                       "results:\n- {id: a, method: M, dataset: cifar-10, network: resnet56, top1: {mean: 93.0},\n"
                       "   compression: {speedup: 1.99, flops_reduction_pct: 49.8}, sources: [{where: T}]}\n"
                       "- {id: b, method: M, dataset: cifar-10, network: resnet56, top1: {mean: 93.0},\n"
                       "   compression: {speedup: 1.97, flops_reduction_pct: 49.8}, sources: [{where: T}]}\n")
    rep = check_entries(load_registry(d).entries)
    assert [f.key for f in rep.findings] == ["p/b"]


def test_an_error_rate_in_an_accuracy_field_and_a_top5_below_top1(tmp_path):
    """A base top-5 'accuracy' of 10.10 on ImageNet VGG-16 (a grid's top-5 error in its accuracy
    column) is reported as a likely error rate; a top-5 below the top-1 of the same network is an
    error; plausible values are left alone."""
    from conftest import write

    from audit.registry.check import check_entries
    from audit.registry.store import load_registry

    d = tmp_path / "reg"
    d.mkdir()
    write(d, "p.yaml", "paper: {id: p, title: T, authors: [A], venue: V, year: 2020}\nmethods: [{name: M}]\n"
                       "results:\n"
                       "- {id: err-in-acc, method: M, dataset: imagenet-1k, network: vgg16-imagenet,\n"
                       "   base: {top5: 10.10}, top5_change: {value: -0.3, sign: gain}, sources: [{where: T}]}\n"
                       "- {id: plausible, method: M, dataset: imagenet-1k, network: vgg16-imagenet,\n"
                       "   top1: {mean: 68.1}, top5: {mean: 88.4}, base: {top1: 71.6, top5: 90.4},\n"
                       "   sources: [{where: T}]}\n"
                       "- {id: swapped, method: M, dataset: imagenet-1k, network: resnet50,\n"
                       "   top1: {mean: 92.9}, top5: {mean: 76.1}, sources: [{where: T}]}\n")
    rep = check_entries(load_registry(d).entries)
    got = {(f.key, f.check, f.field) for f in rep.findings}
    assert ("p/err-in-acc", "accuracy-form", "base.top5") in got
    (form,) = [f for f in rep.findings if f.check == "accuracy-form" and f.key == "p/err-in-acc"]
    assert form.severity == "warning" and "100 - 10.10 = 89.9" in form.message
    assert ("p/swapped", "accuracy-order", "top5.mean") in got
    assert not [f for f in rep.findings if f.key == "p/plausible"]


def test_base_printed_as_an_error_rate(tmp_path, cli):
    """A base printed only as an error rate is entered as printed; its accuracy is derived (100 -
    error) for every consumer; both printed and not adding up to 100 is an error of the source."""
    from conftest import write

    from audit.registry.check import check_entries
    from audit.registry.store import load_registry

    d = tmp_path / "reg"
    d.mkdir()
    write(d, "p.yaml", "paper: {id: p, title: T, authors: [A], venue: V, year: 2020}\nmethods: [{name: M}]\n"
                       "results:\n"
                       "- {id: err-only, method: M, dataset: imagenet-1k, network: resnet50, top1: {error: 25.05},\n"
                       "   base: {top1_error: 23.99, top5_error: 7.07}, sources: [{where: Tab. 5}]}\n"
                       "- {id: both-wrong, method: M, dataset: imagenet-1k, network: resnet50, top1: {mean: 74.9},\n"
                       "   base: {top1: 76.15, top1_error: 24.99}, sources: [{where: Tab. 5}]}\n")
    reg = load_registry(d)
    r = next(e.result for e in reg.entries if e.result.id == "err-only")
    assert r.base.top1 == pytest.approx(76.01) and r.base.top5 == pytest.approx(92.93)
    assert r.top1_gain == pytest.approx(-1.06)
    rep = check_entries(reg.entries)
    (f,) = [f for f in rep.findings if f.check == "error-rate"]
    assert f.key == "p/both-wrong" and f.field == "base.top1" and "76.15" in f.message and "24.99" in f.message
    code, out, _ = cli("registry", "show", "p/err-only", "--registry", str(d))
    assert code == 0 and "76.01 (100 - printed error 23.99)" in " ".join(out.split())


def test_check_cli_exit_status_and_json(cli):
    code, out, _ = cli("registry", "check", "--registry", str(EVIDENCE), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["results"] == 13
    assert {f["check"] for f in data["findings"] if f["severity"] == "error"} == {
        "delta", "error-rate", "speedup-reduction", "convention"}
    code, out, _ = cli("registry", "check", str(EVIDENCE / "drop-only.yaml"), "--registry", str(EVIDENCE))
    assert code == 0 and out.strip().endswith("2 results checked: 0 errors, 0 warnings, 0 notes (--notes lists them)")


def test_shipped_check_md_is_current(cli, tmp_path):
    out = tmp_path / "CHECK.md"
    code, _, err = cli("registry", "check", "--write", str(out))
    assert code in (0, 1) and not err
    assert out.read_text(encoding="utf-8") == (SHIPPED / "CHECK.md").read_text(encoding="utf-8"), (
        "registry/CHECK.md is stale: run `prune-audit registry check --write registry/CHECK.md`")


def test_base_accuracy_that_does_not_belong_to_the_named_weights(tmp_path):
    from conftest import write

    from audit.core import catalog
    from audit.registry.check import check_entries
    from audit.registry.store import load_registry

    _, ck = catalog.checkpoint("TORCHVISION/resnet50/IMAGENET1K_V1")
    assert ck.top1 == 76.13 and "torchvision" in ck.source
    d = tmp_path / "reg"
    d.mkdir()
    write(d, "p.yaml", "paper: {id: p, title: T, authors: [A], venue: V, year: 2020}\nmethods: [{name: M}]\n"
                       "results:\n"
                       "- {id: a, method: M, dataset: imagenet-1k, network: resnet50, top1: {mean: 75.0},\n"
                       "   base: {identity: torchvision/resnet50/IMAGENET1K_V1, top1: 76.15}, sources: [{where: T}]}\n"
                       "- {id: b, method: M, dataset: imagenet-1k, network: resnet50, top1: {mean: 75.0},\n"
                       "   base: {identity: torchvision/resnet50/IMAGENET1K_V1, top1: 76.1}, sources: [{where: T}]}\n")
    rep = check_entries(load_registry(d).entries)
    assert [(f.key, f.check, f.severity) for f in rep.findings] == [("p/a", "base-checkpoint", "warning")]
    assert "base top-1 76.15 does not belong to torchvision/resnet50/IMAGENET1K_V1 (76.13" in rep.findings[0].message


def test_shipped_check_flags_the_seed_tab7_and_tab6_rows_and_nothing_right(shipped):
    """Case X1: the seed's Tab. 7 prints at ratios 0.3/0.5/0.7/0.9 the counts of 0.1/0.3/0.5/0.7 (seed PDF
    facts), and Tab. 6 prints 11.41x at r = 0.9 where conv + linear MACs give 11.58x."""
    from audit.core.catalog import NETWORKS
    from audit.registry.check import check_entries, mac_table_speedup

    rep = check_entries(shipped.entries, speedup_at=mac_table_speedup, networks={**NETWORKS, **shipped.networks})
    ratios = {f.key: f for f in rep.findings if f.check == "ratios"}
    seed = "wang2023-why-pruning-confusing/"
    t7 = {k: f for k, f in ratios.items() if k.startswith(seed + "t7-")}
    assert len(t7) == 24
    fits = {"r30": "ratio 0.1 fits", "r50": "ratio 0.3 fits", "r70": "ratio 0.5 fits", "r90": "ratio 0.7 fits"}
    for key, f in t7.items():
        assert fits[key.rsplit("-", 1)[1]] in f.message, f.message
    t6 = {k for k in ratios if k.startswith(seed + "t6-")}
    assert len(t6) == 6 and all(k.endswith("-r90") for k in t6)
    # every other flagged row is the same printed 11.41x / 19.31x of the seed authors' TPP tables
    others = {k for k in ratios if not k.startswith(seed)}
    assert others and all(k.startswith("wang2023-tpp/") and ("pr0.9-" in k or "pr0.95-" in k) for k in others)
    # a right row is not flagged: Tab. 4 at ratio 0.5 (1.93x) and GReg's layer-wise ResNet-50 rows
    assert seed + "t4-p30f90-1e-2-r50" not in ratios and "wang2021-greg/resnet50-greg2-2.31x" not in ratios


def test_same_rate_from_the_ratios_when_no_speedup_is_printed(tmp_path):
    """Case C09: two results with ratio 0.5 on ResNet-56 and no printed speedup are at one rate, and the
    speedup the ratio gives (1.99x, conv + linear MACs) is derived and marked."""
    from conftest import write

    from audit.core.classify import RATE, classify, features
    from audit.registry.store import load_registry

    d = tmp_path / "reg"
    d.mkdir()
    row = ("- {{id: {id}, method: {m}, dataset: cifar-10, network: resnet56, top1: {{mean: {t}}},\n"
           "   compression: {{pruning_ratio: 0.5}}, sources: [{{where: T}}]}}\n")
    write(d, "p.yaml", "paper: {id: p, title: T, authors: [A], venue: V, year: 2020}\n"
                       "methods: [{name: M1}, {name: M2}]\nresults:\n" + row.format(id="a", m="M1", t=93.0)
          + row.format(id="b", m="M2", t=92.5))
    reg = load_registry(d)
    a, b = (e.result for e in reg.entries)
    assert a.speedup == pytest.approx(1.99, abs=0.005)
    assert [d.rule for d in a.derived_values() if d.path == "compression.speedup"] == [
        "from the pruning ratios (MAC tables, conv + linear); the seed's layout: first conv of each block"]
    c = classify(features(a), features(b))
    assert c.criteria[RATE].outcome == "same"


def test_a_repeated_stage_shows_its_repeats():
    """A finetuning stage run once per pruned layer (HRank's '30×#layers', seed Tab. 3) is never shown as
    a plain 30 epochs."""
    from audit.core import fmt
    from audit.registry.schema import Stage

    assert fmt.stage(Stage(epochs=30, repeats="per-layer", lr_schedule="0.01, step (10/20)")).startswith(
        "30 ep per layer, ")
    assert fmt.stage(Stage(epochs=30, repeats=4)) == "30 ep ×4, LR n/r"
    assert fmt.stage(Stage(epochs=90)) == "90 ep, LR n/r"
