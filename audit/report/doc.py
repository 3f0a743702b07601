"""A tiny document model rendered to GitHub-flavoured Markdown and to one self-contained HTML file.

Blocks: headings, paragraphs, bullet lists, tables and figures.  Inline text is a list of pieces:
plain strings, ``("b", text)`` for bold and ``("code", text)`` for code.  Both renderers escape
everything they are given, so registry text can never inject markup, and both are deterministic.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

Piece = Union[str, tuple[str, str]]
Inline = Union[str, list[Piece]]

__all__ = [
    "GENERATION_SLOT", "Bullets", "Doc", "Figure", "Heading", "Inline", "Para", "Piece", "Table", "render_html",
    "render_markdown", "stamp",
]

GENERATION_SLOT = "@@GENERATION@@"
"""Placeholder the renderers write where the pair's generation stamp goes (filled by
:func:`audit.report.main.render` once both texts are known)."""


def stamp(texts) -> str:
    """The generation stamp of a report pair: the first 12 hex digits of the SHA-256 of its texts (with
    :data:`GENERATION_SLOT` unfilled), in order.  Content-derived, so equal inputs give equal files, and two
    files of different runs carry different stamps unless their content is the same."""
    import hashlib

    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:12]


def _generation_line(partner: str | None) -> str:
    where = f"the {partner} of this report" if partner else "the other file of this report, if any,"
    return (f"Report generation {GENERATION_SLOT}: {where} carries the same stamp; a different one means one of "
            "the two is stale (check with prune-audit report --check DIR).")


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Para:
    text: Inline
    kind: str = ""
    """``""``, ``"note"`` (muted) or ``"summary"`` (boxed) -- HTML styling only."""


@dataclass
class Bullets:
    items: list[Inline]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Inline]]
    caption: str = ""


@dataclass
class Figure:
    png: bytes | Callable[[], bytes]
    """PNG bytes, or a function drawing them (called only when HTML is rendered: Markdown needs no plot)."""
    alt: str
    caption: str
    narrow: bytes | Callable[[], bytes] | None = None
    """The same figure drawn for narrow screens (about 440 px wide, legible on a phone), or ``None``."""

    def data(self) -> bytes:
        return self.png() if callable(self.png) else self.png

    def narrow_data(self) -> bytes | None:
        return self.narrow() if callable(self.narrow) else self.narrow


@dataclass
class Doc:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)


# ---------------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md_escape(text: str, in_table: bool = False) -> str:
    text = _MD_SPECIAL.sub(r"\\\1", text)
    if in_table:
        text = text.replace("\n", "<br>")
    return text


def _md_inline(value: Inline, in_table: bool = False) -> str:
    pieces = [value] if isinstance(value, str) else value
    out = []
    for p in pieces:
        if isinstance(p, str):
            out.append(_md_escape(p, in_table))
        elif p[0] == "b":
            out.append(f"**{_md_escape(p[1], in_table)}**")
        else:
            code = p[1].replace("`", "'")
            if in_table:
                code = code.replace("|", "\\|")
            out.append(f"`{code}`")
    return "".join(out)


def render_markdown(doc: Doc, html_name: str | None = None) -> str:
    """GitHub-flavoured Markdown of ``doc``; the generation stamp comment is on line 2 (``html_name``: the
    HTML file of the same report, named where a figure is left out)."""
    lines: list[str] = [f"# {_md_escape(doc.title)}", f"<!-- prune-audit-generation: {GENERATION_SLOT} -->", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            lines += [f"{'#' * b.level} {_md_escape(b.text)}", ""]
        elif isinstance(b, Para):
            lines += [_md_inline(b.text), ""]
        elif isinstance(b, Bullets):
            lines += [f"- {_md_inline(i)}" for i in b.items] + [""]
        elif isinstance(b, Table):
            if b.caption:
                lines += [f"*{_md_escape(b.caption)}*", ""]
            lines.append("| " + " | ".join(_md_escape(h, True) for h in b.headers) + " |")
            lines.append("|" + "|".join("---" for _ in b.headers) + "|")
            for row in b.rows:
                assert len(row) == len(b.headers), (b.headers, row)
                lines.append("| " + " | ".join(_md_inline(c, True) or " " for c in row) + " |")
            lines.append("")
        elif isinstance(b, Figure):
            where = f" in the HTML version ({html_name})" if html_name else " in the HTML version"
            lines += [f"*Figure{_md_escape(where)}: {_md_escape(b.caption)}*", ""]
    while lines and lines[-1] == "":
        lines.pop()
    lines += ["", f"*{_md_escape(_generation_line(f'HTML version {html_name}' if html_name else None))}*"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- HTML
_CSS = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1b1f24;
max-width:1200px;margin:24px auto;padding:0 20px;background:#fff;overflow-wrap:break-word}
@media (max-width:600px){body{padding:0 10px;margin:12px auto;font-size:14px}h1{font-size:21px}h2{font-size:18px}}
.scroll{overflow-x:auto;max-width:100%;margin:10px 0 16px 0}
.scroll table{margin:0}
.verdict{background:#f6f8fa;border:1px solid #d0d7de;border-left:4px solid #1a7f37;padding:10px 14px;font-size:16px}
h1{font-size:26px;border-bottom:2px solid #d0d7de;padding-bottom:6px}
h2{font-size:21px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
h3{font-size:17px;margin-top:24px}
table{border-collapse:collapse;margin:10px 0 16px 0;font-size:13.5px}
th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f5f7}
td:first-child{white-space:nowrap}
tr:nth-child(even) td{background:#fafbfc}
code{font-family:"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px;background:#f3f5f7;padding:1px 3px;
border-radius:3px}
.note{color:#57606a;font-size:13.5px}
.summary{background:#f6f8fa;border:1px solid #d0d7de;border-left:4px solid #0969da;padding:10px 14px}
figure{margin:14px 0 22px 0}
figure img{max-width:100%;height:auto;border:1px solid #d0d7de}
figcaption{color:#57606a;font-size:13px;margin-top:4px}
caption{caption-side:top;text-align:left;color:#57606a;font-size:13px;padding-bottom:4px}
.ok{color:#1a7f37;font-weight:bold}.warn{color:#9a6700;font-weight:bold}.bad{color:#cf222e;font-weight:bold}
""".strip()

_CLASS_WORDS = {"same": "ok", "reported": "ok", "fair": "ok", "differs": "bad", "not reported": "bad",
                "unknown": "warn", "inferred": "warn", "same (inferred)": "warn"}


def _html_inline(value: Inline) -> str:
    pieces = [value] if isinstance(value, str) else value
    out = []
    for p in pieces:
        if isinstance(p, str):
            out.append(html.escape(p).replace("\n", "<br>"))
        elif p[0] == "b":
            out.append(f"<strong>{html.escape(p[1])}</strong>")
        else:
            out.append(f"<code>{html.escape(p[1])}</code>")
    return "".join(out)


def _cell(value: Inline) -> str:
    text = _html_inline(value)
    if isinstance(value, str) and value in _CLASS_WORDS:
        return f'<td class="{_CLASS_WORDS[value]}">{text}</td>'
    return f"<td>{text}</td>"


def _generator(doc: Doc) -> str:
    """``prune-audit report`` plus the matplotlib version when there are figures (PNG bytes depend on it)."""
    if not any(isinstance(b, Figure) for b in doc.blocks):
        return "prune-audit report"
    try:
        from importlib.metadata import version

        return f"prune-audit report; figures by matplotlib {version('matplotlib')}"
    except Exception:
        return "prune-audit report"


def render_html(doc: Doc, md_name: str | None = None) -> str:
    """One self-contained HTML page of ``doc`` (embedded PNGs, no script, no request); the generation stamp
    is a ``<meta>`` element in the head (``md_name``: the Markdown file of the same report)."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<!-- prune-audit-generation: {GENERATION_SLOT} -->",
           f'<meta name="generator" content="{html.escape(_generator(doc))}">',
           f"<title>{html.escape(doc.title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>",
           f"<h1>{html.escape(doc.title)}</h1>"]
    for b in doc.blocks:
        if isinstance(b, Heading):
            anchor = f' id="{html.escape(b.anchor)}"' if b.anchor else ""
            out.append(f"<h{b.level}{anchor}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            cls = f' class="{b.kind}"' if b.kind else ""
            out.append(f"<p{cls}>{_html_inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            cap = f"<caption>{html.escape(b.caption)}</caption>" if b.caption else ""
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.headers)
            rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in b.rows)
            out.append(f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody>'
                       "</table></div>")
        elif isinstance(b, Figure):
            data = base64.b64encode(b.data()).decode("ascii")
            img = f'<img alt="{html.escape(b.alt)}" src="data:image/png;base64,{data}">'
            small = b.narrow_data()
            if small is not None:  # a phone gets the figure drawn for its width, legible without zooming
                img = (f'<picture><source media="(max-width: 600px)" srcset="data:image/png;base64,'
                       f'{base64.b64encode(small).decode("ascii")}">{img}</picture>')
            out.append(f"<figure>{img}<figcaption>{html.escape(b.caption)}</figcaption></figure>")
    partner = f"Markdown version {md_name}" if md_name else None
    out += [f'<p class="note">{html.escape(_generation_line(partner))}</p>', "</body>", "</html>"]
    return "\n".join(out) + "\n"
