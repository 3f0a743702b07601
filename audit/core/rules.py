"""The seed's recipe rules (Appendix A, Sec. 2.2 and Sec. 4): derived LR schedules, S4.2 tails,
Scratch-E/Scratch-B budgets, the SX-B squeeze of the pruning epoch and the Rule-1 check.

Pure functions; every schedule is an :class:`audit.core.schedule.Schedule`.

Appendix A's three rules, given a total number of (finetuning or training) epochs:

* Rule 1 -- the final LR is the same for everything compared (1e-5 for the seed's ImageNet runs);
* Rule 2 -- halving: the first LR stage gets half of the epochs, the next half of the rest, ...;
* Rule 3 -- no LR stage is longer than 30 epochs (the PyTorch ImageNet example's step size).

:func:`derive` implements them: the LR is divided by 10 (``gamma``) per stage down to the final
LR; each stage but the last gets ``min(max_stage, ceil(remaining / 2))`` epochs and the last one
takes the rest.  ``max_stage=None`` drops Rule 3 (CIFAR recipes halve without the cap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from audit.core.schedule import Schedule, format_lr
from audit.errors import AuditError

__all__ = [
    "Budget",
    "RecipeError",
    "Rule1",
    "budget",
    "derive",
    "rule1",
    "rule1_check",
    "s42_finetune",
    "schedule_text",
    "scratch_b_rethinking",
    "scratch_b_seed",
    "scratch_e_rethinking",
    "scratch_e_seed",
    "sxb_squeeze",
]


class RecipeError(AuditError):
    """Impossible recipe input (one line for the CLI)."""


def _round_lr(x: float) -> float:
    return 0.0 if x == 0 else float(f"{x:.12g}")


def _check_positive_lr(name: str, lr: float) -> None:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
        raise RecipeError(f"{name} must be a number (got {lr!r})")
    if lr <= 0:
        raise RecipeError(f"{name} must be positive (got {lr:g})")


def derive(total_epochs: int, initial_lr: float, final_lr: float = 1e-5, gamma: float = 0.1,
           max_stage: int | None = 30) -> Schedule:
    """The seed's Appendix-A schedule for ``total_epochs`` epochs from ``initial_lr`` to ``final_lr``.

    >>> schedule_text(derive(90, 0.1))
    '0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5'

    The LR is multiplied by ``gamma`` per stage; when a power of ``gamma`` steps past ``final_lr``
    the last stage uses ``final_lr`` itself (Rule 1: every compared model ends at the same LR).
    """
    if isinstance(total_epochs, bool) or not isinstance(total_epochs, int):
        raise RecipeError(f"epochs must be an integer (got {total_epochs!r})")
    if total_epochs <= 0:
        raise RecipeError(f"epochs must be positive (got {total_epochs})")
    _check_positive_lr("initial LR", initial_lr)
    _check_positive_lr("final LR", final_lr)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma < 1:
        raise RecipeError(f"the decay factor gamma must be in (0, 1) (got {gamma!r})")
    if max_stage is not None and (isinstance(max_stage, bool) or not isinstance(max_stage, int) or max_stage < 1):
        raise RecipeError(f"the longest stage must be a positive number of epochs (got {max_stage!r})")
    if initial_lr < final_lr * (1 - 1e-9):
        raise RecipeError(f"the initial LR {format_lr(float(initial_lr))} is below the final LR "
                          f"{format_lr(float(final_lr))}")
    lrs = [_round_lr(float(initial_lr))]
    while lrs[-1] > final_lr * (1 + 1e-9):
        nxt = _round_lr(lrs[-1] * gamma)
        lrs.append(max(nxt, _round_lr(float(final_lr))))
        if len(lrs) > 64:  # pragma: no cover - gamma in (0, 1) always terminates well before
            raise RecipeError("too many LR stages")
    if len(lrs) > total_epochs:
        raise RecipeError(f"{total_epochs} epoch(s) cannot hold the {len(lrs)} LR stages from "
                          f"{format_lr(lrs[0])} to {format_lr(lrs[-1])}")
    points: list[tuple[int, float | None]] = []
    start = 0
    for i, lr in enumerate(lrs):
        points.append((start, lr))
        if i == len(lrs) - 1:
            break
        remaining = total_epochs - start
        length = math.ceil(remaining / 2)
        if max_stage is not None:
            length = min(max_stage, length)
        # leave at least one epoch for every later stage
        length = max(1, min(length, remaining - (len(lrs) - 1 - i)))
        start += length
    return Schedule("piecewise", tuple(points), total_epochs)


def schedule_text(s: Schedule) -> str:
    """The seed's notation without the total: ``0:1e-2,30:1e-3,60:1e-4,75:1e-5``."""
    return s.body_text()


def s42_finetune(overall: Schedule, pruning_epoch: int) -> Schedule:
    """The finetuning schedule of ``PxFy`` under S4.2: the overall schedule's tail after epoch ``x``.

    E.g. the seed's 120-epoch schedule ``0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5`` gives P30F90
    ``0:1e-2,30:1e-3,60:1e-4,75:1e-5`` and P90F30 ``0:1e-4,15:1e-5``.
    """
    from audit.core.schedule import ScheduleError

    try:
        return overall.tail(pruning_epoch)
    except ScheduleError as exc:
        raise RecipeError(str(exc)) from None


# ---------------------------------------------------------------------- budgets (Sec. 2.2, Sec. 4)
def _check_epochs(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise RecipeError(f"{name} must be a non-negative number of epochs (got {value!r})")


def _check_speedup(speedup: float) -> None:
    if isinstance(speedup, bool) or not isinstance(speedup, (int, float)) or not math.isfinite(speedup) \
            or speedup < 1:
        raise RecipeError(f"speedup must be a number >= 1 (dense FLOPs / pruned FLOPs; got {speedup!r})")


def scratch_e_seed(pretrain_epochs: float, finetune_epochs: float, prune_epochs: float = 0) -> float:
    """The seed's Scratch-E / SX-A: as many epochs as pretraining + pruning + finetuning."""
    return pretrain_epochs + prune_epochs + finetune_epochs


def scratch_b_seed(pretrain_epochs: float, finetune_epochs: float, speedup: float, prune_epochs: float = 0) -> float:
    """The seed's Scratch-B / SX-B (Sec. 2.2): ``K1·F1/F2 + K2`` epochs of the pruned model.

    Pretraining (K1 epochs) and the pruning stage run the dense model (F1 FLOPs per epoch), the
    K2 finetuning epochs the pruned one (F2); a scratch run of the pruned model with the same FLOPs
    takes ``(K1 + Kp)·F1/F2 + K2`` epochs (Kp = pruning-stage epochs, 0 for one-shot).
    """
    return (pretrain_epochs + prune_epochs) * speedup + finetune_epochs


def scratch_e_rethinking(pretrain_epochs: float) -> float:
    """Liu et al. 2019 ("Rethinking the value of network pruning") Scratch-E: the large model's epochs."""
    return pretrain_epochs


def scratch_b_rethinking(pretrain_epochs: float, speedup: float, cap: float | None = 2.0) -> float:
    """Liu et al. 2019 Scratch-B: ``K1·F1/F2`` epochs, capped.

    The rethinking paper matches only the large model's training budget (no finetuning term), and
    on ImageNet, when the pruned model saves more than 2× FLOPs, it "just doubles" the epochs:
    ``K1·min(F1/F2, cap)`` with ``cap = 2`` (``cap=None``: uncapped, their CIFAR setting).
    """
    factor = speedup if cap is None else min(speedup, cap)
    return pretrain_epochs * factor


def sxb_squeeze(dense_epochs: float, speedup: float) -> float:
    """SX-B squeeze of the pruning epoch (Sec. 4, Tab. 4): ``dense_epochs / speedup``.

    The dense model trained for ``dense_epochs`` before pruning costs ``dense_epochs`` dense
    epochs; to keep the FLOPs of "pretraining + finetuning" equal to the scratch run, the pruning
    epoch is squeezed to ``dense_epochs / speedup`` (e.g. 30 / 1.11 ≈ 27 at pruning ratio 10 %).
    """
    return dense_epochs / speedup


@dataclass(frozen=True)
class Budget:
    """Scratch-E/B and SX-A/SX-B figures of one pipeline (epochs; cost in dense-epoch units)."""

    pretrain_epochs: float
    prune_epochs: float
    finetune_epochs: float
    speedup: float
    cap: float | None
    sx_a_epochs: float
    """SX-A: total epochs pretraining + pruning + finetuning (= the seed's Scratch-E)."""
    sx_b_cost: float
    """SX-B: total cost in dense-epoch units = pretrain + prune + finetune / speedup."""
    scratch_e_seed: float
    scratch_b_seed: float
    scratch_e_rethinking: float
    scratch_b_rethinking: float
    squeezed_pruning_epoch: float
    """SX-B squeeze of the pruning epoch: pretrain epochs / speedup (Tab. 4)."""


def budget(pretrain_epochs: float, finetune_epochs: float, speedup: float, prune_epochs: float = 0,
           cap: float | None = 2.0) -> Budget:
    """All budget figures of a pipeline (see the functions above)."""
    _check_epochs("pretrain epochs", pretrain_epochs)
    _check_epochs("prune epochs", prune_epochs)
    _check_epochs("finetune epochs", finetune_epochs)
    _check_speedup(speedup)
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, (int, float)) or not 1 <= cap < math.inf):
        raise RecipeError(f"the Scratch-B cap must be a factor >= 1 (got {cap!r})")
    if pretrain_epochs + prune_epochs + finetune_epochs <= 0:
        raise RecipeError("the pipeline has 0 epochs in total")
    return Budget(
        pretrain_epochs=pretrain_epochs,
        prune_epochs=prune_epochs,
        finetune_epochs=finetune_epochs,
        speedup=float(speedup),
        cap=cap,
        sx_a_epochs=scratch_e_seed(pretrain_epochs, finetune_epochs, prune_epochs),
        sx_b_cost=pretrain_epochs + prune_epochs + finetune_epochs / speedup,
        scratch_e_seed=scratch_e_seed(pretrain_epochs, finetune_epochs, prune_epochs),
        scratch_b_seed=scratch_b_seed(pretrain_epochs, finetune_epochs, speedup, prune_epochs),
        scratch_e_rethinking=scratch_e_rethinking(pretrain_epochs),
        scratch_b_rethinking=scratch_b_rethinking(pretrain_epochs, speedup, cap),
        squeezed_pruning_epoch=sxb_squeeze(pretrain_epochs, speedup),
    )


# ---------------------------------------------------------------------- Rule 1
@dataclass(frozen=True)
class Rule1:
    """A pair whose finetuning schedules stop at different final LRs (the seed's App. A Rule 1)."""

    a_higher: bool
    """True when side A stops at the larger final LR."""
    higher: str
    """Name of the side that stops at the larger final LR (it is understated)."""
    lower: str
    higher_lr: float
    lower_lr: float

    def detail(self) -> str:
        """The finding without its rule name: ``L1-norm's finetuning stops at LR 1e-3, GReg-2's decays to 1e-5
        (a larger final LR understates L1-norm)``."""
        return (f"{self.higher}'s finetuning stops at LR {format_lr(self.higher_lr)}, {self.lower}'s decays to "
                f"{format_lr(self.lower_lr)} (a larger final LR understates {self.higher})")

    def text(self) -> str:
        """The one-line warning: ``Rule 1: `` and :meth:`detail`."""
        return f"Rule 1: {self.detail()}"


def rule1(a: Schedule | None, b: Schedule | None, name_a: str = "A", name_b: str = "B") -> Rule1 | None:
    """The seed's Rule 1 on a pair of finetuning schedules.

    Returns the finding naming the side that stops at the larger final LR, or ``None`` when both end at
    the same LR (relative tolerance 1e-9) or either schedule or its final LR is not known.
    """
    if a is None or b is None:
        return None
    fa, fb = a.final_lr, b.final_lr
    if fa is None or fb is None or math.isclose(fa, fb, rel_tol=1e-9):
        return None
    if fa > fb:
        return Rule1(True, name_a, name_b, fa, fb)
    return Rule1(False, name_b, name_a, fb, fa)


def rule1_check(a: Schedule | None, b: Schedule | None, name_a: str = "A", name_b: str = "B") -> str | None:
    """:func:`rule1` as its one-line warning (``Rule 1: ...``), or ``None`` when the rule holds or cannot be
    checked."""
    found = rule1(a, b, name_a, name_b)
    return None if found is None else found.text()
