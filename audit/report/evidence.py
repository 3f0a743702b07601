"""Rerun evidence recorded by the rerun engine under ``reruns/results/``, read as plain files.

``<id>.json`` is an :class:`audit.registry.schema.Result` (validated here with pydantic; torch is never
imported) and ``<id>.csv`` beside it is the learning curve (``stage, epoch, lr, train_loss,
train_acc, test_loss, top1, top5, ...`` per epoch).  Files that do not parse are skipped: evidence
is optional, and a half-written result must not stop a report.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from audit.registry.schema import Result

__all__ = ["Crossval", "Rerun", "default_reruns_dir", "load_crossvals", "load_reruns"]


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
        except Exception:
            continue
        out.append(Rerun(id=result.id, result=result, file=p.name, curve=_curve(p.with_suffix(".csv"))))
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


def _benchmark(folder: Path, recipes: list[str]) -> str:
    import yaml

    found = set()
    for r in recipes:
        path = folder.parent / f"{r}.yaml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            found.add(f"{data['dataset']['name']}/{data['model']['network']}")
        except Exception:
            found.add("n/r")
    return ", ".join(sorted(found)) or "n/r"


def load_crossvals(results_dir: Path | None) -> list[Crossval]:
    """Cross-validations recorded beside ``results_dir`` (``reruns/crossval/*/crossval.json``), sorted."""
    if results_dir is None:
        return []
    root = Path(results_dir).parent / "crossval"
    if not root.is_dir():
        return []
    out: list[Crossval] = []
    for p in sorted(root.glob("*/crossval.json")):
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
            recipes = [str(r) for r in d["recipes"]]
            out.append(Crossval(name=p.parent.name, a=str(d["a"]), b=str(d["b"]), recipes=recipes,
                                mean={str(k): float(v) for k, v in d["mean"].items()},
                                std={str(k): float(v) for k, v in d.get("std", {}).items()},
                                seeds=len(d.get("seeds", [])), verdict=str(d.get("verdict", "")),
                                command=str(d.get("command", "")), benchmark=_benchmark(p.parent, recipes)))
        except Exception:
            continue
    return out
