"""Shared dense runs: one pretraining that several pruned runs start from.

A grid's pruning cells of one seed (``audit.rerun.grid``), and the cross-validation runs that
pretrain alike (``audit.rerun.crossval``), start from one dense run instead of each pretraining
its own.  A dense run is determined by its spec (:func:`make_dense_spec`) and lives in
``RUNS_DIR/dense-<first 16 hex of the spec's SHA-256>/``:

* ``spec.json``         the spec;
* ``checkpoint.pt``     the :class:`audit.rerun.checkpoint.Checkpoint` after the latest epoch
  (resumable after any interruption);
* ``epoch-P.pt``        the weights (a plain state_dict) at every snapshot epoch P: a recipe's
  ``base.checkpoint``, so the runs built on it are addressed by its SHA-256;
* ``snapshots.csv``     epoch, LR, train accuracy and test top-1 at every snapshot.

The batches of every epoch come from the engine's (seed, "pretrain", epoch) generator, as in a
recipe's ``pretrain`` stage, so a run on a snapshot equals the same recipe pretraining on its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from audit.core import schedule as _sched
from audit.core.rules import schedule_text
from audit.io.atomic import atomic_write_text

from .checkpoint import Checkpoint, save_weights
from .config import OptimizerCfg
from .data import load_data
from .models import build_model
from .rng import epoch_generator, set_rng_state
from .runs import resolve_device
from .train import evaluate, make_optimizer, set_lr, train_epoch

__all__ = ["dense_dir", "make_dense_spec", "run_dense", "snapshot_path", "spec_hash"]


def make_dense_spec(model: Any, dataset: Any, optimizer: Any, batch_size: int, eval_batch_size: int, seed: int,
                    schedule: _sched.Schedule, epochs: int) -> dict[str, Any]:
    """What determines a dense run (:func:`run_dense`), and so its folder: network, data,
    optimizer, batch sizes, seed, the schedule (canonical text) and how many epochs of it run."""
    return {"kind": "grid-dense/1", "model": model, "dataset": dataset, "optimizer": optimizer,
            "batch_size": batch_size, "eval_batch_size": eval_batch_size, "seed": seed,
            "schedule": schedule_text(schedule), "epochs": epochs}


def spec_hash(spec: dict[str, Any]) -> str:
    """SHA-256 (hex) of the spec's canonical JSON: the dense run's address and its checkpoints' owner."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def dense_dir(runs_dir: Path, spec: dict[str, Any]) -> Path:
    """The folder of the dense run of ``spec`` under ``runs_dir``."""
    return Path(runs_dir) / f"dense-{spec_hash(spec)[:16]}"


def snapshot_path(runs_dir: Path, spec: dict[str, Any], epoch: int) -> Path:
    """The weights file of the dense run of ``spec`` after ``epoch`` epochs."""
    return dense_dir(runs_dir, spec) / f"epoch-{epoch}.pt"


def run_dense(spec: dict[str, Any], snapshots: list[int], runs_dir: str, device: str = "cpu",
              threads: int | None = None) -> dict[int, str]:
    """Train the dense model along ``spec``'s schedule, saving its weights at every epoch in ``snapshots``.

    Returns the weights file of every snapshot epoch.  Resumable: it restarts from its checkpoint
    (written after every epoch); once every snapshot exists it only returns their paths.  A
    missing dataset raises before anything is written; a corrupt or foreign checkpoint raises
    :class:`audit.rerun.errors.CheckpointError`.
    """
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
    owner, ckpt_path = spec_hash(spec), out_dir / "checkpoint.pt"
    start, rows = 0, []
    if ckpt_path.exists():
        ck = Checkpoint.load(ckpt_path, owner)
        ck.restore(model, ckpt_path)
        if ck.optimizer is not None:
            opt.load_state_dict(ck.optimizer)
        set_rng_state(ck.rng)
        start, rows = ck.epoch, list(ck.extra.get("snapshots", []))
    augment = ds.get("augment", True)
    for epoch in range(start, max(snaps)):
        lr = sched.lr_at(epoch)
        assert lr is not None, "a dense run's schedule is complete (checked by its grid or recipe)"
        set_lr(opt, lr)
        tr = train_epoch(model, opt, data.train.batches(spec["batch_size"], epoch_generator(spec["seed"], "pretrain",
                                                                                             epoch), augment), dev)
        if epoch + 1 in paths:
            ev = evaluate(model, data.test.batches(spec["eval_batch_size"]), dev)
            save_weights(paths[epoch + 1], model)
            rows.append(f"{epoch + 1},{lr!r},{tr['train_acc']!r},{ev['top1']!r}")
            atomic_write_text(out_dir / "snapshots.csv", "".join(f"{r}\n" for r in rows))
        Checkpoint.of(owner, "pretrain", epoch + 1, model, opt, extra={"snapshots": rows}).save(ckpt_path)
    return {p: str(x) for p, x in paths.items()}
