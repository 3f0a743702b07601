"""``prune-audit registry import``: ShrinkBench's results grid and a README's Markdown table into drafts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES, write

IMPORT = FIXTURES / "import"
GRID = IMPORT / "grid.csv"
PAPERS = IMPORT / "papers.csv"
TABLE = IMPORT / "resnet56.md"
TP = ["--paper-id", "fang2023-depgraph", "--title", "DepGraph: Towards Any Structural Pruning",
      "--authors", "Gongfan Fang; Xinyin Ma", "--venue", "CVPR", "--year", "2023", "--dataset", "cifar-10",
      "--network", "resnet56", "--source-paper", "VainF/Torch-Pruning", "--where", "benchmarks/readme.md, {row}",
      "--secondary"]


def _draft(path: Path) -> dict:
    from audit.registry.store import check_file

    check_file(path).require()  # every draft is a valid paper file on its own
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _result(data: dict, rid: str) -> dict:
    return next(r for r in data["results"] if r["id"] == rid)


@pytest.fixture
def grid(cli, base_registry: Path, tmp_path: Path):
    out = tmp_path / "drafts"
    code, stdout, err = cli("registry", "import", str(GRID), "--papers", str(PAPERS), "--out", str(out),
                            "--registry", str(base_registry))
    assert code == 0, err
    return out, stdout


def test_grid_one_draft_per_paper_with_cell_provenance(grid) -> None:
    out, stdout = grid
    assert sorted(p.name for p in out.iterdir()) == [
        "ding-auto-balanced.yaml", "google-state-of-sparsity.yaml", "pruning-filters.yaml",
        "rethinking-net-pruning.yaml", "zhuang-discriminative-channel.yaml"]
    assert "wrote" in stdout and "pruning-filters.yaml: 2 results (new paper)" in stdout
    data = _draft(out / "pruning-filters.yaml")
    assert data["paper"]["year"] == 2017 and data["paper"]["authors"][0] == "Hao Li"
    r = _result(data, "cifar-10-resnet56-row494")
    assert r["top1"] == {"error": 6.94} and r["base"] == {"top1": 93.04}
    assert r["compression"]["flops"] == {"pruned": 0.091, "scale": "G", "convention": None, "dense": 0.125}
    assert r["compression"]["params"] == {"pruned": 0.73, "scale": "M", "dense": 0.85}
    (src,) = r["sources"]
    assert src["paper"] == "JJGO/shrinkbench" and src["secondary"] is True
    assert src["where"] == "ShrinkBench results grid, row 494"
    assert "line 2: Err1 '6.94%' -> top1.error (error rate, %)" in src["note"]
    assert "GFLOPS '0.0910' -> compression.flops.pruned (G, convention not stated)" in src["note"]
    assert "inferred" not in r
    # the printed precision is kept in the file, for the arithmetic checker
    assert "pruned: 0.0910" in (out / "pruning-filters.yaml").read_text(encoding="utf-8")


def test_grid_error_rates_changes_and_speedups_as_printed(grid) -> None:
    out, _ = grid
    ding = _result(_draft(out / "ding-auto-balanced.yaml"), "cifar-10-resnet56-row558")
    assert ding["top1"] == {"error": 7.06}
    assert ding["base"] == {"top1_error": 6.10}  # OrigErr1 '6.10%' in its printed form: a base error rate
    assert "inferred" not in ding and "base.top1_error" in ding["sources"][0]["fields"]
    assert "OrigErr1 '6.10%' -> base.top1_error (base error rate, %)" in ding["sources"][0]["note"]
    from audit.registry.store import check_file

    loaded = check_file(out / "ding-auto-balanced.yaml").require()
    base = next(r for r in loaded.results if r.id == "cifar-10-resnet56-row558").base
    assert base.top1 == pytest.approx(93.90) and base.top1_error == pytest.approx(6.10)  # derived on loading
    dcp = _result(_draft(out / "zhuang-discriminative-channel.yaml"), "cifar-10-resnet56-row362")
    assert dcp["top1_change"] == {"value": -0.31, "sign": "gain"}
    assert dcp["compression"]["speedup"] == 1.99
    assert "top1" not in dcp
    assert dcp["compression"]["params_reduction_pct"] == pytest.approx(49.24)  # from old/new Nparam 1.97
    assert "old/new Nparam '1.97'" in dcp["inferred"]["compression.params_reduction_pct"]
    gale = _result(_draft(out / "google-state-of-sparsity.yaml"), "imagenet-resnet50-row50")
    assert gale["method"] == "Magnitude-v2" and gale["top1"] == {"mean": 76.52}
    assert gale["compression"] == {"params_reduction_pct": 80.0}
    scratch = _result(_draft(out / "rethinking-net-pruning.yaml"), "cifar-10-resnet56-row531")
    assert scratch["pipeline"] == "scratch-b"


def test_grid_rows_and_cells_not_entered_are_listed(grid) -> None:
    _, stdout = grid
    lines = [ln for ln in stdout.splitlines() if ln.startswith("not entered: ")]
    assert any(f"{GRID.name}:8: column '(row)' (row 154): no accuracy (top-1, top-5 or a change) in the row" in ln
               for ln in lines), lines
    assert any("column 'Model' (row 89) 'VGG-Torch-CIFAR10': network 'VGG-Torch-CIFAR10' is not in the catalog"
               in ln for ln in lines), lines
    assert "5 drafts, 6 results from 8 rows" in stdout


def test_grid_draft_is_checked(grid) -> None:
    _, stdout = grid
    # ding2018's dense 0.142 G on ResNet-56 matches no FLOPs convention of the catalog: the checker says so
    assert any(ln.startswith("check: draft ding-auto-balanced.yaml:") and "[convention]" in ln
               for ln in stdout.splitlines()), stdout


def test_misread_percentage_is_not_entered(cli, base_registry: Path, tmp_path: Path) -> None:
    """A column of FLOPs reductions read as speedups (the grid's savedFLOPS mapped as speedup): the cell
    is not entered and is named with its file, line and column."""
    table = write(tmp_path, "t.csv", "Method,Acc,Pruned FLOPs\nL1-norm,93.06,34.6%\nL1-norm,93.00,1.50x\n")
    out = tmp_path / "drafts"
    code, stdout, err = cli("registry", "import", str(table), "--format", "csv", "--map",
                            'top1=Acc,speedup="Pruned FLOPs",method=Method', "--paper-id", "li2017-l1-norm",
                            "--dataset", "cifar-10", "--network", "resnet56", "--out", str(out),
                            "--registry", str(base_registry))
    assert code == 0, err
    assert (f"not entered: {table.name}:2: column 'Pruned FLOPs' (row line 2) '34.6%': a percentage in a "
            "speedup column") in stdout.replace(str(tmp_path) + "/", "")
    data = _draft(out / "li2017-l1-norm.yaml")
    imported = [r for r in data["results"] if r["id"].startswith("cifar-10-resnet56-line")]
    assert [r.get("compression") for r in imported] == [None, {"speedup": 1.5}]


def test_existing_paper_gets_its_file_with_rows_appended(cli, base_registry: Path, tmp_path: Path) -> None:
    table = write(tmp_path, "t.md", "| Method | Base | Pruned | Δ | Speed Up |\n|--|--|--|--|--|\n"
                                    "| L1-norm | 93.04 | 93.06 | +0.02 | 1.38x |\n")
    out = tmp_path / "drafts"
    code, stdout, err = cli("registry", "import", str(table), "--paper-id", "li2017-l1-norm", "--dataset",
                            "cifar-10", "--network", "resnet56", "--out", str(out), "--registry", str(base_registry))
    assert code == 0, err
    before = (base_registry / "li2017-l1-norm.yaml").read_text(encoding="utf-8")
    after = (out / "li2017-l1-norm.yaml").read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # the file as it was, comments included, then the new rows
    assert len(_draft(out / "li2017-l1-norm.yaml")["results"]) == len(yaml.safe_load(before)["results"]) + 1
    assert "appended to a copy of the registry's file" in stdout


def test_reimport_skips_rows_the_file_already_holds(cli, base_registry: Path, tmp_path: Path) -> None:
    """Importing the same table again after its draft was added appends nothing twice (no duplicate ids)."""
    table = write(tmp_path, "t.md", "| Method | Base | Pruned | Δ | Speed Up |\n|--|--|--|--|--|\n"
                                    "| L1-norm | 93.04 | 93.06 | +0.02 | 1.38x |\n")
    args = ("registry", "import", str(table), "--paper-id", "li2017-l1-norm", "--dataset", "cifar-10", "--network",
            "resnet56", "--registry", str(base_registry))
    code, _, err = cli(*args, "--out", str(tmp_path / "first"))
    assert code == 0, err
    shutil.copy(tmp_path / "first" / "li2017-l1-norm.yaml", base_registry / "li2017-l1-norm.yaml")
    code, stdout, err = cli(*args, "--out", str(tmp_path / "second"))
    assert code == 1 and "no row could be imported" in err
    assert "'li2017-l1-norm' already holds result 'cifar-10-resnet56-line3' (imported before)" in stdout + err
    assert not (tmp_path / "second" / "li2017-l1-norm.yaml").exists()


def _grid_args(base_registry: Path, out: Path, tmp_path: Path) -> tuple[str, ...]:
    pmap = write(tmp_path, "map.yaml", "papers:\n  pruning-filters: {id: li2017-l1-norm, method: L1-norm}\n")
    return ("registry", "import", str(GRID), "--papers", str(PAPERS), "--paper-map", str(pmap), "--out", str(out),
            "--registry", str(base_registry))


def test_reimport_skips_a_row_merged_into_a_result_with_another_id(cli, base_registry: Path,
                                                                    tmp_path: Path) -> None:
    """A grid row an author merged into an existing result (which now cites that row as a source) is found
    by its provenance, not by its id, and is not appended a second time."""
    paper = base_registry / "li2017-l1-norm.yaml"
    paper.write_text(paper.read_text(encoding="utf-8").replace(
        "      - {where: Tab. 1, note: test fixture}\n",
        "      - {where: Tab. 1, note: test fixture}\n"
        "      - {paper: JJGO/shrinkbench, where: 'ShrinkBench results grid, row 494', secondary: true}\n"),
        encoding="utf-8")
    code, stdout, err = cli(*_grid_args(base_registry, tmp_path / "out", tmp_path))
    assert code == 0, err
    assert ("'li2017-l1-norm' result 'resnet34-pruned-b' already cites 'ShrinkBench results grid, row 494' "
            "(imported before)") in stdout + err
    data = _draft(tmp_path / "out" / "li2017-l1-norm.yaml")
    ids = [r["id"] for r in data["results"]]
    assert "cifar-10-resnet56-row494" not in ids and len(ids) == len(set(ids)) > 1


@pytest.mark.parametrize("before", ["verified\n    differences: []", "differences\n    differences:\n"
                                    "    - \"a difference a reader listed\""])
def test_appending_to_a_read_file_marks_the_new_results_not_reread(cli, base_registry: Path, tmp_path: Path,
                                                                  before: str) -> None:
    """Rows appended to a file a second reader verified leave it ``differences``, naming the results the
    reading did not cover; differences listed before are kept."""
    paper = base_registry / "li2017-l1-norm.yaml"
    paper.write_text(paper.read_text(encoding="utf-8").replace(
        "  year: 2017\n", "  year: 2017\n  verification:\n    status: " + before + "\n"
        "    date: '2026-11-30'\n    by: second reader\n    against: Tab. 1\n"), encoding="utf-8")
    code, _, err = cli(*_grid_args(base_registry, tmp_path / "out", tmp_path))
    assert code == 0, err
    data = _draft(tmp_path / "out" / "li2017-l1-norm.yaml")
    v = data["paper"]["verification"]
    new = [r["id"] for r in data["results"][1:]]
    assert v["status"] == "differences" and v["by"] == "second reader" and new
    assert v["differences"][-1] == (f"{len(new)} result(s) appended by registry import after this reading "
                                    f"({', '.join(new)}) were not re-read")
    assert len(v["differences"]) == (2 if "a difference" in before else 1)


def test_markdown_readme_table(cli, base_registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "drafts"
    code, stdout, err = cli("registry", "import", str(TABLE), *TP, "--out", str(out), "--registry", str(base_registry))
    assert code == 0, err
    data = _draft(out / "fang2023-depgraph.yaml")
    by_method = {r["method"]: r for r in data["results"]}
    assert len(data["results"]) == 13
    assert by_method["NIPS"]["top1_change"] == {"value": -0.03, "sign": "gain"}  # '-' base and pruned: a change only
    assert "top1" not in by_method["NIPS"] and "base" not in by_method["NIPS"]
    ours = by_method["Ours"]  # '**Ours**' and '**93.77**' lose their bold, '[[1]](#1)' references are dropped
    assert ours["top1"] == {"mean": 93.77} and ours["base"] == {"top1": 93.53}
    assert ours["top1_change"] == {"value": 0.38, "sign": "gain"} and ours["compression"] == {"speedup": 2.13}
    assert ours["sources"][0]["where"] == "benchmarks/readme.md, line 19"
    assert "Speed Up '2.13x' -> compression.speedup" in ours["sources"][0]["note"]
    assert {m["name"] for m in data["methods"]} >= {"NIPS", "Geometric", "HRank", "Ours"}
    assert "L1-norm" not in {m["name"] for m in data["methods"]}
    # the README's own arithmetic: 93.77 - 93.53 = +0.24, printed +0.38; HRank 92.17 - 93.26 = -1.09, printed -0.09
    checks = [ln for ln in stdout.splitlines() if ln.startswith("check: ")]
    assert any("cifar-10-resnet56-line19: top1_change.value: error [delta]" in ln for ln in checks), checks
    assert any("cifar-10-resnet56-line12: top1_change.value: error [delta]" in ln for ln in checks), checks


def test_no_overwrite_without_force(cli, base_registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "drafts"
    args = ["registry", "import", str(TABLE), *TP, "--out", str(out), "--registry", str(base_registry)]
    assert cli(*args)[0] == 0
    target = out / "fang2023-depgraph.yaml"
    target.write_text("edited by hand\n", encoding="utf-8")
    code, _, err = cli(*args)
    assert code == 1
    assert err.strip().endswith("fang2023-depgraph.yaml: exists; not replaced without --force")
    assert target.read_text(encoding="utf-8") == "edited by hand\n"
    assert cli(*args, "--force")[0] == 0
    assert target.read_text(encoding="utf-8").startswith("# Draft written by")
    # the registry itself is never touched by an import into another directory
    assert not (base_registry / "fang2023-depgraph.yaml").exists()


@pytest.mark.parametrize(("text", "name", "extra", "expected"), [
    ("| Method | Base |\n|--|--|\n| A | 93.1 | 2 |\n", "t.md", [], "t.md:3: the row has 3 cells, the header 2"),
    ("no table here\n", "t.md", [], "t.md:1: no Markdown table"),
    ("Method,Acc\nA,93\nB\n", "t.csv", ["--map", "top1=Acc"], "t.csv:3: the row has 1 cells, the header 2"),
    ("Method,Acc\nA,93\n", "t.csv", ["--map", "top1=Accuracy"], "t.csv has no column 'Accuracy'"),
    ("Method,Acc\nA,93\n", "t.csv", ["--map", "top9=Acc"], "unknown column-map field 'top9'"),
    (b"Method,Acc\nA,9\xff3\n", "t.csv", [], "t.csv:2: not UTF-8 text"),
])
def test_bad_input_is_one_located_line(cli, base_registry: Path, tmp_path: Path, text, name, extra,
                                       expected) -> None:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    code, out, err = cli("registry", "import", str(p), "--paper-id", "x2020-y", "--title", "T", "--authors", "A",
                         "--venue", "V", "--year", "2020", "--dataset", "cifar-10", "--network", "resnet56",
                         *extra, "--out", str(tmp_path / "o"), "--registry", str(base_registry))
    assert code in (1, 2)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_grid_without_identities_says_how_to_give_them(cli, base_registry: Path, tmp_path: Path) -> None:
    code, _, err = cli("registry", "import", str(GRID), "--out", str(tmp_path / "o"), "--registry", str(base_registry))
    assert code == 1
    assert err.strip() == ("prune-audit: error: paper 'pruning-filters': no bibliography (give --papers FILE, "
                           "--title/--authors/--venue/--year, or a paper map entry with one)")


def test_paper_map_maps_names_onto_the_registry(cli, base_registry: Path, tmp_path: Path) -> None:
    pmap = write(tmp_path, "map.yaml", "papers:\n  pruning-filters: {id: li2017-l1-norm, method: L1-norm}\n"
                                       "skip_papers: [rethinking-net-pruning]\n"
                                       "networks: {VGG-Torch-CIFAR10: vgg16}\n")
    out = tmp_path / "drafts"
    code, stdout, err = cli("registry", "import", str(GRID), "--papers", str(PAPERS), "--paper-map", str(pmap),
                            "--out", str(out), "--registry", str(base_registry))
    assert code == 0, err
    l1 = _draft(out / "li2017-l1-norm.yaml")
    assert _result(l1, "cifar-10-resnet56-row494")["method"] == "L1-norm"
    assert not (out / "rethinking-net-pruning.yaml").exists()
    pfa = _draft(out / "apple-pfa.yaml")
    assert _result(pfa, "cifar-10-vgg16-row89")["top1_change"] == {"value": 0.4, "sign": "gain"}
    # NumTrials 10 with no top-1 to attach it to, and keptFLOPS read as a reduction (inferred)
    assert "column 'NumTrials' (row 89) '10': not a run count of a printed top-1" in stdout
    assert _result(pfa, "cifar-10-vgg16-row89")["compression"]["flops_reduction_pct"] == pytest.approx(60.9)


def test_show_and_list_agree_on_derived_values(cli, tmp_path: Path) -> None:
    """Case C13: a grid row entered as printed (error rate, absolute GFLOPs): list derives the speedup
    1.3736 and marks it derived; show must print the same derived speedup and the FLOPs as printed."""
    reg = tmp_path / "reg"
    shutil.copytree(IMPORT / "c13", reg)
    code, csv_out, _ = cli("registry", "list", "--registry", str(reg), "--csv")
    assert code == 0
    row = next(ln for ln in csv_out.splitlines() if ln.startswith("shrinkbench-rows/l1-row494,"))
    assert ",1.3736," in row and "speedup" in row.rsplit(",", 1)[1]
    code, show, _ = cli("registry", "show", "shrinkbench-rows/l1-row494", "--registry", str(reg))
    assert code == 0
    assert "93.06†" in show
    assert "1.37×†" in show or "1.37× (derived" in show
    assert "0.125" in show and "0.0910" in show


def test_shipped_grid_paper_map_covers_every_file_with_grid_rows(shipped) -> None:
    """The map the shipped grid rows were imported with validates, and names every registry file that
    cites the grid, so a re-import appends to (and skips the rows of) the right files."""
    from audit.registry.importer import load_paper_map
    from tests.conftest import SHIPPED

    pmap = load_paper_map(SHIPPED / "imports" / "shrinkbench-map.yaml")
    assert pmap.papers["pruning-filters"].id == "li2017-l1-norm"
    mapped = {e.id for e in pmap.papers.values()}
    citing = {pid for pid, pf in shipped.papers.items()
              if any(s.paper == "JJGO/shrinkbench" for r in pf.results for s in r.sources)}
    assert len(citing) >= 30
    assert citing <= mapped, sorted(citing - mapped)


def test_papers_table_bibtex_escapes_become_text(tmp_path: Path) -> None:
    """A BibTeX author or title with LaTeX escapes (an accent in braces, an escaped ampersand) is read as
    the text it prints, never as the escape with its braces dropped."""
    import csv

    from audit.registry.importer import read_shrinkbench_papers

    path = tmp_path / "papers.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Date", "Venue", "BibTeX"])
        w.writerow(["lc", "2018-1", "CVPR", "@inproceedings{x,\n  title={{LC}: Learning \\& compressing},\n"
                    "  author={Carreira-Perpin{\\'a}n, Miguel A and Idelbayev, Yerlan},\n  year={2018}\n}"])
    bib = read_shrinkbench_papers(path)["lc"]
    assert bib.authors == ["Miguel A Carreira-Perpinán", "Yerlan Idelbayev"]
    assert bib.title == "LC: Learning & compressing"
