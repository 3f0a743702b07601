"""The learning curve of a run: one :class:`EpochRecord` per trained epoch, stored as ``metrics.csv``.

Floats are written with ``repr`` so that the CSV round-trips them exactly (a run read back has
the metrics of the run that wrote it, to the last bit).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypedDict, cast

from audit.io.atomic import atomic_write_text

__all__ = ["CSV_FIELDS", "METRIC_FIELDS", "EpochRecord", "curve_csv", "read_curve", "write_curve"]

CSV_FIELDS = ("stage", "epoch", "lr", "train_loss", "train_acc", "test_loss", "top1", "top5", "seconds",
              "images_per_s")
"""The columns of ``metrics.csv`` (and of the grids' averaged curves)."""
METRIC_FIELDS = ("stage", "epoch", "lr", "train_loss", "train_acc", "test_loss", "top1", "top5")
"""The columns that do not depend on the machine's speed (what reproducibility is checked on)."""


class EpochRecord(TypedDict):
    """One trained epoch: stage, epoch (0-based), LR, train loss/accuracy (percent) over the epoch's
    batches, test loss, top-1/top-5 (percent) after it, wall seconds and training images per second."""

    stage: str
    epoch: int
    lr: float
    train_loss: float
    train_acc: float
    test_loss: float
    top1: float
    top5: float
    seconds: float
    images_per_s: float


def curve_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text of ``rows`` in the :data:`CSV_FIELDS` columns (floats by ``repr``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for rec in rows:
        w.writerow({k: (repr(rec[k]) if isinstance(rec[k], float) else rec[k]) for k in CSV_FIELDS})
    return buf.getvalue()


def write_curve(path: Path, history: Iterable[EpochRecord]) -> None:
    """Write ``history`` to ``path`` atomically (see :func:`curve_csv`)."""
    atomic_write_text(path, curve_csv(cast(Iterable[Mapping[str, Any]], history)))


def read_curve(path: Path) -> list[EpochRecord]:
    """The records of a ``metrics.csv`` (none when the file does not exist)."""
    if not path.exists():
        return []
    out = []
    for row in csv.DictReader(path.read_text().splitlines()):
        out.append(cast(EpochRecord, {k: (v if k == "stage" else int(v) if k == "epoch" else float(v))
                                      for k, v in row.items()}))
    return out
