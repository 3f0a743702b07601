"""Text formatting of registry values, shared by every command and report (fixed number formats)."""

from __future__ import annotations

from typing import Any

__all__ = ["NR", "accuracy", "metric", "num", "speedup", "stage"]

NR = "n/r"
"""How a value that the source does not report is shown."""


def accuracy(mean: float, std: float | None = None, runs: int | None = None, *, bare_runs: bool = False) -> str:
    """An accuracy in percent: ``75.36``, ``79.57±0.15``, ``79.57±0.15 (n=3)`` (``n=3`` without
    parentheses when ``bare_runs``, for table cells)."""
    text = f"{mean:.2f}"
    if std is not None:
        text += f"±{std:.2f}"
    if runs is not None:
        text += f" n={runs}" if bare_runs else f" (n={runs})"
    return text


def metric(m: Any) -> str:
    """A :class:`audit.registry.schema.Metric` as :func:`accuracy` text; ``n/r`` for ``None``."""
    return NR if m is None else accuracy(m.mean, m.std, m.runs)


def num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return NR if value is None else f"{value:.{digits}f}{suffix}"


def speedup(value: float | None) -> str:
    return NR if value is None else f"{value:.2f}×"


def stage(st: Any) -> str:
    """``90 ep, 0:1e-2,30:1e-3,60:1e-4,75:1e-5`` / ``20 ep, LR n/r`` / ``n/r``."""
    if st is None:
        return NR
    ep = NR if st.epochs is None else f"{st.epochs} ep"
    if st.lr_schedule is None:
        return f"{ep}, LR n/r" if st.epochs else ep
    return f"{ep}, {st.lr_schedule.body_text()}"
