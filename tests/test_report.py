"""``prune-audit report``: content, determinism, the shipped examples, bad input, atomic writes.

The browser test is in ``test_report_browser.py``.
"""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBS = Path(__file__).resolve().parent / "fixtures" / "submissions"
RERUNS = SUBS / "reruns"
REPORTS = ROOT / "reports"


# ---------------------------------------------------------------------- running the command
@pytest.fixture
def report(capsys):
    """Run ``prune-audit report ...`` in-process through ``audit.cli.main``: (exit code, stdout, stderr)."""
    from audit.cli import main

    def run(*args: str):
        code = main(["report", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


# ---------------------------------------------------------------------- helpers
def md_tables(text: str) -> list[list[list[str]]]:
    """Every GitHub-flavoured table of a Markdown text, as rows of cells (escaped pipes kept in cells)."""
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if current is None:
                current = []
                tables.append(current)
            current.append(cells)
        else:
            current = None
    return tables


def check_markdown(text: str) -> int:
    """Every table has consistent columns -- by a line split and by a CommonMark+tables parser (markdown-it)."""
    tables = md_tables(text)
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - markdown-it-py comes with rich
        MarkdownIt = None
    if MarkdownIt is not None:
        tokens = MarkdownIt("commonmark").enable("table").parse(text)
        parsed: list[list[int]] = []
        for tok in tokens:
            if tok.type == "table_open":
                parsed.append([])
            elif tok.type == "tr_open":
                parsed[-1].append(0)
            elif tok.type in ("th_open", "td_open"):
                parsed[-1][-1] += 1
        assert len(parsed) == len(tables), "a table did not parse as a table"
        for rows, t in zip(parsed, tables):
            assert set(rows) == {len(t[0])} and len(rows) == len(t) - 1, (rows, t[0])
    for t in tables:
        assert len(t) >= 2, t
        width = len(t[0])
        assert all(re.fullmatch(r"-{3,}", c) for c in t[1]), f"row 2 is not a delimiter row: {t[1]}"
        for row in t:
            assert len(row) == width, f"table row has {len(row)} cells, header has {width}: {row}"
    return len(tables)


def pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


# ---------------------------------------------------------------------- a submission
def test_submission_report(report, tmp_path):
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path), "--reruns", str(RERUNS))
    assert code == 0, err
    md = (tmp_path / "toy-review.md").read_text(encoding="utf-8")
    html = (tmp_path / "toy-review.html").read_text(encoding="utf-8")
    assert f"wrote {tmp_path / 'toy-review.md'}" in out and f"wrote {tmp_path / 'toy-review.html'}" in out
    # the methods the registry lacks are listed, the report is still produced
    assert "| not in registry | MagicPrune |" in md
    assert "**Not in registry:** MagicPrune is not in the registry" in md
    assert ("**No registry result here:** L1-norm has no result on digits/resnet20 in the registry "
            "(it has results on") in md
    # header summary and the comparison that can be classified (own result vs own result, by key)
    assert "3 claimed comparison(s); 1 classified against the registry" in md
    assert "Claims that survive a fair comparison (S3.2 or stronger with the submission ahead): 0 of 3." in md
    assert "### C3. ToyPrune\\* (3.10×) vs ToyPrune\\* (1.98×)" in md
    # rerun evidence: calibrated L1-norm baseline under the submission's own recipe, and learning curves
    assert ("**Calibrated baseline:** L1-norm (rerun) finetuned with the same recipe (8 epochs, LR 0:1e-2,4:1e-3) "
            "reaches 98.33 at 1.98×") in md
    assert "Learning curves recorded by the rerun engine" in html
    assert "Triangles are the 1 rerun result(s) recorded under reruns/results." in html
    assert len(pngs(html)) == 3
    # checklist, Rule 1, requests
    assert "FLOPs convention" not in md  # speedups only: the convention does not matter (no request)
    assert "| C3 | ToyPrune: 1e-4 | ToyPrune: 1e-3 | differs: ToyPrune's finetuning stops at LR 1e-3" in md
    assert "R1. **Compare at S3.2 or stronger**" in md
    assert check_markdown(md) >= 6


def test_greg_review_content():
    md = (REPORTS / "wang2021-greg-review.md").read_text(encoding="utf-8")
    assert md.startswith("# Fairness report: Neural Pruning via Growing Regularization (ICLR 2021)\n")
    assert "| not in registry | AOFP |" in md
    assert "9 claimed comparison(s); 8 classified against the registry" in md
    assert "Claims that survive a fair comparison (S3.2 or stronger with the submission ahead): 0 of 9." in md
    assert "### C5. GReg-2 (2.31×) vs Factorized (2.33×)" in md
    # the seed's Sec. 5 cross-validation with the recipes written out
    assert ("run GReg-2 with Factorized's recipe (**90 epochs, LR 0:1e-2,30:1e-3,60:1e-4**; from "
            "li2019-factorized/resnet50-2.33x) and Factorized with GReg-2's recipe "
            "(**90 epochs, LR 0:1e-2,30:1e-3,60:1e-4,75:1e-5**") in md
    # Rule 1 of App. A
    assert "Factorized's finetuning stops at LR 1e-4, GReg-2's decays to 1e-5" in md
    # calibrated baseline: the seed's L1-norm reimplementation under GReg's recipe
    assert "`wang2023-why-pruning-confusing/resnet50-l1-2.31x`): GReg-2 − baseline = +0.12 top-1." in md


def test_compare_report_content():
    md = (REPORTS / "GReg-2-vs-L1-norm.md").read_text(encoding="utf-8")
    assert md.startswith("# Fairness report: GReg-2 vs L1-norm\n")
    assert "### C1. GReg-2 (2.31×) vs L1-norm (reimpl.) (2.31×)" in md
    assert "**Setup reached: S3.2, base model inferred**" in md
    assert "2 compared operating point(s); 2 classified against the registry (2 at S3.2" in md
    assert "| imagenet-1k/resnet50 | 3.06× | GReg-2 | `wang2021-greg/resnet50-greg2-3.06x` |" in md
    # rerun evidence: the recorded Sec. 5 cross-validation (on the miniature digits benchmark)
    if (ROOT / "reruns" / "crossval" / "greg2-vs-l1" / "crossval.json").is_file():
        assert "## Recorded cross-validation of finetuning recipes (reruns/crossval)" in md
        assert "This ran on digits/resnet20, a miniature benchmark, not on imagenet-1k/resnet50" in md


def test_markdown_tables_parse_back():
    from audit.report.main import EXAMPLES

    for stem, _, _ in EXAMPLES:
        path = REPORTS / f"{stem}.md"
        assert check_markdown(path.read_text(encoding="utf-8")) >= 8, path
    assert check_markdown((REPORTS / "README.md").read_text(encoding="utf-8")) == 1


def test_html_self_contained_and_images_decode():
    from PIL import Image

    for path in sorted(REPORTS.glob("*.html")):
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html.lower()
        # no resource is fetched from anywhere: every src is an embedded PNG, no stylesheet links, no url()
        srcs = re.findall(r'\b(?:src|href)="([^"]*)"', html)
        assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs), path
        assert "url(" not in html and "@import" not in html
        images = pngs(html)
        assert len(images) == len(srcs) >= 2
        for data in images:
            im = Image.open(io.BytesIO(data))
            im.load()
            assert im.format == "PNG" and im.size in ((960, 560), (960, 480)), im.size
            assert "Software" not in im.info and not any("date" in k.lower() for k in im.info)
            extrema = im.convert("L").getextrema()
            assert extrema[0] < 100 < extrema[1]  # not blank


# ---------------------------------------------------------------------- determinism and the examples
def test_byte_identical_twice(report, tmp_path):
    outs = []
    for name in ("a", "b"):
        code, _, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path / name), "--reruns", str(RERUNS))
        assert code == 0, err
        outs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outs[0] == outs[1]
    assert sorted(outs[0]) == ["toy-review.html", "toy-review.md"]


def _figures_by(html: str) -> str | None:
    m = re.search(r'<meta name="generator" content="prune-audit report; figures by matplotlib ([^"]+)">', html)
    return m.group(1) if m else None


def _without_images(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,...", html)


def test_shipped_examples_are_up_to_date(tmp_path):
    """The committed reports are exactly what ``prune-audit report --regenerate-examples`` writes.

    PNG bytes depend on the matplotlib (and freetype) build: when the installed matplotlib is not the
    one the committed figures were drawn with, everything but the embedded image data must still be
    identical, and the test says which version to regenerate with.
    """
    from importlib.metadata import version

    from audit.report.main import EXAMPLES, regenerate_examples

    written = regenerate_examples(tmp_path, registry=ROOT / "registry", reruns_dir=ROOT / "reruns" / "results",
                                  examples=REPORTS)
    hint = "run `prune-audit report --regenerate-examples` and commit reports/"
    # the review's submission file carries the registry's current GReg entries
    staged = tmp_path / "submissions" / "wang2021-greg-review.yaml"
    assert staged.read_bytes() == (REPORTS / "submissions" / "wang2021-greg-review.yaml").read_bytes(), \
        f"reports/submissions/wang2021-greg-review.yaml no longer matches registry/wang2021-greg.yaml: {hint}"
    written = [p for p in written if p.parent == tmp_path]
    assert sorted(p.name for p in written) == sorted(f"{stem}.{ext}" for stem, _, _ in EXAMPLES
                                                   for ext in ("md", "html"))
    stale = [p.name for p in written if p.suffix == ".md" and p.read_bytes() != (REPORTS / p.name).read_bytes()]
    assert not stale, f"reports/ is out of date for {stale}: {hint}"
    for p in written:
        if p.suffix != ".html":
            continue
        new, old = p.read_text(encoding="utf-8"), (REPORTS / p.name).read_text(encoding="utf-8")
        if _figures_by(old) == version("matplotlib"):
            assert new == old, f"reports/{p.name} is out of date: {hint}"
        else:
            assert _without_images(new).replace(version("matplotlib"), "?") == \
                _without_images(old).replace(str(_figures_by(old)), "?"), f"reports/{p.name} is out of date: {hint}"
            import warnings

            warnings.warn(f"reports/{p.name}: figures were drawn with matplotlib {_figures_by(old)}, this is "
                          f"{version('matplotlib')}; image bytes not compared (text identical)", stacklevel=2)


def test_compare_command_matches_example(report, tmp_path):
    code, out, err = report("--compare", "greg2", "ℓ1-norm", "--out", str(tmp_path),
                            "--registry", str(ROOT / "registry"), "--reruns", str(ROOT / "reruns" / "results"))
    assert code == 0, err
    from importlib.metadata import version

    assert (tmp_path / "GReg-2-vs-L1-norm.md").read_bytes() == (REPORTS / "GReg-2-vs-L1-norm.md").read_bytes()
    new = (tmp_path / "GReg-2-vs-L1-norm.html").read_text(encoding="utf-8")
    old = (REPORTS / "GReg-2-vs-L1-norm.html").read_text(encoding="utf-8")
    if _figures_by(old) == version("matplotlib"):
        assert new == old
    else:
        assert _without_images(new).replace(version("matplotlib"), "?") == \
            _without_images(old).replace(str(_figures_by(old)), "?")


def test_unreadable_evidence_is_a_warning_naming_its_file(report, tmp_path):
    import shutil

    results = tmp_path / "reruns" / "results"
    shutil.copytree(RERUNS, results)
    (results / "half-written.json").write_text('{"id": "x", "method"', encoding="utf-8")
    (results / "not-a-result.json").write_text('{"id": "y"}', encoding="utf-8")
    cv = tmp_path / "reruns" / "crossval" / "broken"
    cv.mkdir(parents=True)
    (cv / "crossval.json").write_text('{"a": "l1"}', encoding="utf-8")
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path / "out"), "--format", "md",
                            "--reruns", str(results))
    assert code == 0, err
    lines = err.splitlines()
    assert len(lines) == 3 and all(ln.startswith("prune-audit: warning: ") for ln in lines)
    assert f"{results / 'half-written.json'}: not a valid record (JSONDecodeError: " in lines[0]
    assert lines[0].endswith("; left out of the report")
    assert f"{results / 'not-a-result.json'}: not a valid record (ValidationError: " in lines[1]
    assert f"{cv / 'crossval.json'}: not a valid record (ValidationError: " in lines[2]
    md = (tmp_path / "out" / "toy-review.md").read_text(encoding="utf-8")
    assert "L1-norm (rerun) finetuned with the same recipe" in md  # the valid evidence is still used


def test_default_locations_are_relative_to_the_working_directory(report, tmp_path, monkeypatch):
    """A wheel install behaves like a checkout: reruns/results and reports/ are looked up where the command runs."""
    import shutil

    from audit.errors import AuditError
    from audit.report.main import regenerate_examples

    monkeypatch.chdir(tmp_path)
    with pytest.raises(AuditError, match="^reports/submissions: not found"):
        regenerate_examples(tmp_path / "out")
    code, _, err = report(str(SUBS / "toy-review.yaml"), "--out", "out", "--format", "md")
    assert code == 0, err
    assert "Calibrated baseline:** L1-norm (rerun)" not in (tmp_path / "out" / "toy-review.md").read_text("utf-8")
    shutil.copytree(RERUNS, tmp_path / "reruns" / "results")
    code, _, err = report(str(SUBS / "toy-review.yaml"), "--out", "out", "--format", "md")
    assert code == 0 and err == "", err
    assert "Calibrated baseline:** L1-norm (rerun)" in (tmp_path / "out" / "toy-review.md").read_text("utf-8")


def test_format_md_only(report, tmp_path):
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path), "--format", "md",
                            "--reruns", str(RERUNS))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy-review.md"]
    md = (tmp_path / "toy-review.md").read_text(encoding="utf-8")
    assert "*Figure in the HTML version:" in md


def test_markdown_only_does_not_draw(tmp_path):
    """``--format md`` builds no figure: matplotlib is not even imported."""
    code = ("import sys; from audit.report.main import build_submission, render; "
            f"doc = build_submission({str(SUBS / 'toy-review.yaml')!r}, reruns_dir={str(RERUNS)!r}); "
            "render(doc, 'md', 'x'); print('matplotlib' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert res.stdout.strip() == "False"


# ---------------------------------------------------------------------- bad input
def test_no_comparisons(report, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = report(str(SUBS / "no-comparisons.yaml"), "--out", str(tmp_path))
    assert code == 1
    assert err == ("tests/fixtures/submissions/no-comparisons.yaml:1: comparisons: the submission lists no "
                   "comparisons; add 'comparisons: [{result: <own result id>, against: <method or "
                   "paper-id/result-id>}]'\n")
    assert list(tmp_path.iterdir()) == []


CROSS_BENCHMARK = """paper: {id: xb2026-x, title: X, authors: [A], venue: arXiv, year: 2026}
methods: [{name: CrossX}]
results:
- id: resnet56-x
  method: CrossX
  dataset: cifar-10
  network: resnet56
  top1: {mean: 93.9}
  compression: {speedup: 2.0}
  sources: [{where: Tab. 2}]
comparisons:
- {result: resnet56-x, against: li2017-l1-norm/resnet34-pruned-b}
"""


def test_a_claim_against_another_benchmark_is_reported_not_a_crash(report, tmp_path, base_registry):
    sub = tmp_path / "xb2026-x.yaml"
    sub.write_text(CROSS_BENCHMARK)
    code, out, err = report(str(sub), "--out", str(tmp_path / "out"), "--registry", str(base_registry),
                            "--format", "md")
    assert (code, err) == (0, "")
    md = (tmp_path / "out" / "xb2026-x.md").read_text()
    assert ("**Setup reached: not comparable (dataset cifar-10 vs imagenet-1k, network resnet56 vs resnet34)**"
            in md)
    assert "**Pareto position:** none: the two results are on different benchmarks (dataset or network)." in md


def test_invalid_submission_lists_every_problem(report, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = report("tests/fixtures/submissions/invalid.yaml", "--out", str(tmp_path))
    assert code == 1
    assert err.splitlines() == [
        "tests/fixtures/submissions/invalid.yaml:15: results[0].finetune.epoch: unknown field (did you mean 'epochs'?)",
        "tests/fixtures/submissions/invalid.yaml:26: comparisons[0].result: 'resnet20-c' is not a result id of this "
        "submission. Did you mean 'resnet20-b', 'resnet20-a'?",
        "tests/fixtures/submissions/invalid.yaml:28: comparisons[1].against: required field is missing",
        "tests/fixtures/submissions/invalid.yaml:29: comparisons[1].versus: unknown field (did you mean 'result'?)",
    ]
    assert list(tmp_path.iterdir()) == []


def test_unknown_own_method_is_a_located_problem(report, tmp_path, monkeypatch):
    text = (SUBS / "toy-review.yaml").read_text(encoding="utf-8")
    text = text.replace("  method: ToyPrune\n", "  method: ToyPrun\n", 1)
    sub = tmp_path / "typo.yaml"
    sub.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = report("typo.yaml", "--out", "out")
    assert code == 1
    assert err.startswith("typo.yaml:15: results[0].method: unknown method 'ToyPrun'. Did you mean 'ToyPrune'")
    assert len(err.splitlines()) == 1


def test_missing_submission_file(report, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = report("nope.yaml")
    assert (code, err) == (1, "prune-audit: error: nope.yaml: no such file\n")


def test_unknown_method_in_compare(report, tmp_path):
    code, out, err = report("--compare", "GReg-2", "NoSuchPrune", "--out", str(tmp_path))
    assert code == 2
    assert err.startswith("prune-audit: error: unknown method 'NoSuchPrune'.")
    assert list(tmp_path.iterdir()) == []


def test_nothing_to_report(report):
    code, out, err = report()
    assert (code, err) == (1, "prune-audit: error: nothing to report: give a SUBMISSION.yaml or --compare A B "
                              "(see prune-audit report --help)\n")


def test_output_dir_is_a_file(report, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(target), "--reruns", str(RERUNS))
    assert code == 1
    assert err == f"prune-audit: error: {target}: cannot write the report: not a directory\n"


def test_output_dir_not_writable(report, tmp_path):
    out_dir = tmp_path / "ro"
    out_dir.mkdir()
    out_dir.chmod(0o500)
    try:
        if os.access(out_dir, os.W_OK):  # root ignores the mode: make the write itself fail
            pytest.skip("running as root: directory permissions are not enforced (see the monkeypatched test)")
        code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(out_dir), "--reruns", str(RERUNS))
        assert code == 1
        assert err == f"prune-audit: error: {out_dir}: cannot write the report: Permission denied\n"
    finally:
        out_dir.chmod(0o700)


def test_output_write_denied(report, tmp_path, monkeypatch):
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path), "--reruns", str(RERUNS))
    assert code == 1
    assert err == f"prune-audit: error: {tmp_path}: cannot write the report: Permission denied\n"
    assert list(tmp_path.iterdir()) == []


def test_existing_report_is_overwritten_atomically(report, tmp_path, monkeypatch):
    old = "old report\n"
    (tmp_path / "toy-review.md").write_text(old, encoding="utf-8")
    # a failure at the final rename leaves the old file intact and no temporary file behind
    real_replace = os.replace

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path), "--reruns", str(RERUNS))
    assert code == 1
    assert err == f"prune-audit: error: {tmp_path}: cannot write the report: No space left on device\n"
    assert (tmp_path / "toy-review.md").read_text(encoding="utf-8") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy-review.md"]
    # and a successful run replaces it
    monkeypatch.setattr(os, "replace", real_replace)
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--out", str(tmp_path), "--reruns", str(RERUNS))
    assert code == 0, err
    new = (tmp_path / "toy-review.md").read_text(encoding="utf-8")
    assert new != old and new.startswith("# Fairness report: Toy Pruning for Reviewers (arXiv 2099)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy-review.html", "toy-review.md"]
    assert oct((tmp_path / "toy-review.md").stat().st_mode & 0o044) == oct(0o044)


def test_bad_options(report, tmp_path):
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--format", "pdf", "--out", str(tmp_path))
    assert code == 2 and err.splitlines()[-1] == (
        "Error: Invalid value for '--format': Value error, 'pdf' is not one of 'md', 'html', 'both'.")
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--compare", "GReg-2", "L1-norm", "--out", str(tmp_path))
    assert (code, err) == (1, "prune-audit: error: give either a SUBMISSION.yaml or --compare A B, not both\n")
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--tolerance", "0", "--out", str(tmp_path))
    assert (code, err) == (1, "prune-audit: error: tolerance must be positive (got 0)\n")
    assert list(tmp_path.iterdir()) == []


def test_help_documents_exit_codes(report):
    code, out, err = report("--help")
    assert code == 0
    text = " ".join(out.split())
    assert "Exit status: 0 report written (or --check found every pair whole); 1 invalid submission" in text
    assert "a mixed pair under --check" in text
    assert "2 unknown method, dataset or network in --compare, or a usage error" in text


def test_cli_module_imports_stay_light():
    """``audit.cli.report`` imports only typer/typing/pathlib at module level."""
    code = ("import sys, audit.cli.report; bad = [m for m in ('matplotlib', 'pandas', 'numpy', 'torch', "
            "'audit.report', 'pydantic') if m in sys.modules]; print(bad)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert res.stdout.strip() == "[]"


def test_report_never_imports_torch(tmp_path):
    code = ("import sys; from audit.report.main import build_submission, render; "
            f"doc = build_submission({str(SUBS / 'toy-review.yaml')!r}, reruns_dir={str(RERUNS)!r}); "
            "render(doc, 'both', 'x'); print('torch' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert res.stdout.strip() == "False"


def test_compare_without_common_benchmark(report, tmp_path):
    code, out, err = report("--compare", "Taylor-FO", "Scratch training", "--out", str(tmp_path), "--format", "md")
    assert code == 0, err
    md = (tmp_path / "Taylor-FO-vs-Scratch-training.md").read_text(encoding="utf-8")
    assert ("**Nothing to compare:** Taylor-FO and Scratch training share no dataset/network in the registry: "
            "no comparison is possible") in md
    assert "No result is under review: nothing was compared." in md
    check_markdown(md)


def test_compare_filters(report, tmp_path):
    code, out, err = report("--compare", "GReg-2", "L1-norm", "--network", "resnet34", "--out", str(tmp_path))
    assert (code, err) == (1, "prune-audit: error: GReg-2 has no result on resnet34 (it has results on "
                              "cifar-10/resnet56, imagenet-1k/resnet50)\n")
    code, out, err = report("--compare", "GReg-2", "L1-norm", "--network", "resnet999", "--out", str(tmp_path))
    assert code == 2 and err.startswith("prune-audit: error: unknown network 'resnet999'.")
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--dataset", "digits", "--out", str(tmp_path))
    assert (code, err) == (1, "prune-audit: error: --dataset and --network filter --compare A B; a submission "
                              "names its own dataset/network\n")
    code, out, err = report("--compare", "GReg-2", "L1-norm", "--dataset", "imagenet-1k", "--network", "resnet50",
                            "--out", str(tmp_path), "--format", "md")
    assert code == 0, err
    assert (tmp_path / "GReg-2-vs-L1-norm-imagenet-1k-resnet50.md").is_file()


def test_unknown_result_key_is_listed_not_fatal(report, tmp_path):
    text = (SUBS / "toy-review.yaml").read_text(encoding="utf-8")
    text += "- result: resnet20-toy-50\n  against: he2018-sfp/resnet20-9x\n"
    sub = tmp_path / "keyed.yaml"
    sub.write_text(text, encoding="utf-8")
    code, out, err = report(str(sub), "--out", str(tmp_path / "out"), "--reruns", str(RERUNS), "--format", "md")
    assert code == 0, err
    md = (tmp_path / "out" / "keyed.md").read_text(encoding="utf-8")
    assert "| not in registry | MagicPrune, he2018-sfp/resnet20-9x |" in md
    assert "**Not in registry:** he2018-sfp/resnet20-9x is not in the registry (did you mean " in md


def test_the_report_pair_is_written_together_or_not_at_all(report, tmp_path):
    out = tmp_path / "out"
    (out / "GReg-2-vs-L1-norm.html").mkdir(parents=True)
    code, _, err = report("--compare", "GReg-2", "L1-norm", "--out", str(out))
    assert (code, err) == (1, f"prune-audit: error: {out / 'GReg-2-vs-L1-norm.html'}: cannot write the report: a "
                              "directory of that name exists\n")
    assert sorted(p.name for p in out.iterdir()) == ["GReg-2-vs-L1-norm.html"]  # no new .md, no temporary file


SUPPLIES_COMPETITOR = """paper: {id: inno2026-x, title: X, authors: [A], venue: arXiv, year: 2026}
methods: [{name: Innocent}]
results:
- id: r34-innocent
  method: Innocent
  dataset: imagenet-1k
  network: resnet34
  top1: {mean: 75.0}
  compression: {speedup: 1.32}
  sources: [{where: Tab. 1}]
- id: r34-l1
  method: L1-norm
  dataset: imagenet-1k
  network: resnet34
  top1: {mean: 60.0}
  compression: {speedup: 1.32}
  sources: [{where: Tab. 1}]
comparisons:
- {result: r34-innocent, against: L1-norm}
"""


def test_competitor_numbers_come_from_the_registry(report, tmp_path, base_registry):
    sub = tmp_path / "inno2026-x.yaml"
    sub.write_text(SUPPLIES_COMPETITOR)
    code, _, err = report(str(sub), "--out", str(tmp_path / "out"), "--registry", str(base_registry), "--format", "md")
    assert (code, err) == (0, "")
    md = (tmp_path / "out" / "inno2026-x.md").read_text()
    assert "| top-1 (%) | 75.00 | 72.17 |" in md  # the registry's L1-norm, not the submission's 60.00
    assert ("**Cited value differs from the registry:** the submission cites L1-norm at 60.00 (inno2026-x/r34-l1); "
            "the registry's source says 72.17 (li2017-l1-norm/resnet34-pruned-b).") in md


def test_a_submission_that_replaces_a_registry_paper_says_so(report, tmp_path, base_registry):
    text = (base_registry / "li2017-l1-norm.yaml").read_text()
    sub = tmp_path / "li2017-l1-norm.yaml"
    sub.write_text(text + "comparisons:\n- {result: resnet34-pruned-b, against: L1-norm}\n")
    code, _, err = report(str(sub), "--out", str(tmp_path / "out"), "--registry", str(base_registry), "--format", "md")
    assert code == 0
    md = (tmp_path / "out" / "li2017-l1-norm.md").read_text()
    assert ("**Replaces a registry paper:** the submission has the paper id li2017-l1-norm, which the registry holds "
            "in its file li2017-l1-norm.yaml;") in md


KILL_AFTER_FIRST_RENAME = """
import os, signal, sys
real = os.replace
def replace_then_die(src, dst):
    real(src, dst)
    os.kill(os.getpid(), signal.SIGKILL)  # killed between the two renames of the pair
os.replace = replace_then_die
from audit.cli import main
main(sys.argv[1:])
"""


def test_a_kill_between_the_two_renames_is_detected_and_named(report, tmp_path):
    """The .md is replaced, then the process is SIGKILLed before the .html: every later reader (``report
    --check DIR`` and the next ``report`` run) names the stale .html instead of silently showing a mix."""
    old_sub = tmp_path / "toy-review.yaml"
    old_sub.write_text((SUBS / "toy-review.yaml").read_text(encoding="utf-8").replace("claim: ", "claim: (v1) "),
                       encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = report(str(old_sub), "--out", str(out), "--reruns", str(RERUNS))
    assert code == 0, err
    code, text, err = report("--check", str(out))
    assert code == 0 and err == "" and text.startswith("ok: toy-review.md and toy-review.html are one report")
    old_html = (out / "toy-review.html").read_bytes()
    new_sub = SUBS / "toy-review.yaml"
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_RENAME, "report", str(new_sub), "--out", str(out),
                           "--reruns", str(RERUNS), "--format", "both"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr
    assert (out / "toy-review.html").read_bytes() == old_html  # the mix exists on disk ...
    assert "(v1)" not in (out / "toy-review.md").read_text(encoding="utf-8")
    code, text, err = report("--check", str(out))  # ... and is stated, naming the stale file
    assert code == 1 and text == ""
    stale = err.splitlines()
    assert len(stale) == 2 and stale[0].startswith(f"prune-audit: stale: {out / 'toy-review.md'} (generation ")
    assert f"are not one report: {out / 'toy-review.html'} is stale ({out / 'toy-review.md'} was written after it)" \
        in stale[0]
    assert stale[1] == f"prune-audit: error: {out}: 1 of 1 report pair(s) mix two runs (listed above)"
    # the next run says what it found and replaces both
    code, _, err = report(str(new_sub), "--out", str(out), "--reruns", str(RERUNS))
    assert code == 0 and err.startswith("prune-audit: warning: ") and f"{out / 'toy-review.html'} is stale" in err
    code, _, err = report("--check", str(out))
    assert (code, err) == (0, "")


def test_one_format_beside_a_file_of_another_run_is_named_stale(report, tmp_path):
    out = tmp_path / "out"
    code, _, err = report(str(SUBS / "toy-review.yaml"), "--out", str(out), "--reruns", str(RERUNS))
    assert (code, err) == (0, "")
    code, _, err = report(str(SUBS / "toy-review.yaml"), "--out", str(out), "--format", "md")
    assert code == 0 and f"{out / 'toy-review.html'} is stale" in err


def test_default_output_folder_is_review(report, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = report(str(SUBS / "toy-review.yaml"), "--format", "md")
    assert (code, out) == (0, "wrote review/toy-review.md\n"), err


def test_the_verdict_comes_first_and_each_claim_heading_carries_its_own():
    md = (REPORTS / "wang2021-greg-review.md").read_text(encoding="utf-8").splitlines()
    assert md[3] == ("**Verdict:** 0 of 9 claimed comparisons survive a fair comparison (S3.2 or stronger, with the "
                     "submission ahead); 0 reach S3.2 or stronger.")
    assert md[5] == ("- **C1** GReg-1 (1.49×) vs ProvableFP (1.43×): not conclusive at S3.1 (finetuning not shown the "
                     "same): GReg-1 ahead by 1.06 top-1")
    headings = [ln for ln in md if re.match(r"### C\d+\. ", ln)]
    assert len(headings) == 9 and all(" — " in h for h in headings)
    assert "### C9. GReg-2\\* (2.31×) vs AOFP — cannot be checked: the competitor is not in the registry" in headings
    # figures right after the summary, before the sections
    order = [ln for ln in md if ln.startswith("## ")]
    assert order[:4] == ["## Summary", "## Figures", "## What is under review", "## Claimed comparisons"]
    compare = (REPORTS / "GReg-2-vs-L1-norm.md").read_text(encoding="utf-8")
    assert "### C1. GReg-2 (2.31×) vs L1-norm (reimpl.) (2.31×) — survives at S3.2 (fair): GReg-2 ahead by 0.12 " \
           "top-1" in compare


def test_the_scatter_plot_focuses_on_the_compared_points():
    from audit.report import plots

    rng = plots.focus_range([(2.31, 75.36), (2.31, 75.24), (2.56, 74.93), (2.56, 74.77)])
    assert rng is not None
    x0, x1, y0, y1 = rng
    assert x0 < 2.31 and x1 > 2.56 and y0 < 74.77 and y1 > 75.36 and x1 - x0 < 0.6 and y1 - y0 < 2
    assert not plots.in_range(rng, 4.17, 68.17) and plots.in_range(rng, 2.4, 75.0)
    md = (REPORTS / "GReg-2-vs-L1-norm.md").read_text(encoding="utf-8")
    assert "*The other registry results in the view of the figure on imagenet-1k/resnet50, by speedup*" in md
    assert "| `peng2019-ccp/resnet50-2.18x` | CCP-AC | 75.32 | 2.18× |" in md
