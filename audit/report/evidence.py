"""Rerun evidence recorded by the rerun engine under ``reruns/results/``, read as plain files.

``<id>.json`` is an :class:`audit.schema.Result` (validated here with pydantic; torch is never
imported) and ``<id>.csv`` beside it is the learning curve (``stage, epoch, lr, train_loss,
train_acc, test_loss, top1, top5, ...`` per epoch).  Files that do not parse are skipped: evidence
is optional, and a half-written result must not stop a report.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..schema import Result

__all__ = ["Rerun", "default_reruns_dir", "load_reruns"]


@dataclass
class Rerun:
    """One rerun result with its learning curve."""

    id: str
    result: Result
    file: str
    """File name (no directories)."""
    curve: list[dict[str, float | str]] = field(default_factory=list)
    """Rows of the learning curve: ``stage`` (str), ``epoch``, ``lr``, ``train_acc``, ``top1`` (floats)."""

    @property
    def key(self) -> str:
        return f"reruns/{self.id}"


def default_reruns_dir() -> Path | None:
    """``reruns/results`` of a source checkout, when there is one."""
    here = Path(__file__).resolve().parent.parent.parent / "reruns" / "results"
    return here if here.is_dir() else None


def _curve(path: Path) -> list[dict[str, float | str]]:
    rows: list[dict[str, float | str]] = []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for raw in csv.DictReader(fh):
                row: dict[str, float | str] = {"stage": raw.get("stage", "")}
                for k in ("epoch", "lr", "train_acc", "top1"):
                    v = raw.get(k)
                    if v is None or v == "":
                        break
                    row[k] = float(v)
                else:
                    rows.append(row)
    except (OSError, ValueError, csv.Error):
        return []
    return rows


def load_reruns(directory: Path | None) -> list[Rerun]:
    """Every valid rerun result of ``directory`` (sorted by id); ``[]`` when there is none."""
    if directory is None or not Path(directory).is_dir():
        return []
    out: list[Rerun] = []
    for p in sorted(Path(directory).glob("*.json")):
        if p.name.endswith(".prune.json"):
            continue
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            result = Result.model_validate(data)
        except Exception:  # noqa: BLE001 - optional evidence: anything unreadable is skipped
            continue
        out.append(Rerun(id=result.id, result=result, file=p.name, curve=_curve(p.with_suffix(".csv"))))
    return out
