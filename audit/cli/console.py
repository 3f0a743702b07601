"""The one console factory of the command line.

Width: on a terminal, the terminal's (rich's own detection, which honours ``COLUMNS``); when the
output is piped or captured, ``COLUMNS`` if set, else a fixed :data:`PIPED_WIDTH`, so that a file
written by ``prune-audit ... > out.txt`` does not depend on the terminal it was written from.

Markup and emoji codes are off: registry strings (titles, notes, recipe descriptions) are
printed as they are written, never read as ``[style]`` tags or ``:emoji:`` codes. Styling is
given as :class:`rich.text.Text` spans instead.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PIPED_WIDTH", "make_console"]

PIPED_WIDTH = 120
"""Columns of output that goes to a file or a pipe (and ``COLUMNS`` is not set)."""


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr) with the width rules above, no markup, no emoji, no soft wrap."""
    from rich.console import Console

    console = Console(stderr=stderr, markup=False, emoji=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console.width = PIPED_WIDTH
    return console
