"""``prune-audit registry list|show|validate|schema|add`` on a small test registry."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import BASE, ROOT

NEW_PAPER = """paper:
  id: wang2021-greg
  title: Neural Pruning via Growing Regularization
  authors: [Huan Wang, Can Qin, Yulun Zhang, Yun Fu]
  venue: ICLR
  year: 2021
methods:
  - name: GReg-2
    aliases: [greg2]
results:
  - id: resnet50-2.31x
    method: greg2
    dataset: imagenet-1k
    network: resnet50
    top1: {mean: 75.36}
    base: {identity: torchvision/resnet50/IMAGENET1K_V1, top1: 76.13}
    compression: {speedup: 2.31}
    finetune: {epochs: 90, lr_schedule: "0:1e-2,30:1e-3,60:1e-4,75:1e-5"}
    sources: [{where: Tab. 3}]
"""


@pytest.fixture
def reg(base_registry):
    return base_registry


def snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_list_table_json_csv(cli, reg):
    code, out, err = cli("registry", "list", "--registry", str(reg))
    assert code == 0 and "li2017-l1-norm/resnet34-pruned-b" in out and "72.17" in out
    code, out, _ = cli("registry", "list", "--registry", str(reg), "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["key"] == "li2017-l1-norm/resnet34-pruned-b"
    assert rows[0]["finetune_schedule"] == "0:1e-3; total=20"
    code, out, _ = cli("registry", "list", "--registry", str(reg), "--csv")
    got = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and got[0]["top1"] == "72.17" and got[0]["speedup"] == "1.32"


def test_list_filters_and_unknown_names(cli, reg):
    code, out, _ = cli("registry", "list", "--registry", str(reg), "--network", "resnet50", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = cli("registry", "list", "--registry", str(reg), "--network", "resnet-34")
    assert code == 2
    assert err == "prune-audit: error: unknown network 'resnet-34'. Did you mean 'resnet34', 'resnet44', 'resnet32'?\n"
    code, out, err = cli("registry", "list", "--registry", str(reg), "--method", "L1-nrom")
    assert code == 2 and err == "prune-audit: error: unknown method 'L1-nrom'. Did you mean 'L1-norm'?\n"


@pytest.mark.parametrize("name", ["L1-norm", "l1", "ℓ1-norm", "L1 NORM", "li2017-l1-norm",
                                  "li2017-l1-norm/resnet34-pruned-b"])
def test_show_resolves_aliases_papers_and_keys(cli, reg, name):
    code, out, err = cli("registry", "show", name, "--registry", str(reg), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [d["key"] for d in data] == ["li2017-l1-norm/resnet34-pruned-b"]
    assert data[0]["finetune"]["lr_schedule"] == "0:1e-3; total=20"


def test_show_unknown(cli, reg):
    code, _, err = cli("registry", "show", "GReg-3", "--registry", str(reg))
    assert code == 2 and err.startswith("prune-audit: error: unknown method or paper 'GReg-3'.")
    assert "Traceback" not in err


def test_registry_env_var(cli, reg, monkeypatch):
    monkeypatch.setenv("PRUNE_AUDIT_REGISTRY", str(reg))
    code, out, _ = cli("registry", "validate")
    assert code == 0 and out == "ok: 1 file(s), 1 method(s), 1 result(s)\n"
    monkeypatch.setenv("PRUNE_AUDIT_REGISTRY", str(reg / "missing"))
    code, out, err = cli("registry", "validate")
    assert code == 1 and err == f"prune-audit: error: {reg / 'missing'}: registry directory does not exist\n"


def test_add_valid_paper_appears_in_list(cli, reg, tmp_path):
    new = tmp_path / "wang2021-greg.yaml"
    new.write_text(NEW_PAPER, encoding="utf-8")
    code, out, err = cli("registry", "add", str(new), "--registry", str(reg))
    assert code == 0, err
    assert out.startswith("added wang2021-greg: 1 result(s) -> ")
    assert (reg / "wang2021-greg.yaml").read_text(encoding="utf-8") == NEW_PAPER
    assert not [p for p in reg.iterdir() if p.name.startswith(".")]  # no temp file left behind
    code, out, _ = cli("registry", "list", "--registry", str(reg), "--method", "GReg-2", "--json")
    assert [r["key"] for r in json.loads(out)] == ["wang2021-greg/resnet50-2.31x"]


def test_add_bad_paper_changes_nothing(cli, reg, tmp_path):
    before = snapshot(reg)
    bad = tmp_path / "wang2021-greg.yaml"
    bad.write_text(NEW_PAPER.replace("top1: {mean: 75.36}", "top1: {mean: 175.36}"), encoding="utf-8")
    code, out, err = cli("registry", "add", str(bad), "--registry", str(reg))
    assert code == 1 and out == ""
    assert err.splitlines() == [f"{bad}:15: results[0].top1.mean: must be less than or equal to 100 (got 175.36)"]
    assert snapshot(reg) == before


def test_add_refuses_duplicates_and_conflicts(cli, reg, tmp_path):
    before = snapshot(reg)
    dup = tmp_path / "li2017-l1-norm.yaml"
    shutil.copy(BASE / "li2017-l1-norm.yaml", dup)
    code, _, err = cli("registry", "add", str(dup), "--registry", str(reg))
    assert code == 1 and "paper 'li2017-l1-norm' is already in the registry" in err
    clash = tmp_path / "other2020-x.yaml"
    clash.write_text(NEW_PAPER.replace("wang2021-greg", "other2020-x").replace("aliases: [greg2]", "aliases: [l1]"),
                     encoding="utf-8")
    code, _, err = cli("registry", "add", str(clash), "--registry", str(reg))
    assert code == 1
    assert err.strip() == f"{clash}:9: methods[0].aliases[0]: 'l1' is already a name of method 'L1-norm' " \
                          f"({reg / 'li2017-l1-norm.yaml'})"
    assert snapshot(reg) == before


def test_committed_json_schema_is_current(cli):
    code, out, _ = cli("registry", "schema")
    assert code == 0
    committed = (ROOT / "registry" / "paper.schema.json").read_text(encoding="utf-8")
    assert out == committed, "run: prune-audit registry schema --out registry/paper.schema.json"
    schema = json.loads(out)
    # every field is documented where it is declared
    for name, definition in schema["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"


def test_atomic_write_gives_normal_permissions(tmp_path):

    from audit.io.atomic import atomic_write_text as atomic_write

    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "f.txt", "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644


def test_committed_network_schema_is_current_and_the_catalog_validates(cli):
    import yaml

    code, out, _ = cli("registry", "schema", "--networks")
    assert code == 0
    committed = (ROOT / "registry" / "networks.schema.json").read_text(encoding="utf-8")
    assert out == committed, "run: prune-audit registry schema --networks --out registry/networks.schema.json"
    jsonschema = pytest.importorskip("jsonschema")
    catalog = yaml.safe_load((ROOT / "registry" / "networks.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(out)).validate(catalog)
    bad = {"networks": [{**catalog["networks"][0], "famly": "x"}]}
    assert not jsonschema.Draft202012Validator(json.loads(out)).is_valid(bad)
    # editors map the schemas onto the files
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))["yaml.schemas"]
    assert settings["./registry/networks.schema.json"] == ["registry/networks.yaml"]
