"""Experiment grids: a base recipe expanded over rows (the seed's setups) x pruning ratios x seeds.

A grid YAML (see ``reruns/grids/``)::

    name: digits-miniature
    base:                      # recipe fields shared by every cell (no stages, no ratio, no seed)
      model: {network: resnet20}
      dataset: {name: digits}
      pruning: {method: l1}
      optimizer: {momentum: 0.9, weight_decay: 5e-4}
      batch_size: 64
    overall: {epochs: 20, lr_schedule: "0:1e-1,10:1e-2,15:1e-3"}   # the dense model's schedule
    final_lr: 1e-4             # Appendix A Rule 1 (the final LR of every derived schedule)
    max_stage: 30              # Appendix A Rule 3 (null: halve without a cap)
    ratios: [0.3, 0.6, 0.9]
    seeds: 3                   # or a list of seeds
    rows:
      - {setup: scratch}                       # Scratch-E: the overall schedule on the pruned architecture
      - {setup: scratch-b, prune_epoch: 10}    # Scratch-B: P*speedup + (epochs-P) epochs, Appendix A schedule
      - {setup: S4.2, prune_epoch: 10}         # PxFy: finetuning = the overall schedule's tail after P
      - {setup: SX-A, prune_epoch: 10, lr: 1e-1}    # same total epochs, Appendix A schedule from lr
      - {setup: SX-B, prune_epoch: 10, lr: 1e-1}    # pruning epoch squeezed to P/speedup, F = epochs-P
      - {setup: custom, prune_epoch: 10, lr: 1e-3, finetune_epochs: 40}  # any other finetuning

Sharing: every pruning cell of a seed starts from one dense run that follows ``overall`` up to the
largest pruning epoch of the grid; it saves its weights at every pruning epoch a cell needs
(``RUNS_DIR/dense-<hash>/epoch-<P>.pt``), and a cell is an ordinary content-addressed recipe whose
``base.checkpoint`` is that snapshot.  Scratch cells need no dense run.

This module loads and expands grids and dispatches their runs; the dense runs are
:mod:`audit.rerun.dense`, the tables :mod:`audit.rerun.aggregate`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from audit.core import catalog
from audit.core import schedule as _sched
from audit.core.rules import RecipeError as _AppARecipeError
from audit.core.rules import derive, s42_finetune, schedule_text
from audit.errors import Problem
from audit.io.loader import Lines, Loaded, StrictModel, load_model, validate_data
from audit.registry.schema import ScheduleField, stage_schedule

from .errors import RecipeError, RecipeProblems

if TYPE_CHECKING:
    from .executor import Executor, Job
    from .runs import CellOutput

__all__ = ["SETUPS", "SETUP_TAG", "Accounting", "Cell", "Grid", "GridError",
           "GridRun", "OverallGrid", "Row", "accounting", "cell_recipe_data", "dense_spec", "dry_run_text", "expand",
           "grid_from_data", "load_grid", "row_label", "run_grid", "speedup_of"]

SETUPS = ("scratch", "scratch-b", "S4.2", "SX-A", "SX-B", "custom")
SETUP_TAG = {"scratch": "Scratch-E", "scratch-b": "Scratch-B", "S4.2": "S4.2", "SX-A": "SX-A", "SX-B": "SX-B",
             "custom": "custom"}


class GridError(RecipeProblems):
    """A grid that cannot be expanded (printed as is: ``file:line: field: message``)."""


class OverallGrid(StrictModel):
    epochs: Annotated[int, Field(ge=2, strict=True)]
    lr_schedule: ScheduleField

    @field_validator("lr_schedule", mode="before")
    @classmethod
    def _parse_schedule(cls, v: Any, info: ValidationInfo) -> Any:
        return stage_schedule(v, info.data.get("epochs"))

    @field_validator("lr_schedule")
    @classmethod
    def _piecewise(cls, v: _sched.Schedule) -> _sched.Schedule:
        if v.kind != "piecewise" or v.warmup_epochs or not v.is_complete:
            raise ValueError("the overall schedule must be a complete piecewise schedule without warmup")
        return v


class Row(StrictModel):
    setup: str
    """scratch (Scratch-E), scratch-b, S4.2, SX-A, SX-B or custom."""
    prune_epoch: Annotated[int, Field(ge=1, strict=True)] | None = None
    lr: Annotated[float, Field(gt=0)] | None = None
    """Initial finetuning LR (SX-A, SX-B, custom): the schedule is derived by Appendix A."""
    finetune_epochs: Annotated[int, Field(ge=1, strict=True)] | None = None
    """custom only: finetuning epochs (default: the overall epochs - P)."""
    lr_schedule: str | None = None
    """custom only: an explicit finetuning schedule instead of ``lr``."""
    label: str | None = None
    """Row label (default: the seed's, e.g. ``P30F90, 1e-1``)."""
    pruning: dict[str, Any] = {}
    """Extra ``pruning`` fields for this row (e.g. another method)."""

    @field_validator("setup")
    @classmethod
    def _setup(cls, v: str) -> str:
        if v not in SETUPS:
            raise ValueError(f"unknown setup {v!r} (known: {', '.join(SETUPS)})")
        return v

    @model_validator(mode="after")
    def _fields(self) -> Row:
        s = self.setup
        if s == "scratch":
            for f in ("prune_epoch", "lr", "finetune_epochs", "lr_schedule"):
                if getattr(self, f) is not None:
                    raise ValueError(f"a scratch (Scratch-E) row takes no {f!r}: it trains the overall schedule")
        else:
            if self.prune_epoch is None:
                raise ValueError(f"a {s} row needs 'prune_epoch'")
            if s in ("SX-A", "SX-B") and self.lr is None:
                raise ValueError(f"a {s} row needs 'lr' (the initial finetuning LR)")
            if s != "custom" and (self.finetune_epochs is not None or self.lr_schedule is not None):
                raise ValueError("'finetune_epochs' and 'lr_schedule' belong to custom rows")
            if s in ("S4.2", "scratch-b") and self.lr is not None:
                raise ValueError(f"a {s} row takes its LRs from the overall schedule: no 'lr'")
            if s == "custom" and (self.lr is None) == (self.lr_schedule is None):
                raise ValueError("a custom row needs exactly one of 'lr' (Appendix A schedule) or 'lr_schedule'")
        return self


class Grid(StrictModel):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    base: dict[str, Any]
    overall: OverallGrid
    final_lr: Annotated[float, Field(gt=0)] = 1e-5
    max_stage: Annotated[int, Field(ge=1, strict=True)] | None = 30
    ratios: list[float | int | str]
    seeds: Annotated[int, Field(ge=1, strict=True)] | list[Annotated[int, Field(ge=0, strict=True)]] = 1
    rows: list[Row]

    @field_validator("base")
    @classmethod
    def _base(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in ("pipeline", "pretrain", "finetune", "scratch", "overall", "seed", "name") if k in v]
        if bad:
            raise ValueError(f"the grid sets {', '.join(bad)} per cell: leave {'them' if len(bad) > 1 else 'it'} "
                             "out of 'base'")
        if "ratio" in (v.get("pruning") or {}):
            raise ValueError("the grid sets pruning.ratio per cell (use 'ratios')")
        return v

    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


@dataclass
class Cell:
    row: str  # row label
    setup: str  # the row's setup tag (S4.2, SX-A, ...)
    row_index: int
    ratio: float
    ratio_text: str
    seed: int
    pipeline: str  # pruning | scratch
    prune_epoch: int | None
    finetune_epochs: int
    schedule: _sched.Schedule  # finetuning (or scratch) schedule
    speedup: float
    pruning: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.row} | r={self.ratio_text} | seed {self.seed}"

    def epochs(self) -> int:
        return self.finetune_epochs + (self.prune_epoch or 0)


# ---------------------------------------------------------------------- loading
_NOUN = "a rerun grid"


def _grid_rules(loaded: Loaded[Grid]) -> list[Problem]:
    """Rules of a grid beyond its schema: something to expand, no cell twice, pruning epochs inside
    the overall schedule, and a base whose recipe fields are valid (checked once on a stand-in cell)."""
    g = loaded.model
    if g is None:
        return []
    out: list[Problem] = []
    for field_name, what in (("ratios", "no pruning ratios"), ("rows", "no rows")):
        if not getattr(g, field_name):
            out.append(loaded.problem((field_name,), f"empty grid: {what}"))
    if isinstance(g.seeds, list) and not g.seeds:
        out.append(loaded.problem(("seeds",), "empty grid: no seeds"))
    if isinstance(g.seeds, list) and len(set(g.seeds)) != len(g.seeds):
        out.append(loaded.problem(("seeds",), "a seed is listed twice"))
    from .prune import to_ratio

    seen: dict[Fraction, int] = {}
    for i, r in enumerate(g.ratios):
        try:
            fr = to_ratio(r, f"ratios[{i}]")
        except Exception as exc:  # any parse failure of a ratio is this ratio's problem
            out.append(loaded.problem(("ratios", i), str(exc)))
            continue
        if fr in seen:
            out.append(loaded.problem(("ratios", i), f"ratio {r} is ratios[{seen[fr]}] again: every cell would "
                                                     "run twice"))
        seen[fr] = i
    labels: dict[str, int] = {}
    for i, row in enumerate(g.rows):
        if row.prune_epoch is not None and row.prune_epoch >= g.overall.epochs:
            out.append(loaded.problem(("rows", i, "prune_epoch"),
                                      f"P={row.prune_epoch} is not before the end of the {g.overall.epochs} "
                                      "pretraining epochs of the overall schedule"))
            continue  # its label needs a P inside the schedule
        lab = row_label(g, row)
        if lab in labels:
            out.append(loaded.problem(("rows", i), f"row {lab!r} is rows[{labels[lab]}] again: every cell would "
                                                   "run twice"))
        labels[lab] = i
    if out or not g.seed_list():
        return out
    from .config import recipe_from_data

    try:  # the recipe fields of the base, validated once on a stand-in cell
        recipe_from_data(_cell_data(g, None, 0.5, g.seed_list()[0], "0:1e-2", 1, None), loaded.display)
    except RecipeProblems as exc:
        out.extend(loaded.problem(("base", *_split(p.path)), p.message) for p in exc.problems)
    return out


def _split(dotted: str) -> tuple[Any, ...]:
    """``pruning.overrides[2].x`` -> ``('pruning', 'overrides', 2, 'x')`` (the inverse of a dotted path)."""
    parts: list[Any] = []
    for piece in dotted.split(".") if dotted else []:
        name, *indices = piece.replace("]", "").split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indices)
    return tuple(parts)


def grid_from_data(data: Any, display: str = "<grid>", lines: Lines | None = None) -> Grid:
    """Validate grid data; :class:`GridError` with every problem (``file:line: field: message``)."""
    loaded = validate_data(data, Grid, noun=_NOUN, display=display, lines=lines, checks=[_grid_rules])
    if loaded.model is None:
        raise GridError(loaded.problems)
    return loaded.model


def load_grid(path: str | Path) -> Grid:
    """Read and validate a grid file; :class:`GridError` with every problem of the file."""
    loaded = load_model(path, Grid, noun=_NOUN, display=str(path), checks=[_grid_rules])
    if loaded.model is None:
        raise GridError(loaded.problems)
    return loaded.model


# ---------------------------------------------------------------------- expansion
def _lr_text(lr: float | None) -> str:
    return _sched.format_lr(lr) if lr is not None else "?"


def row_label(g: Grid, row: Row) -> str:
    if row.label:
        return row.label
    E = g.overall.epochs
    if row.setup == "scratch":
        return "Scratch"
    P = row.prune_epoch
    assert P is not None, "a row other than scratch has a pruning epoch (checked by Row)"
    if row.setup == "scratch-b":
        return f"Scratch-B (P{P}F{E - P})"
    if row.setup == "S4.2":
        return f"P{P}F{E - P}, {_lr_text(g.overall.lr_schedule.lr_at(P))}"
    if row.setup == "SX-A":
        return f"P{P}F{E - P}, {_lr_text(row.lr)}"
    if row.setup == "SX-B":
        return f"P{P}/F{E - P}, {_lr_text(row.lr)}"
    F = row.finetune_epochs or E - P
    lr = row.lr if row.lr is not None else _sched.parse_schedule(row.lr_schedule or "").initial_lr
    return f"P{P}F{F}, {_lr_text(lr)}"


def _derive(g: Grid, epochs: int, lr: float) -> _sched.Schedule:
    try:
        return derive(epochs, lr, g.final_lr, max_stage=g.max_stage)
    except _AppARecipeError as exc:
        raise RecipeError(f"grid {g.name}: {exc}") from None


_SPEEDUPS: dict[str, float] = {}


def speedup_of(g: Grid, ratio: Any) -> float:
    """Dense MACs / pruned MACs of the base network at ``ratio`` (the engine's MAC counter)."""
    key = json.dumps([g.base.get("model"), g.base.get("dataset"), g.base.get("pruning"), str(ratio)], sort_keys=True,
                     default=str)
    if key not in _SPEEDUPS:
        _SPEEDUPS[key] = _speedup(g, ratio)
    return _SPEEDUPS[key]


def _speedup(g: Grid, ratio: Any) -> float:
    from .flops import flops_report

    model = g.base.get("model", {})
    ds = g.base.get("dataset", {})
    p = g.base.get("pruning", {}) or {}
    known = catalog.DATASETS.get(ds.get("name", ""))
    classes = model.get("num_classes") or (known.classes if known else 10)
    size = ds.get("image_size") or (known.input_size if known else 32)
    rep = flops_report(model["network"], ratio, classes, size, p.get("overrides") or None, tuple(p.get("skip") or ()))
    return float(rep.speedup)


def expand(g: Grid) -> list[Cell]:
    """Every cell of the grid (rows x ratios x seeds), in row, ratio, seed order."""
    E = g.overall.epochs
    overall = g.overall.lr_schedule
    speed = {str(r): speedup_of(g, r) for r in g.ratios}
    cells: list[Cell] = []
    for ri, row in enumerate(g.rows):
        label = row_label(g, row)
        for r in g.ratios:
            sp = speed[str(r)]
            P = row.prune_epoch
            pipeline = "pruning"
            if row.setup == "scratch":
                pipeline, P, F, sched = "scratch", None, E, overall
            elif row.setup == "scratch-b":
                assert P is not None
                pipeline = "scratch"
                F = int(round(P * sp)) + (E - P)
                sched = _derive(g, F, overall.initial_lr)
                P = None
            elif row.setup == "S4.2":
                assert P is not None
                F, sched = E - P, s42_finetune(overall, P)
            elif row.setup == "SX-A":
                assert P is not None and row.lr is not None
                F, sched = E - P, _derive(g, E - P, row.lr)
            elif row.setup == "SX-B":
                assert P is not None and row.lr is not None
                F, sched = E - P, _derive(g, E - P, row.lr)
                P = max(1, int(round(P / sp)))
            else:
                assert P is not None
                F = row.finetune_epochs or E - P
                if row.lr is not None:
                    sched = _derive(g, F, row.lr)
                else:
                    try:
                        sched = _sched.parse_schedule(row.lr_schedule or "", F)
                    except _sched.ScheduleError as exc:
                        raise RecipeError(f"grid {g.name}: row {label!r}: lr_schedule: {exc}") from None
            for seed in g.seed_list():
                cells.append(Cell(label, SETUP_TAG[row.setup], ri, float(r), str(r), seed, pipeline, P, F, sched, sp,
                                  dict(row.pruning)))
    return cells


def _cell_data(g: Grid, cell: Cell | None, ratio: Any, seed: int, sched: Any, epochs: int,
               base_ckpt: str | None, pipeline: str = "pruning", pruning: dict | None = None) -> dict[str, Any]:
    data = json.loads(json.dumps(g.base))
    data["name"] = g.name
    data["seed"] = seed
    pr = dict(data.get("pruning") or {})
    pr.update(pruning or {})
    method = catalog.ENGINE_METHODS.get(pr.get("method", "l1"))
    if method is not None and method.stage is None:
        pr.pop("stage", None)  # a GReg stage in the base does not apply to a one-shot row
    pr["ratio"] = ratio
    data["pruning"] = pr
    sched_text = sched if isinstance(sched, str) else schedule_text(sched)
    if pipeline == "scratch":
        data["pipeline"] = "scratch"
        data["scratch"] = {"epochs": epochs, "lr_schedule": sched_text}
    else:
        data["finetune"] = {"epochs": epochs, "lr_schedule": sched_text}
        if base_ckpt is None:  # validation stand-in
            data["pretrain"] = {"epochs": 1, "lr_schedule": "0:1e-1"}
        else:
            data.setdefault("base", {})["checkpoint"] = base_ckpt
    return data


def cell_recipe_data(g: Grid, cell: Cell, base_ckpt: str | None) -> dict[str, Any]:
    return _cell_data(g, cell, _ratio_value(g, cell), cell.seed, cell.schedule, cell.finetune_epochs, base_ckpt,
                      cell.pipeline, cell.pruning)


def _ratio_value(g: Grid, cell: Cell) -> Any:
    for r in g.ratios:
        if str(r) == cell.ratio_text:
            return r
    return cell.ratio


# ---------------------------------------------------------------------- epochs and the dry run
@dataclass
class Accounting:
    per_seed_unshared: int
    per_seed_shared: int
    dense_epochs: int  # per seed (0 when no pruning row)
    prune_epochs: list[int]
    seeds: int

    @property
    def unshared(self) -> int:
        return self.per_seed_unshared * self.seeds

    @property
    def shared(self) -> int:
        return self.per_seed_shared * self.seeds


def accounting(g: Grid, cells: list[Cell]) -> Accounting:
    seed0 = g.seed_list()[0]
    mine = [c for c in cells if c.seed == seed0]
    pes = sorted({c.prune_epoch for c in mine if c.prune_epoch is not None})
    dense = max(pes) if pes else 0
    unshared = sum(c.epochs() for c in mine)
    shared = dense + sum(c.finetune_epochs for c in mine)
    return Accounting(unshared, shared, dense, pes, len(g.seed_list()))


def dry_run_text(g: Grid, cells: list[Cell] | None = None) -> str:
    cells = expand(g) if cells is None else cells
    acc = accounting(g, cells)
    seeds = g.seed_list()
    out = [f"grid {g.name}: {len(g.rows)} rows x {len(g.ratios)} ratios x {len(seeds)} seeds = {len(cells)} cells",
           f"dense model ({g.base['model']['network']}): overall schedule {schedule_text(g.overall.lr_schedule)}, "
           f"{g.overall.epochs} epochs; Appendix A: final LR {_sched.format_lr(g.final_lr)}, "
           f"longest stage {g.max_stage if g.max_stage else 'uncapped'}",
           "speedup (MACs): " + ", ".join(f"{r}: {speedup_of(g, r):.2f}x" for r in g.ratios), ""]
    seed0 = seeds[0]
    for ri in range(len(g.rows)):
        rc = [c for c in cells if c.row_index == ri and c.seed == seed0]
        first = rc[0]
        out.append(f"[{first.setup}] {first.row}")
        for c in rc:
            if c.pipeline == "scratch":
                what = f"scratch {c.finetune_epochs} epochs: {schedule_text(c.schedule)}"
            else:
                head = g.overall.lr_schedule.head(c.prune_epoch)  # type: ignore[arg-type]
                what = (f"pretrain P={c.prune_epoch} ({schedule_text(head)}) -> prune -> finetune "
                        f"{c.finetune_epochs}: {schedule_text(c.schedule)}")
            out.append(f"  r={c.ratio_text:<5} {what}  [{c.epochs()} epochs]")
    out.append("")
    out.append(f"epochs per seed without sharing: {acc.per_seed_unshared} "
               f"(every pruning cell trains its own P epochs); with sharing: {acc.per_seed_shared} "
               f"(one dense run of {acc.dense_epochs} epochs, snapshots at P = "
               f"{', '.join(map(str, acc.prune_epochs)) or '-'})")
    saved = acc.unshared - acc.shared
    pct = 100.0 * saved / acc.unshared if acc.unshared else 0.0
    out.append(f"total over {acc.seeds} seed(s): {acc.unshared} epochs without sharing, {acc.shared} with sharing "
               f"(saves {saved} epochs, {pct:.1f}%)")
    return "\n".join(out)


# ---------------------------------------------------------------------- running a grid
def dense_spec(g: Grid, seed: int, prune_epochs: list[int]) -> dict[str, Any]:
    """A grid's dense run: the base recipe's fields, the overall schedule up to its last pruning epoch."""
    from .dense import make_dense_spec

    b = g.base
    return make_dense_spec(b.get("model"), b.get("dataset"), b.get("optimizer", {}), b.get("batch_size", 128),
                           b.get("eval_batch_size", 500), seed, g.overall.lr_schedule, max(prune_epochs))


@dataclass
class GridRun:
    """A grid's cells with their outcomes (in cell order), wall seconds, and how many cells ran
    or were read back complete."""

    cells: list[Cell]
    outputs: list[CellOutput]
    seconds: float
    ran: int
    complete: int


def run_grid(g: Grid, runs_dir: str | Path = "reruns/runs", executor: Executor | None = None, device: str = "cpu",
             log: Callable[[str], object] = print) -> GridRun:
    """Run every missing cell (complete cells are read back): the shared dense runs first
    (:mod:`audit.rerun.dense`, one per seed), then the cells (:func:`audit.rerun.runs.run_cell`)."""
    from .dense import run_dense
    from .executor import LocalExecutor
    from .runs import run_cell

    ex = executor or LocalExecutor(1)
    t0 = time.perf_counter()
    runs = str(runs_dir)
    cells = expand(g)
    acc = accounting(g, cells)
    snaps: dict[int, dict[int, str]] = {}
    if acc.prune_epochs:
        specs = {s: dense_spec(g, s, acc.prune_epochs) for s in g.seed_list()}
        dense_jobs: list[Job] = [(run_dense, (specs[s], acc.prune_epochs, runs, device)) for s in g.seed_list()]
        log(f"dense runs: {len(dense_jobs)} x {acc.dense_epochs} epochs (snapshots at {acc.prune_epochs})")
        for s, res in zip(g.seed_list(), ex.map(dense_jobs)):
            snaps[s] = {int(k): v for k, v in res.items()}
    jobs: list[Job] = []
    for c in cells:
        ck = snaps[c.seed][c.prune_epoch] if c.pipeline == "pruning" and c.prune_epoch is not None else None
        jobs.append((run_cell, (cell_recipe_data(g, c, ck), runs, device)))
    log(f"cells: {len(jobs)}")
    outs: list[CellOutput] = ex.map(jobs)
    ran = sum(1 for o in outs if o["status"] != "complete")
    return GridRun(cells, outs, time.perf_counter() - t0, ran, len(outs) - ran)
