"""The pages of the static leaderboard site, as ``{relative path: bytes}`` (see :mod:`audit.site`).

Per benchmark (dataset / network) the page puts the calibrated leaderboard -- wins, losses and ties over
pairs at S3.2 or stronger only, the seed's fair setups (Wang et al. 2023, Tab. 2 and Sec. 6) -- beside
the naive one (raw top-1), then the setup matrix (the strongest setup any two results of two methods
reach; hovering a cell shows the pair and what the stronger setups fail on), the top-1 vs speedup plot
and every result.  Rankings and setups come from :func:`audit.core.compare.audit_matrix` and
:func:`audit.core.classify.classify`; nothing is re-decided here.

Two hook points take content the registry's own checks produce (they render only when given):
``findings`` -- :class:`Finding` lines of the registry's arithmetic audit, shown on the benchmark and
paper pages of the results they name, counted on the index -- and ``value_of_pruning`` -- a function
giving, per benchmark, a :class:`SiteTable` (pruning vs Scratch-E / Scratch-B per ratio).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.core import fmt

__all__ = ["CSS", "NAIVE_ROWS", "SORT_JS", "Finding", "SiteTable", "build_site", "slug"]

NAIVE_ROWS = 15
"""Rows of the naive leaderboard beside the calibrated one (every result is listed further down the page)."""


@dataclass(frozen=True)
class Finding:
    """One finding of the registry's arithmetic audit (``registry check``) about a result or a paper.

    ``subject`` is a result key ``paper-id/result-id`` or a paper id; ``where`` the file and line
    (``registry/x.yaml:12``) or empty."""

    subject: str
    message: str
    where: str = ""


@dataclass(frozen=True)
class SiteTable:
    """A table a hook adds to a benchmark page: caption, column names, rows of cell texts, and a note."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


CSS = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1b1f24;margin:0;
background:#fff}
header{background:#24292f;color:#fff;padding:10px 20px}
header a{color:#fff;text-decoration:none;font-weight:bold}
main{max-width:1240px;margin:0 auto;padding:8px 20px 24px}
footer{max-width:1240px;margin:0 auto;padding:12px 20px;color:#57606a;font-size:13px;border-top:1px solid #d0d7de}
h1{font-size:24px;margin:14px 0 6px}
h2{font-size:19px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
h3{font-size:16px;margin:18px 0 6px}
a{color:#0969da}
.scroll{overflow-x:auto;max-width:100%;margin:8px 0 14px}
table{border-collapse:collapse;font-size:13.5px}
th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f5f7}
td.num,th.num{text-align:right;white-space:nowrap}
td.key{white-space:nowrap;font-family:"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px}
tr:nth-child(even) td{background:#fafbfc}
.boards{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px}
@media (max-width:900px){.boards{grid-template-columns:minmax(0,1fr)}}
.note{color:#57606a;font-size:13.5px}
.lead{background:#f6f8fa;border:1px solid #d0d7de;border-left:4px solid #0969da;padding:8px 12px}
.matrix td{text-align:center;white-space:nowrap;padding:3px 5px}
.matrix td.m{text-align:left}
.fair{background:#dafbe1 !important;color:#116329;font-weight:bold}
.mid{background:#fff8c5 !important;color:#7d4e00}
.low{background:#ffebe9 !important;color:#a40e26}
.none{color:#8c959f}
figure{margin:10px 0 18px}
figure img{max-width:100%;height:auto;border:1px solid #d0d7de}
figcaption{color:#57606a;font-size:13px}
.findings li{margin:2px 0;overflow-wrap:anywhere}
p,li{overflow-wrap:anywhere}
th.sortable{cursor:pointer}
""".strip() + "\n"

SORT_JS = """// prune-audit site: click a column header of a table with class "sortable" to sort it (optional; the
// pages read the same without JavaScript).
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.classList.add("sortable");
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("data-order") !== "asc";
      var value = function (row) {
        var text = row.cells[col] ? row.cells[col].textContent.trim() : "";
        var num = parseFloat(text.replace(/[^0-9.+-]/g, ""));
        return isNaN(num) ? text.toLowerCase() : num;
      };
      rows.sort(function (a, b) {
        var x = value(a), y = value(b);
        if (x === y) { return 0; }
        return (x < y ? -1 : 1) * (asc ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
      th.setAttribute("data-order", asc ? "asc" : "desc");
    });
  });
});
"""


def slug(text: str) -> str:
    """A file-name-safe form of an id (letters, digits, ``.``, ``_``, ``-``; other runs become ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: list[str], depth: int, footer: str) -> bytes:
    up = "../" * depth
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title>", f'<link rel="stylesheet" href="{up}style.css">', "</head>", "<body>",
           f'<header><a href="{up}index.html">prune-audit leaderboards</a></header>', "<main>", *body, "</main>",
           f'<footer>{footer}</footer>', f'<script src="{up}sort.js"></script>', "</body>", "</html>"]
    return ("\n".join(out) + "\n").encode("utf-8")


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "", num: Iterable[int] = (),
           caption: str = "") -> str:
    """An HTML table in a scrolling box; cells are given as HTML (escape before); ``num`` right-aligns columns."""
    numeric = set(num)
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{_e(c)}</th>' for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(c if c.startswith("<td") else
                                    f'<td{" class=num" if i in numeric else ""}>{c}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<div class="scroll"><table{klass}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _result_link(e: Any, depth: int) -> str:
    up = "../" * depth
    return f'<a href="{up}paper/{slug(e.paper.id)}.html#{slug(e.result.id)}">{_e(e.key)}</a>'


def _bench_file(ds: str, nw: str) -> str:
    return f"bench/{slug(ds)}--{slug(nw)}.html"


@dataclass
class _Bench:
    dataset: str
    network: str
    entries: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.dataset} / {self.network}"


def _level_class(level: Any) -> str:
    if level.fair:
        return "fair"
    if level.rank >= 2:
        return "mid"
    return "low" if level.rank == 1 else "none"


def _cell_reasons(bench: _Bench, tolerance: float, accept: bool) -> dict[tuple[str, str], str]:
    """For each method pair: the strongest pair of their results (as ``audit`` ranks it) and what the stronger
    setups fail on, as hover text."""
    from audit.core import classify as C

    feats = [(e, C.features_of_entry(e)) for e in bench.entries]
    best: dict[tuple[str, str], tuple[tuple, Any]] = {}
    for i, (ea, fa) in enumerate(feats):
        for eb, fb in feats[i + 1:]:
            if ea.method == eb.method:
                continue
            (e1, f1), (e2, f2) = sorted(((ea, fa), (eb, fb)), key=lambda t: (t[0].method.casefold(), t[0].key))
            cmp = C.classify(f1, f2, tolerance, accept)
            rank = 0 if cmp.rank == 1 and (f1.speedup is None or f2.speedup is None) else cmp.rank
            dom = 0 if cmp.dominance is None else 1
            score = (rank, not cmp.inferred, -dom, e1.key, e2.key)
            key = (e1.method, e2.method)
            if key not in best or score[:3] > best[key][0][:3]:
                best[key] = (score, cmp)
    out: dict[tuple[str, str], str] = {}
    for (m1, m2), (_, cmp) in best.items():
        lines = [f"{cmp.a.key} vs {cmp.b.key}: {cmp.label}"]
        fails = cmp.failed_text()
        lines += (["stronger setups fail on:"] + fails[:4]) if fails else ["no stronger setup"]
        out[(m1, m2)] = "\n".join(lines)
    return out


def _matrix(bench: _Bench, rep: Any, reasons: dict[tuple[str, str], str]) -> str:
    methods = [g for g in rep.groups if (g.dataset, g.network) == (bench.dataset, bench.network)][0].methods
    if len(methods) < 2:
        return '<p class="note">One method only: no pair to classify.</p>'
    short = {"not comparable at this rate": "rate", "not comparable": "—",
             "S1 not established (speedup not reported)": "n/r"}
    rows = []
    for i, m in enumerate(methods):
        row = [f'<td class="m">{i + 1}. {_e(m)}</td>']
        for j, n in enumerate(methods):
            if i == j:
                row.append('<td class="none">·</td>')
                continue
            p = rep.pair_of(bench.dataset, bench.network, m, n)
            if p is None:
                row.append("<td></td>")
                continue
            key = (m, n) if (m, n) in reasons else (n, m)
            why = reasons.get(key, "")
            title = f"{m} vs {n}: {p.label} (strongest of {p.pairs} result pair(s))" + (f"\n{why}" if why else "")
            label = short.get(p.setup.value, p.label)
            tip = _e(title).replace("\n", "&#10;")
            row.append(f'<td class="{_level_class(p.setup)}" title="{tip}">{_e(label)}</td>')
        rows.append(row)
    return _table(["method", *[str(i + 1) for i in range(len(methods))]], rows, cls="matrix")


def _leaderboards(bench: _Bench, rep: Any, by_key: dict[str, Any]) -> str:
    cal_rows = [[str(r.rank), _e(r.method), f"{r.wins}-{r.losses}-{r.ties}", f"{r.mean_delta:+.2f}",
                 _e(", ".join(r.opponents))] for r in rep.calibrated_leaderboard]
    cal = (_table(["#", "method", "W-L-T", "mean Δ top-1", "compared with"], cal_rows, cls="sortable", num=(0, 2, 3))
           if cal_rows else '<p class="note">No pair of results of two methods reaches S3.2 here: nothing can be '
                            'ranked fairly yet.</p>')
    naive_rows = [[str(n.rank), _e(n.method), f"{n.top1:.2f}", fmt.speedup(n.speedup),
                   f'<td class="key">{_result_link(by_key[n.key], 1)}</td>'] for n in rep.naive_leaderboard[:NAIVE_ROWS]]
    naive = _table(["#", "method", "top-1", "speedup", "result"], naive_rows, cls="sortable", num=(0, 2, 3))
    if len(rep.naive_leaderboard) > NAIVE_ROWS:
        naive += (f'<p class="note">The first {NAIVE_ROWS} of {len(rep.naive_leaderboard)}; every result is under '
                  '<a href="#results">Every result</a>.</p>')
    unranked = (f'<p class="note">Not ranked (no comparison at S3.2 or stronger): {_e(", ".join(rep.unranked))}.</p>'
                if rep.unranked else "")
    return ('<div class="boards"><section><h3>Calibrated leaderboard (S3.2+ pairs only)</h3>'
            '<p class="note">Wins, losses and ties over pairs of results with the same base model and the same '
            'finetuning LR schedule (the seed\'s fair setups); mean Δ top-1 = the method\'s top-1 − its '
            'opponent\'s over those pairs.</p>' + cal + unranked + '</section><section><h3>Naive leaderboard (raw '
            'top-1)</h3><p class="note">What a table of published numbers shows: every result by its top-1, '
            'whatever its base model, finetuning or speedup.</p>' + naive + "</section></div>")


def _findings_html(found: Sequence[Finding], depth: int, by_key: dict[str, Any]) -> str:
    items = []
    for f in found:
        subject = _result_link(by_key[f.subject], depth) if f.subject in by_key else _e(f.subject)
        where = f' <span class="note">({_e(f.where)})</span>' if f.where else ""
        items.append(f"<li>{subject}: {_e(f.message)}{where}</li>")
    return f'<ul class="findings">{"".join(items)}</ul>'


def _bench_page(bench: _Bench, reg: Any, tolerance: float, accept: bool, findings: Sequence[Finding],
                value_of_pruning: Callable[[str, str], SiteTable | None] | None,
                by_key: dict[str, Any], footer: str) -> tuple[bytes, bytes, Any]:
    from audit.core.compare import audit_matrix
    from audit.report import plots

    rep = audit_matrix(reg, dataset=bench.dataset, network=bench.network, tolerance=tolerance,
                       accept_base_accuracy=accept)
    stem = f"{slug(bench.dataset)}--{slug(bench.network)}"
    papers = sorted({e.paper.id for e in bench.entries})
    fair = len(rep.calibrated_leaderboard)
    lead = (f"{len(bench.entries)} result(s) of {len(rep.methods)} method(s) from {len(papers)} paper(s). "
            f"{fair} method(s) have a comparison at S3.2 or stronger and are ranked on the calibrated "
            f"leaderboard; {len(rep.unranked)} are not. Speedups within {tolerance * 100:g} % count as the same rate.")
    body = [f"<h1>{_e(bench.name)}</h1>", f'<p class="lead">{_e(lead)}</p>',
            '<h2 id="leaderboards">Leaderboards</h2>', _leaderboards(bench, rep, by_key),
            '<h2 id="matrix">Setup matrix</h2>',
            '<p class="note">The strongest setup any two results of two methods reach (the seed\'s Tab. 2; S3.2 '
            'or stronger is fair). Hover a cell for the pair and what the stronger setups fail on; * = reached only '
            'through an inferred value; rate = speedups never within the tolerance; n/r = a speedup not '
            'reported.</p>', _matrix(bench, rep, _cell_reasons(bench, tolerance, accept))]
    pts = [(e.result.speedup, e.result.top1_value, e.method) for e in bench.entries
           if e.result.speedup is not None and e.result.top1_value is not None]
    png = plots.benchmark_scatter(f"{bench.name}: top-1 vs speedup", pts)
    missing = len(bench.entries) - len(pts)
    body += ['<h2 id="plot">Top-1 vs speedup</h2>',
             f'<figure><img src="{stem}.png" alt="top-1 vs speedup of every result on {_e(bench.name)}" '
             f'width="960"><figcaption>Every result with a reported or derived speedup, one colour and marker per '
             f'method{"; " + str(missing) + " result(s) without a speedup are not drawn" if missing else ""}.'
             f"</figcaption></figure>"]
    table = value_of_pruning(bench.dataset, bench.network) if value_of_pruning is not None else None
    if table is not None:
        body += ['<h2 id="value-of-pruning">Value of pruning</h2>',
                 _table(table.columns, [[_e(c) for c in r] for r in table.rows], caption=table.caption)]
        if table.note:
            body.append(f'<p class="note">{_e(table.note)}</p>')
    keys = {e.key for e in bench.entries}
    found = [f for f in findings if f.subject in keys]
    if found:
        body += ['<h2 id="checks">Registry check findings</h2>', _findings_html(found, 1, by_key)]
    rows = []
    for e in sorted(bench.entries, key=lambda e: (e.result.speedup or float("inf"), -(e.result.top1_value or 0.0), e.key)):
        r = e.result
        rows.append([f'<td class="key">{_result_link(e, 1)}</td>', _e(e.label), _e(fmt.top1(r)),
                     _e(fmt.speedup(r.speedup, r.compression.speedup is None)), _e(fmt.num(r.base.top1)),
                     _e(fmt.stage(r.finetune if r.pipeline == "pruning" else r.scratch))])
    body += ['<h2 id="results">Every result</h2>',
             _table(["result", "method", "top-1", "speedup", "base top-1", "finetuning"], rows, cls="sortable",
                    num=(2, 3, 4))]
    return _page(f"{bench.name} — prune-audit leaderboards", body, 1, footer), png, rep


def _stage_html(st: Any) -> str:
    if st is None:
        return "n/r"
    extra = [f"{k} {getattr(st, k)}" for k in ("optimizer", "batch_size", "weight_decay", "momentum", "nesterov")
             if getattr(st, k, None) is not None]
    text = fmt.stage(st) + (f" ({', '.join(extra)})" if extra else "")
    if getattr(st, "iterations", None) is not None:
        text += f", {st.iterations} iterations"
    if st.notes:
        text += f" — {st.notes}"
    return _e(text)


def _paper_page(pid: str, reg: Any, findings: Sequence[Finding], by_key: dict[str, Any], footer: str) -> bytes:
    p = reg.papers[pid].paper
    entries = sorted((e for e in reg.entries if e.paper.id == pid),
                     key=lambda e: (e.result.dataset, e.result.network, e.result.speedup or 0.0, e.key))
    methods = sorted(m for m, owner in reg.method_paper.items() if owner == pid)
    head = [f"<h1>{_e(p.title)}</h1>",
            f'<p class="lead">{_e(", ".join(p.authors))} — {_e(p.venue)} {_e(p.year)}. Paper id '
            f'<code>{_e(pid)}</code>; {len(entries)} result(s) in the registry'
            + (f"; introduces {_e(', '.join(methods))}" if methods else "") + ".</p>"]
    benches = sorted({(e.result.dataset, e.result.network) for e in entries})
    if benches:
        head.append("<p>Benchmarks: " + ", ".join(f'<a href="../{_bench_file(ds, nw)}">{_e(ds)} / {_e(nw)}</a>'
                                                  for ds, nw in benches) + "</p>")
    mine = [f for f in findings if f.subject == pid or f.subject.startswith(pid + "/")]
    if mine:
        head += ['<h2 id="checks">Registry check findings</h2>', _findings_html(mine, 1, by_key)]
    body = head
    for e in entries:
        r = e.result
        c = r.compression
        speed = fmt.speedup(r.speedup) + ("" if c.speedup is not None or r.speedup is None else
                                          " (derived from the FLOPs; not printed by the source)")
        comp = [f"speedup {speed}"]
        if c.flops_reduction_pct is not None:
            comp.append(f"FLOPs −{c.flops_reduction_pct:g}%")
        if c.params_reduction_pct is not None:
            comp.append(f"params −{c.params_reduction_pct:g}%")
        if c.pruning_ratio is not None:
            comp.append(f"ratio {c.pruning_ratio:g}")
        rows = [["method", _e(e.label + (f" (reimplementation of {r.reimplementation_of})"
                                         if r.reimplementation_of else ""))],
                ["benchmark", f'<a href="../{_bench_file(r.dataset, r.network)}">{_e(r.dataset)} / '
                              f'{_e(r.network)}</a>'],
                ["top-1", _e(fmt.top1(r))],
                ["compression", _e(", ".join(comp))],
                ["base model", _e((r.base.identity or "n/r") + (f" — {r.base.description}" if r.base.description
                                                                 else ""))],
                ["base top-1", _e(fmt.num(r.base.top1))]]
        for name in ("pretrain", "prune", "finetune", "scratch"):
            st = getattr(r, name)
            if st is not None:
                rows.append([f"{name} recipe", _stage_html(st)])
        for s in r.sources:
            rows.append(["source", _e(f"{s.paper or pid}: {s.where}" + ("" if s.fields == ["*"] else
                                                                        f" [{', '.join(s.fields)}]")
                                      + (" (secondary)" if s.secondary else "") + (f" — {s.note}" if s.note else ""))])
        why_seen: dict[str, list[str]] = {}
        for path, why in sorted(r.inferred.items()):
            why_seen.setdefault(why, []).append(path)
        for why, paths in why_seen.items():
            rows.append(["inferred", _e(f"{', '.join(paths)}: {why}")])
        if r.notes:
            rows.append(["notes", _e(r.notes)])
        body += [f'<h2 id="{_e(slug(r.id))}"><code>{_e(e.key)}</code></h2>',
                 _table(["field", "value"], [[_e(k) if not k.startswith("<") else k, v] for k, v in rows])]
    return _page(f"{p.title} — prune-audit leaderboards", body, 1, footer)


def build_site(reg: Any, *, tolerance: float = 0.05, accept_base_accuracy: bool = False,
               findings: Sequence[Finding] = (),
               value_of_pruning: Callable[[str, str], SiteTable | None] | None = None) -> dict[str, bytes]:
    """Every file of the site: ``index.html``, ``style.css``, ``sort.js``, ``bench/<dataset>--<network>.html``
    with its ``.png`` plot, and ``paper/<paper-id>.html``.  Deterministic (sorted, no dates; PNGs drawn with
    fixed settings).  ``findings`` and ``value_of_pruning`` are the hook points described in the module
    docstring.  Raises :class:`audit.errors.AuditError` for a bad tolerance."""
    from audit.core.compare import check_tolerance

    tolerance = check_tolerance(tolerance)
    by_key = {e.key: e for e in reg.entries}
    benches: dict[tuple[str, str], _Bench] = {}
    for e in reg.entries:
        benches.setdefault((e.result.dataset, e.result.network), _Bench(e.result.dataset, e.result.network)) \
            .entries.append(e)
    footer = (f"Generated by prune-audit site from the registry ({len(reg.papers)} paper(s), {len(reg.entries)} "
              "result(s)); setups follow Wang et al., 'Why is the State of Neural Network Pruning so Confusing?' "
              "(2023), Tab. 2. 'n/r' = not reported.")
    files: dict[str, bytes] = {"style.css": CSS.encode("utf-8"), "sort.js": SORT_JS.encode("utf-8")}
    index_rows = []
    for (ds, nw), bench in sorted(benches.items()):
        page, png, rep = _bench_page(bench, reg, tolerance, accept_base_accuracy, findings, value_of_pruning,
                                     by_key, footer)
        files[_bench_file(ds, nw)] = page
        files[_bench_file(ds, nw)[:-5] + ".png"] = png
        top = rep.calibrated_leaderboard[0].method if rep.calibrated_leaderboard else "—"
        n_found = sum(1 for f in findings if f.subject in {e.key for e in bench.entries})
        index_rows.append([f'<a href="{_bench_file(ds, nw)}">{_e(ds)} / {_e(nw)}</a>', str(len(bench.entries)),
                           str(len(rep.methods)), str(len(rep.calibrated_leaderboard)), _e(top),
                           str(n_found) if findings else "—"])
    paper_rows = []
    for pid in sorted(reg.papers):
        files[f"paper/{slug(pid)}.html"] = _paper_page(pid, reg, findings, by_key, footer)
        p = reg.papers[pid].paper
        n = sum(1 for e in reg.entries if e.paper.id == pid)
        paper_rows.append([f'<a href="paper/{slug(pid)}.html">{_e(pid)}</a>', _e(p.title), _e(p.year), str(n)])
    body = ["<h1>Leaderboards that rank only fair comparisons</h1>",
            '<p class="lead">For each benchmark, the calibrated leaderboard ranks methods only by pairs of published '
            "results at S3.2 or stronger (the same base model and the same finetuning LR schedule), beside the "
            "naive leaderboard of raw top-1. Every number links to its paper page with its sources and recipe.</p>",
            '<h2 id="benchmarks">Benchmarks</h2>',
            _table(["benchmark", "results", "methods", "ranked (S3.2+)", "calibrated #1",
                    "registry check findings"], index_rows, cls="sortable", num=(1, 2, 3)),
            '<h2 id="papers">Papers</h2>',
            _table(["paper", "title", "year", "results"], paper_rows, cls="sortable", num=(2, 3))]
    files["index.html"] = _page("prune-audit leaderboards", body, 0, footer)
    return files
