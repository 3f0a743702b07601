"""The one console factory of the command line, and the plain-text table writers (CSV, JSON, Markdown).

Width: on a terminal, the terminal's (rich's own detection, which honours ``COLUMNS``); when the
output is piped or captured, ``COLUMNS`` if set, else a fixed :data:`PIPED_WIDTH`, so that a file
written by ``prune-audit ... > out.txt`` does not depend on the terminal it was written from.
Every table is laid out for that width: a layout that does not fit is replaced by a narrower one
(:func:`fits` decides), never wrapped mid-key; ``--wide`` asks for the widest layout and widens the
console to it (:func:`widen`).

Markup and emoji codes are off: registry strings (titles, notes, recipe descriptions) are
printed as they are written, never read as ``[style]`` tags or ``:emoji:`` codes. Styling is
given as :class:`rich.text.Text` spans instead, except in the compare/audit renderers
(:mod:`audit.cli.render`), which escape every registry string they print.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PIPED_WIDTH", "fits", "make_console", "markdown_table", "widen", "write_rows"]

PIPED_WIDTH = 120
"""Columns of output that goes to a file or a pipe (and ``COLUMNS`` is not set): the width a code review
page, a pager in a half-screen window or a CI log shows without wrapping, and wide enough for the full
tables of ``registry list`` (a result key is at most about 60 characters).  Set ``COLUMNS`` for another."""


def make_console(*, stderr: bool = False, markup: bool = False) -> Console:
    """A console on stdout (or stderr) with the width rules above, no emoji, no soft wrap.

    ``markup=True`` is for renderers whose own text carries ``[style]`` tags and that escape every
    registry string they put in (:func:`rich.markup.escape`)."""
    from rich.console import Console

    console = Console(stderr=stderr, markup=markup, emoji=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = PIPED_WIDTH
    return console


def _measure(console: Console, renderable: Any) -> tuple[int, int]:
    from rich.measure import Measurement

    m = Measurement.get(console, console.options.update_width(100_000), renderable)
    return m.minimum, m.maximum


def _shows(console: Console, renderable: Any, width: int, keep: Iterable[str]) -> bool:
    """Whether ``renderable`` laid out ``width`` columns wide shows every string of ``keep`` whole on a line."""
    from rich.console import Console as _Console

    probe = _Console(width=width, color_system=None, emoji=False, markup=False, highlight=False,
                     soft_wrap=False, record=False, file=io.StringIO())
    with probe.capture() as cap:
        probe.print(renderable)
    text = cap.get()
    return all(k in text for k in keep)


def fits(console: Console, renderable: Any, keep: Iterable[str] = ()) -> bool:
    """Whether ``renderable`` fits the console's width without breaking what must stay whole.

    With ``keep`` (result keys, numbers, names): laid out at the console's width, it shows each of them whole
    on one line (rich's table layout may wrap or crop a no-wrap cell, so the layout itself is checked).
    Without: its natural (unwrapped) width fits, as for a table of short no-wrap cells."""
    keep = list(keep)
    if keep:
        return _shows(console, renderable, console.width, keep)
    return _measure(console, renderable)[1] <= console.width


def widen(console: Console, renderable: Any, keep: Iterable[str] = ()) -> None:
    """``--wide``: widen the console, if need be, until ``renderable`` shows every string of ``keep`` whole
    (at most to its natural, unwrapped width; longer text still wraps at spaces)."""
    keep = list(keep)
    low, high = _measure(console, renderable)
    width = max(console.width, low)
    while width < high and not _shows(console, renderable, width, keep):
        width = min(high, width + 8)
    console.width = max(console.width, width)


def _md_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>") or " "


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (pipes and backslashes escaped, newlines as ``<br>``)."""
    lines = ["| " + " | ".join(_md_cell(c) for c in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_rows(fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "") -> None:
    """Write ``rows`` to stdout as ``csv``, ``json`` (a list of objects keyed by ``columns``; strict JSON) or
    ``md`` (a Markdown table, after ``### title`` when a title is given).  ``None`` is an empty CSV cell,
    ``null`` in JSON."""
    import sys

    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(["" if v is None else v for v in row] for row in rows)
    elif fmt == "json":
        from audit.io import jsontext

        sys.stdout.write(jsontext.dumps([dict(zip(columns, row)) for row in rows]))
    elif fmt == "md":
        if title:
            sys.stdout.write(f"### {title}\n\n")
        sys.stdout.write(markdown_table(columns, rows))
    else:
        raise ValueError(f"write_rows: no plain-text format {fmt!r}")
