"""The HTML reports opened as a reader would: in a real headless browser (Debian's chromium).

For each shipped report chromium loads the file with a NetLog (``--log-net-log``) and console
logging on, and takes a screenshot (1280x2400):

* no request leaves the page: the NetLog holds no request initiated by the page (the browser's own
  background requests carry the initiator "not an origin" and are ignored) -- a negative control
  proves a page with a remote image *is* caught;
* no console error (a negative control proves a ``console.error`` *is* caught);
* the screenshot is not blank;
* every embedded image decodes in the browser: the report's ``<img>`` elements, copied into a
  page of their own, render with the figures' colours;
* at 1280 and at 420 px wide (a phone) the verdict is on the first screen and the page itself never
  scrolls sideways (wide tables scroll inside their box; a phone gets the figures drawn for its width).
  Set ``PRUNE_AUDIT_SCREENSHOTS=DIR`` to keep the screenshots.

Skipped, with a message saying so, where chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium); the HTML report browser test is skipped",
)


def open_in_chromium(page: Path, work: Path, size: str = "1280,2400") -> tuple[str, list[dict], Path]:
    """Load ``page`` headless; return (stderr log, page-initiated requests, screenshot path)."""
    work.mkdir(parents=True, exist_ok=True)
    shot = work / "screenshot.png"
    netlog = work / "netlog.json"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
           f"--user-data-dir={work / 'profile'}",
           "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", f"--window-size={size}",
           f"--screenshot={shot}", page.resolve().as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert shot.is_file(), res.stderr[-3000:]
    events = json.loads(netlog.read_text(encoding="utf-8")).get("events", [])
    requests = []
    for e in events:
        p = e.get("params")
        if isinstance(p, dict) and "url" in p and "initiator" in p and p["initiator"] != "not an origin":
            requests.append(p)
    return res.stderr, requests, shot


MIN_WINDOW = 500
"""Headless chromium lays a page out at least this wide, whatever --window-size says."""


def open_at_width(page: Path, work: Path, width: int, height: int) -> tuple[str, list[dict], Path]:
    """:func:`open_in_chromium` with the page laid out ``width`` px wide: below :data:`MIN_WINDOW` the page
    is shown in an iframe of that width (a page beside ``page``, which must be a copy: it is written next to
    it) and the screenshot is cropped to the iframe."""
    if width >= MIN_WINDOW:
        return open_in_chromium(page, work, size=f"{width},{height}")
    wrapper = page.parent / f".at-{width}-{page.name}"
    wrapper.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe src="{page.name}" '
                       f'style="width:{width}px;height:{height}px;border:0;display:block"></iframe></body></html>',
                       encoding="utf-8")
    log, requests, shot = open_in_chromium(wrapper, work, size=f"{MIN_WINDOW},{height}")
    from PIL import Image

    Image.open(shot).crop((0, 0, width, height)).save(shot)
    return log, requests, shot


def console_errors(log: str) -> list[str]:
    return [ln for ln in log.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


def _pixels(path: Path):
    from PIL import Image

    im = Image.open(path).convert("RGB")
    return im, im.getcolors(maxcolors=1 << 24) or []


@pytest.fixture(scope="module")
def negative_control(tmp_path_factory):
    work = tmp_path_factory.mktemp("neg")
    page = work / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img src="http://127.0.0.1:9/remote.png">'
                    '<script>console.error("report-test-console-error")</script></body></html>', encoding="utf-8")
    return open_in_chromium(page, work / "run")


def test_checks_catch_requests_and_console_errors(negative_control):
    log, requests, _ = negative_control
    assert any(r["url"] == "http://127.0.0.1:9/remote.png" for r in requests)
    assert any("report-test-console-error" in ln for ln in console_errors(log))


@pytest.mark.parametrize("name", ["GReg-2-vs-L1-norm.html", "wang2021-greg-review.html"])
def test_report_in_browser(name, tmp_path, negative_control):
    page = REPORTS / name
    log, requests, shot = open_in_chromium(page, tmp_path / "report")
    assert requests == [], f"the page made requests: {[r['url'] for r in requests]}"
    assert console_errors(log) == []
    im, colours = _pixels(shot)
    assert im.size == (1280, 2400)
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    # every embedded image, on a page of its own: each must render (figure colours present, no broken icon)
    html = page.read_text(encoding="utf-8")
    imgs = re.findall(r"<img [^>]*>", html)
    assert len(imgs) >= 2
    for i, tag in enumerate(imgs):
        single = tmp_path / f"img{i}.html"
        single.write_text('<!DOCTYPE html><html><body style="margin:0;background:#fff">'
                          + tag.replace("<img ", '<img style="display:block;width:960px" ', 1)
                          + "</body></html>", encoding="utf-8")
        log_i, req_i, shot_i = open_in_chromium(single, tmp_path / f"img{i}", size="1000,600")
        assert req_i == [] and console_errors(log_i) == []
        im_i, colours_i = _pixels(shot_i)
        dark = sum(n for n, (r, g, b) in colours_i if r + g + b < 200)
        assert dark > 2000, f"image {i} of {name} did not render (only {dark} dark pixels)"
        assert len(colours_i) > 100, f"image {i} of {name} rendered flat"


PROBE = """<script>
window.addEventListener("load", function () {
  var root = document.documentElement;
  var verdict = document.querySelector("p.verdict");
  var imgs = Array.prototype.map.call(document.images, function (i) { return i.currentSrc.length + ":" +
      i.getBoundingClientRect().width; });
  console.log("probe overflow=" + (root.scrollWidth - root.clientWidth) + " verdict-bottom=" +
      (verdict ? Math.round(verdict.getBoundingClientRect().bottom) : -1) + " imgs=" + imgs.join(","));
});
</script>"""


@pytest.mark.parametrize("width", [1280, 420])
@pytest.mark.parametrize("name", ["GReg-2-vs-L1-norm.html", "wang2021-greg-review.html"])
def test_report_fits_the_screen_with_the_verdict_first(name, width, tmp_path, negative_control):
    page = tmp_path / name
    page.write_text((REPORTS / name).read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")
    log, requests, shot = open_at_width(page, tmp_path / "run", width, 900)
    assert requests == [] and [ln for ln in console_errors(log) if "probe overflow=" not in ln] == []
    found = re.findall(r"probe overflow=(-?\d+) verdict-bottom=(-?\d+) imgs=([^\"]*)", log)
    assert found, log[-2000:]
    overflow, bottom, imgs = found[0]
    assert overflow == "0", f"the page scrolls sideways by {overflow} px at {width} px"
    assert 0 < int(bottom) <= 900, f"the verdict is not on the first screen (its bottom at {bottom} px)"
    widths = [float(x.split(":")[1]) for x in imgs.strip().split(",") if x]
    assert widths and all(w <= width for w in widths)
    keep = os.environ.get("PRUNE_AUDIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"report-{name[:-5]}-{width}.png")
        open_at_width(page, tmp_path / "full", width, 5000)
        shutil.copy(tmp_path / "full" / "screenshot.png", Path(keep) / f"report-{name[:-5]}-{width}-long.png")
