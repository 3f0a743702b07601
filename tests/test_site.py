"""``prune-audit site``: content, determinism, atomic replacement, hook points, and the site in a browser.

The browser checks (headless chromium, as for the reports) open the index, every benchmark page and a
paper page at 1280 and 420 px: no request leaves a page, no console error, no horizontal page scroll at
420 px, screenshots not blank; every link and image of every page resolves to a file of the site (and
its #fragment to an id on that page).  Set ``PRUNE_AUDIT_SCREENSHOTS=DIR`` to keep the screenshots.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import SHIPPED
from test_report_browser import CHROMIUM, console_errors, open_at_width

from audit.cli import main


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    assert main(["site", "--out", str(out), "--registry", str(SHIPPED)]) == 0
    return out


def pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def test_the_site_has_an_index_benchmarks_and_papers(site, shipped):
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "style.css", "sort.js", ".prune-audit-site"} <= names
    benches = {(e.result.dataset, e.result.network) for e in shipped.entries}
    for ds, nw in benches:
        assert f"bench/{ds}--{nw}.html" in names and f"bench/{ds}--{nw}.png" in names
    assert {f"paper/{pid}.html" for pid in shipped.papers} <= names
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f'href="bench/{ds}--{nw}.html"' in index for ds, nw in benches)


def test_a_benchmark_page_ranks_only_fair_pairs_beside_the_naive_board(site, shipped):
    from audit.core.compare import audit_matrix

    # the calibrated board ranks S3.2+ pairs of verified files only: the same rows audit gives
    expected = [r.method for r in audit_matrix(shipped, "imagenet-1k", "resnet50", 0.05, False).calibrated_leaderboard]
    page = (site / "bench" / "imagenet-1k--resnet50.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    flat = " ".join(text.split())
    assert "Calibrated leaderboard (S3.2+ pairs only)" in flat and "Naive leaderboard (raw top-1)" in flat
    cal = page.split("Calibrated leaderboard")[1].split("Naive leaderboard")[0]
    assert [m for m in re.findall(r"<tr><td class=num>\d+</td><td>([^<]+)</td>", cal)] == expected
    # the matrix cell of GReg-1 vs GReg-2 says on hover which pair reaches S3.2 and what S4.1 fails on
    cell = re.search(r'<td class="fair" title="GReg-1 vs GReg-2: S3.2 \(strongest of \d+ result pair\(s\)\)&#10;'
                     r'([^"]+)">S3.2</td>', page)
    assert cell, "no hover reason on the GReg-1/GReg-2 cell"
    assert "stronger setups fail on:" in html.unescape(cell.group(1))
    assert '<img src="imagenet-1k--resnet50.png"' in page


def test_a_paper_page_has_every_result_with_sources_and_recipe(site, shipped):
    page = (site / "paper" / "wang2021-greg.html").read_text(encoding="utf-8")
    for e in shipped.entries:
        if e.paper.id == "wang2021-greg":
            assert f'id="{e.result.id}"' in page and f"<code>{e.key}</code>" in page
    flat = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "finetune recipe 90 ep, 0:1e-2,30:1e-3,60:1e-4,75:1e-5" in flat
    assert "source wang2023-why-pruning-confusing: Tab. 1" in flat


def test_byte_identical_on_rerun(site, tmp_path):
    again = tmp_path / "again"
    assert main(["site", "--out", str(again), "--registry", str(SHIPPED)]) == 0
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(again) == files(site)
    # and a rerun into the same folder replaces it as a whole, leaving no temporary directory beside it
    (again / "bench" / "stale.html").write_text("old", encoding="utf-8")
    assert main(["site", "--out", str(again), "--registry", str(SHIPPED)]) == 0
    assert not (again / "bench" / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def test_a_folder_that_is_not_a_site_is_never_replaced(tmp_path, capsys):
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["site", "--out", str(keep), "--registry", str(SHIPPED)]) == 1
    err = capsys.readouterr().err
    assert err == (f"prune-audit: error: {keep}: cannot write the site: the directory is not empty and holds no site "
                   "written by prune-audit site (.prune-audit-site); choose another --out or empty it\n")
    assert [p.name for p in keep.iterdir()] == ["notes.txt"]
    file_out = tmp_path / "file"
    file_out.write_text("x", encoding="utf-8")
    assert main(["site", "--out", str(file_out), "--registry", str(SHIPPED)]) == 1
    assert capsys.readouterr().err == f"prune-audit: error: {file_out}: cannot write the site: not a directory\n"


def test_a_failed_write_leaves_the_previous_site(tmp_path, monkeypatch, site):
    from audit.errors import AuditError
    from audit.site import write_site

    out = tmp_path / "s"
    shutil.copytree(site, out)
    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real = os.replace

    def failing(src, dst):
        if Path(dst) == out and ".old." not in Path(src).name:  # the new site cannot take the name
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(AuditError, match="cannot write the site: No space left on device"):
        write_site({"index.html": b"new"}, out)
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_hook_points_render_findings_and_value_tables(shipped):
    from audit.site import Finding, SiteTable, build_site

    key = "wang2021-greg/resnet50-greg2-2.31x"
    files = build_site(shipped, findings=[Finding(key, "printed speedup 2.31× fits ratio 0.6, not 0.5",
                                                  "registry/wang2021-greg.yaml:84")],
                       value_of_pruning=lambda ds, nw: SiteTable("Pruning vs Scratch-E/B", ["ratio", "pruning"],
                                                                 [["0.5", "75.36"]]) if nw == "resnet50" else None)
    bench = files["bench/imagenet-1k--resnet50.html"].decode("utf-8")
    assert '<h2 id="checks">Registry check findings</h2>' in bench and "fits ratio 0.6, not 0.5" in bench
    assert '<h2 id="value-of-pruning">Value of pruning</h2>' in bench and "<td>75.36</td>" in bench
    assert "value-of-pruning" not in files["bench/cifar-10--resnet56.html"].decode("utf-8")
    assert "fits ratio 0.6, not 0.5" in files["paper/wang2021-greg.html"].decode("utf-8")
    plain = build_site(shipped)
    assert "Registry check findings</h2>" not in plain["bench/imagenet-1k--resnet50.html"].decode("utf-8")


# ---------------------------------------------------------------------- links
_LINK = re.compile(r'(?:href|src)="([^"]+)"')


def test_every_link_resolves(site):
    ids: dict[Path, set[str]] = {p: set(re.findall(r'id="([^"]+)"', p.read_text(encoding="utf-8")))
                                 for p in pages(site)}
    checked = 0
    for page in pages(site):
        for url in _LINK.findall(page.read_text(encoding="utf-8")):
            parts = urlsplit(html.unescape(url))
            assert not parts.scheme and not parts.netloc, f"{page}: external link {url}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)}: {url} does not resolve"
            assert site.resolve() in target.parents, f"{page}: {url} leaves the site"
            if parts.fragment:
                assert parts.fragment in ids[target], f"{page.relative_to(site)}: #{parts.fragment} not on {target}"
            checked += 1
    assert checked > 300


# ---------------------------------------------------------------------- in the browser
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                                             "chromium); the site browser test is skipped")

SCROLL_PROBE = """<script>
window.addEventListener("load", function () {
  var over = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  document.title = "scroll:" + over;
  console.log("page-horizontal-overflow=" + over);
});
</script>"""


def _keep(shot: Path, name: str) -> None:
    keep = os.environ.get("PRUNE_AUDIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / name)


@needs_chromium
@pytest.mark.parametrize("width", [1280, 420])
@pytest.mark.parametrize("page", ["index.html", "bench/imagenet-1k--resnet50.html", "bench/cifar-10--resnet56.html",
                                  "paper/wang2021-greg.html"])
def test_site_in_browser(site, tmp_path, page, width):
    from PIL import Image

    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    probe = copy / page
    probe.write_text(probe.read_text(encoding="utf-8").replace("</body>", SCROLL_PROBE + "</body>"), encoding="utf-8")
    log, requests, shot = open_at_width(probe, tmp_path / "run", width, 1800)
    assert requests == [], f"the page made requests: {[r['url'] for r in requests]}"
    assert [ln for ln in console_errors(log) if "page-horizontal-overflow=" not in ln] == []
    im = Image.open(shot).convert("RGB")
    assert im.size == (width, 1800) and len(im.getcolors(1 << 24) or []) > 50
    _keep(shot, f"site-{page.replace('/', '_')[:-5]}-{width}.png")
    # no horizontal scroll of the page itself (wide tables scroll inside their box), measured in the page
    assert re.findall(r"page-horizontal-overflow=(-?\d+)", log) == ["0"], log[-2000:]
