"""Terminal output fits the terminal: ``compare``, ``audit`` and ``registry list`` at 80 and 120 columns.

Each command runs on the shipped registry with ``COLUMNS`` set (output captured, as when piped); no line
may be wider than the width, and no result key may be split over two lines: every key the command
prints shows whole on one line, and no line holds a fragment of a key (a piece of a key cut at the line's
end or start).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import SHIPPED, paper, res

from audit.cli import main

COMMANDS = {
    "compare": ["compare", "GReg-2", "L1-norm"],
    "audit": ["audit"],
    "list": ["registry", "list"],
}
BOX = "│┃┆┊║╎"


def run(capsys, monkeypatch, width: int | None, *argv: str) -> str:
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(width))
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def tokens(line: str) -> list[str]:
    """The words of a line: split at spaces and table borders, stripped of the punctuation around keys."""
    return [t.strip("()[],;:.·") for t in re.split(rf"[\s{BOX}]+", line) if t.strip("()[],;:.·")]


@pytest.fixture(scope="module")
def registry_names():
    from audit.registry.store import load_registry

    reg = load_registry(SHIPPED)
    return {e.key for e in reg.entries}, set(reg.papers), {e.result.id for e in reg.entries}


def split_fragments(text: str, keys: set[str], papers: set[str]) -> list[str]:
    """Words that are a cut piece of a result key or paper id (a strict prefix or suffix of one)."""
    bad = []
    for line in text.splitlines():
        for t in tokens(line):
            if t in keys or t in papers or len(t) < 6:
                continue
            if "/" in t and any(k.startswith(t) or k.endswith(t) for k in keys):
                bad.append(t)
            elif "/" not in t and any(p.startswith(t) for p in papers):
                bad.append(t)
    return bad


def expected_keys(capsys, monkeypatch, name: str) -> set[str]:
    """The result keys the command's table output must show (from its JSON)."""
    if name == "compare":
        data = json.loads(run(capsys, monkeypatch, 120, *COMMANDS["compare"], "--json"))
        return {k for g in data["groups"] for op in g["operating_points"] for k in op["a_results"] + op["b_results"]}
    if name == "audit":
        data = json.loads(run(capsys, monkeypatch, 120, "audit", "--json"))
        return {n["key"] for n in data["naive_leaderboard"][:25]}
    return set()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_line_wider_than_the_terminal_and_no_key_split(capsys, monkeypatch, registry_names, name, width):
    keys, papers, result_ids = registry_names
    want = expected_keys(capsys, monkeypatch, name)
    out = run(capsys, monkeypatch, width, *COMMANDS[name])
    lines = out.splitlines()
    too_wide = [(len(ln), ln) for ln in lines if len(ln) > width]
    assert not too_wide, too_wide[:3]
    assert split_fragments(out, keys, papers) == []
    words = {t for ln in lines for t in tokens(ln)}
    assert want <= words, sorted(want - words)[:5]
    if name == "list":  # every result shows whole: its key, or its result id under its paper id
        shown = {k for k in keys if k in words or (k.split("/", 1)[1] in words and k.split("/", 1)[0] in words)}
        assert shown == keys, sorted(keys - shown)[:5]


def test_the_checks_catch_a_split_key(registry_names):
    """Negative control: the fragments of a key wrapped mid-word are found."""
    keys, papers, _ = registry_names
    key = "wang2023-why-pruning-confusing/resnet50-l1-2.31x"
    assert key in keys
    assert split_fragments("│ wang2023-why-pruning-confusin │\n│ g/resnet50-l1-2.31x │", keys, papers) == [
        "wang2023-why-pruning-confusin", "g/resnet50-l1-2.31x"]
    assert split_fragments(f"  {key} (Tab. 1)", keys, papers) == []


def test_compare_at_80_columns_is_compact_not_a_wrapped_table(capsys, monkeypatch):
    narrow = run(capsys, monkeypatch, 80, *COMMANDS["compare"])
    assert not any(c in narrow for c in "┃│┏"), "a table at 80 columns"
    # the case's capture (ImageNet/ResNet-50 only) filled 137 screen lines at 80 columns
    on_case = run(capsys, monkeypatch, 80, *COMMANDS["compare"], "--dataset", "imagenet-1k", "--network", "resnet50")
    assert len(on_case.splitlines()) < 120
    wide = run(capsys, monkeypatch, 80, *COMMANDS["compare"], "--wide")
    assert "┃ rate" in wide
    assert "wang2023-why-pruning-confusing/resnet50-l1-2.31x" in {t for ln in wide.splitlines() for t in tokens(ln)}


def test_piped_output_uses_the_fixed_width(capsys, monkeypatch):
    from audit.cli.console import PIPED_WIDTH

    out = run(capsys, monkeypatch, None, *COMMANDS["audit"])
    assert max(len(ln) for ln in out.splitlines()) <= PIPED_WIDTH


def test_compare_defines_delta_and_states_pareto_pairs(capsys, monkeypatch):
    out = " ".join(run(capsys, monkeypatch, 120, *COMMANDS["compare"], "--dataset", "imagenet-1k", "--network",
                       "resnet50").split())
    assert "Δ top-1 = A − B in percentage points (positive: A is ahead)" in out
    assert "Pareto dominance across rates: none" in out


@pytest.fixture
def s1_registry(tmp_path):
    """Two methods whose only pair at one rate reaches S1 (different base models and recipes)."""
    files = {
        "alpha2020-a.yaml": paper("alpha2020-a", [{"name": "Alpha"}], [
            res("r50-2x", "Alpha", 75.0, 2.0, base="own training"),
            res("r50-3x", "Alpha", 74.0, 3.0, base="own training"),
        ]),
        "beta2021-b.yaml": paper("beta2021-b", [{"name": "Beta"}], [
            res("r50-2x", "Beta", 74.5, 2.01, ft=(20, "0:1e-3")),
            res("r50-4x", "Beta", 74.2, 4.0, ft=(20, "0:1e-3")),
        ]),
    }
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def test_calibrated_only_for_fair_pairs_and_dominance_pairs_listed(capsys, monkeypatch, s1_registry):
    out = run(capsys, monkeypatch, 100, "compare", "Alpha", "Beta", "--registry", str(s1_registry))
    flat = " ".join(out.split())
    assert "calibrated:" not in flat and "strongest (not fair): S1" in flat
    assert ("beta2021-b/r50-4x (74.20 @ 4.00×) Pareto-dominates alpha2020-a/r50-3x (74.00 @ 3.00×): a higher "
            "speedup and at least the top-1") in flat


@pytest.mark.parametrize("argv", [["compare", "GReg-2", "L1-norm"], ["audit"], ["registry", "list"],
                                  ["registry", "show", "GReg-2"]])
def test_format_md_csv_json_everywhere(capsys, monkeypatch, argv):
    md = run(capsys, monkeypatch, 80, *argv, "--format", "md")
    assert re.search(r"^\|( [^|]+ \|)+\n\|(---\|)+$", md, re.M), md[:300]
    csv_text = run(capsys, monkeypatch, 80, *argv, "--format", "csv")
    assert csv_text.count("\n") >= 2 and "," in csv_text.splitlines()[0]
    data = json.loads(run(capsys, monkeypatch, 80, *argv, "--format", "json"))
    assert data


def test_json_alias_and_conflicting_formats(capsys, monkeypatch):
    a = run(capsys, monkeypatch, 80, "registry", "list", "--json")
    b = run(capsys, monkeypatch, 80, "registry", "list", "--format", "json")
    assert a == b
    code = main(["registry", "list", "--json", "--format", "csv"])
    err = capsys.readouterr().err
    assert code == 2 and "give one output format: csv, json" in err


def test_registry_list_sorts_and_counts(capsys, monkeypatch):
    out = run(capsys, monkeypatch, 140, "registry", "list", "--dataset", "imagenet-1k", "--network", "resnet50",
              "--sort", "top1")
    from audit.registry.store import load_registry

    here = [e for e in load_registry().entries if (e.result.dataset, e.result.network) == ("imagenet-1k", "resnet50")]
    n, papers = len(here), len({e.paper.id for e in here})
    assert f"imagenet-1k / resnet50 — {n} result(s) from {papers} paper(s)" in " ".join(out.split())
    tops = [float(m) for m in re.findall(r"\s(\d\d\.\d\d)†?(?:±[\d.]+)?(?: n[=≥]\d+)?\s+(?:\d+\.\d\d×†?|n/r)", out)]
    with_top1 = sum(1 for e in here if e.result.top1_value is not None)
    assert len(tops) == with_top1 and tops == sorted(tops, reverse=True)
    rows = json.loads(run(capsys, monkeypatch, 120, "registry", "list", "--sort", "speedup", "--json"))
    per_benchmark: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        per_benchmark.setdefault((r["dataset"], r["network"]), []).append(r["speedup"] or float("inf"))
    assert list(per_benchmark) == sorted(per_benchmark)
    assert all(v == sorted(v) for v in per_benchmark.values())


def test_registry_list_per_paper_layout_keeps_the_sort_across_papers(capsys, monkeypatch):
    """At a width where the list falls back to one section per paper, the sections follow the sort: each
    paper sits where its best row does, so the first section holds the best top-1 of the benchmark."""
    from audit.registry.store import load_registry

    out = run(capsys, monkeypatch, 100, "registry", "list", "--dataset", "imagenet-1k", "--network", "resnet50",
              "--sort", "top1")
    here = [e for e in load_registry().entries if (e.result.dataset, e.result.network) == ("imagenet-1k", "resnet50")]
    papers = {e.paper.id for e in here}
    order = [t for ln in out.splitlines() for t in ln.split()[:1] if t in papers]
    assert sorted(order) == sorted(papers), "not the per-paper layout at 100 columns"
    best = {}
    for e in here:
        if e.result.top1_value is not None:
            best[e.paper.id] = max(best.get(e.paper.id, 0.0), e.result.top1_value)
    ranked = [p for p in order if p in best]
    assert [best[p] for p in ranked] == sorted((best[p] for p in ranked), reverse=True)
