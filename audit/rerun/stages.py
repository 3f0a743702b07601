"""The stages of a run -- pretrain, prune, finetune, scratch -- as objects with one interface.

A run (:func:`audit.rerun.runs.run_recipe`) is the loop ``for stage in pipeline(recipe): stage.run(state)``
over a shared :class:`RunState` (the model, the pruning plan, the learning curve, the run's
records).  :class:`TrainStage` trains the epochs of a schedule with the engine's one loop and
checkpoints after every epoch; :class:`PruneStage` runs the method's pruning stage if it has one
(GReg's growing penalty on the same loop) and the physical surgery.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from audit.core.catalog import ENGINE_METHODS
from audit.io.atomic import atomic_write_text

from . import dist
from .checkpoint import Checkpoint
from .config import PruneStageCfg, Recipe, StageCfg
from .curve import EpochRecord, write_curve
from .data import Data
from .methods import GregEpoch, greg_stage
from .prune import prune_kept, prune_model, resolve_ratios
from .rng import epoch_generator
from .train import evaluate, make_optimizer, set_lr, train_epoch

__all__ = ["Hooks", "Interrupted", "PruneStage", "RunState", "Stage", "TrainStage", "pipeline"]


class Hooks:
    """Progress callbacks (no-ops here; the CLI draws a rich progress bar)."""

    def stage_start(self, stage: str, epochs: int, start_epoch: int, images_per_epoch: int) -> None:
        """A training stage starts (at ``start_epoch`` when resumed)."""

    def epoch_start(self, stage: str, epoch: int, lr: float) -> None:
        """An epoch starts at learning rate ``lr``."""

    def batch(self, images: int) -> None:
        """A training batch of ``images`` images is done."""

    def epoch_end(self, record: EpochRecord) -> None:
        """An epoch is done (and checkpointed)."""

    def message(self, text: str) -> None:
        """A line for the user."""


class Interrupted(Exception):
    """Raised where ``stop_after`` epochs have run (tests: a crash between two epochs)."""


@dataclass
class RunState:
    """What the stages of one run share: inputs, the live model and the records so far."""

    recipe: Recipe
    owner: str  # the recipe hash (checkpoints are addressed to it)
    run_dir: Path
    dev: torch.device
    data: Data
    classes: int
    model: nn.Module
    hooks: Hooks
    plan: dict[str, int] | None = None
    kept: dict[str, list[int]] | None = None
    history: list[EpochRecord] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    stop_after: int | None = None
    epochs_run: int = 0

    def save(self, stage: str, epoch: int, optimizer: torch.optim.Optimizer | None,
             scaler: torch.amp.GradScaler | None) -> None:
        """Checkpoint the run after ``epoch`` epochs of ``stage`` (rank 0 only)."""
        if dist.is_main():
            Checkpoint.of(self.owner, stage, epoch, self.model, optimizer, scaler, plan=self.plan, kept=self.kept,
                          history=self.history, extra=self.extra).save(self.run_dir / "checkpoint.pt")

    def next_epoch(self) -> None:
        """Count an epoch about to run; raise :class:`Interrupted` once ``stop_after`` have run."""
        if self.stop_after is not None and self.epochs_run >= self.stop_after:
            raise Interrupted(f"stopped after {self.epochs_run} epochs")
        self.epochs_run += 1


class Stage(ABC):
    """One stage of a run: ``run`` advances ``state``; ``resume`` is the checkpoint taken inside
    this stage when the run resumes there (only ever given to the first stage that runs)."""

    name: str

    @abstractmethod
    def run(self, state: RunState, resume: Checkpoint | None = None) -> None:
        """Run the stage (from ``resume`` when given) on ``state``."""


class TrainStage(Stage):
    """``cfg.epochs`` epochs along ``cfg.lr_schedule``, a checkpoint and a metrics.csv row after each.

    ``save_first``: also checkpoint before the first epoch (finetuning: the freshly pruned model).
    """

    def __init__(self, name: str, cfg: StageCfg, save_first: bool = False):
        self.name, self.cfg, self.save_first = name, cfg, save_first

    def run(self, state: RunState, resume: Checkpoint | None = None) -> None:
        recipe, dev, cfg, o = state.recipe, state.dev, self.cfg, state.recipe.optimizer
        optimizer = make_optimizer(state.model, cfg.lr_schedule.lr_at(0) or 0.0, o.momentum, o.weight_decay, o.nesterov)
        scaler = torch.amp.GradScaler("cuda") if recipe.amp and dev.type == "cuda" else None
        epoch0 = 0
        if resume is not None:
            epoch0 = resume.epoch
            if resume.optimizer is not None:
                optimizer.load_state_dict(resume.optimizer)
            if scaler is not None and resume.scaler:
                scaler.load_state_dict(resume.scaler)
        elif self.save_first:
            state.save(self.name, 0, optimizer, scaler)
        state.hooks.stage_start(self.name, cfg.epochs, epoch0, len(state.data.train))
        train_model = dist.wrap(state.model, dev)
        for epoch in range(epoch0, cfg.epochs):
            state.next_epoch()
            lr = cfg.lr_schedule.lr_at(epoch)
            assert lr is not None, "a stage's schedule is complete (checked by the recipe)"
            set_lr(optimizer, lr)
            state.hooks.epoch_start(self.name, epoch, lr)
            batches = state.data.train.batches(recipe.batch_size, epoch_generator(recipe.seed, self.name, epoch),
                                               recipe.dataset.augment)
            tr = dist.reduce_mean(train_epoch(train_model, optimizer, dist.shard(batches), dev, recipe.amp,
                                              recipe.channels_last, scaler, state.hooks.batch))
            ev = evaluate(state.model, state.data.test.batches(recipe.eval_batch_size), dev, recipe.amp,
                          recipe.channels_last)
            rec = EpochRecord(stage=self.name, epoch=epoch, lr=lr, train_loss=tr["train_loss"],
                              train_acc=tr["train_acc"], test_loss=ev["test_loss"], top1=ev["top1"], top5=ev["top5"],
                              seconds=tr["seconds"], images_per_s=tr["images_per_s"])
            state.history.append(rec)
            state.save(self.name, epoch + 1, optimizer, scaler)
            if dist.is_main():
                write_curve(state.run_dir / "metrics.csv", state.history)
            state.hooks.epoch_end(rec)
        state.model = dist.unwrap(train_model)  # plain nn.BatchNorm2d again before pruning (audit.rerun.dist)


class PruneStage(Stage):
    """The pruning step: the method's pruning stage (if any) on the dense model, then the surgery.

    Records the dense model's and the pruned model's test metrics (``extra['base']``,
    ``extra['after_prune']``), the stage's account (``extra['prune_stage']``) and ``prune.json``.
    """

    name = "prune"

    def run(self, state: RunState, resume: Checkpoint | None = None) -> None:
        recipe, dev, p = state.recipe, state.dev, state.recipe.pruning
        net = recipe.model.network
        ratios = resolve_ratios(net, p.ratio, overrides=p.overrides, skip=p.skip)
        test = state.data.test
        state.extra["base"] = evaluate(state.model, test.batches(recipe.eval_batch_size), dev)
        method = ENGINE_METHODS[p.method]
        if method.stage is None:
            pruned, report = prune_model(state.model.to("cpu"), net, ratios, p.method, recipe.seed)
        else:
            def batches_for(epoch: int) -> Any:
                return state.data.train.batches(recipe.batch_size, epoch_generator(recipe.seed, "prune", epoch),
                                                recipe.dataset.augment)

            def on_epoch(rec: GregEpoch) -> None:
                state.hooks.message(f"{method.label} stage epoch {rec.epoch + 1}: {rec.iterations} iterations, "
                                    f"penalty {rec.penalty:g}, train acc {rec.train_acc:.2f}")

            out = greg_stage(state.model, net, ratios, batches_for, dev, p.stage or PruneStageCfg(), recipe.optimizer,
                             method.stage == "greg-uniform", recipe.amp, recipe.channels_last, on_epoch)
            pruned, report = prune_kept(state.model.to("cpu"), net, ratios, p.method, out.kept)
            state.extra["prune_stage"] = {"stage_epochs": len(out.log), "stage_iterations": out.iterations,
                                          "penalty": out.penalty, "finished": out.finished}
        pruned.to(dev)
        state.extra["after_prune"] = evaluate(pruned, test.batches(recipe.eval_batch_size), dev)
        state.hooks.message(f"pruned ({p.method}): base top-1 {state.extra['base']['top1']:.2f} -> "
                            f"{state.extra['after_prune']['top1']:.2f} before finetuning")
        if recipe.channels_last:  # the surgery builds new modules in the default format
            pruned.to(memory_format=torch.channels_last)
        state.model, state.plan, state.kept = pruned, report.plan(), report.kept
        if dist.is_main():
            atomic_write_text(state.run_dir / "prune.json",
                              json.dumps({"method": p.method, "kept": state.kept, "plan": state.plan}, indent=1))


def pipeline(recipe: Recipe) -> list[Stage]:
    """The stages of ``recipe``: [pretrain,] prune, finetune for a pruning pipeline; scratch otherwise."""
    if recipe.pipeline == "scratch":
        assert recipe.scratch is not None, "a scratch recipe has a scratch stage (checked by the recipe)"
        return [TrainStage("scratch", recipe.scratch)]
    assert recipe.finetune is not None, "a pruning recipe has a finetune stage (checked by the recipe)"
    pre: list[Stage] = [TrainStage("pretrain", recipe.pretrain)] if recipe.pretrain is not None else []
    return [*pre, PruneStage(), TrainStage("finetune", recipe.finetune, save_first=True)]
