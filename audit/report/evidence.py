"""Rerun evidence recorded by the rerun engine under ``reruns/results/``, read as plain files.

``<id>.json`` is an :class:`audit.registry.schema.Result` (validated here with pydantic; torch is never
imported) and ``<id>.csv`` beside it is the learning curve (``stage, epoch, lr, train_loss,
train_acc, test_loss, top1, top5, ...`` per epoch).  Evidence is optional and a half-written result must
not stop a report, but it must not vanish silently either: a file that cannot be read or does not
validate is left out with an :class:`EvidenceWarning` naming it.  The directory is an option of the
command (:data:`DEFAULT_RERUNS`, relative to the working directory, when not given).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from audit.registry.schema import Result

__all__ = ["DEFAULT_RERUNS", "Crossval", "Evidence", "EvidenceWarning", "Rerun", "load_evidence"]

DEFAULT_RERUNS = Path("reruns") / "results"
"""Where the rerun engine records its results, relative to the working directory (a checkout's root)."""


@dataclass(frozen=True)
class EvidenceWarning:
    """A piece of evidence left out of the report: its file and why."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


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


def _why(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    first = str(exc).strip().splitlines()
    return f"not a valid record ({type(exc).__name__}: {first[0] if first else 'no detail'})"


def _curve(path: Path, warnings: list[EvidenceWarning]) -> list[dict[str, float | str]]:
    """The learning curve beside a result (``[]`` when there is none); rows lacking a value are not curve points."""
    rows: list[dict[str, float | str]] = []
    if not path.exists():
        return rows
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
    except (OSError, ValueError, csv.Error) as exc:
        warnings.append(EvidenceWarning(str(path), _why(exc) + "; the learning curve is left out"))
        return []
    return rows


def _load_reruns(directory: Path, warnings: list[EvidenceWarning]) -> list[Rerun]:
    out: list[Rerun] = []
    for p in sorted(directory.glob("*.json")):
        if p.name.endswith(".prune.json"):  # the pruning record beside a result, not a result
            continue
        try:
            result = Result.model_validate(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            warnings.append(EvidenceWarning(str(p), _why(exc) + "; left out of the report"))
            continue
        out.append(Rerun(id=result.id, result=result, file=p.name, curve=_curve(p.with_suffix(".csv"), warnings)))
    return out


@dataclass
class Crossval:
    """A recorded cross-validation of finetuning recipes (``prune-audit rerun crossval``)."""

    name: str
    """Folder name under ``reruns/crossval``."""
    a: str
    b: str
    """Engine method names (resolve them through the registry's aliases)."""
    recipes: list[str]
    mean: dict[str, float]
    std: dict[str, float]
    seeds: int
    verdict: str
    command: str
    benchmark: str
    """``dataset/network`` of the recipes, ``n/r`` when the recipe files are not found."""


class _CrossvalRecord(BaseModel):
    """The fields of ``crossval.json`` (written by ``prune-audit rerun crossval``) that a report reads."""

    model_config = ConfigDict(extra="ignore")

    a: str
    b: str
    recipes: list[str]
    mean: dict[str, float]
    std: dict[str, float] = {}
    seeds: list[int] = []
    verdict: str = ""
    command: str = ""


def _benchmark(folder: Path, recipes: list[str], warnings: list[EvidenceWarning]) -> str:
    import yaml

    found = set()
    for r in recipes:
        path = folder.parent / f"{r}.yaml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            found.add(f"{data['dataset']['name']}/{data['model']['network']}")
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            why = _why(exc) if isinstance(exc, (OSError, yaml.YAMLError)) else "no dataset.name or model.network"
            warnings.append(EvidenceWarning(str(path), f"{why}; the benchmark of {folder.name} is shown as n/r"))
            found.add("n/r")
    return ", ".join(sorted(found)) or "n/r"


def _load_crossvals(root: Path, warnings: list[EvidenceWarning]) -> list[Crossval]:
    out: list[Crossval] = []
    for p in sorted(root.glob("*/crossval.json")):
        try:
            rec = _CrossvalRecord.model_validate_json(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            warnings.append(EvidenceWarning(str(p), _why(exc) + "; left out of the report"))
            continue
        out.append(Crossval(name=p.parent.name, a=rec.a, b=rec.b, recipes=rec.recipes, mean=rec.mean, std=rec.std,
                            seeds=len(rec.seeds), verdict=rec.verdict, command=rec.command,
                            benchmark=_benchmark(p.parent, rec.recipes, warnings)))
    return out


@dataclass
class Evidence:
    """What a report can cite beside the registry: rerun results, recorded cross-validations, and what was
    left out (with its file)."""

    reruns: list[Rerun] = field(default_factory=list)
    """Sorted by file name."""
    crossvals: list[Crossval] = field(default_factory=list)
    """Sorted by folder name."""
    warnings: list[EvidenceWarning] = field(default_factory=list)


def load_evidence(results_dir: Path | None) -> Evidence:
    """The rerun results of ``results_dir`` and the cross-validations beside it (``../crossval/*/crossval.json``).

    ``None`` or a directory that does not exist gives no evidence (the caller decides whether that is an
    error); unreadable or invalid files are reported in :attr:`Evidence.warnings`, never raised.
    """
    ev = Evidence()
    if results_dir is None or not Path(results_dir).is_dir():
        return ev
    ev.reruns = _load_reruns(Path(results_dir), ev.warnings)
    root = Path(results_dir).parent / "crossval"
    if root.is_dir():
        ev.crossvals = _load_crossvals(root, ev.warnings)
    return ev
