"""``prune-audit audit``: setup matrix of all method pairs, calibrated vs naive leaderboard."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, paper, res

from audit.cli import main


@pytest.fixture()
def reg(tmp_path: Path) -> Path:
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha"}], [
            res("r50", "Alpha", 75.36, 2.31, prune={"epochs": 0}),
        ]),
        "beta2017-b.yaml": paper("beta2017-b", [{"name": "Beta"}], [
            res("r50", "Beta", 75.24, 2.31, prune={"epochs": 0}),
        ]),
        "delta2019-d.yaml": paper("delta2019-d", [{"name": "Delta"}], [
            # the best raw number, but under a different finetuning recipe: never ranked by the calibrated board
            res("r50", "Delta", 76.0, 2.30, ft=(180, "cosine 1e-2->0")),
            res("r56", "Delta", 93.0, 2.0, dataset="cifar-10", network="resnet56"),
        ]),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def test_audit_json_matrix_and_leaderboards(capsys, reg):
    assert main(["audit", "--dataset", "imagenet-1k", "--json", "--registry", str(reg)]) == 0
    rep = json.loads(capsys.readouterr().out)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "audit.schema.json").read_text("utf-8"))).validate(rep)
    pairs = {(p["a"], p["b"]): p for p in rep["pairs"]}
    assert pairs[("Alpha", "Beta")]["setup"] == "S4.2"
    assert pairs[("Alpha", "Delta")]["setup"] == "S2"
    cal = rep["calibrated_leaderboard"]
    assert [(r["method"], r["wins"], r["losses"]) for r in cal] == [("Alpha", 1, 0), ("Beta", 0, 1)]
    assert rep["unranked"] == ["Delta"]
    assert [r["method"] for r in rep["naive_leaderboard"]] == ["Delta", "Alpha", "Beta"]


def test_audit_rich_output(capsys, reg, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["audit", "--registry", str(reg)]) == 0
    out = capsys.readouterr().out
    assert "imagenet-1k / resnet50" in out
    assert "cifar-10 / resnet56" not in out  # a single method there: no pair, no matrix
    assert "Calibrated leaderboard (S3.2+ pairs only)" in out
    assert "Naive leaderboard (raw top-1)" in out
    assert "Unranked (no comparison at S3.2 or stronger): Delta" in out


def test_audit_csv(capsys, reg):
    assert main(["audit", "--csv", "--registry", str(reg)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0].keys() == {"dataset", "network", "method_a", "method_b", "setup", "inferred", "pairs"}
    assert {(r["method_a"], r["method_b"], r["setup"]) for r in rows} == {
        ("Alpha", "Beta", "S4.2"), ("Alpha", "Delta", "S2"), ("Beta", "Delta", "S2")}


@pytest.mark.parametrize("argv, code, message", [
    (["--network", "resnet5"], 2, "unknown network 'resnet5'."),
    (["--tolerance", "0"], 1, "tolerance must be positive (got 0)"),
    (["--network", "vgg19"], 1, "no results on vgg19"),
])
def test_audit_bad_input(capsys, reg, argv, code, message):
    assert main(["audit", *argv, "--registry", str(reg)]) == code
    err = capsys.readouterr().err
    assert err.startswith(f"prune-audit: error: {message}") and err.count("\n") == 1


def test_audit_shipped_resnet50_imagenet(capsys, monkeypatch, shipped):
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["audit", "--network", "resnet50", "--dataset", "imagenet-1k", "--registry",
                 str(ROOT / "registry")]) == 0
    out = capsys.readouterr().out
    assert "imagenet-1k / resnet50" in out
    assert "Calibrated leaderboard" in out and "Naive leaderboard" in out
    assert main(["audit", "--network", "resnet50", "--dataset", "imagenet-1k", "--json", "--registry",
                 str(ROOT / "registry")]) == 0
    rep = json.loads(capsys.readouterr().out)
    ranked = {r["method"] for r in rep["calibrated_leaderboard"]}
    from audit.registry.store import load_registry

    reg = load_registry(ROOT / "registry")
    verified = {pid for pid, pf in reg.papers.items() if pf.paper.verified}
    assert set(rep["unverified"]) == {e.paper.id for e in reg.entries if e.result.network == "resnet50"
                                      and e.result.dataset == "imagenet-1k"} - verified
    assert all(reg.papers[reg.method_paper[m]].paper.verified or any(
        e.method == m and e.paper.id in verified for e in reg.entries) for m in ranked)


def test_calibrated_leaderboard_ranks_only_verified_files(capsys, tmp_path):
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha"}], [res("r50", "Alpha", 75.36, 2.31)]),
        "beta2017-b.yaml": paper("beta2017-b", [{"name": "Beta"}], [res("r50", "Beta", 75.24, 2.31)]),
        "gamma2021-g.yaml": paper("gamma2021-g", [{"name": "Gamma"}], [res("r50", "Gamma", 75.9, 2.31)],
                                  verified=False),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert main(["audit", "--json", "--registry", str(tmp_path)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [(r["method"], r["wins"], r["losses"]) for r in rep["calibrated_leaderboard"]] == [
        ("Alpha", 1, 0), ("Beta", 0, 1)]
    assert rep["unverified"] == ["gamma2021-g"] and "Gamma" in rep["unranked"]
    assert rep["naive_leaderboard"][0]["method"] == "Gamma"  # the naive board shows everything
    assert main(["audit", "--registry", str(tmp_path)]) == 0
    assert "not verified by a second reader: gamma2021-g" in capsys.readouterr().out


def test_audit_rule1_flags(capsys, tmp_path):
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha"}], [res("r50", "Alpha", 75.0, 2.31)]),
        "beta2017-b.yaml": paper("beta2017-b", [{"name": "Beta"}], [
            res("r50", "Beta", 73.0, 2.31, ft=(20, "0:1e-3"))]),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert main(["audit", "--json", "--registry", str(tmp_path)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["rule1"] == [{"stops_higher": "beta2017-b/r50", "final_lr": 1e-3, "partner": "alpha2020-a/r50",
                             "partner_final_lr": 1e-5, "setup": "S2"}]
    assert rep["unranked"] == ["Alpha", "Beta"]
