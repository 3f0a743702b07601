"""One normalized representation of a learning-rate schedule.

Every schedule the project handles -- the piecewise-constant notation of the seed paper and of
its authors' code (``0:1e-2,30:1e-3,60:1e-4,75:1e-5`` over 90 epochs), step decay, a fixed LR,
cosine annealing, and a linear warmup in front of any of them -- is normalized to a
:class:`Schedule`.  Papers often report a schedule only in part ("0.01, step decay (10/20)"
without the decay factor, "0.01, cosine annealing" without the minimum, or only "0.01");
those parts are kept as *not reported* (``None``) instead of being guessed, and every
question whose answer depends on them (``lr_at``, equality) answers "unknown" (``None``).

Canonical string form (``format_schedule`` / ``parse_schedule`` round-trip)::

    0:1e-2,30:1e-3,60:1e-4,75:1e-5; total=90       piecewise constant (step, fixed)
    0:1e-2,10:?,20:?; total=25                      step decay, factor not reported
    cosine 1e-2->1e-5; total=180                    cosine annealing (per epoch)
    cosine 1e-2->?; total=180                       cosine, minimum not reported
    lr 1e-2                                         only the initial LR is reported
    warmup 5 from 1e-4; cosine 1e-1->0; total=100   linear warmup in front of a body

Epochs are integers counted from 0; the LR of epoch ``e`` is the LR used throughout that epoch
(the per-epoch convention of ``torch.optim.lr_scheduler`` stepped once per epoch).  This module is
pure Python: the registry, the classifier and the rerun engine all share it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KINDS", "Schedule", "ScheduleError", "cosine", "fixed", "format_lr", "format_schedule", "initial_only",
    "parse_lr", "parse_phrase", "parse_piecewise", "parse_schedule", "piecewise", "schedule_from_data", "step",
    "with_warmup",
]


class ScheduleError(ValueError):
    """A schedule that cannot be parsed or is impossible (the project's own validation error)."""


KINDS = ("piecewise", "cosine", "initial-only")


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule over ``total_epochs`` epochs.

    ``kind`` is one of:

    * ``piecewise``: ``points`` is a tuple of ``(start_epoch, lr)`` pairs, the first at epoch 0,
      strictly increasing epochs; an ``lr`` of ``None`` means that stage's LR was not reported
      (e.g. step decay at known milestones with an unreported factor).
    * ``cosine``: cosine annealing from ``points[0][1]`` to ``min_lr`` over the epochs after the
      warmup (``min_lr`` ``None`` = not reported).
    * ``initial-only``: only the initial LR ``points[0][1]`` is known, not the shape.

    ``total_epochs`` is ``None`` when the schedule's length is not known (it is usually supplied
    by the stage that owns the schedule). ``warmup_epochs`` epochs of linear warmup from
    ``warmup_start_lr`` to the body's LR at the end of the warmup precede the body.
    """

    kind: str
    points: tuple[tuple[int, float | None], ...]
    total_epochs: int | None = None
    min_lr: float | None = None
    warmup_epochs: int = 0
    warmup_start_lr: float | None = None
    _lrs: tuple[float | None, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._validate()
        # Normalize so that structural equality is semantic equality: a stage that repeats the
        # previous LR is no stage, and a cosine whose minimum is its start is a fixed LR.
        if self.kind == "piecewise":
            merged: list[tuple[int, float | None]] = []
            for epoch, lr in self.points:
                if merged and lr is not None and merged[-1][1] is not None and float(merged[-1][1]) == float(lr):
                    continue
                merged.append((epoch, None if lr is None else float(lr)))
            object.__setattr__(self, "points", tuple(merged))
        elif self.kind == "cosine" and self.min_lr is not None and float(self.min_lr) == self.initial_lr:
            object.__setattr__(self, "kind", "piecewise")
            object.__setattr__(self, "min_lr", None)
        else:
            object.__setattr__(self, "points", tuple((e, None if lr is None else float(lr)) for e, lr in self.points))

    def _validate(self) -> None:
        if self.kind not in KINDS:
            raise ScheduleError(f"unknown schedule kind {self.kind!r} (expected one of {', '.join(KINDS)})")
        if not self.points:
            raise ScheduleError("a schedule needs at least its initial LR")
        if self.points[0][0] != 0:
            raise ScheduleError(
                f"the first stage must start at epoch 0 (got {self.points[0][0]}): a schedule must say its first LR"
            )
        if self.points[0][1] is None:
            raise ScheduleError("the initial LR must be given")
        prev = -1
        for epoch, lr in self.points:
            if not isinstance(epoch, int) or isinstance(epoch, bool):
                raise ScheduleError(f"epoch {epoch!r} is not an integer")
            if epoch <= prev:
                raise ScheduleError(f"epochs must be strictly increasing (got {epoch} after {prev})")
            prev = epoch
            if lr is not None:
                _check_lr(lr)
        if self.kind != "piecewise" and len(self.points) != 1:
            raise ScheduleError(f"a {self.kind} schedule has exactly one initial LR")
        if self.kind != "cosine" and self.min_lr is not None:
            raise ScheduleError("min_lr only applies to cosine schedules")
        if self.min_lr is not None:
            _check_lr(self.min_lr)
            if self.min_lr > self.points[0][1]:
                raise ScheduleError(
                    f"cosine minimum LR {format_lr(self.min_lr)} is above the initial LR {format_lr(self.points[0][1])}"
                )
        if self.total_epochs is not None:
            if not isinstance(self.total_epochs, int) or isinstance(self.total_epochs, bool):
                raise ScheduleError(f"total epochs {self.total_epochs!r} is not an integer")
            if self.total_epochs <= 0:
                raise ScheduleError(f"total epochs must be positive (got {self.total_epochs})")
            last = self.points[-1][0]
            if last >= self.total_epochs:
                raise ScheduleError(
                    f"stage starting at epoch {last} does not fit in a total of {self.total_epochs} epochs"
                )
        if not isinstance(self.warmup_epochs, int) or isinstance(self.warmup_epochs, bool) or self.warmup_epochs < 0:
            raise ScheduleError(f"warmup epochs must be a non-negative integer (got {self.warmup_epochs!r})")
        if self.warmup_epochs:
            if self.warmup_start_lr is None:
                raise ScheduleError("a warmup needs its starting LR")
            _check_lr(self.warmup_start_lr)
            if self.total_epochs is not None and self.warmup_epochs >= self.total_epochs:
                raise ScheduleError(
                    f"warmup of {self.warmup_epochs} epochs leaves nothing of a {self.total_epochs}-epoch schedule"
                )
            if self.kind == "initial-only":
                raise ScheduleError("a warmup needs a known schedule shape after it")
        elif self.warmup_start_lr is not None:
            raise ScheduleError("warmup_start_lr given without warmup epochs")

    # ------------------------------------------------------------------ queries
    @property
    def initial_lr(self) -> float:
        """The LR of the body's first stage (after any warmup)."""
        lr = self.points[0][1]
        assert lr is not None
        return lr

    @property
    def final_lr(self) -> float | None:
        """The LR of the last epoch, or ``None`` when not known."""
        if self.total_epochs is None:
            if self.kind == "piecewise":
                return self.points[-1][1]
            if self.kind == "cosine":
                return self.min_lr
            return None
        return self.lr_at(self.total_epochs - 1)

    @property
    def milestones(self) -> tuple[int, ...]:
        """Epochs at which a piecewise schedule changes its LR."""
        return tuple(e for e, _ in self.points[1:])

    @property
    def is_complete(self) -> bool:
        """True when ``lr_at`` is defined at every epoch of the schedule."""
        if self.total_epochs is None or self.kind == "initial-only":
            return False
        if self.kind == "cosine":
            return self.min_lr is not None
        return all(lr is not None for _, lr in self.points)

    def first_stage_epochs(self) -> int | None:
        """Number of epochs of the first LR stage (the seed's K in Eq. 1), when known."""
        if self.kind == "piecewise":
            if len(self.points) > 1:
                return self.points[1][0]
            return self.total_epochs
        return None

    def _body_lr(self, epoch: int) -> float | None:
        if self.kind == "initial-only":
            return self.initial_lr if epoch == 0 else None
        if self.kind == "piecewise":
            lr: float | None = None
            for start, value in self.points:
                if start <= epoch:
                    lr = value
                else:
                    break
            return lr
        # cosine, per epoch, over the epochs after the warmup (CosineAnnealingLR with T_max = span)
        if self.total_epochs is None:
            return self.initial_lr if epoch == self.warmup_epochs else None
        if self.min_lr is None:
            return self.initial_lr if epoch == self.warmup_epochs else None
        span = self.total_epochs - self.warmup_epochs
        t = epoch - self.warmup_epochs
        lr0, lr_min = self.initial_lr, self.min_lr
        if span <= 1:
            return lr0
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / (span - 1))) / 2

    def lr_at(self, epoch: int) -> float | None:
        """LR used during ``epoch`` (0-based), or ``None`` when the paper did not report it.

        Raises :class:`ScheduleError` for an epoch outside the schedule.
        """
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            raise ScheduleError(f"epoch {epoch!r} is not an integer")
        if epoch < 0 or (self.total_epochs is not None and epoch >= self.total_epochs):
            raise ScheduleError(f"epoch {epoch} is outside a schedule of {self.total_epochs} epochs")
        if epoch < self.warmup_epochs:
            target = self._body_lr(self.warmup_epochs)
            if target is None:
                return None
            assert self.warmup_start_lr is not None
            return self.warmup_start_lr + (target - self.warmup_start_lr) * epoch / self.warmup_epochs
        return self._body_lr(epoch)

    def lrs(self) -> tuple[float | None, ...]:
        """The LR of every epoch (requires ``total_epochs``)."""
        if self.total_epochs is None:
            raise ScheduleError("the schedule's total epochs are not known")
        cached = self._lrs
        if cached is None:
            cached = tuple(self.lr_at(e) for e in range(self.total_epochs))
            object.__setattr__(self, "_lrs", cached)
        return cached

    def same_as(self, other: Schedule, rel_tol: float = 1e-9) -> bool | None:
        """Equal LR at every epoch of the same total: True, False, or None when unknowable.

        A difference that is visible from what both sides report (different totals, different
        initial LRs, a known LR that differs at some epoch) is ``False`` even when other parts
        are not reported; otherwise missing information gives ``None``.
        """
        if self.total_epochs is not None and other.total_epochs is not None:
            if self.total_epochs != other.total_epochs:
                return False
            unknown = False
            for a, b in zip(self.lrs(), other.lrs()):
                if a is None or b is None:
                    unknown = True
                elif not math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-15):
                    return False
            return None if unknown else True
        first_a = self.lr_at(0) if self.total_epochs != 0 else None
        first_b = other.lr_at(0) if other.total_epochs != 0 else None
        if first_a is not None and first_b is not None and not math.isclose(first_a, first_b, rel_tol=rel_tol):
            return False
        return None

    def with_total(self, total_epochs: int | None) -> Schedule:
        """The same schedule with ``total_epochs`` set (validated)."""
        return Schedule(
            kind=self.kind,
            points=self.points,
            total_epochs=total_epochs,
            min_lr=self.min_lr,
            warmup_epochs=self.warmup_epochs,
            warmup_start_lr=self.warmup_start_lr,
        )

    def tail(self, start_epoch: int) -> Schedule:
        """The part of a piecewise schedule after ``start_epoch``, re-based to epoch 0.

        This is the seed's S4.2 finetuning schedule of ``PxFy``: the overall schedule's tail after
        pruning epoch ``x``.
        """
        if self.kind != "piecewise" or self.warmup_epochs:
            raise ScheduleError("only a piecewise schedule without warmup has a tail")
        if self.total_epochs is None:
            raise ScheduleError("the schedule's total epochs are not known")
        if not 0 <= start_epoch < self.total_epochs:
            raise ScheduleError(f"epoch {start_epoch} is outside a schedule of {self.total_epochs} epochs")
        points: list[tuple[int, float | None]] = [(0, self._body_lr(start_epoch))]
        for epoch, lr in self.points:
            if epoch > start_epoch:
                points.append((epoch - start_epoch, lr))
        return Schedule("piecewise", tuple(points), total_epochs=self.total_epochs - start_epoch)

    def head(self, end_epoch: int) -> Schedule:
        """The first ``end_epoch`` epochs of a schedule (e.g. dense pretraining up to pruning epoch P)."""
        if self.total_epochs is not None and not 0 < end_epoch <= self.total_epochs:
            raise ScheduleError(f"cannot take {end_epoch} epochs of a {self.total_epochs}-epoch schedule")
        if self.kind == "cosine":
            raise ScheduleError("the head of a cosine schedule is not a cosine schedule")
        points = tuple((e, lr) for e, lr in self.points if e < end_epoch)
        return Schedule(
            self.kind, points, total_epochs=end_epoch, warmup_epochs=self.warmup_epochs,
            warmup_start_lr=self.warmup_start_lr,
        )

    def body_text(self) -> str:
        """The canonical form without its ``; total=N`` part (the seed's notation for a recipe whose
        epochs are shown beside it): ``0:1e-2,30:1e-3,60:1e-4,75:1e-5``, ``warmup 5 from 1e-4; cosine 1e-1->0``."""
        parts: list[str] = []
        if self.warmup_epochs:
            parts.append(f"warmup {self.warmup_epochs} from {format_lr(self.warmup_start_lr)}")
        if self.kind == "piecewise":
            parts.append(",".join(f"{e}:{format_lr(lr)}" for e, lr in self.points))
        elif self.kind == "cosine":
            parts.append(f"cosine {format_lr(self.initial_lr)}->{format_lr(self.min_lr)}")
        else:
            parts.append(f"lr {format_lr(self.initial_lr)}")
        return "; ".join(parts)

    def __str__(self) -> str:
        return format_schedule(self)


# ---------------------------------------------------------------------- constructors
def _check_lr(lr: Any) -> None:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise ScheduleError(f"LR {lr!r} is not a number")
    if not math.isfinite(lr) or lr < 0:
        raise ScheduleError(f"LR must be a finite non-negative number (got {lr!r})")


def piecewise(points: Iterable[tuple[int, float | None]], total_epochs: int | None = None) -> Schedule:
    """A piecewise-constant schedule from ``(start_epoch, lr)`` pairs."""
    return Schedule("piecewise", tuple((int(e) if isinstance(e, int) else e, lr) for e, lr in points), total_epochs)


def fixed(lr: float, total_epochs: int | None = None) -> Schedule:
    """A constant LR."""
    return Schedule("piecewise", ((0, float(lr)),), total_epochs)


def step(
    lr: float,
    milestones: Sequence[int],
    gamma: float | None = 0.1,
    total_epochs: int | None = None,
) -> Schedule:
    """Step decay: ``lr`` multiplied by ``gamma`` at each milestone (``gamma=None``: not reported)."""
    if gamma is not None:
        _check_lr(gamma)
        if not 0 < gamma:
            raise ScheduleError(f"decay factor must be positive (got {gamma})")
    points: list[tuple[int, float | None]] = [(0, float(lr))]
    current: float | None = float(lr)
    for m in milestones:
        if isinstance(m, bool) or not isinstance(m, int):
            raise ScheduleError(f"milestone {m!r} is not an integer epoch")
        if m == 0:
            raise ScheduleError("a milestone at epoch 0 is not a decay")
        current = None if (gamma is None or current is None) else _round_lr(current * gamma)
        points.append((m, current))
    return Schedule("piecewise", tuple(points), total_epochs)


def cosine(lr: float, min_lr: float | None = 0.0, total_epochs: int | None = None,
           warmup_epochs: int = 0, warmup_start_lr: float | None = None) -> Schedule:
    """Cosine annealing from ``lr`` to ``min_lr`` (``None``: minimum not reported)."""
    return Schedule("cosine", ((0, float(lr)),), total_epochs, None if min_lr is None else float(min_lr),
                    warmup_epochs, warmup_start_lr)


def initial_only(lr: float, total_epochs: int | None = None) -> Schedule:
    """Only the initial LR is reported."""
    return Schedule("initial-only", ((0, float(lr)),), total_epochs)


def with_warmup(body: Schedule, epochs: int, start_lr: float) -> Schedule:
    """Prefix ``body`` with ``epochs`` of linear warmup from ``start_lr``."""
    return Schedule(body.kind, body.points, body.total_epochs, body.min_lr, epochs, float(start_lr))


def _round_lr(x: float) -> float:
    """Remove binary noise from products such as 0.1 * 0.1 (12 significant digits)."""
    if x == 0:
        return 0.0
    return float(f"{x:.12g}")


# ---------------------------------------------------------------------- formatting
def format_lr(lr: float | None) -> str:
    """Shortest exact ``1e-2`` / ``2.5e-3`` style spelling of an LR (``?`` for not reported)."""
    if lr is None:
        return "?"
    if lr == 0:
        return "0"
    for digits in range(1, 18):
        text = f"{lr:.{digits - 1}e}"
        if float(text) == lr:
            break
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def format_schedule(s: Schedule) -> str:
    """Canonical, round-tripping string form of a schedule: :meth:`Schedule.body_text`, then
    ``; total=N`` when the total is known."""
    body = s.body_text()
    return body if s.total_epochs is None else f"{body}; total={s.total_epochs}"


# ---------------------------------------------------------------------- parsing
_NUM = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NUM_RE = re.compile(rf"^{_NUM}$")


def parse_lr(text: str) -> float | None:
    """Parse one LR token (``1e-2``, ``0.001``, ``?`` for not reported)."""
    t = text.strip()
    if t == "?":
        return None
    if not _NUM_RE.match(t):
        raise ScheduleError(f"{text.strip()!r} is not a learning rate")
    value = float(t)
    _check_lr(value)
    return value


def _parse_int(text: str, what: str) -> int:
    t = text.strip()
    if not re.fullmatch(r"\d+", t):
        raise ScheduleError(f"{what} {t!r} is not a non-negative integer")
    return int(t)


def parse_piecewise(text: str, total_epochs: int | None = None) -> Schedule:
    """Parse the seed's notation ``0:1e-2,30:1e-3,60:1e-4,75:1e-5``."""
    body = text.strip()
    if not body:
        raise ScheduleError("empty schedule")
    points: list[tuple[int, float | None]] = []
    for item in body.split(","):
        if ":" not in item:
            raise ScheduleError(f"{item.strip()!r} is not 'epoch:lr'")
        epoch_text, lr_text = item.split(":", 1)
        epoch = _parse_int(epoch_text, "epoch")
        if points and epoch <= points[-1][0]:
            raise ScheduleError(f"schedule keys out of order: {epoch} after {points[-1][0]}")
        points.append((epoch, parse_lr(lr_text)))
    if points[0][0] != 0:
        raise ScheduleError(f"the first key must be 0, not {points[0][0]}: a schedule must say its first LR")
    return Schedule("piecewise", tuple(points), total_epochs)


_PHRASE_STEP = re.compile(
    rf"^(?P<lr>{_NUM})\s*,\s*step(?:\s+decay)?\s*\((?P<ms>[\d\s/,]+)\)(?:\s*,?\s*(?:gamma|x|×)\s*=?\s*(?P<g>{_NUM}))?$",
    re.IGNORECASE,
)
_PHRASE_FIXED = re.compile(rf"^(?P<lr>{_NUM})\s*,\s*(?:fixed|constant)$", re.IGNORECASE)
_PHRASE_COS = re.compile(
    rf"^(?P<lr>{_NUM})\s*,\s*cosine(?:\s+annealing)?(?:\s*\(\s*(?:min\s*=?\s*)?(?P<min>{_NUM})\s*\))?$", re.IGNORECASE
)


def parse_phrase(text: str, total_epochs: int | None = None, gamma: float | None = None) -> Schedule:
    """Parse the seed's Tab. 3 phrases.

    ``0.01, step decay (30/60/75)`` (decay factor ``gamma`` not stated in the phrase: ``None``
    unless given), ``0.001, fixed``, ``0.01, cosine annealing`` (minimum not stated), ``0.01``
    (only the initial LR).
    """
    t = " ".join(text.strip().split())
    if m := _PHRASE_STEP.match(t):
        milestones = [_parse_int(x, "milestone") for x in re.split(r"[/,\s]+", m["ms"].strip()) if x]
        g = float(m["g"]) if m["g"] else gamma
        return step(float(m["lr"]), milestones, g, total_epochs)
    if m := _PHRASE_FIXED.match(t):
        return fixed(float(m["lr"]), total_epochs)
    if m := _PHRASE_COS.match(t):
        return cosine(float(m["lr"]), float(m["min"]) if m["min"] else None, total_epochs)
    if _NUM_RE.match(t):
        lr = float(t)
        _check_lr(lr)
        return initial_only(lr, total_epochs)
    raise ScheduleError(f"cannot read schedule phrase {text.strip()!r}")


def parse_schedule(text: str, total_epochs: int | None = None) -> Schedule:
    """Parse any textual schedule: the canonical form, the seed's notation or a Tab. 3 phrase.

    ``total_epochs`` supplies the length when the text does not say it; when both do, they must agree.
    """
    if not isinstance(text, str):
        raise ScheduleError(f"a schedule must be text, not {type(text).__name__}")
    parts = [p.strip() for p in text.strip().split(";")]
    if not parts or not parts[0]:
        raise ScheduleError("empty schedule")
    total: int | None = None
    warmup: tuple[int, float] | None = None
    if parts[-1].startswith("total"):
        m = re.fullmatch(r"total\s*=\s*(\S+)", parts[-1])
        if not m:
            raise ScheduleError(f"cannot read {parts[-1]!r} (expected 'total=N')")
        total = _parse_int(m[1], "total epochs")
        parts = parts[:-1]
    if parts and parts[0].startswith("warmup"):
        m = re.fullmatch(r"warmup\s+(\S+)\s+from\s+(\S+)", parts[0])
        if not m:
            raise ScheduleError(f"cannot read {parts[0]!r} (expected 'warmup N from LR')")
        start = parse_lr(m[2])
        if start is None:
            raise ScheduleError("the warmup's starting LR must be given")
        warmup = (_parse_int(m[1], "warmup epochs"), start)
        parts = parts[1:]
    if len(parts) != 1 or not parts[0]:
        raise ScheduleError(f"cannot read schedule {text.strip()!r}")
    body = parts[0]
    if total is not None and total_epochs is not None and total != total_epochs:
        raise ScheduleError(f"schedule says total={total} but its stage has {total_epochs} epochs")
    total = total if total is not None else total_epochs
    if m := re.fullmatch(r"cosine\s+(\S+?)\s*->\s*(\S+)", body):
        lr0 = parse_lr(m[1])
        if lr0 is None:
            raise ScheduleError("the initial LR must be given")
        sched = cosine(lr0, parse_lr(m[2]), total)
    elif m := re.fullmatch(r"lr\s+(\S+)", body):
        lr0 = parse_lr(m[1])
        if lr0 is None:
            raise ScheduleError("the initial LR must be given")
        sched = initial_only(lr0, total)
    elif ":" in body and "," not in body.split(":", 1)[0] and re.match(r"^\s*\d", body):
        sched = parse_piecewise(body, total)
    else:
        sched = parse_phrase(body, total)
    if warmup is not None:
        sched = with_warmup(sched, *warmup)
    return sched


def schedule_from_data(data: Any, total_epochs: int | None = None) -> Schedule:
    """Build a schedule from YAML data: a string (see :func:`parse_schedule`) or a mapping.

    Mapping forms::

        {type: step, lr: 0.1, milestones: [30, 60], gamma: 0.1}
        {type: fixed, lr: 0.001}
        {type: cosine, lr: 0.01, min_lr: 0}
        {type: piecewise, points: {0: 0.01, 30: 0.001}}
        {type: initial-only, lr: 0.01}
        ... plus optional ``total``, ``warmup_epochs`` and ``warmup_start_lr``.
    """
    if isinstance(data, Schedule):
        if total_epochs is not None and data.total_epochs is None:
            return data.with_total(total_epochs)
        if total_epochs is not None and data.total_epochs != total_epochs:
            raise ScheduleError(f"schedule has {data.total_epochs} epochs but its stage has {total_epochs}")
        return data
    if isinstance(data, str):
        return parse_schedule(data, total_epochs)
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        _check_lr(data)
        return initial_only(float(data), total_epochs)
    if not isinstance(data, dict):
        raise ScheduleError(f"a schedule must be text or a mapping, not {type(data).__name__}")
    allowed = {"type", "lr", "milestones", "gamma", "min_lr", "points", "total", "warmup_epochs", "warmup_start_lr"}
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        raise ScheduleError(f"unknown schedule field(s): {', '.join(extra)}")
    kind = data.get("type")
    total = data.get("total")
    if total is not None:
        if isinstance(total, bool) or not isinstance(total, int):
            raise ScheduleError(f"total epochs {total!r} is not an integer")
        if total_epochs is not None and total != total_epochs:
            raise ScheduleError(f"schedule says total={total} but its stage has {total_epochs} epochs")
    total = total if total is not None else total_epochs

    def num(key: str, required: bool = True) -> float | None:
        v = data.get(key)
        if v is None:
            if required:
                raise ScheduleError(f"a {kind} schedule needs '{key}'")
            return None
        _check_lr(v)
        return float(v)

    if kind == "step":
        ms = data.get("milestones")
        if not isinstance(ms, list):
            raise ScheduleError("a step schedule needs 'milestones' as a list of epochs")
        prev = 0
        for m in ms:
            if isinstance(m, bool) or not isinstance(m, int) or m <= prev:
                raise ScheduleError(f"milestones must be increasing positive integers (got {ms})")
            prev = m
        sched = step(num("lr"), ms, num("gamma", required=False) if "gamma" in data else None, total)  # type: ignore[arg-type]
    elif kind == "fixed":
        sched = fixed(num("lr"), total)  # type: ignore[arg-type]
    elif kind == "cosine":
        sched = cosine(num("lr"), num("min_lr", required=False), total)  # type: ignore[arg-type]
    elif kind == "initial-only":
        sched = initial_only(num("lr"), total)  # type: ignore[arg-type]
    elif kind == "piecewise":
        pts = data.get("points")
        if not isinstance(pts, dict) or not pts:
            raise ScheduleError("a piecewise schedule needs 'points' as a mapping epoch -> LR")
        items: list[tuple[int, float | None]] = []
        for k, v in pts.items():
            if isinstance(k, bool) or not isinstance(k, int):
                raise ScheduleError(f"epoch {k!r} is not an integer")
            if v is not None:
                _check_lr(v)
            items.append((k, None if v is None else float(v)))
        for (a, _), (b, _) in zip(items, items[1:]):
            if b <= a:
                raise ScheduleError(f"schedule keys out of order: {b} after {a}")
        if items[0][0] != 0:
            raise ScheduleError(f"the first key must be 0, not {items[0][0]}: a schedule must say its first LR")
        sched = piecewise(items, total)
    else:
        raise ScheduleError(
            f"unknown schedule type {kind!r} (expected step, fixed, cosine, piecewise or initial-only)"
        )
    if data.get("warmup_epochs"):
        w = data["warmup_epochs"]
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise ScheduleError(f"warmup epochs must be a non-negative integer (got {w!r})")
        start = data.get("warmup_start_lr")
        if start is None:
            raise ScheduleError("a warmup needs 'warmup_start_lr' (the LR it starts from)")
        _check_lr(start)
        sched = with_warmup(sched, w, start)
    return sched
