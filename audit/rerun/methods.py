"""Pruning methods: a filter-ranking criterion plus an optional pruning-stage procedure.

=========  ===============  ================================================================
method     label            what it does
=========  ===============  ================================================================
``l1``     L1-norm          one-shot: keep the filters of largest L1 norm (Li et al.)
``random`` random filters   one-shot: keep a seeded random subset (the random baseline)
``greg1``  GReg-1           Wang et al. ICLR'21, Alg. 1: pick the filters to prune by L1 norm
                            at the start of the pruning stage, train with an L2 penalty on
                            *those* filters only whose coefficient grows by ``reg_step`` every
                            ``reg_interval`` iterations up to ``reg_ceiling``, keep training
                            ``stabilize`` more iterations at the ceiling, then remove them
                            (the same sparsifying action and finetuning as L1-norm).
``greg2``  GReg-2           Wang et al. ICLR'21, Alg. 2 (as implemented here): a *uniform*
                            growing L2 penalty on every filter of the pruned layers (same
                            step/interval/ceiling), so that filters whose loss is flat in
                            their direction (small curvature) shrink faster; when the
                            ceiling is reached the filters to prune are picked by their L1
                            norm *then* (the regularisation chose them, not the start
                            weights), the penalty on the kept filters is dropped, the
                            penalty on the picked ones stays at the ceiling for
                            ``stabilize`` iterations, then they are removed.
=========  ===============  ================================================================

The pruning stage (GReg) trains at the fixed LR ``pruning.stage.lr`` for at most
``pruning.stage.epochs`` epochs (it ends earlier once the ceiling plus ``stabilize`` iterations
are reached; if the epochs run out first, the filters are pruned anyway and the note says so).
It is the engine's one training loop (:func:`audit.rerun.train.train_epoch`) with the growing
penalty as a :class:`~audit.rerun.train.TrainHook` (:class:`GrowingPenalty`), so it trains with
the recipe's mixed precision, channels_last and DDP like every other stage.  Its batches come
from the engine's (seed, "prune", epoch) generator, so a run is deterministic.

What is *not* reproduced from the GReg paper: their per-layer pruning-ratio schemes, their
exact hyper-parameters on ImageNet (they use step 1e-4 every 10 iterations up to 1, 10k
stabilisation iterations), and GReg-2's separation criterion on the norm ratio (here: the ceiling).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import torch
from torch import nn

from . import dist
from .config import OptimizerCfg, PruneStageCfg
from .prune import conv_at, kept_count, prune_groups, select_filters
from .train import TrainHook, make_optimizer, train_epoch

__all__ = ["GregEpoch", "GregOutcome", "GrowingPenalty", "greg_stage"]


def _pruned_groups(model: nn.Module, network: str, ratios: Mapping[str, Fraction]) -> list[tuple[str, int]]:
    """(conv name, filters) of the groups that lose filters at ``ratios``."""
    return [(g.name, g.channels) for g in prune_groups(model, network)
            if kept_count(g.channels, Fraction(ratios.get(g.name, 0))) < g.channels]


class GrowingPenalty(TrainHook):
    """GReg's growing L2 penalty on filters, as a hook on the training loop (see the module docstring).

    After every backward pass it adds ``lambda * w`` to the gradient of every penalised filter
    ``w``; after every step it grows ``lambda`` by ``cfg.reg_step`` each ``cfg.reg_interval``
    iterations up to ``cfg.reg_ceiling``, (GReg-2) picks the filters to prune by L1 norm once the
    ceiling is reached, then counts ``cfg.stabilize`` iterations and ends the stage.
    """

    def __init__(self, model: nn.Module, network: str, ratios: Mapping[str, Fraction], cfg: PruneStageCfg,
                 dev: torch.device, uniform: bool):
        self.cfg, self.uniform, self.ratios, self.dev = cfg, uniform, ratios, dev
        self.groups = _pruned_groups(model, network, ratios)
        self.convs = {name: conv_at(model, name) for name, _ in self.groups}
        self.lam = {name: torch.zeros(c, device=dev) for name, c in self.groups}
        self.iterations, self.level, self.stable_left, self.done = 0, 0.0, cfg.stabilize, False
        self.picked: dict[str, list[int]] | None = None
        if uniform:
            self.target = {name: torch.ones(c, dtype=torch.bool, device=dev) for name, c in self.groups}
        else:
            self._pick()

    def _select_l1(self) -> dict[str, list[int]]:
        return {name: select_filters(self.convs[name].weight, kept_count(c, Fraction(self.ratios.get(name, 0))), "l1")
                for name, c in self.groups}

    def _pick(self) -> None:
        """Fix the filters to prune (the L1-smallest now): only they stay penalised."""
        self.picked = self._select_l1()
        self.target = {}
        for name, c in self.groups:
            m = torch.ones(c, dtype=torch.bool, device=self.dev)
            m[self.picked[name]] = False
            self.target[name] = m

    def after_backward(self, model: nn.Module) -> None:
        with torch.no_grad():
            for name, conv in self.convs.items():
                coef = (self.lam[name] * self.target[name]).view(-1, 1, 1, 1)
                grad = conv.weight.grad
                assert grad is not None, f"{name} has no gradient"
                grad.add_(coef * conv.weight)

    def after_step(self, iteration: int) -> bool:
        self.iterations = iteration
        cfg = self.cfg
        if self.level < cfg.reg_ceiling:
            if iteration % cfg.reg_interval == 0:
                self.level = min(cfg.reg_ceiling, self.level + cfg.reg_step)
                for lam in self.lam.values():
                    lam.fill_(self.level)
        elif self.uniform and self.picked is None:
            self._pick()  # GReg-2: the regularisation has separated the filters; pick by L1 norm now
        elif self.stable_left > 0:
            self.stable_left -= 1
        else:
            self.done = True
        return self.done

    def kept(self) -> dict[str, list[int]]:
        """The filters to keep: those not picked (L1-largest now where the stage ended before picking)."""
        return self.picked if self.picked is not None else self._select_l1()


@dataclass(frozen=True)
class GregEpoch:
    """One epoch of a growing-penalty stage: iterations so far, the penalty, train accuracy (percent)."""

    epoch: int
    iterations: int
    penalty: float
    train_acc: float


@dataclass(frozen=True)
class GregOutcome:
    """A growing-penalty stage's result: kept filters per pruned conv, iterations, final penalty,
    whether the ceiling + stabilisation were reached (``finished``), and the per-epoch log."""

    kept: dict[str, list[int]]
    iterations: int
    penalty: float
    finished: bool
    log: list[GregEpoch] = field(default_factory=list)


def greg_stage(model: nn.Module, network: str, ratios: Mapping[str, Fraction],
               batches_for: Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]], dev: torch.device,
               cfg: PruneStageCfg, optimizer_cfg: OptimizerCfg, uniform: bool, amp: bool = False,
               channels_last: bool = False, on_epoch: Callable[[GregEpoch], None] | None = None) -> GregOutcome:
    """Growing-regularisation stage on ``model`` (trained in place, on ``dev``) at the fixed LR ``cfg.lr``.

    ``batches_for(epoch)`` gives an epoch's global batches (sharded here under DDP); ``uniform``
    is GReg-2 (else GReg-1).  The model is not pruned here: the outcome's ``kept`` says what to keep.
    """
    hook = GrowingPenalty(model, network, ratios, cfg, dev, uniform)
    o = optimizer_cfg
    opt = make_optimizer(model, cfg.lr, o.momentum, o.weight_decay, o.nesterov)
    scaler = torch.amp.GradScaler("cuda") if amp and dev.type == "cuda" else None
    log: list[GregEpoch] = []
    train_model = dist.wrap(model, dev)
    for epoch in range(cfg.epochs):
        stats = dist.reduce_mean(train_epoch(train_model, opt, dist.shard(batches_for(epoch)), dev, amp, channels_last,
                                             scaler, hook=hook, first_iteration=hook.iterations))
        rec = GregEpoch(epoch, hook.iterations, hook.level, stats["train_acc"])
        log.append(rec)
        if on_epoch is not None:
            on_epoch(rec)
        if hook.done:
            break
    dist.unwrap(train_model)
    return GregOutcome(hook.kept(), hook.iterations, hook.level, hook.done, log)
