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
Its batches come from the engine's (seed, "prune", epoch) generator, so a run is deterministic.

What is *not* reproduced from the GReg paper: their per-layer pruning-ratio schemes, their
exact hyper-parameters on ImageNet (they use step 1e-4 every 10 iterations up to 1, 10k
stabilisation iterations), and GReg-2's separation criterion on the norm ratio (here: the ceiling).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
import torch.nn.functional as F

from .prune import PruneReport, _apply_kept, _get, kept_count, prune_groups, prune_model, select_filters
from .train import make_optimizer

__all__ = ["METHODS", "Method", "method_label", "prune_with_method", "runnable"]


@dataclass(frozen=True)
class Method:
    name: str
    label: str  # the name results use (audit.registry.schema Result.method)
    ranking: str  # select_filters criterion
    stage: Callable[..., dict[str, Any]] | None = None  # pruning-stage procedure (None: one-shot)


def _greg1(*a: Any, **k: Any) -> dict[str, Any]:
    return greg_stage(*a, uniform=False, **k)


def _greg2(*a: Any, **k: Any) -> dict[str, Any]:
    return greg_stage(*a, uniform=True, **k)


METHODS: dict[str, Method] = {
    "l1": Method("l1", "L1-norm", "l1"),
    "random": Method("random", "random filter pruning", "random"),
    "greg1": Method("greg1", "GReg-1", "l1", _greg1),
    "greg2": Method("greg2", "GReg-2", "l1", _greg2),
}
ALIASES = {"l1-norm": "l1", "l1norm": "l1", "greg-1": "greg1", "greg-2": "greg2", "random filter pruning": "random",
           "random-filter": "random"}


def runnable() -> list[str]:
    return list(METHODS)


def canonical(name: str) -> str | None:
    n = name.strip().lower()
    n = ALIASES.get(n, n)
    return n if n in METHODS else None


def method_label(name: str) -> str:
    return METHODS[name].label if name in METHODS else name


def _select_l1(model, groups, ratios) -> dict[str, list[int]]:
    kept = {}
    for g in groups:
        w = _get(model, g.name).weight
        kept[g.name] = select_filters(w, kept_count(g.channels, Fraction(ratios.get(g.name, 0))), "l1")
    return kept


def greg_stage(model: torch.nn.Module, network: str, ratios: Mapping[str, Fraction], batches_for: Callable[[int], Any],
               dev: torch.device, cfg: Any, optimizer_cfg: Any, uniform: bool,
               on_epoch: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Growing-regularisation stage on ``model`` (trained in place); returns kept filters and a log."""
    groups = [g for g in prune_groups(model, network) if kept_count(g.channels, Fraction(ratios.get(g.name, 0)))
              < g.channels]
    convs = {g.name: _get(model, g.name) for g in groups}
    # coefficient per filter of every pruned layer
    lam = {g.name: torch.zeros(g.channels, device=dev) for g in groups}
    if uniform:
        target = {g.name: torch.ones(g.channels, dtype=torch.bool, device=dev) for g in groups}
    else:
        kept0 = _select_l1(model, groups, ratios)
        target = {}
        for g in groups:
            m = torch.ones(g.channels, dtype=torch.bool, device=dev)
            m[kept0[g.name]] = False
            target[g.name] = m
    o = optimizer_cfg
    opt = make_optimizer(model, cfg.lr, o.momentum, o.weight_decay, o.nesterov)
    it, level, stable_left = 0, 0.0, cfg.stabilize
    picked: dict[str, list[int]] | None = None if uniform else kept0  # type: ignore[possibly-undefined]
    done = False
    log: list[dict[str, Any]] = []
    for epoch in range(cfg.epochs):
        model.train()
        correct = seen = 0
        for x, y in batches_for(epoch):
            x, y = x.to(dev), y.to(dev)
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for name, conv in convs.items():
                    coef = (lam[name] * target[name]).view(-1, 1, 1, 1)
                    conv.weight.grad.add_(coef * conv.weight)
            opt.step()
            correct += int((out.argmax(1) == y).sum())
            seen += int(y.shape[0])
            it += 1
            if level < cfg.reg_ceiling:
                if it % cfg.reg_interval == 0:
                    level = min(cfg.reg_ceiling, level + cfg.reg_step)
                    for name in lam:
                        lam[name].fill_(level)
            elif uniform and picked is None:
                # GReg-2: the regularisation has separated the filters; pick by L1 norm now
                picked = _select_l1(model, groups, ratios)
                for g in groups:
                    m = torch.ones(g.channels, dtype=torch.bool, device=dev)
                    m[picked[g.name]] = False
                    target[g.name] = m
            elif stable_left > 0:
                stable_left -= 1
            else:
                done = True
                break
        rec = {"epoch": epoch, "iterations": it, "penalty": level, "train_acc": 100.0 * correct / max(seen, 1)}
        log.append(rec)
        if on_epoch is not None:
            on_epoch(rec)
        if done:
            break
    if picked is None:
        picked = _select_l1(model, groups, ratios)
    return {"kept": picked, "iterations": it, "penalty": level, "finished": done, "log": log}


def prune_with_method(recipe: Any, model: torch.nn.Module, ratios: Mapping[str, Fraction], data: Any,
                      dev: torch.device, hooks: Any = None) -> tuple[torch.nn.Module, PruneReport, dict[str, Any]]:
    """The pruning step of a run: the method's stage (if any) on ``model``, then the physical surgery."""
    p = recipe.pruning
    net = recipe.model.network
    m = METHODS[p.method]
    info: dict[str, Any] = {}
    if m.stage is None:
        pruned, report = prune_model(model.to("cpu"), net, ratios, m.ranking, recipe.seed)
        return pruned, report, info
    from .config import PruneStageCfg
    from .runs import _epoch_generator

    cfg = p.stage or PruneStageCfg()

    def batches_for(epoch: int):
        return data.train.batches(recipe.batch_size, _epoch_generator(recipe.seed, "prune", epoch),
                                  recipe.dataset.augment)

    def on_epoch(rec: dict[str, Any]) -> None:
        if hooks is not None:
            hooks.message(f"{m.label} stage epoch {rec['epoch'] + 1}: {rec['iterations']} iterations, penalty "
                          f"{rec['penalty']:g}, train acc {rec['train_acc']:.2f}")

    out = m.stage(model, net, ratios, batches_for, dev, cfg, recipe.optimizer, on_epoch=on_epoch)
    model = model.to("cpu")
    groups = prune_groups(model, net)
    report = PruneReport(net, p.method, {g.name: Fraction(ratios.get(g.name, 0)) for g in groups})
    for g in groups:
        report.channels[g.name] = g.channels
        report.kept[g.name] = out["kept"].get(g.name, list(range(g.channels)))
    pruned = copy.deepcopy(model)
    _apply_kept(pruned, groups, report.kept)
    info = {"stage_epochs": len(out["log"]), "stage_iterations": out["iterations"], "penalty": out["penalty"],
            "finished": out["finished"], "stage_log": out["log"]}
    return pruned, report, info
