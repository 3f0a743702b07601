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
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from audit.core import schedule as _sched
from audit.core.rules import RecipeError as _AppARecipeError
from audit.core.rules import derive, s42_finetune, schedule_text
from audit.io.yamlio import YamlProblems, dotted_path, line_of, load, read_text
from audit.registry.schema import ScheduleField

from ..errors import Problem
from .errors import RecipeProblems

__all__ = ["Cell", "Grid", "GridError", "expand", "load_grid", "grid_from_data", "dry_run_text"]

DATASET_CLASSES = {"imagenet-1k": 1000, "imagenet-100": 100, "cifar-10": 10, "cifar-100": 100, "digits": 10}
DATASET_SIZE = {"imagenet-1k": 224, "imagenet-100": 224, "cifar-10": 32, "cifar-100": 32, "digits": 16}
SETUPS = ("scratch", "scratch-b", "S4.2", "SX-A", "SX-B", "custom")
SETUP_TAG = {"scratch": "Scratch-E", "scratch-b": "Scratch-B", "S4.2": "S4.2", "SX-A": "SX-A", "SX-B": "SX-B",
             "custom": "custom"}


class GridError(RecipeProblems):
    """A grid that cannot be expanded (printed as is: ``file:line: field: message``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverallGrid(_Strict):
    epochs: Annotated[int, Field(ge=2, strict=True)]
    lr_schedule: ScheduleField

    @field_validator("lr_schedule", mode="before")
    @classmethod
    def _sched(cls, v: Any, info) -> Any:
        if isinstance(v, _sched.Schedule):
            return v
        try:
            return _sched.schedule_from_data(v, info.data.get("epochs"))
        except _sched.ScheduleError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("lr_schedule")
    @classmethod
    def _piecewise(cls, v: _sched.Schedule) -> _sched.Schedule:
        if v.kind != "piecewise" or v.warmup_epochs or not v.is_complete:
            raise ValueError("the overall schedule must be a complete piecewise schedule without warmup")
        return v


class Row(_Strict):
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


class Grid(_Strict):
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
def _problems(exc: ValidationError, lines: dict, display: str) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in
                                                                             ("float", "int", "str", "function-after"))))
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        elif err["type"] == "missing":
            msg = "required field is missing"
        out.append(Problem(display, line_of(lines, loc), dotted_path(loc), msg))
    return out


def grid_from_data(data: Any, display: str = "<grid>", lines: dict | None = None) -> Grid:
    lines = lines or {}
    if data is None or data == {}:
        raise GridError(str(Problem(display, 1, "", "empty grid: the file defines nothing")))
    if not isinstance(data, dict):
        raise GridError(str(Problem(display, 1, "", "a grid is a YAML mapping")))
    try:
        grid = Grid.model_validate(data)
    except ValidationError as exc:
        raise GridError("\n".join(str(p) for p in sorted(_problems(exc, lines, display)))) from None
    g = grid
    if not g.ratios:
        raise GridError(str(Problem(display, line_of(lines, ("ratios",)), "ratios", "empty grid: no pruning ratios")))
    if not g.rows:
        raise GridError(str(Problem(display, line_of(lines, ("rows",)), "rows", "empty grid: no rows")))
    if isinstance(g.seeds, list) and not g.seeds:
        raise GridError(str(Problem(display, line_of(lines, ("seeds",)), "seeds", "empty grid: no seeds")))
    seen: dict[Fraction, int] = {}
    from .prune import to_ratio

    for i, r in enumerate(g.ratios):
        try:
            fr = to_ratio(r, f"ratios[{i}]")
        except Exception as exc:
            raise GridError(str(Problem(display, line_of(lines, ("ratios", i)), f"ratios[{i}]", str(exc)))) from None
        if fr in seen:
            raise GridError(str(Problem(display, line_of(lines, ("ratios", i)), f"ratios[{i}]",
                                        f"ratio {r} is ratios[{seen[fr]}] again: every cell would run twice")))
        seen[fr] = i
    if isinstance(g.seeds, list) and len(set(g.seeds)) != len(g.seeds):
        raise GridError(str(Problem(display, line_of(lines, ("seeds",)), "seeds", "a seed is listed twice")))
    labels: dict[str, int] = {}
    for i, row in enumerate(g.rows):
        where = line_of(lines, ("rows", i))
        if row.prune_epoch is not None and row.prune_epoch >= g.overall.epochs:
            raise GridError(str(Problem(display, line_of(lines, ("rows", i, "prune_epoch")), f"rows[{i}].prune_epoch",
                                        f"P={row.prune_epoch} is not before the end of the {g.overall.epochs} "
                                        "pretraining epochs of the overall schedule")))
        lab = row_label(g, row)
        if lab in labels:
            raise GridError(str(Problem(display, where, f"rows[{i}]",
                                        f"row {lab!r} is rows[{labels[lab]}] again: every cell would run twice")))
        labels[lab] = i
    # recipe fields of the base: validate them once with a stand-in ratio and stages
    from .config import recipe_from_data

    try:
        recipe_from_data(_cell_data(g, None, 0.5, g.seed_list()[0], "0:1e-2", 1, None), display)
    except RecipeProblems as exc:
        raise GridError(f"{display}: base: {str(exc).split(': ', 1)[-1]}") from None
    return grid


def load_grid(path: str | Path) -> Grid:
    p = Path(path)
    try:
        text = read_text(p, str(path))
        data, lines = load(text, str(path))
    except YamlProblems as exc:
        raise GridError("\n".join(str(x) for x in exc.problems)) from None
    return grid_from_data(data, str(path), lines)


# ---------------------------------------------------------------------- expansion
def _lr_text(lr: float | None) -> str:
    return _sched.format_lr(lr) if lr is not None else "?"


def row_label(g: Grid, row: Row) -> str:
    if row.label:
        return row.label
    E = g.overall.epochs
    if row.setup == "scratch":
        return "Scratch"
    if row.setup == "scratch-b":
        return f"Scratch-B (P{row.prune_epoch}F{E - row.prune_epoch})"
    P = row.prune_epoch
    assert P is not None
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
        raise GridError(f"grid {g.name}: {exc}") from None


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
    classes = model.get("num_classes") or DATASET_CLASSES.get(ds.get("name"), 10)
    size = ds.get("image_size") or DATASET_SIZE.get(ds.get("name"), 32)
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
                        raise GridError(f"grid {g.name}: row {label!r}: lr_schedule: {exc}") from None
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
    if pr.get("method", "l1") in ("l1", "random"):
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
    for ri, row in enumerate(g.rows):
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


# ---------------------------------------------------------------------- the shared dense run
def make_dense_spec(model: Any, dataset: Any, optimizer: Any, batch_size: int, eval_batch_size: int, seed: int,
                    schedule: Any, epochs: int) -> dict[str, Any]:
    """What determines a dense run (:func:`run_dense`), and so its folder: network, data,
    optimizer, batch sizes, seed, the schedule (canonical text) and how many epochs of it run."""
    return {"kind": "grid-dense/1", "model": model, "dataset": dataset, "optimizer": optimizer,
            "batch_size": batch_size, "eval_batch_size": eval_batch_size, "seed": seed,
            "schedule": schedule_text(schedule), "epochs": epochs}


def dense_spec(g: Grid, seed: int, prune_epochs: list[int]) -> dict[str, Any]:
    """A grid's dense run: the base recipe's fields, the overall schedule up to its last pruning epoch."""
    b = g.base
    return make_dense_spec(b.get("model"), b.get("dataset"), b.get("optimizer", {}), b.get("batch_size", 128),
                           b.get("eval_batch_size", 500), seed, g.overall.lr_schedule, max(prune_epochs))


def dense_dir(runs_dir: Path, spec: dict[str, Any]) -> Path:
    h = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    return Path(runs_dir) / f"dense-{h[:16]}"


def snapshot_path(runs_dir: Path, spec: dict[str, Any], epoch: int) -> Path:
    return dense_dir(runs_dir, spec) / f"epoch-{epoch}.pt"


def run_dense(spec: dict[str, Any], snapshots: list[int], runs_dir: str, device: str = "cpu",
              threads: int | None = None) -> dict[int, str]:
    """Train the dense model along ``spec``'s schedule, saving its weights at every epoch in ``snapshots``.

    Resumable: it restarts from the latest snapshot present (weights and optimizer state); the
    batches of every epoch come from the engine's (seed, stage, epoch) generator, as in a recipe's
    ``pretrain`` stage.
    """
    import torch

    from .data import load_data
    from .models import build_model
    from .config import OptimizerCfg
    from .runs import _epoch_generator, atomic_write_bytes, atomic_write_text, resolve_device
    from .train import evaluate, make_optimizer, set_lr, train_epoch

    if threads:
        torch.set_num_threads(threads)
    out_dir = dense_dir(Path(runs_dir), spec)
    snaps = sorted(set(snapshots))
    paths = {p: out_dir / f"epoch-{p}.pt" for p in snaps}
    if all(x.exists() for x in paths.values()):
        return {p: str(x) for p, x in paths.items()}
    ds = spec["dataset"]
    data = load_data(ds["name"], ds.get("root"), ds.get("image_size"), ds.get("augment", True),
                     ds.get("train_limit"), ds.get("test_limit"), ds.get("workers", 0))
    out_dir.mkdir(parents=True, exist_ok=True)  # only once the data is there
    atomic_write_text(out_dir / "spec.json", json.dumps(spec, indent=1, sort_keys=True))
    classes = spec["model"].get("num_classes") or data.num_classes
    dev = resolve_device(device)
    sched = _sched.parse_schedule(spec["schedule"])
    o = OptimizerCfg(**spec["optimizer"])
    torch.manual_seed(spec["seed"])
    model = build_model(spec["model"]["network"], classes).to(dev)
    opt = make_optimizer(model, sched.lr_at(0) or 0.0, o.momentum, o.weight_decay, o.nesterov)
    start = 0
    done = [p for p in snaps if paths[p].exists() and (out_dir / f"epoch-{p}.opt.pt").exists()]
    if done:
        start = max(done)
        model.load_state_dict(torch.load(paths[start], map_location="cpu", weights_only=True))
        opt.load_state_dict(torch.load(out_dir / f"epoch-{start}.opt.pt", map_location="cpu", weights_only=True))
    augment = ds.get("augment", True)
    for epoch in range(start, max(snaps)):
        lr = sched.lr_at(epoch)
        set_lr(opt, lr)
        g = _epoch_generator(spec["seed"], "pretrain", epoch)
        tr = train_epoch(model, opt, data.train.batches(spec["batch_size"], g, augment), dev)
        if epoch + 1 in paths:
            ev = evaluate(model, data.test.batches(spec["eval_batch_size"]), dev)
            buf = io.BytesIO()
            torch.save(opt.state_dict(), buf)
            atomic_write_bytes(out_dir / f"epoch-{epoch + 1}.opt.pt", buf.getvalue())
            buf = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
            atomic_write_bytes(paths[epoch + 1], buf.getvalue())
            with open(out_dir / "snapshots.csv", "a") as fh:
                fh.write(f"{epoch + 1},{lr!r},{tr['train_acc']!r},{ev['top1']!r}\n")
    return {p: str(x) for p, x in paths.items()}


# ---------------------------------------------------------------------- running a grid
def run_cell(recipe_data: dict[str, Any], runs_dir: str, device: str = "cpu",
             threads: int | None = None) -> dict[str, Any]:
    """Run one cell (a content-addressed recipe); returns the result record and learning curve."""
    import torch

    from .config import recipe_from_data
    from .runs import run_recipe

    if threads:
        torch.set_num_threads(threads)
    rec = recipe_from_data(recipe_data)
    o = run_recipe(rec, runs_dir, device=device)
    return {"status": o.status, "run_dir": str(o.run_dir), "result": o.result.model_dump(mode="json", exclude_none=True),
            "history": o.history}


@dataclass
class GridRun:
    cells: list[Cell]
    outputs: list[dict[str, Any]]
    seconds: float
    ran: int
    complete: int


def run_grid(g: Grid, runs_dir: str | Path = "reruns/runs", executor: Any = None, device: str = "cpu",
             log=print) -> GridRun:
    """Run every missing cell (complete cells are read back): dense runs first, then the cells."""
    from .executor import LocalExecutor

    ex = executor or LocalExecutor(1)
    t0 = time.perf_counter()
    runs_dir = str(runs_dir)
    cells = expand(g)
    acc = accounting(g, cells)
    snaps: dict[int, dict[int, str]] = {}
    if acc.prune_epochs:
        specs = {s: dense_spec(g, s, acc.prune_epochs) for s in g.seed_list()}
        jobs = [(run_dense, (specs[s], acc.prune_epochs, runs_dir, device)) for s in g.seed_list()]
        log(f"dense runs: {len(jobs)} x {acc.dense_epochs} epochs (snapshots at {acc.prune_epochs})")
        for s, res in zip(g.seed_list(), ex.map(jobs)):
            snaps[s] = {int(k): v for k, v in res.items()}
    jobs = []
    for c in cells:
        ck = snaps[c.seed][c.prune_epoch] if c.pipeline == "pruning" else None  # type: ignore[index]
        jobs.append((run_cell, (cell_recipe_data(g, c, ck), runs_dir, device)))
    log(f"cells: {len(jobs)}")
    outs = ex.map(jobs)
    ran = sum(1 for o in outs if o["status"] != "complete")
    return GridRun(cells, outs, time.perf_counter() - t0, ran, len(outs) - ran)


# ---------------------------------------------------------------------- aggregation
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def aggregate(g: Grid, run: GridRun):
    """(per-seed DataFrame, table DataFrame of mean/std/p per row x ratio, curves DataFrame)."""
    import pandas as pd
    from scipy.stats import ttest_ind_from_stats

    recs, curves = [], []
    for c, o in zip(run.cells, run.outputs):
        r = o["result"]
        recs.append({"row": c.row, "setup": c.setup, "row_index": c.row_index, "ratio": c.ratio_text, "seed": c.seed,
                     "prune_epoch": c.prune_epoch, "finetune_epochs": c.finetune_epochs,
                     "schedule": schedule_text(c.schedule), "speedup": c.speedup,
                     "top1": r["top1"]["mean"], "top5": (r.get("top5") or {}).get("mean"),
                     "trainability_acc": r.get("trainability_acc"), "result_id": r["id"], "run_dir": o["run_dir"]})
        for h in o["history"]:
            curves.append({"row": c.row, "setup": c.setup, "ratio": c.ratio_text, "seed": c.seed, **h})
    per = pd.DataFrame(recs)
    stats = per.groupby(["row_index", "row", "setup", "ratio"], sort=False).agg(
        mean=("top1", "mean"), std=("top1", "std"), n=("top1", "size"), ta=("trainability_acc", "mean"),
        speedup=("speedup", "first")).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    scratch = stats[stats["setup"] == "Scratch-E"]
    ps = []
    for _, s in stats.iterrows():
        ref = scratch[scratch["ratio"] == s["ratio"]]
        if s["setup"].startswith("Scratch") or ref.empty or s["n"] < 2 or ref.iloc[0]["n"] < 2:
            ps.append(float("nan"))
            continue
        b = ref.iloc[0]
        if s["std"] == 0 and b["std"] == 0:
            ps.append(0.0 if s["mean"] != b["mean"] else 1.0)
            continue
        ps.append(float(ttest_ind_from_stats(s["mean"], s["std"], s["n"], b["mean"], b["std"], b["n"],
                                             equal_var=False).pvalue))
    stats["p_vs_scratch"] = ps
    return per, stats, pd.DataFrame(curves)


def table_frames(g: Grid, stats):
    """The Tab. 4 layout: rows = recipes (with the setup tag), columns = ratios; cells 'mean±std'."""
    import pandas as pd

    cols = [str(r) for r in g.ratios]
    head = {"setup": "", "row": "speedup (MACs)"}
    first = stats.drop_duplicates("ratio").set_index("ratio")
    for r in cols:
        head[f"{_pct(r)}"] = f"{first.loc[r, 'speedup']:.2f}x"
    rows = [head]
    for (ri, row, setup), grp in stats.groupby(["row_index", "row", "setup"], sort=False):
        d = {"setup": setup, "row": row}
        grp = grp.set_index("ratio")
        for r in cols:
            s = grp.loc[r]
            star = ""
            p = s["p_vs_scratch"]
            if p == p:  # not NaN
                star = "*" if p < 0.05 else ""
                star += "+" if s["mean"] > scratch_mean(stats, r) else "-"
            d[_pct(r)] = f"{s['mean']:.2f}±{s['std']:.2f}{(' ' + star) if star else ''}"
        rows.append(d)
    return pd.DataFrame(rows)


def scratch_mean(stats, ratio: str) -> float:
    s = stats[(stats["setup"] == "Scratch-E") & (stats["ratio"] == ratio)]
    return float(s.iloc[0]["mean"]) if not s.empty else float("nan")


def _pct(r: str) -> str:
    return f"{float(r) * 100:g}%"


def write_outputs(g: Grid, run: GridRun, out_dir: Path, command: str, results_dir: Path | None) -> Path:
    """Write table.csv/.md, cells.csv, stats.csv, curves.csv, COMMAND.txt; results to ``results_dir``."""
    per, stats, curves = aggregate(g, run)
    tab = table_frames(g, stats)
    out_dir.mkdir(parents=True, exist_ok=True)
    per.drop(columns=["run_dir"]).to_csv(out_dir / "cells.csv", index=False)
    stats.to_csv(out_dir / "stats.csv", index=False)
    curves.to_csv(out_dir / "curves.csv", index=False)
    tab.to_csv(out_dir / "table.csv", index=False)
    md = [f"# {g.name}: top-1 (%) mean±std over {len(g.seed_list())} seed(s)", "",
          "`*` = Welch t-test against the Scratch row at the same ratio, p < 0.05; `+`/`-` = above/below it.", "",
          _markdown(tab), ""]
    ta = stats.pivot_table(index=["row_index", "row"], columns="ratio", values="ta", sort=False)
    ta.columns = [_pct(c) for c in ta.columns]
    ta = ta.reset_index(level=0, drop=True)
    md += ["Trainability accuracy (mean train accuracy over the first LR stage of finetuning/scratch, Eq. 1):", "",
           _markdown(ta.round(2).reset_index()), ""]
    (out_dir / "table.md").write_text("\n".join(md))
    cmd_file = out_dir / "COMMAND.txt"
    if run.ran == 0 and cmd_file.exists():  # re-aggregation of complete runs: keep the producing command's record
        if "re-aggregated" not in cmd_file.read_text():
            with open(cmd_file, "a") as fh:
                fh.write(f"# re-aggregated from the complete runs by: {command} ({run.seconds:.1f} s)\n")
    else:
        cmd_file.write_text(f"{command}\n# wall time {run.seconds:.1f} s; {run.ran} cells run, "
                            f"{run.complete} read back\n")
    if results_dir is not None:
        write_results(g, run, stats, results_dir)
    return out_dir


def _markdown(df) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join("" if (isinstance(v, float) and v != v) else str(v) for v in r.values) + " |")
    return "\n".join(lines)


def _mean_curve(histories: list[list[dict[str, Any]]]) -> str:
    """The learning curve averaged over seeds, per (stage, epoch), in the engine's metrics.csv columns."""
    from .runs import CSV_FIELDS

    rows: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for h in histories:
        for r in h:
            rows.setdefault((r["stage"], int(r["epoch"])), []).append(r)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for (stage, epoch), rs in rows.items():
        d: dict[str, Any] = {"stage": stage, "epoch": epoch}
        d["lr"] = repr(float(rs[0]["lr"]))  # the same schedule for every seed
        for k in CSV_FIELDS[3:]:
            d[k] = repr(sum(float(r[k]) for r in rs) / len(rs))
        w.writerow(d)
    return buf.getvalue()


def write_results(g: Grid, run: GridRun, stats, results_dir: Path) -> list[Path]:
    """One typed Result per (row, ratio): the first seed's record with top-1 mean/std/runs over seeds."""
    from audit.registry.schema import Metric, Result, Stage

    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    by_key: dict[tuple[int, str], list[tuple[Cell, dict]]] = {}
    for c, o in zip(run.cells, run.outputs):
        by_key.setdefault((c.row_index, c.ratio_text), []).append((c, o))
    for (ri, ratio), items in by_key.items():
        c0, o0 = items[0]
        s = stats[(stats["row_index"] == ri) & (stats["ratio"] == ratio)].iloc[0]
        r = Result.model_validate(o0["result"])
        top5 = [o["result"].get("top5", {}).get("mean") for _, o in items]
        upd: dict[str, Any] = {
            "id": f"rerun-grid-{g.name}-{_slug(c0.row)}-r{_slug(ratio)}",
            "variant": f"{g.name}: {c0.row} [{c0.setup}]",
            "top1": Metric(mean=float(s["mean"]), std=float(s["std"]), runs=int(s["n"])),
            "top5": Metric(mean=sum(top5) / len(top5), runs=len(top5)) if all(x is not None for x in top5) else None,
            "trainability_acc": float(s["ta"]) if s["ta"] == s["ta"] else None,
            "notes": (r.notes or "") + f"; grid {g.name}, setup {c0.setup}, seeds "
                     f"{', '.join(str(c.seed) for c, _ in items)}; per-seed runs: "
                     f"{', '.join(Path(o['run_dir']).name for _, o in items)}",
        }
        if c0.pipeline == "pruning" and c0.prune_epoch is not None:
            head = g.overall.lr_schedule.head(c0.prune_epoch)
            upd["pretrain"] = Stage(epochs=c0.prune_epoch, lr_schedule=head, batch_size=r.finetune.batch_size
                                    if r.finetune else None)
            upd["base"] = r.base.model_copy(update={"identity": "own training",
                                                    "description": f"the grid's shared dense run, epoch {c0.prune_epoch}"})
        rr = r.model_copy(update=upd)
        rr = Result.model_validate(rr.model_dump(mode="json", exclude_none=True))
        path = results_dir / f"{rr.id}.json"
        (results_dir / f"{rr.id}.csv").write_text(_mean_curve([o["history"] for _, o in items]))
        path.write_text(rr.model_dump_json(indent=1, exclude_none=True))
        written.append(path)
    return written
