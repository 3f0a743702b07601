"""Content-addressed, resumable runs of a recipe.

A run lives in ``RUNS_DIR/<first 16 hex of the recipe hash>/``:

* ``recipe.yaml``   the resolved recipe (written first);
* ``checkpoint.pt`` the :class:`audit.rerun.checkpoint.Checkpoint` (model, optimizer, stage and
  epoch, kept filters, every RNG state), rewritten atomically after every epoch and loaded with
  ``torch.load(..., weights_only=True)``; it names its recipe's hash, so a checkpoint of another
  recipe is never resumed;
* ``metrics.csv``   the learning curve (one row per epoch), ``prune.json`` the kept filters;
* ``result.json``   the :class:`audit.registry.schema.Result` of the run, written last and atomically: a run
  is complete exactly when it exists.  Running a complete recipe again only reads it back.

A run is a loop over its stages (:func:`audit.rerun.stages.pipeline`); a resumed run starts at
the stage and epoch its checkpoint names.  The order of every epoch's batches and its
augmentation come from a generator seeded by (seed, stage, epoch) (:mod:`audit.rerun.rng`), so
an interrupted run (even by ``kill -9``) resumes to the same final metrics as an uninterrupted
one on the same machine and thread count.
"""

from __future__ import annotations

import random
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

import torch
import yaml

from audit.core.catalog import ENGINE_METHODS
from audit.io.atomic import atomic_write_text
from audit.registry.schema import BaseModelInfo, Compression, FlopsCount, Metric, Result, Source, Stage

from . import dist
from .checkpoint import Checkpoint, load_weights
from .config import Recipe, StageCfg, recipe_from_data, recipe_hash, resolved
from .curve import EpochRecord, read_curve, write_curve
from .data import load_data
from .errors import CheckpointError, RecipeError
from .flops import count
from .models import build_model, network_info
from .prune import plan_from_ratios, pruned_architecture, resolve_ratios, to_ratio
from .rng import set_rng_state
from .stages import Hooks, RunState, pipeline
from .stages import Stage as RunStage

__all__ = ["CellOutput", "RunOutcome", "git_commit", "package_version", "resolve_device", "run_cell", "run_dir_for",
           "run_recipe", "trainability_accuracy"]


@dataclass
class RunOutcome:
    """What :func:`run_recipe` did: ``status`` is ``ran``, ``resumed`` or ``complete`` (already
    complete: nothing was run); ``history`` is the learning curve; ``seconds`` this call's wall time."""

    run_dir: Path
    recipe_hash: str
    status: str
    result: Result
    history: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------------- small helpers
def run_dir_for(runs_dir: Path, h: str) -> Path:
    """The folder of the run of recipe hash ``h``: ``runs_dir/<first 16 hex digits>``."""
    return Path(runs_dir) / h[:16]


def package_version() -> str:
    """The installed prune-audit version (``0.1.0+source`` in a source checkout)."""
    try:
        from importlib.metadata import version

        return version("prune-audit")
    except Exception:  # not installed (a source checkout)
        return "0.1.0+source"


def git_commit() -> str:
    """The commit of the package's source checkout, or ``unknown`` (an installed wheel, no git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
    except Exception:
        return "unknown"


def resolve_device(device: str) -> torch.device:
    """``cpu``, ``cuda`` or ``auto`` (CUDA where available); raises :class:`RecipeError` otherwise."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RecipeError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if device not in ("cpu", "cuda"):
        raise RecipeError(f"unknown device {device!r} (cpu, cuda or auto)")
    return torch.device(device)


def _check_own(recipe_path: Path, res: dict[str, Any], h: str) -> None:
    if recipe_path.exists():
        try:
            stored = yaml.safe_load(recipe_path.read_text())
        except yaml.YAMLError:
            stored = None
        if not isinstance(stored, dict) or recipe_hash(stored) != h:
            raise CheckpointError(f"{recipe_path.parent} holds a run of another recipe: refusing to touch it")


# ---------------------------------------------------------------------- the run
def run_recipe(recipe: Recipe, runs_dir: str | Path = "reruns/runs", device: str = "cpu",
               hooks: Hooks | None = None, recipe_dir: Path | None = None,
               stop_after: int | None = None) -> RunOutcome:
    """Run (or resume, or read back) ``recipe`` under ``runs_dir``; see the module docstring.

    ``device`` is ``cpu``, ``cuda`` or ``auto``; ``recipe_dir`` is where a relative
    ``base.checkpoint`` is taken from.  ``stop_after`` (tests only) raises
    :class:`audit.rerun.stages.Interrupted` after that many epochs of this invocation, as a crash
    between two epochs would.  Bad input (data, base weights, a foreign or corrupt checkpoint)
    raises a :class:`audit.rerun.errors.RerunError` before anything is written.
    """
    t0 = time.perf_counter()
    dist.init_from_env(device)  # torchrun with WORLD_SIZE > 1: DDP (see audit.rerun.dist)
    res = resolved(recipe, recipe_dir)
    h = recipe_hash(res)
    run_dir = run_dir_for(Path(runs_dir), h)
    if (run_dir / "result.json").exists():
        return _read_back(run_dir, res, h, hooks or Hooks(), t0)
    state, resume = _start(recipe, res, h, run_dir, device, hooks or Hooks(), stop_after)
    stages = pipeline(recipe)
    first = 0 if resume is None else _resume_index(stages, resume.stage)
    for i, stage in enumerate(stages[first:]):
        stage.run(state, resume if i == 0 else None)
    result = _make_result(state, res, h)
    if dist.is_main():
        write_curve(run_dir / "metrics.csv", state.history)
        atomic_write_text(run_dir / "result.json", result.model_dump_json(indent=1, exclude_none=True))
    return RunOutcome(run_dir, h, "ran" if resume is None else "resumed", result, state.history,
                      time.perf_counter() - t0)


def _resume_index(stages: list[RunStage], name: str) -> int:
    for i, s in enumerate(stages):
        if s.name == name:
            return i
    raise CheckpointError(f"the checkpoint's stage {name!r} is not a stage of its recipe")


def _read_back(run_dir: Path, res: dict[str, Any], h: str, hooks: Hooks, t0: float) -> RunOutcome:
    """The outcome of a complete run (its ``result.json`` and ``metrics.csv``)."""
    result_path = run_dir / "result.json"
    _check_own(run_dir / "recipe.yaml", res, h)
    try:
        result = Result.model_validate_json(result_path.read_text())
    except Exception as exc:
        raise CheckpointError(f"{result_path} is corrupt ({str(exc).splitlines()[0]}); delete it to rerun") from None
    hooks.message(f"run {run_dir} is complete: nothing to do")
    return RunOutcome(run_dir, h, "complete", result, read_curve(run_dir / "metrics.csv"), time.perf_counter() - t0)


def _start(recipe: Recipe, res: dict[str, Any], h: str, run_dir: Path, device: str, hooks: Hooks,
           stop_after: int | None) -> tuple[RunState, Checkpoint | None]:
    """The run's state at its start (fresh, or restored from its checkpoint) and that checkpoint.

    Everything that can fail on bad input fails before anything is written.
    """
    dev = resolve_device(device)
    ds = recipe.dataset
    data = load_data(ds.name, ds.root, ds.image_size, ds.augment, ds.train_limit, ds.test_limit, ds.workers)
    classes = recipe.model.num_classes or data.num_classes
    if classes < data.num_classes:
        raise RecipeError(f"model.num_classes {classes} is below the {data.num_classes} classes of {data.name}")
    net = recipe.model.network
    network_info(net)
    recipe_path, ckpt_path = run_dir / "recipe.yaml", run_dir / "checkpoint.pt"
    ckpt = None
    if ckpt_path.exists():
        _check_own(recipe_path, res, h)
        ckpt = Checkpoint.load(ckpt_path, h)
    base_model, plan = None, None
    if ckpt is None and recipe.base.checkpoint is not None:
        torch.manual_seed(recipe.seed)
        base_model = build_model(net, classes)
        load_weights(base_model, Path(res["base"]["checkpoint"]), net)

    run_dir.mkdir(parents=True, exist_ok=True)
    if not recipe_path.exists() and dist.is_main():
        atomic_write_text(recipe_path, f"# resolved recipe; sha256 {h}\n" + yaml.safe_dump(res, sort_keys=False))
    else:
        _check_own(recipe_path, res, h)

    if ckpt is not None:
        model = build_model(net, classes) if ckpt.plan is None else pruned_architecture(net, classes, ckpt.plan)
        ckpt.restore(model, ckpt_path)
        set_rng_state(ckpt.rng)
        hooks.message(f"resuming {run_dir} at {ckpt.stage} epoch {ckpt.epoch}")
    else:
        torch.manual_seed(recipe.seed)
        random.seed(recipe.seed)
        if recipe.pipeline == "scratch":
            p = recipe.pruning
            ratios = resolve_ratios(net, p.ratio, overrides=p.overrides, skip=p.skip)
            plan = plan_from_ratios(build_model(net, classes), net, ratios)
            torch.manual_seed(recipe.seed)
            model = pruned_architecture(net, classes, plan)
        else:
            model = base_model if base_model is not None else build_model(net, classes)
    model.to(dev)
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    state = RunState(recipe, h, run_dir, dev, data, classes, model, hooks, plan, stop_after=stop_after)
    if ckpt is not None:
        state.plan, state.kept, state.history, state.extra = ckpt.plan, ckpt.kept, list(ckpt.history), dict(ckpt.extra)
    return state, ckpt


class CellOutput(TypedDict):
    """:func:`run_cell`'s outcome, in plain JSON types (it crosses process boundaries)."""

    status: str
    run_dir: str
    result: dict[str, Any]  # Result.model_dump(mode="json", exclude_none=True)
    history: list[EpochRecord]


def run_cell(recipe_data: dict[str, Any], runs_dir: str, device: str = "cpu",
             threads: int | None = None) -> CellOutput:
    """Run one content-addressed recipe given as data (a grid cell, a cross-validation run) with
    ``threads`` torch threads; the outcome in plain types, for executors."""
    if threads:
        torch.set_num_threads(threads)
    o = run_recipe(recipe_from_data(recipe_data), runs_dir, device=device)
    return CellOutput(status=o.status, run_dir=str(o.run_dir),
                      result=o.result.model_dump(mode="json", exclude_none=True), history=o.history)


def trainability_accuracy(history: list[EpochRecord], stage: str, k: int | None) -> float | None:
    """The seed's Eq. 1: mean per-epoch *training* accuracy over the first ``k`` epochs of ``stage``."""
    if not k:
        return None
    accs = [r["train_acc"] for r in history if r["stage"] == stage and r["epoch"] < k]
    return sum(accs) / len(accs) if len(accs) == k else None


def _stage(recipe: Recipe, scfg: StageCfg) -> Stage:
    o = recipe.optimizer
    return Stage(epochs=scfg.epochs, lr_schedule=scfg.lr_schedule, optimizer=o.name, batch_size=recipe.batch_size,
                 weight_decay=o.weight_decay, momentum=o.momentum, nesterov=o.nesterov)


def _prune_stage(recipe: Recipe, extra: dict[str, Any]) -> Stage:
    ps = extra.get("prune_stage")
    if not ps:
        return Stage(epochs=0, notes=f"one-shot {recipe.pruning.method} filter pruning")
    c = recipe.pruning.stage
    lr = c.lr if c is not None else None
    note = (f"{recipe.pruning.method} growing-regularisation stage: {ps['stage_iterations']} iterations, penalty up to "
            f"{ps['penalty']:g}" + ("" if ps.get("finished") else " (stage epochs ran out before the ceiling + "
                                    "stabilisation)"))
    return Stage(epochs=ps["stage_epochs"], notes=note + (f"; fixed LR {lr:g}" if lr else ""))


def _compression(recipe: Recipe, plan: dict[str, int] | None, classes: int, image_size: int) -> Compression:
    """Speedup, FLOPs (MACs) and parameter reductions of the pruned network, and its ratios as given."""
    net = recipe.model.network
    with torch.device("meta"):  # shapes only
        dense = count(build_model(net, classes), image_size)
        small = count(pruned_architecture(net, classes, plan or {}), image_size)
    scale: Literal["G", "M"] = "G" if dense.macs >= 1e9 else "M"
    div = 1e9 if scale == "G" else 1e6
    ratio = recipe.pruning.ratio
    comp: dict[str, Any] = dict(
        speedup=round(dense.macs / small.macs, 6),
        flops_reduction_pct=100.0 * (1 - small.macs / dense.macs),
        params_reduction_pct=100.0 * (1 - small.params / dense.params),
        flops=FlopsCount(dense=dense.macs / div, pruned=small.macs / div, scale=scale, convention="MACs"),
    )
    uniform = isinstance(ratio, (int, float)) or (isinstance(ratio, str) and "," not in ratio)
    if uniform and not isinstance(ratio, bool) and not recipe.pruning.overrides and not recipe.pruning.skip:
        comp["pruning_ratio"] = float(to_ratio(ratio, net))
    elif isinstance(ratio, list):
        comp["layerwise_ratios"] = [float(x) for x in ratio]
        comp["ratio_layout"] = "[" + ", ".join(network_info(net).ratio_layout) + "]"
    return Compression(**comp)


def _make_result(state: RunState, res: dict[str, Any], h: str) -> Result:
    """The run's typed :class:`Result`: final metrics, trainability accuracy, compression, stages, provenance."""
    recipe, plan, history, extra, dev = state.recipe, state.plan, state.history, state.extra, state.dev
    image_size, classes = state.data.image_size, state.classes
    net = recipe.model.network
    final = history[-1]
    last_stage = "finetune" if recipe.pipeline == "pruning" else "scratch"
    scfg = recipe.finetune if recipe.pipeline == "pruning" else recipe.scratch
    assert scfg is not None
    k = scfg.lr_schedule.first_stage_epochs()
    ta = trainability_accuracy(history, last_stage, k)
    commit, version = git_commit(), package_version()
    rid = re.sub(r"[^A-Za-z0-9._+-]", "-", f"rerun-{recipe.name or net}-{h[:12]}")
    if recipe.base.checkpoint is not None:
        base = BaseModelInfo(identity=f"local checkpoint sha256:{res['base']['checkpoint_sha256'][:16]}",
                             description=f"loaded from {recipe.base.checkpoint}")
    elif recipe.pretrain is not None:
        base = BaseModelInfo(identity="own training", description="the rerun's pretrain stage")
    else:
        base = BaseModelInfo()
    if "base" in extra:
        base = base.model_copy(update={"top1": extra["base"]["top1"], "top5": extra["base"]["top5"]})
    seconds = sum(r["seconds"] for r in history)
    notes = [
        f"rerun by prune-audit {version} (git {commit}); recipe sha256 {h}",
        f"device {dev.type}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
        f"input {image_size}x{image_size}, {classes} classes",
        f"training time {seconds:.1f} s over {len(history)} epochs",
        "top1/top5: final epoch; trainability_acc: mean train accuracy over the first LR stage "
        f"({k} epochs) of {last_stage} (seed Eq. 1)" if k else "trainability_acc: the schedule has no first LR stage",
    ]
    if "after_prune" in extra:
        notes.append(f"test top-1 right after pruning (before finetuning): {extra['after_prune']['top1']:.2f}")
    return Result(
        id=rid,
        method=ENGINE_METHODS[recipe.pruning.method].label,
        variant=recipe.name,
        granularity="filter",
        pipeline="pruning" if recipe.pipeline == "pruning" else "scratch",
        dataset=recipe.dataset.name,
        network=net,
        top1=Metric(mean=final["top1"], runs=1),
        top5=Metric(mean=final["top5"], runs=1),
        trainability_acc=ta,
        base=base,
        compression=_compression(recipe, plan, classes, image_size),
        pretrain=_stage(recipe, recipe.pretrain) if recipe.pretrain is not None else None,
        prune=_prune_stage(recipe, extra) if recipe.pipeline == "pruning" else None,
        finetune=_stage(recipe, recipe.finetune) if recipe.finetune is not None else None,
        scratch=_stage(recipe, recipe.scratch) if recipe.scratch is not None else None,
        sources=[Source(where=f"prune-audit rerun {h[:16]}", paper="prune-audit-rerun",
                        note=f"recipe sha256 {h}; prune-audit {version}; git {commit}")],
        notes="; ".join(notes),
    )
