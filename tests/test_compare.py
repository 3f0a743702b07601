"""``prune-audit compare``: pairing, calibrated vs naive pairs, verdicts, cross-validation, --json, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import FT90, ROOT, TV, paper, res

from audit.cli import main

SCHEMA = ROOT / "docs" / "compare.schema.json"


@pytest.fixture()
def reg(tmp_path: Path) -> Path:
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha", "aliases": ["alpha-prune"]}], [
            res("r50-2.3x", "Alpha", 75.36, 2.31, prune={"epochs": 5}),
            res("r50-3x", "Alpha", 73.9, 3.06, prune={"epochs": 5}),
        ]),
        "beta2017-b.yaml": paper("beta2017-b", [{"name": "Beta", "aliases": ["L1"]}], [
            res("r50-orig", "Beta", 72.9, 2.35, ft=(20, "0:1e-3"), base=TV, prune={"epochs": 0}),
            res("r34", "Beta", 72.17, 1.32, ft=(20, "0:1e-3"), base=None, network="resnet34", prune={"epochs": 0}),
        ]),
        "gamma2023-c.yaml": paper("gamma2023-c", [], [
            res("beta-r50", "Beta", 75.24, 2.31, reimplementation_of="beta2017-b", prune={"epochs": 0},
                inferred={"base.identity": "presumed: the same torchvision model as Alpha"}),
        ]),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return tmp_path


def run_json(capsys, *argv: str) -> dict:
    assert main(["compare", *argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def validate(data: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


@pytest.mark.parametrize("name", ["compare.schema.json", "audit.schema.json"])
def test_committed_schemas_are_generated_from_the_models(name):
    from audit.core.views import SCHEMAS, schema_text

    assert name in SCHEMAS
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert committed == schema_text(name), "run: python -m audit.core.views docs"


def test_json_is_the_model_dump(capsys, reg):
    from audit.core.compare import compare_methods
    from audit.registry.store import load_registry

    rep = compare_methods(load_registry(reg), "Alpha", "Beta")
    assert run_json(capsys, "Alpha", "Beta", "--registry", str(reg)) == rep.model_dump(mode="json")
    cal = rep.groups[0].operating_points[0].calibrated
    assert cal is not None and cal.setup.rank == 5 and cal.setup.style == "green"
    (naive,) = rep.groups[0].operating_points[0].naive
    assert naive.rule1 is not None and naive.rule1.higher == "Beta" and naive.rule1.higher_lr == 1e-3
    assert naive.own_failures() == naive.failed_text  # every stronger level fails on its own criterion here
    assert naive.failed_text[:2] == ["S3.1: finetuning epochs differs (90 vs 20)",
                                     "S3.2: finetuning LR schedule differs (0:1e-2,30:1e-3,60:1e-4,75:1e-5 (90 ep) "
                                     "vs 0:1e-3 (20 ep))"]


def test_calibrated_and_naive_pairs(capsys, reg):
    rep = run_json(capsys, "alpha-prune", "l1", "--registry", str(reg))
    validate(rep)
    assert rep["a"] == "Alpha" and rep["b"] == "Beta"
    (g,) = rep["groups"]
    assert (g["dataset"], g["network"]) == ("imagenet-1k", "resnet50")
    op = g["operating_points"][0]
    assert op["speedup_text"] == "2.31-2.35×"
    cal = op["calibrated"]
    assert cal["b"]["key"] == "gamma2023-c/beta-r50"
    assert cal["setup"] == "S3.2" and cal["setup_label"] == "S3.2, base model inferred"
    assert cal["failed"] == {"S4.1": ["pruning epochs"], "S4.2": ["pruning epochs", "pruning LR schedule"]}
    assert cal["delta"]["top1"] == pytest.approx(0.12)
    assert cal["significant"] is None
    assert cal["significance"]["reason"] == "neither side reports std or runs"
    (naive,) = op["naive"]
    assert naive["b"]["key"] == "beta2017-b/r50-orig"
    assert naive["setup"] == "S2"
    assert naive["failed_text"][0] == "S3.1: finetuning epochs differs (90 vs 20)"
    assert naive["rule1"].startswith("Rule 1: Beta's finetuning stops at LR 1e-3")
    assert naive["delta"]["top1"] == pytest.approx(2.46)
    # verdict and cross-validation
    assert op["verdict"].startswith("at 2.31-2.35×: Alpha ahead of Beta (reimpl.) by 0.12 top-1 (75.36 vs 75.24) "
                                    "under S3.2, base model inferred")
    runs = op["cross_validation"]["runs"]
    assert runs[0]["method"] == "Alpha" and runs[0]["recipe"] == "20 epochs, 0:1e-3"
    assert runs[0]["recipe_from"] == "beta2017-b/r50-orig" and runs[0]["already_in_registry"] is None
    assert runs[1]["method"] == "Beta" and runs[1]["recipe"] == f"90 epochs, {FT90}"
    assert runs[1]["already_in_registry"] == "gamma2023-c/beta-r50"
    # Alpha alone at 3.06x; Beta alone on resnet34
    assert g["operating_points"][1]["only"] == "Alpha"
    assert rep["missing"] == [{"method": "Alpha", "dataset": "imagenet-1k", "network": "resnet34", "other": "Beta",
                               "other_results": 1}]


def test_rich_output_one_screen(capsys, reg, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    assert main(["compare", "Alpha", "Beta", "--registry", str(reg)]) == 0
    out = capsys.readouterr().out
    assert "S3.2, base model inferred" in out
    assert "S3.1: finetuning epochs differs (90 vs 20)" in out
    assert "Alpha has no result on imagenet-1k/resnet34" in out
    assert "Verdict" in out and "Cross-validation" in out
    assert "Alpha finetuned with Beta's recipe: 20 epochs, 0:1e-3" in out


def test_filters_and_tolerance(capsys, reg):
    rep = run_json(capsys, "Alpha", "Beta", "--network", "resnet50", "--registry", str(reg))
    assert rep["missing"] == []
    rep = run_json(capsys, "Alpha", "Beta", "--tolerance", "0.001", "--registry", str(reg))
    ops = rep["groups"][0]["operating_points"]
    assert [o["speedup_text"] for o in ops] == ["2.31×", "2.35×", "3.06×"]
    assert ops[1]["only"] == "Beta"


@pytest.mark.parametrize("argv, code, message", [
    (["Alpah", "Beta"], 2, "unknown method 'Alpah'. Did you mean 'Alpha', 'alpha-prune'?"),
    (["Alpha", "alpha-prune"], 1, "'Alpha' and 'alpha-prune' are the same method (Alpha); compare two different methods"),
    (["Alpha", "Beta", "--tolerance", "0"], 1, "tolerance must be positive (got 0)"),
    (["Alpha", "Beta", "--tolerance", "-0.1"], 1, "tolerance must be positive (got -0.1)"),
    (["Alpha", "Beta", "--network", "resnet34"], 1,
     "Alpha has no result on resnet34 (it has results on imagenet-1k/resnet50)"),
    (["Alpha", "Beta", "--dataset", "imagenet1k"], 2, "unknown dataset 'imagenet1k'. Did you mean 'imagenet-1k', 'imagenet-100'?"),
])
def test_bad_input_is_one_line(capsys, reg, argv, code, message):
    assert main(["compare", *argv, "--registry", str(reg)]) == code
    captured = capsys.readouterr()
    assert captured.err == f"prune-audit: error: {message}\n"


# ---------------------------------------------------------------------- the shipped registry
def test_shipped_greg2_vs_l1norm(capsys, shipped):
    rep = run_json(capsys, "GReg-2", "L1-norm", "--registry", str(ROOT / "registry"))
    validate(rep)
    g = next(g for g in rep["groups"] if (g["dataset"], g["network"]) == ("imagenet-1k", "resnet50"))
    by_rate = {op["speedup_text"]: op for op in g["operating_points"]}
    for rate in ("2.31×", "2.56×"):
        op = by_rate[rate]
        cal = op["calibrated"]
        assert cal["b"]["key"].startswith("wang2023-why-pruning-confusing/")
        assert cal["b"]["reimplementation_of"] == "li2017-l1-norm"
        assert cal["a"]["finetune"] == cal["b"]["finetune"] == f"90 epochs, {FT90}"
        assert cal["setup"] == "S3.2" and cal["setup_label"] == "S3.2, base model inferred"
        assert cal["failed"]  # S4.1 / S4.2 name their failed criteria
        for p in op["naive"]:
            assert p["rank"] < cal["rank"] or p["setup_label"] != cal["setup_label"] or p["a"]["key"] != cal["a"]["key"]
            assert p["failed_text"]
        assert op["verdict"].startswith(f"at {rate}: GReg-2 ahead of L1-norm (reimpl.)")
    assert any(m["method"] == "GReg-2" for m in rep["missing"])


def test_shipped_greg2_vs_l1norm_rich(capsys, monkeypatch, shipped):
    monkeypatch.setenv("COLUMNS", "400")
    assert main(["compare", "GReg-2", "L1-norm", "--registry", str(ROOT / "registry")]) == 0
    out = capsys.readouterr().out
    assert out.count("S3.2, base model inferred") >= 2
    assert "Verdict" in out and "Recommendation" in out and "Cross-validation" in out


def test_pareto_dominance_across_rates(capsys, tmp_path):
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha"}], [res("r50", "Alpha", 75.5, 3.0)]),
        "beta2017-b.yaml": paper("beta2017-b", [{"name": "Beta"}], [res("r50", "Beta", 75.0, 2.31)]),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    rep = run_json(capsys, "Alpha", "Beta", "--registry", str(tmp_path))
    validate(rep)
    g = rep["groups"][0]
    assert [op["only"] for op in g["operating_points"]] == ["Beta", "Alpha"]
    (p,) = g["other_rate_pairs"]
    assert p["dominance"] == "A" and p["setup"] == "S3.2"
    assert "speedups differ, Alpha Pareto-dominates" in p["setup_label"]
    assert main(["compare", "Alpha", "Beta", "--registry", str(tmp_path)]) == 0
    assert "Pareto" in capsys.readouterr().out


def test_verdict_names_the_naive_reading_and_next_setup(capsys, reg):
    rep = run_json(capsys, "Alpha", "Beta", "--registry", str(reg))
    op = rep["groups"][0]["operating_points"][0]
    assert op["verdict"].endswith("Naive pairs would read Δ +2.46 (S2).")
    assert op["next_setup"] == "S4.1 fails on pruning epochs differs (5 vs 0 (one-shot))"
    assert rep["recommendation"]["per_operating_point"][0].startswith(
        "at 2.31-2.35×: cite alpha2020-a/r50-2.3x vs gamma2023-c/beta-r50 (S3.2, base model inferred)")


def test_cli_analysis_imports_stay_light():
    import subprocess
    import sys

    code = ("import sys, audit.cli.compare; "
            "print(sorted(m for m in ('pydantic', 'numpy', 'scipy', 'pandas', 'torch', 'audit.core.classify', "
            "'audit.registry.store', 'audit.core.compare') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_accept_base_accuracy_flag(capsys, tmp_path):
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha"}], [
            {**res("r50", "Alpha", 75.5, 2.31, prune={"epochs": 0}), "base": {"top1": 76.15}}]),
        "beta2017-b.yaml": paper("beta2017-b", [{"name": "Beta"}], [
            {**res("r50", "Beta", 75.0, 2.31, prune={"epochs": 0}), "base": {"top1": 76.15}}]),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    rep = run_json(capsys, "Alpha", "Beta", "--registry", str(tmp_path))
    cal = rep["groups"][0]["operating_points"][0]["calibrated"]
    assert cal["setup"] == "S1"
    base = next(c for c in cal["criteria"] if c["name"] == "base model")
    assert base["outcome"] == "unknown"
    assert base["note"] == "Alpha and Beta did not report it; same accuracy (76.15), identity unknown"
    rep = run_json(capsys, "Alpha", "Beta", "--accept-base-accuracy", "--registry", str(tmp_path))
    validate(rep)
    cal = rep["groups"][0]["operating_points"][0]["calibrated"]
    assert cal["setup"] == "S4.2" and cal["setup_label"] == "S4.2, base model inferred"
