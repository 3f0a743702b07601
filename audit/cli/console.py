"""The one console factory of the command line.

Width: on a terminal, the terminal's (rich's own detection, which honours ``COLUMNS``); when the
output is piped or captured, ``COLUMNS`` if set, else a fixed :data:`PIPED_WIDTH`, so that a file
written by ``prune-audit ... > out.txt`` does not depend on the terminal it was written from.

Markup and emoji codes are off: registry strings (titles, notes, recipe descriptions) are
printed as they are written, never read as ``[style]`` tags or ``:emoji:`` codes. Styling is
given as :class:`rich.text.Text` spans instead, except in the compare/audit renderers
(:mod:`audit.cli.render`), which escape every registry string they print.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PIPED_WIDTH", "make_console"]

PIPED_WIDTH = 120
"""Columns of output that goes to a file or a pipe (and ``COLUMNS`` is not set)."""


def make_console(*, stderr: bool = False, markup: bool = False, min_width: int = 0) -> Console:
    """A console on stdout (or stderr) with the width rules above, no emoji, no soft wrap.

    ``markup=True`` is for renderers whose own text carries ``[style]`` tags and that escape every
    registry string they put in (:func:`rich.markup.escape`); ``min_width`` widens the console for
    tables laid out for at least that many columns."""
    from rich.console import Console

    console = Console(stderr=stderr, markup=markup, emoji=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = PIPED_WIDTH
    if console.width < min_width:
        console.width = min_width
    return console
