"""Text formatting of registry values, shared by every command and report (fixed number formats)."""

from __future__ import annotations

from typing import Any

__all__ = ["DERIVED", "DERIVED_LEGEND", "NR", "accuracy", "change", "half_unit", "metric", "num", "speedup", "stage", "top1"]

NR = "n/r"
"""How a value that the source does not report is shown."""
DERIVED = "†"
"""The mark after a value computed from printed ones (a speedup from a FLOPs reduction, a top-1 from an
error rate, a Δ from base and pruned accuracies); every command and report uses it."""
DERIVED_LEGEND = f"{DERIVED} derived from printed values, not printed by the source"
"""The legend line for :data:`DERIVED`."""


def accuracy(mean: float, std: float | None = None, runs: int | None = None, *, bare_runs: bool = False,
             at_least: bool = False, derived: bool = False) -> str:
    """An accuracy in percent: ``75.36``, ``79.57±0.15``, ``79.57±0.15 (n=3)`` (``n=3`` without
    parentheses when ``bare_runs``, for table cells; ``n≥3`` when the run count is a lower bound;
    :data:`DERIVED` after the value when it is computed, e.g. from an error rate)."""
    text = f"{mean:.2f}" + (DERIVED if derived else "")
    if std is not None:
        text += f"±{std:.2f}"
    if runs is not None:
        n = f"n{'≥' if at_least else '='}{runs}"
        text += f" {n}" if bare_runs else f" ({n})"
    return text


def metric(m: Any, *, bare_runs: bool = False) -> str:
    """A :class:`audit.registry.schema.Metric` as :func:`accuracy` text (the accuracy, derived from
    the error rate when only that is printed); ``n/r`` for ``None``."""
    if m is None:
        return NR
    return accuracy(m.value, m.std, m.runs, bare_runs=bare_runs, at_least=m.runs_bound == "at-least",
                    derived=m.derived)


def change(c: Any) -> str:
    """A printed accuracy change (:class:`audit.registry.schema.Change`) with its sign convention:
    ``Δ -0.03`` (gain = pruned - base) or ``drop 0.12`` (base - pruned); ``n/r`` for ``None``."""
    if c is None:
        return NR
    text = f"Δ {c.value:+.2f}" if c.sign == "gain" else f"drop {c.value:.2f}"
    return text + (f"±{c.std:.2f}" if c.std is not None else "")


def top1(result: Any) -> str:
    """The top-1 of a :class:`audit.registry.schema.Result` as shown in tables: the printed (or
    error-derived) accuracy; else base + change (derived); else the printed change alone."""
    if result.top1 is not None:
        return metric(result.top1, bare_runs=True)
    value = result.top1_value
    if value is not None:
        return f"{value:.2f}{DERIVED}"
    return change(result.top1_change) if result.top1_change is not None else NR


def half_unit(text: str | None, value: float) -> float:
    """Half a unit in the last printed place of a number: ``"93.53"`` -> 0.005, ``"2"`` -> 0.5,
    ``"1.5e-3"`` -> 0.00005.  Without the text (a value built in code), from ``repr(value)``, where a
    whole float (``2.0``) counts as printed without decimals."""
    t = (text if text is not None else repr(float(value))).strip().lstrip("+-")
    exp = 0
    if "e" in t.lower():
        t, e = t.lower().split("e", 1)
        exp = int(e)
    decimals = len(t.split(".", 1)[1]) if "." in t else 0
    if text is None and t.endswith(".0"):
        decimals = 0
    return 0.5 * 10.0 ** (exp - decimals)


def num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return NR if value is None else f"{value:.{digits}f}{suffix}"


def speedup(value: float | None, derived: bool = False) -> str:
    """``2.31×`` (:data:`DERIVED` after it when computed from a FLOPs reduction or counts)."""
    return NR if value is None else f"{value:.2f}×" + (DERIVED if derived else "")


def stage(st: Any) -> str:
    """``90 ep, 0:1e-2,30:1e-3,60:1e-4,75:1e-5`` / ``20 ep, LR n/r`` / ``n/r``; a repeated stage shows its
    repeats: ``30 ep ×4`` (four times), ``30 ep per layer`` (once per pruned layer, HRank)."""
    if st is None:
        return NR
    ep = NR if st.epochs is None else f"{st.epochs} ep"
    repeats = getattr(st, "repeats", None)
    if st.epochs is not None and repeats is not None:
        ep += f" ×{repeats}" if isinstance(repeats, int) else f" {repeats.replace('-', ' ')}"
    if st.lr_schedule is None:
        return f"{ep}, LR n/r" if st.epochs else ep
    return f"{ep}, {st.lr_schedule.body_text()}"
