"""Text formatting of registry values, shared by every command and report (fixed number formats)."""

from __future__ import annotations

from typing import Any

NR = "n/r"
"""How a value that the source does not report is shown."""


def metric(m: Any) -> str:
    """``75.36``, ``79.57±0.15``, ``79.57±0.15 (n=3)``."""
    if m is None:
        return NR
    text = f"{m.mean:.2f}"
    if m.std is not None:
        text += f"±{m.std:.2f}"
    if m.runs is not None:
        text += f" (n={m.runs})"
    return text


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
