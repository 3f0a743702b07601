"""Content-addressed, resumable runs of a recipe.

A run lives in ``RUNS_DIR/<first 16 hex of the recipe hash>/``:

* ``recipe.yaml``   the resolved recipe (written first);
* ``checkpoint.pt`` model, optimizer, stage and epoch (the scheduler position), kept filters and
  every RNG state, rewritten atomically (tmp file + ``os.replace``) after every epoch and loaded
  with ``torch.load(..., weights_only=True)``; it names its recipe's hash, so a checkpoint of
  another recipe is never resumed;
* ``metrics.csv``   the learning curve (one row per epoch), ``prune.json`` the kept filters;
* ``result.json``   the :class:`audit.registry.schema.Result` of the run, written last and atomically: a run
  is complete exactly when it exists.  Running a complete recipe again only reads it back.

The order of every epoch's batches and its augmentation come from a generator seeded by (seed,
stage, epoch), so an interrupted run (even by ``kill -9``) resumes to the same final metrics as
an uninterrupted one on the same machine and thread count.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from audit.io.atomic import atomic_write_bytes, atomic_write_text
from audit.registry.schema import BaseModelInfo, Compression, FlopsCount, Metric, Result, Source, Stage

from .data import load_data
from .errors import CheckpointError, RecipeError
from .flops import count
from .models import build_model, network_info
from .prune import plan_from_ratios, prune_model, pruned_architecture, resolve_ratios, to_ratio
from .config import Recipe, recipe_hash, resolved
from .train import evaluate, make_optimizer, set_lr, train_epoch

__all__ = ["Hooks", "RunOutcome", "run_recipe", "run_dir_for"]

CKPT_FORMAT = "prune-audit-rerun-checkpoint/1"
CSV_FIELDS = ("stage", "epoch", "lr", "train_loss", "train_acc", "test_loss", "top1", "top5", "seconds",
              "images_per_s")
METRIC_FIELDS = ("stage", "epoch", "lr", "train_loss", "train_acc", "test_loss", "top1", "top5")


class Hooks:
    """Progress callbacks (no-ops here; the CLI draws a rich progress bar)."""

    def stage_start(self, stage: str, epochs: int, start_epoch: int, images_per_epoch: int) -> None: ...
    def epoch_start(self, stage: str, epoch: int, lr: float) -> None: ...
    def batch(self, images: int) -> None: ...
    def epoch_end(self, record: dict[str, Any]) -> None: ...
    def message(self, text: str) -> None: ...


@dataclass
class RunOutcome:
    run_dir: Path
    recipe_hash: str
    status: str  # "ran", "resumed" or "complete" (already complete: nothing was run)
    result: Result
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


class _Interrupted(Exception):
    """Raised by the test hook ``stop_after`` (simulates a crash between two epochs)."""


# ---------------------------------------------------------------------- small helpers
def run_dir_for(runs_dir: Path, h: str) -> Path:
    return Path(runs_dir) / h[:16]


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("prune-audit")
    except Exception:  # not installed (a source checkout)
        return "0.1.0+source"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
    except Exception:
        return "unknown"


def _epoch_generator(seed: int, stage: str, epoch: int) -> torch.Generator:
    digest = hashlib.sha256(f"{seed}/{stage}/{epoch}".encode()).digest()
    g = torch.Generator()
    g.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
    return g


def _rng_state() -> dict[str, Any]:
    import numpy as np

    kind, keys, pos, has_gauss, cached = np.random.get_state()
    py = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "python": [py[0], list(py[1]), py[2]],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype("int64")), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np

    torch.set_rng_state(state["torch"])
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype("uint32"), n["pos"], n["has_gauss"], n["cached"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RecipeError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if device not in ("cpu", "cuda"):
        raise RecipeError(f"unknown device {device!r} (cpu, cuda or auto)")
    return torch.device(device)


def _load(path: Path, what: str) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{what} {path}: no such file") from None
    except Exception as exc:  # pickle errors, zip errors, truncated files, disallowed globals
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{what} {path} is corrupt or not a plain weights file ({detail[:160]})") from None


def load_base_weights(model: torch.nn.Module, path: Path, network: str) -> None:
    """Load a dense state_dict (or {'state_dict'|'model': ...}) into ``model``; a misfit is a CheckpointError."""
    data = _load(path, "base checkpoint")
    if isinstance(data, dict) and not any(isinstance(v, torch.Tensor) for v in data.values()):
        for key in ("state_dict", "model"):
            if isinstance(data.get(key), dict):
                data = data[key]
                break
    if not isinstance(data, dict) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointError(f"base checkpoint {path} holds no state_dict of tensors")
    data = {re.sub(r"^module\.", "", k): v for k, v in data.items()}
    try:
        model.load_state_dict(data, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(x.strip() for x in first[1:3])[:200] if len(first) > 1 else first[0][:200]
        raise CheckpointError(f"base checkpoint {path} does not fit {network}: {detail}") from None


# ---------------------------------------------------------------------- the run
def run_recipe(recipe: Recipe, runs_dir: str | Path = "reruns/runs", device: str = "cpu",
               hooks: Hooks | None = None, recipe_dir: Path | None = None,
               stop_after: int | None = None) -> RunOutcome:
    """Run (or resume, or read back) ``recipe``; see the module docstring.

    ``stop_after`` (tests only) stops the run after that many epochs of this invocation, as a
    crash between two epochs would.
    """
    hooks = hooks or Hooks()
    t0 = time.perf_counter()
    from audit.rerun import dist as _dist

    _dist.init_from_env(device)  # torchrun with WORLD_SIZE > 1: DDP (see audit.rerun.dist)
    res = resolved(recipe, recipe_dir)
    h = recipe_hash(res)
    run_dir = run_dir_for(Path(runs_dir), h)
    result_path = run_dir / "result.json"
    recipe_path = run_dir / "recipe.yaml"
    if result_path.exists():
        _check_own(recipe_path, res, h)
        try:
            result = Result.model_validate_json(result_path.read_text())
        except Exception as exc:
            raise CheckpointError(f"{result_path} is corrupt ({str(exc).splitlines()[0]}); delete it to rerun") from None
        hooks.message(f"run {run_dir} is complete: nothing to do")
        return RunOutcome(run_dir, h, "complete", result, _read_history(run_dir), time.perf_counter() - t0)

    dev = resolve_device(device)
    # Everything that can fail on bad input fails before anything is written.
    data = load_data(recipe.dataset.name, recipe.dataset.root, recipe.dataset.image_size, recipe.dataset.augment,
                     recipe.dataset.train_limit, recipe.dataset.test_limit, recipe.dataset.workers)
    classes = recipe.model.num_classes or data.num_classes
    if classes < data.num_classes:
        raise RecipeError(f"model.num_classes {classes} is below the {data.num_classes} classes of {data.name}")
    info = network_info(recipe.model.network)
    ckpt_path = run_dir / "checkpoint.pt"
    ckpt = None
    if ckpt_path.exists():
        _check_own(recipe_path, res, h)
        ckpt = _load(ckpt_path, "checkpoint")
        if not isinstance(ckpt, dict) or ckpt.get("format") != CKPT_FORMAT:
            raise CheckpointError(f"checkpoint {ckpt_path} is not a prune-audit rerun checkpoint")
        if ckpt.get("recipe_hash") != h:
            raise CheckpointError(
                f"checkpoint {ckpt_path} belongs to recipe {str(ckpt.get('recipe_hash'))[:16]}, not {h[:16]}: "
                "refusing to resume a foreign run"
            )
    base_model = None
    if ckpt is None and recipe.base.checkpoint is not None:
        torch.manual_seed(recipe.seed)
        base_model = build_model(recipe.model.network, classes)
        load_base_weights(base_model, Path(res["base"]["checkpoint"]), recipe.model.network)

    run_dir.mkdir(parents=True, exist_ok=True)
    if not recipe_path.exists() and _dist.is_main():
        atomic_write_text(recipe_path, f"# resolved recipe; sha256 {h}\n" + yaml.safe_dump(res, sort_keys=False))
    else:
        _check_own(recipe_path, res, h)

    stages = recipe.stages()
    names = [n for n, _ in stages]
    history: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    plan: dict[str, int] | None = None
    kept: dict[str, list[int]] | None = None
    opt_state = None
    scaler_state = None
    stage_idx, start_epoch = 0, 0
    status = "ran"
    if ckpt is not None:
        status = "resumed"
        plan, kept = ckpt.get("plan"), ckpt.get("kept")
        model = (pruned_architecture(recipe.model.network, classes, plan) if plan is not None
                 else build_model(recipe.model.network, classes))
        try:
            model.load_state_dict(ckpt["model"])
        except (RuntimeError, KeyError) as exc:
            raise CheckpointError(f"checkpoint {ckpt_path} does not fit its recipe's model ({str(exc)[:120]})") from None
        history, extra = list(ckpt.get("history", [])), dict(ckpt.get("extra", {}))
        stage_idx, start_epoch = names.index(ckpt["stage"]), int(ckpt["epoch"])
        opt_state, scaler_state = ckpt.get("optimizer"), ckpt.get("scaler")
        _set_rng_state(ckpt["rng"])
        hooks.message(f"resuming {run_dir} at {ckpt['stage']} epoch {start_epoch}")
    else:
        torch.manual_seed(recipe.seed)
        random.seed(recipe.seed)
        if recipe.pipeline == "scratch":
            ratios = resolve_ratios(recipe.model.network, recipe.pruning.ratio, overrides=recipe.pruning.overrides,
                                    skip=recipe.pruning.skip)
            plan = plan_from_ratios(build_model(recipe.model.network, classes), recipe.model.network, ratios)
            torch.manual_seed(recipe.seed)
            model = pruned_architecture(recipe.model.network, classes, plan)
        else:
            model = base_model if base_model is not None else build_model(recipe.model.network, classes)

    model.to(dev)
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    amp = recipe.amp  # float16 + GradScaler on CUDA, bfloat16 on CPU (audit.rerun.train.amp_dtype)
    o = recipe.optimizer
    epochs_this_call = 0

    def save(stage: str, epoch: int, optimizer, scaler) -> None:
        if not _dist.is_main():
            return
        payload = {
            "format": CKPT_FORMAT, "recipe_hash": h, "stage": stage, "epoch": epoch, "plan": plan, "kept": kept,
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": _rng_state(), "history": history, "extra": extra,
        }
        buf = io.BytesIO()
        torch.save(payload, buf)
        atomic_write_bytes(ckpt_path, buf.getvalue())

    for si in range(stage_idx, len(stages)):
        sname, scfg = stages[si]
        first = si == stage_idx
        epoch0 = start_epoch if first else 0
        if sname == "finetune" and plan is None:
            model, plan, kept = _prune(recipe, model, dev, data, extra, hooks)
            if recipe.channels_last:  # the surgery builds new modules in the default format
                model.to(memory_format=torch.channels_last)
            _dist.is_main() and atomic_write_text(run_dir / "prune.json", json.dumps(
                {"method": recipe.pruning.method, "kept": kept, "plan": plan}, indent=1))
            opt_state, scaler_state = None, None
        optimizer = make_optimizer(model, scfg.lr_schedule.lr_at(0) or 0.0, o.momentum, o.weight_decay, o.nesterov)
        scaler = torch.amp.GradScaler("cuda") if amp and dev.type == "cuda" else None
        if first and opt_state is not None:
            optimizer.load_state_dict(opt_state)
            if scaler is not None and scaler_state:
                scaler.load_state_dict(scaler_state)
        if sname == "finetune" and not (first and ckpt is not None):
            save(sname, 0, optimizer, scaler)  # the pruned model, before finetuning
        hooks.stage_start(sname, scfg.epochs, epoch0, len(data.train))
        train_model = _dist.wrap(model, dev)
        for epoch in range(epoch0, scfg.epochs):
            if stop_after is not None and epochs_this_call >= stop_after:
                raise _Interrupted(f"stopped after {epochs_this_call} epochs")
            lr = scfg.lr_schedule.lr_at(epoch)
            assert lr is not None
            set_lr(optimizer, lr)
            hooks.epoch_start(sname, epoch, lr)
            g = _epoch_generator(recipe.seed, sname, epoch)
            tr = train_epoch(train_model, optimizer,
                             _dist.shard(data.train.batches(recipe.batch_size, g, recipe.dataset.augment)), dev,
                             amp, recipe.channels_last, scaler, hooks.batch)
            tr = _dist.reduce_mean(tr)
            ev = evaluate(model, data.test.batches(recipe.eval_batch_size), dev, amp, recipe.channels_last)
            rec = {"stage": sname, "epoch": epoch, "lr": lr, "train_loss": tr["train_loss"],
                   "train_acc": tr["train_acc"], **ev, "seconds": tr["seconds"], "images_per_s": tr["images_per_s"]}
            history.append(rec)
            save(sname, epoch + 1, optimizer, scaler)
            _write_csv(run_dir / "metrics.csv", history)
            hooks.epoch_end(rec)
            epochs_this_call += 1
        model = _dist.unwrap(train_model)  # plain nn.BatchNorm2d again before pruning (audit.rerun.dist)
        opt_state, scaler_state = None, None

    result = _make_result(recipe, res, h, model, plan, history, extra, data.image_size, classes, dev)
    if _dist.is_main():
        _write_csv(run_dir / "metrics.csv", history)
        atomic_write_text(result_path, result.model_dump_json(indent=1, exclude_none=True))
    return RunOutcome(run_dir, h, status, result, history, time.perf_counter() - t0)


def _check_own(recipe_path: Path, res: dict[str, Any], h: str) -> None:
    if recipe_path.exists():
        try:
            stored = yaml.safe_load(recipe_path.read_text())
        except yaml.YAMLError:
            stored = None
        if not isinstance(stored, dict) or recipe_hash(stored) != h:
            raise CheckpointError(f"{recipe_path.parent} holds a run of another recipe: refusing to touch it")


def _prune(recipe: Recipe, model, dev, data, extra, hooks):
    p = recipe.pruning
    net = recipe.model.network
    ratios = resolve_ratios(net, p.ratio, overrides=p.overrides, skip=p.skip)
    extra["base"] = evaluate(model, data.test.batches(recipe.eval_batch_size), dev)
    if p.method in ("l1", "random"):
        model = model.to("cpu")
        pruned, report = prune_model(model, net, ratios, p.method, recipe.seed)
    else:  # a method with its own pruning stage (audit.rerun.methods)
        from .methods import prune_with_method

        pruned, report, info = prune_with_method(recipe, model, ratios, data, dev, hooks)
        extra["prune_stage"] = {k: v for k, v in info.items() if k != "stage_log"}
    pruned.to(dev)
    extra["after_prune"] = evaluate(pruned, data.test.batches(recipe.eval_batch_size), dev)
    hooks.message(f"pruned ({p.method}): base top-1 {extra['base']['top1']:.2f} -> {extra['after_prune']['top1']:.2f}"
                  " before finetuning")
    return pruned, report.plan(), report.kept


def _write_csv(path: Path, history: list[dict[str, Any]]) -> None:
    from audit.rerun import dist as _dist

    if not _dist.is_main():
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for rec in history:
        w.writerow({k: (repr(rec[k]) if isinstance(rec[k], float) else rec[k]) for k in CSV_FIELDS})
    atomic_write_text(path, buf.getvalue())


def _read_history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.csv"
    if not path.exists():
        return []
    out = []
    for row in csv.DictReader(path.read_text().splitlines()):
        out.append({k: (v if k == "stage" else int(v) if k == "epoch" else float(v)) for k, v in row.items()})
    return out


def trainability_accuracy(history: list[dict[str, Any]], stage: str, k: int | None) -> float | None:
    """The seed's Eq. 1: mean per-epoch *training* accuracy over the first ``k`` epochs of ``stage``."""
    if not k:
        return None
    accs = [r["train_acc"] for r in history if r["stage"] == stage and r["epoch"] < k]
    return sum(accs) / len(accs) if len(accs) == k else None


def _stage(recipe: Recipe, scfg) -> Stage:
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


def _make_result(recipe: Recipe, res: dict[str, Any], h: str, model, plan, history, extra, image_size: int,
                 classes: int, dev) -> Result:
    net = recipe.model.network
    with torch.device("meta"):  # shapes only
        dense = count(build_model(net, classes), image_size)
        small = count(pruned_architecture(net, classes, plan or {}), image_size)
    final = history[-1]
    last_stage = "finetune" if recipe.pipeline == "pruning" else "scratch"
    scfg = recipe.finetune if recipe.pipeline == "pruning" else recipe.scratch
    assert scfg is not None
    k = scfg.lr_schedule.first_stage_epochs()
    ta = trainability_accuracy(history, last_stage, k)
    scale = "G" if dense.macs >= 1e9 else "M"
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
        method={"l1": "L1-norm", "random": "random filter pruning", "greg1": "GReg-1", "greg2": "GReg-2"}.get(
            recipe.pruning.method, recipe.pruning.method),
        variant=recipe.name,
        granularity="filter",
        pipeline="pruning" if recipe.pipeline == "pruning" else "scratch",
        dataset=recipe.dataset.name,
        network=net,
        top1=Metric(mean=final["top1"], runs=1),
        top5=Metric(mean=final["top5"], runs=1),
        trainability_acc=ta,
        base=base,
        compression=Compression(**comp),
        pretrain=_stage(recipe, recipe.pretrain) if recipe.pretrain is not None else None,
        prune=_prune_stage(recipe, extra) if recipe.pipeline == "pruning" else None,
        finetune=_stage(recipe, recipe.finetune) if recipe.finetune is not None else None,
        scratch=_stage(recipe, recipe.scratch) if recipe.scratch is not None else None,
        sources=[Source(where=f"prune-audit rerun {h[:16]}", paper="prune-audit-rerun",
                        note=f"recipe sha256 {h}; prune-audit {version}; git {commit}")],
        notes="; ".join(notes),
    )
