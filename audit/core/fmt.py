"""Text formatting of registry values, shared by every command and report (fixed number formats)."""

from __future__ import annotations

from typing import Any

from audit.core.schedule import format_schedule

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


def result_row(entry: Any) -> dict[str, Any]:
    """A flat, JSON-friendly row describing one registry entry."""
    r = entry.result
    return {
        "key": entry.key,
        "method": entry.method,
        "variant": r.variant,
        "pipeline": r.pipeline,
        "reimplementation_of": r.reimplementation_of,
        "dataset": r.dataset,
        "network": r.network,
        "top1": r.top1.mean,
        "top1_std": r.top1.std,
        "runs": r.top1.runs,
        "top5": None if r.top5 is None else r.top5.mean,
        "speedup": None if r.speedup is None else round(r.speedup, 4),
        "base_identity": r.base.identity,
        "base_top1": r.base.top1,
        "finetune_epochs": None if r.finetune is None else r.finetune.epochs,
        "finetune_schedule": None if r.finetune is None or r.finetune.lr_schedule is None
        else format_schedule(r.finetune.lr_schedule),
        "prune_epochs": None if r.prune is None else r.prune.epochs,
        "setup_tag": r.setup_tag,
        "source": "; ".join(f"{s.paper or entry.paper.id} {s.where}" for s in r.sources),
    }
