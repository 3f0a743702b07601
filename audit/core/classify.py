"""The setup classifier: the strongest comparison setup (the seed's Tab. 2, Sec. 3.2) two results satisfy.

Pure functions, no I/O.  Every criterion has one of four outcomes:

* ``same`` -- both sides state equal values;
* ``same (inferred)`` -- equal, but at least one side's value is inferred, not stated (the
  justification is kept);
* ``differs`` -- both values are known and differ (both are shown);
* ``unknown`` -- a side did not report the value (which side is said).  ``unknown`` never counts
  as ``same``.

The S-chain is linear: each level adds one criterion to the one below it --

====== ===================================================================================
S1     same dataset and network (else *not comparable*), same metric (top-1), same speedup
       within a relative tolerance (default 5 %, ``|a - b| / max(a, b)``)
S2     + same base model (identity; equal base accuracy without an identity is reported as
       "same accuracy, identity unknown" and does not satisfy S2 unless
       ``accept_base_accuracy=True``)
S3.1   + same finetuning epochs
S3.2   + same finetuning LR schedule (equal LR at every epoch; implies S3.1)
S4.1   + same pruning-stage epochs (one-shot = 0)
S4.2   + same pruning-stage LR schedule (implies S4.1; two one-shot pipelines are equal)
====== ===================================================================================

SX-A (same total epochs of pretraining + pruning + finetuning) and SX-B (same total cost in
dense-epoch units, ``pretrain + prune + finetune / speedup``, within the tolerance) are flags
beside the chain.  A scratch-training result is a pipeline whose base is a random initialization,
whose "finetuning" slot is its scratch stage and whose pruning stage is empty; its SX totals are
``scratch epochs`` and ``scratch epochs / speedup``.

When the speedups differ beyond the tolerance, a Pareto dominance (at least the accuracy at a
higher speedup) keeps the pair informative and the chain is evaluated on the other criteria;
without one the pair is "not comparable at this rate".

Two entry points share the criteria: :func:`classify` explains one pair (what the CLI prints)
and :func:`classify_all` classifies every pair within each (dataset, network) group at once
with numpy (imported lazily), for the audit matrix and the benchmark.  :func:`features`
extracts what the classifier needs from a result once, so no pydantic attribute access happens
per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.core.rules import Rule1, rule1
from audit.core.schedule import Schedule
from audit.core.setups import CHAIN, Level, Outcome, pareto_dominance

__all__ = [
    "CHAIN",
    "CRITERIA",
    "Comparison",
    "Criterion",
    "Feat",
    "Significance",
    "classify",
    "classify_all",
    "features",
    "features_of_entry",
    "welch",
]

SAME, SAME_INFERRED, DIFFERS, UNKNOWN = (o.code for o in Outcome)
OUTCOMES = tuple(Outcome)
"""The outcomes by code (the vectorised classifier's int8 arrays hold these codes)."""

RATE = "speedup"
BASE = "base model"
FT_EPOCHS = "finetuning epochs"
FT_LR = "finetuning LR schedule"
PR_EPOCHS = "pruning epochs"
PR_LR = "pruning LR schedule"
CRITERIA = (RATE, BASE, FT_EPOCHS, FT_LR, PR_EPOCHS, PR_LR)
"""The S-chain's criteria in order: level ``CHAIN[k]`` needs the first ``k + 1`` of them."""
SX_A = Level.SX_A
SX_B = Level.SX_B

NOT_COMPARABLE = Level.NOT_COMPARABLE
NOT_AT_RATE = Level.NOT_AT_RATE
RATE_UNKNOWN = Level.RATE_UNKNOWN

#: Short words for the "inferred" label of a level ("S3.2, base model inferred").
_INFERRED_WORDS = {RATE: "speedup", BASE: "base model", FT_EPOCHS: "finetuning epochs", FT_LR: "finetuning LR",
                   PR_EPOCHS: "pruning epochs", PR_LR: "pruning LR"}

RANDOM_INIT = "random initialization"


# ---------------------------------------------------------------------- features
@dataclass(eq=False, slots=True)
class Feat:
    """What the classifier needs from one result, extracted once (plain attributes, no pydantic)."""

    key: str
    method: str
    dataset: str
    network: str
    top1: float
    std: float | None = None
    runs: int | None = None
    speedup: float | None = None
    speedup_inf: str | None = None
    base_id: str | None = None
    """Base identity as reported (``None``: not reported)."""
    base_key: str | None = None
    """Comparison key of the base identity (case-folded; "own training" is specific to the paper)."""
    base_inf: str | None = None
    base_top1: float | None = None
    ft_epochs: int | None = None
    ft_epochs_inf: str | None = None
    ft_sched: Schedule | None = None
    ft_sched_inf: str | None = None
    pr_epochs: int | None = None
    pr_epochs_inf: str | None = None
    pr_sched: Schedule | None = None
    pr_sched_inf: str | None = None
    pr_iters: int | None = None
    """Pruning-stage optimizer steps, for stages reported in iterations rather than epochs."""
    pt_epochs: int | None = None
    pt_inf: str | None = None
    pipeline: str = "pruning"
    paper: str = ""
    label: str = ""
    source: str = ""
    variant: str | None = None

    @property
    def pr_key(self) -> int | str | None:
        """Pruning epochs for comparison: the count, ``"+"`` (not reported but > 0: the stage has an LR
        schedule, and a 0-epoch stage has none), or ``None``."""
        if self.pr_epochs is not None:
            return self.pr_epochs
        return "+" if self.pr_sched is not None or self.pr_iters else None

    # derived totals --------------------------------------------------------------------------
    @property
    def total_epochs(self) -> int | None:
        """SX-A total: pretraining + pruning + finetuning epochs (scratch: its epochs)."""
        if self.pt_epochs is None or self.pr_epochs is None or self.ft_epochs is None:
            return None
        return self.pt_epochs + self.pr_epochs + self.ft_epochs

    @property
    def total_inf(self) -> str | None:
        parts = [x for x in (self.pt_inf, self.pr_epochs_inf, self.ft_epochs_inf) if x]
        return "; ".join(parts) or None

    @property
    def cost(self) -> float | None:
        """SX-B total in dense-epoch units: pretrain + prune + finetune / speedup."""
        if self.pt_epochs is None or self.pr_epochs is None or self.ft_epochs is None or not self.speedup:
            return None
        return self.pt_epochs + self.pr_epochs + self.ft_epochs / self.speedup

    @property
    def cost_inf(self) -> str | None:
        parts = [x for x in (self.total_inf, self.speedup_inf) if x]
        return "; ".join(parts) or None


def _base_key(identity: str | None, paper: str) -> str | None:
    if identity is None:
        return None
    key = " ".join(identity.strip().casefold().split())
    if key.startswith("own"):
        return f"{key}@{paper}"  # "own training" of one paper is not the base of another
    return key


def features(result: Any, *, key: str = "", method: str | None = None, paper: str = "", label: str = "",
             source: str = "") -> Feat:
    """Extract a :class:`Feat` from an :class:`audit.registry.schema.Result` (read once)."""
    r = result
    inf = r.inferred

    def why(path: str) -> str | None:
        return r.is_inferred(path) if inf else None

    top1 = r.top1
    comp = r.compression
    f = Feat(
        key=key or r.id,
        method=method or r.method,
        dataset=r.dataset,
        network=r.network,
        top1=float(top1.mean),
        std=top1.std,
        runs=top1.runs,
        speedup=comp.effective_speedup(),
        speedup_inf=why("compression.speedup"),
        pipeline=r.pipeline,
        paper=paper,
        label=label or (method or r.method),
        source=source,
        variant=r.variant,
    )
    if r.pipeline == "pruning":
        f.base_id = r.base.identity
        f.base_key = _base_key(r.base.identity, paper)
        f.base_inf = why("base.identity")
        f.base_top1 = r.base.top1
        ft, pr, pt = r.finetune, r.prune, r.pretrain
        if ft is not None:
            f.ft_epochs, f.ft_sched = ft.epochs, ft.lr_schedule
            f.ft_epochs_inf, f.ft_sched_inf = why("finetune.epochs"), why("finetune.lr_schedule")
        if pr is not None:
            f.pr_epochs, f.pr_sched, f.pr_iters = pr.epochs, pr.lr_schedule, pr.iterations
            f.pr_epochs_inf, f.pr_sched_inf = why("prune.epochs"), why("prune.lr_schedule")
        if pt is not None:
            f.pt_epochs, f.pt_inf = pt.epochs, why("pretrain.epochs")
    else:
        # Scratch training of the pruned architecture: random init, no pruning stage, no pretraining.
        f.base_id = RANDOM_INIT
        f.base_key = RANDOM_INIT
        f.pr_epochs = 0
        f.pt_epochs = 0
        sc = r.scratch
        if sc is not None:
            f.ft_epochs, f.ft_sched = sc.epochs, sc.lr_schedule
            f.ft_epochs_inf, f.ft_sched_inf = why("scratch.epochs"), why("scratch.lr_schedule")
    return f


def features_of_entry(entry: Any) -> Feat:
    """A :class:`Feat` from an :class:`audit.registry.store.Entry` (key, canonical method, paper, sources)."""
    r = entry.result
    source = "; ".join(f"{s.paper or entry.paper.id} {s.where}" for s in r.sources[:2])
    label = entry.method + (" (reimpl.)" if r.reimplementation_of else "")
    return features(r, key=entry.key, method=entry.method, paper=entry.paper.id, label=label, source=source)


# ---------------------------------------------------------------------- value comparators
def rel_mismatch(a: float, b: float) -> float:
    """Symmetric relative difference ``|a - b| / max(|a|, |b|)`` (0 when both are 0)."""
    m = max(abs(a), abs(b))
    return 0.0 if m == 0 else abs(a - b) / m


_SAME_AS_CACHE: dict[tuple[Schedule, Schedule], bool | None] = {}


def schedules_same(a: Schedule, b: Schedule) -> bool | None:
    """``Schedule.same_as`` with a cache (schedules are immutable and hashable)."""
    if a is b:
        return None if not a.is_complete else True
    k = (a, b)
    try:
        return _SAME_AS_CACHE[k]
    except KeyError:
        pass
    try:
        v = a.same_as(b)
    except Exception:  # defensive: an incomparable pair is unknown, never a crash
        v = None
    if len(_SAME_AS_CACHE) < 100_000:
        _SAME_AS_CACHE[k] = v
    return v


def _base_outcome(fa: Feat, fb: Feat) -> int:
    if fa.base_key is None or fb.base_key is None:
        return UNKNOWN
    return SAME if fa.base_key == fb.base_key else DIFFERS


def _eq_outcome(a: Any, b: Any) -> int:
    if a is None or b is None:
        return UNKNOWN
    return SAME if a == b else DIFFERS


def _sched_outcome(a: Schedule | None, b: Schedule | None) -> int:
    if a is None or b is None:
        return UNKNOWN
    v = schedules_same(a, b)
    return UNKNOWN if v is None else (SAME if v else DIFFERS)


def _pr_epochs_cmp(x: int | str, y: int | str) -> int:
    """Pruning-epoch keys (see :attr:`Feat.pr_key`); ``None`` handled by the caller."""
    if isinstance(x, int) and isinstance(y, int):
        return SAME if x == y else DIFFERS
    if x == 0 or y == 0:
        return DIFFERS  # one-shot vs a stage that has an LR schedule
    return UNKNOWN


def _pr_epochs_outcome(fa: Feat, fb: Feat) -> int:
    x, y = fa.pr_key, fb.pr_key
    if x is None or y is None:
        return UNKNOWN
    return _pr_epochs_cmp(x, y)


def _pr_sched_outcome(fa: Feat, fb: Feat) -> int:
    x, y = fa.pr_key, fb.pr_key
    if x == 0 and y == 0:
        return SAME  # two one-shot pruning stages: nothing to schedule
    if x is not None and y is not None and (x == 0) != (y == 0):
        return DIFFERS
    return _sched_outcome(fa.pr_sched, fb.pr_sched)


def _tol_outcome(a: float | None, b: float | None, tol: float) -> int:
    if a is None or b is None:
        return UNKNOWN
    return SAME if rel_mismatch(a, b) <= tol else DIFFERS


def _with_inferred(outcome: int, ia: str | None, ib: str | None) -> int:
    return SAME_INFERRED if outcome == SAME and (ia or ib) else outcome


# ---------------------------------------------------------------------- one pair, explained
class Criterion(BaseModel):
    """One criterion of one pair, explained."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    outcome: Outcome
    a: str = Field(description="A's value as text (n/r when not reported)")
    b: str = Field(description="B's value as text")
    note: str = Field(default="", description="why: the inferred justification, which side did not report, the mismatch")

    @property
    def ok(self) -> bool:
        """The criterion is met (``same`` or ``same (inferred)``)."""
        return self.outcome.ok

    def describe(self) -> str:
        """One phrase: ``finetuning epochs differs (90 vs 20)``, ``base model unknown (B did not report it)``."""
        if self.outcome is Outcome.SAME:
            return f"{self.name} same ({self.a})" + (f"; {self.note}" if self.note else "")
        if self.outcome is Outcome.SAME_INFERRED:
            return f"{self.name} same ({self.a}), inferred: {self.note}"
        if self.outcome is Outcome.DIFFERS:
            return f"{self.name} differs ({self.a} vs {self.b})" + (f"; {self.note}" if self.note else "")
        return f"{self.name} unknown ({self.note})" if self.note else f"{self.name} unknown"


class Significance(BaseModel):
    """Welch's t-test from summary statistics, or why it could not be run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tested: bool
    significant: bool | None = None
    p_value: float | None = None
    t: float | None = Field(default=None, description="Welch's t statistic")
    alpha: float = 0.05
    reason: str = Field(default="", description="why the test could not be run (empty when it ran)")
    short_reason: str = Field(default="", exclude=True)
    """The reason in the terminal's words (``no std or runs`` for ``neither side reports std or runs``)."""

    def describe(self) -> str:
        """``significant (Welch t = 2.10, p = 0.03)`` / ``not testable: REASON``."""
        if not self.tested:
            return f"not testable: {self.reason}"
        word = "significant" if self.significant else "not significant"
        return f"{word} (Welch t = {self.t:.2f}, p = {_p_text(self.p_value)})"


def _p_text(p: float | None) -> str:
    if p is None:
        return "n/r"
    return f"{p:.2g}" if p >= 0.001 else "<0.001"


def welch(fa: Feat, fb: Feat, alpha: float = 0.05) -> Significance:
    """Welch's t-test (``scipy.stats.ttest_ind_from_stats``, ``equal_var=False``) when both sides
    report mean, std and runs (>= 2); otherwise say what is missing."""
    lacks: list[tuple[str, str]] = []
    for name, f in (("A", fa), ("B", fb)):
        what = [w for w, v in (("std", f.std), ("runs", f.runs)) if v is None]
        if not what and f.runs is not None and f.runs < 2:
            what = ["a second run"]
        if what:
            lacks.append((f.label or name, " or ".join(what)))
    if lacks:
        if len(lacks) == 2 and lacks[0][1] == lacks[1][1]:
            reason, short = f"neither side reports {lacks[0][1]}", f"no {lacks[0][1]}"
        else:
            reason = short = "; ".join(f"{who} reports no {what}" for who, what in lacks)
        return Significance(tested=False, alpha=alpha, reason=reason, short_reason=short)
    assert fa.std is not None and fb.std is not None and fa.runs is not None and fb.runs is not None
    if fa.std == 0 and fb.std == 0:
        return Significance(tested=False, alpha=alpha, reason="both stds are 0", short_reason="both stds are 0")
    from scipy.stats import ttest_ind_from_stats

    t, p = ttest_ind_from_stats(fa.top1, fa.std, fa.runs, fb.top1, fb.std, fb.runs, equal_var=False)
    t, p = float(t), float(p)
    return Significance(tested=True, p_value=p, t=t, significant=bool(p < alpha), alpha=alpha)


@dataclass
class Comparison:
    """The classification of one pair (A, B)."""

    a: Feat
    b: Feat
    tolerance: float
    rank: int
    """0 not comparable, 1 below S1 (rate differs without dominance, or unknown), 2..7 = S1..S4.2."""
    level: Level
    """``S3.2`` etc., or ``not comparable`` / ``not comparable at this rate`` / ``S1 not established``."""
    label: str
    """The level with its qualifiers: ``S3.2, base model inferred``; ``S2, A dominates at a different rate``."""
    inferred: list[str]
    criteria: dict[str, Criterion]
    sx: dict[str, Criterion]
    failed: dict[str, list[str]]
    """For each level above the one reached: the criteria (of that level's requirements) that are not ``same``."""
    dominance: Literal["A", "B"] | None
    """``A`` / ``B`` when the speedups differ and one Pareto-dominates the other."""
    rate_mismatch: float | None
    delta_top1: float
    delta_drop: float | None
    """(A's drop from its own base) − (B's drop from its own base): the S1 practice, given when the bases
    are not the same (differ or unknown) and both base accuracies are reported."""
    significance: Significance
    rule1: Rule1 | None = None
    """The App. A Rule 1 finding on the two finetuning schedules (``None``: same final LR or unknown)."""

    def blockers(self) -> list[Blocker]:
        """One entry per level above the one reached, in chain order (see :class:`Blocker`)."""
        out = []
        for lvl in CHAIN:
            if lvl not in self.failed:
                continue
            c = self.criteria[CRITERIA[CHAIN.index(lvl)]]
            names = self.failed[lvl]
            out.append(Blocker(lvl, c, None if not c.ok else (names[0] if names else "?")))
        return out

    def failed_text(self) -> list[str]:
        """``S4.1: pruning epochs differs (0 vs 30)`` lines, one per stronger level, naming only
        the criterion that level adds (lower failures are implied)."""
        return [b.text() for b in self.blockers()]


@dataclass(frozen=True)
class Blocker:
    """Why one level above the reached one fails: the criterion that level adds, or a lower one it needs."""

    level: Level
    criterion: Criterion
    """The criterion the level adds to the one below it."""
    needs: str | None
    """``None`` when :attr:`criterion` itself fails; else the name of the lower criterion that fails."""

    def text(self) -> str:
        """``S3.1: finetuning epochs differs (90 vs 20)`` / ``S4.2: needs pruning epochs``."""
        return f"{self.level}: needs {self.needs}" if self.needs is not None else f"{self.level}: {self.criterion.describe()}"


def _txt(v: Any) -> str:
    if v is None:
        return "n/r"
    if isinstance(v, Schedule):
        body = v.body_text()
        return body if v.total_epochs is None else f"{body} ({v.total_epochs} ep)"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _crit(name: str, outcome: int, va: Any, vb: Any, ia: str | None, ib: str | None, fa: Feat, fb: Feat,
          note: str = "") -> Criterion:
    outcome = _with_inferred(outcome, ia, ib)
    if outcome == UNKNOWN:
        sides = [f.label or s for s, f, v in (("A", fa, va), ("B", fb, vb)) if v is None]
        why = (" and ".join(sides) + " did not report it") if sides else ""
        note = "; ".join(x for x in (why, note) if x) or "not decidable from what is reported"
    elif outcome == SAME_INFERRED:
        just = [f"{f.label or s}: {i}" for s, f, i in (("A", fa, ia), ("B", fb, ib)) if i]
        note = "; ".join(just) + (f"; {note}" if note else "")
    return Criterion(name=name, outcome=OUTCOMES[outcome], a=_txt(va), b=_txt(vb), note=note)


def classify(fa: Feat, fb: Feat, tolerance: float = 0.05, accept_base_accuracy: bool = False,
             alpha: float = 0.05) -> Comparison:
    """Classify one pair and explain it (see the module docstring)."""
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive (got {tolerance})")
    delta = fa.top1 - fb.top1
    delta_drop = None
    if fa.base_top1 is not None and fb.base_top1 is not None:
        delta_drop = (fa.base_top1 - fa.top1) - (fb.base_top1 - fb.top1)
    if fa.dataset != fb.dataset or fa.network != fb.network:
        why = []
        if fa.dataset != fb.dataset:
            why.append(f"dataset {fa.dataset} vs {fb.dataset}")
        if fa.network != fb.network:
            why.append(f"network {fa.network} vs {fb.network}")
        crit = Criterion(name="dataset/network", outcome=Outcome.DIFFERS, a=f"{fa.dataset}/{fa.network}",
                         b=f"{fb.dataset}/{fb.network}")
        return Comparison(fa, fb, tolerance, 0, NOT_COMPARABLE, f"{NOT_COMPARABLE} ({', '.join(why)})", [],
                          {"dataset/network": crit}, {}, {lvl: ["dataset/network"] for lvl in CHAIN}, None, None,
                          delta, delta_drop, Significance(tested=False, reason="different dataset or network",
                                                          short_reason="different dataset or network"))

    # S1: speedup
    mismatch = None if fa.speedup is None or fb.speedup is None else rel_mismatch(fa.speedup, fb.speedup)
    rate_o = _tol_outcome(fa.speedup, fb.speedup, tolerance)
    rate_note = "" if mismatch is None else f"mismatch {mismatch * 100:.1f}% (tolerance {tolerance * 100:g}%)"
    crits: dict[str, Criterion] = {}
    crits[RATE] = _crit(RATE, rate_o, _sp(fa.speedup), _sp(fb.speedup), fa.speedup_inf, fb.speedup_inf, fa, fb,
                        rate_note)
    dominance: Literal["A", "B"] | None = None
    if rate_o == DIFFERS:
        dominance = _DOMINANT.get(pareto_dominance(_nan(fa.speedup), fa.top1, _nan(fb.speedup), fb.top1))

    # S2: base model
    base_o = _base_outcome(fa, fb)
    base_note = ""
    if base_o == UNKNOWN and fa.base_top1 is not None and fa.base_top1 == fb.base_top1:
        base_note = f"same accuracy ({fa.base_top1:g}), identity unknown"
        if accept_base_accuracy:
            base_o = SAME
            fa_inf = fa.base_inf or ("identity unknown, same base accuracy" if fa.base_id is None else None)
            fb_inf = fb.base_inf or ("identity unknown, same base accuracy" if fb.base_id is None else None)
            crits[BASE] = _crit(BASE, base_o, fa.base_id or f"top-1 {fa.base_top1:g}",
                                fb.base_id or f"top-1 {fb.base_top1:g}", fa_inf, fb_inf, fa, fb)
    if BASE not in crits:
        crits[BASE] = _crit(BASE, base_o, fa.base_id, fb.base_id, fa.base_inf, fb.base_inf, fa, fb, base_note)
    crits[FT_EPOCHS] = _crit(FT_EPOCHS, _eq_outcome(fa.ft_epochs, fb.ft_epochs), fa.ft_epochs, fb.ft_epochs,
                             fa.ft_epochs_inf, fb.ft_epochs_inf, fa, fb)
    ft_o = _sched_outcome(fa.ft_sched, fb.ft_sched)
    ft_note = ""
    if ft_o == UNKNOWN and fa.ft_sched is not None and fb.ft_sched is not None:
        ft_note = "a schedule is only partly reported"
    crits[FT_LR] = _crit(FT_LR, ft_o, fa.ft_sched, fb.ft_sched, fa.ft_sched_inf, fb.ft_sched_inf, fa, fb, ft_note)
    crits[PR_EPOCHS] = _crit(PR_EPOCHS, _pr_epochs_outcome(fa, fb), _pr_text(fa.pr_key), _pr_text(fb.pr_key),
                             fa.pr_epochs_inf, fb.pr_epochs_inf, fa, fb)
    pr_o = _pr_sched_outcome(fa, fb)
    pa = fa.pr_sched if fa.pr_key != 0 else "none (one-shot)"
    pb = fb.pr_sched if fb.pr_key != 0 else "none (one-shot)"
    pr_note = "a schedule is only partly reported" if pr_o == UNKNOWN and pa is not None and pb is not None else ""
    crits[PR_LR] = _crit(PR_LR, pr_o, pa, pb, fa.pr_sched_inf, fb.pr_sched_inf, fa, fb, pr_note)

    # walk the chain
    chain_ok = [crits[c].ok for c in CRITERIA]
    rate_passes = chain_ok[0] or dominance is not None
    k = 0
    if rate_passes:
        k = 1
        while k < len(CRITERIA) and chain_ok[k]:
            k += 1
    failed: dict[str, list[str]] = {}
    for i in range(k, len(CHAIN)):
        failed[CHAIN[i]] = [c for j, c in enumerate(CRITERIA[: i + 1]) if not chain_ok[j]]
    inferred = [c for c in CRITERIA[:k] if crits[c].outcome == "same (inferred)"]
    if k == 0:
        rank = 1
        level = RATE_UNKNOWN if rate_o == UNKNOWN else NOT_AT_RATE
        label = level.label
        if rate_o == DIFFERS:
            label = f"{NOT_AT_RATE} ({crits[RATE].a} vs {crits[RATE].b}, no Pareto dominance)"
    else:
        rank = 1 + k
        level = CHAIN[k - 1]
        label = level.label
        if inferred:
            label += ", " + " and ".join(_INFERRED_WORDS[c] for c in inferred) + " inferred"
        if dominance is not None:
            who = fa.label if dominance == "A" else fb.label
            label += f"; speedups differ, {who} Pareto-dominates"

    sx = {
        SX_A.value: _crit(SX_A, _eq_outcome(fa.total_epochs, fb.total_epochs), fa.total_epochs, fb.total_epochs,
                    fa.total_inf, fb.total_inf, fa, fb),
        SX_B.value: _sx_b(fa, fb, tolerance),
    }
    if crits[BASE].ok:
        delta_drop = None  # same base: the drop differs from Δ top-1 only through the base accuracy entries
    return Comparison(fa, fb, tolerance, rank, level, label, inferred, crits, sx, failed, dominance, mismatch,
                      delta, delta_drop, welch(fa, fb, alpha), rule1(fa.ft_sched, fb.ft_sched, fa.label, fb.label))


def _pr_text(v: int | str | None) -> int | str | None:
    if v == 0:
        return "0 (one-shot)"
    return "> 0 (n/r; the stage has an LR)" if v == "+" else v


def _sp(v: float | None) -> str | None:
    return None if v is None else f"{v:.2f}×"


def _sx_b(fa: Feat, fb: Feat, tol: float) -> Criterion:
    ca, cb = fa.cost, fb.cost
    o = _tol_outcome(ca, cb, tol)
    note = ""
    if ca is not None and cb is not None:
        note = f"dense-epoch units; mismatch {rel_mismatch(ca, cb) * 100:.1f}%"
    return _crit(SX_B, o, None if ca is None else round(ca, 2), None if cb is None else round(cb, 2),
                 fa.cost_inf, fb.cost_inf, fa, fb, note)


_DOMINANT: dict[int, Literal["A", "B"]] = {1: "A", 2: "B"}


def _nan(v: float | None) -> float:
    return float("nan") if v is None else v


# ---------------------------------------------------------------------- all pairs at once
@dataclass
class PairTable:
    """Every pair ``(i, j)``, ``i < j``, within each (dataset, network) group: numpy arrays."""

    i: Any
    j: Any
    rank: Any
    """As :attr:`Comparison.rank` (2..7 = S1..S4.2)."""
    inferred: Any
    """True when the level is reached only through an inferred value."""
    sx_a: Any
    """Outcome codes 0..3 (``OUTCOMES``)."""
    sx_b: Any
    dominance: Any
    """0 none, 1 A (= i) dominates, 2 B (= j) dominates."""

    def __len__(self) -> int:
        return int(self.i.shape[0])


def _codes(values: Sequence[Any]) -> tuple[list[int], list[Any]]:
    """Dense codes of hashable values; ``None`` gets code 0 and ``distinct[0] is None``."""
    distinct: list[Any] = [None]
    index: dict[Any, int] = {}
    out = []
    for v in values:
        if v is None:
            out.append(0)
            continue
        c = index.get(v)
        if c is None:
            c = index[v] = len(distinct)
            distinct.append(v)
        out.append(c)
    return out, distinct


def _table_outcome(np: Any, values: Sequence[Any], compare: Any, iu: Any, ju: Any) -> Any:
    """Outcome codes of ``compare(x, y)`` over the pairs, through a table of the distinct values."""
    codes, distinct = _codes(values)
    u = len(distinct)
    table = np.full((u, u), UNKNOWN, dtype=np.int8)
    for x in range(1, u):
        for y in range(1, u):
            table[x, y] = compare(distinct[x], distinct[y])
    c = np.asarray(codes, dtype=np.int32)
    return table[c[iu], c[ju]]


def _num_outcome(np: Any, values: Sequence[float | None], iu: Any, ju: Any, tol: float | None) -> Any:
    arr = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    a, b = arr[iu], arr[ju]
    unknown = np.isnan(a) | np.isnan(b)
    if tol is None:
        same = a == b
    else:
        m = np.maximum(np.abs(a), np.abs(b))
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(m > 0, np.abs(a - b) / np.where(m > 0, m, 1.0), 0.0)
        same = rel <= tol
    out = np.where(same, SAME, DIFFERS).astype(np.int8)
    out[unknown] = UNKNOWN
    return out


def _inferred_mask(np: Any, flags: Sequence[Any], iu: Any, ju: Any) -> Any:
    arr = np.fromiter((bool(x) for x in flags), dtype=bool, count=len(flags))
    return arr[iu] | arr[ju]


def _mark(np: Any, outcome: Any, inf: Any) -> Any:
    return np.where((outcome == SAME) & inf, SAME_INFERRED, outcome).astype(np.int8)


def _group_pairs(np: Any, feats: Sequence[Feat], tol: float, accept_base_accuracy: bool) -> tuple:
    n = len(feats)
    iu, ju = np.triu_indices(n, k=1)
    sp = [f.speedup for f in feats]
    rate = _mark(np, _num_outcome(np, sp, iu, ju, tol), _inferred_mask(np, [f.speedup_inf for f in feats], iu, ju))
    spa = np.array([np.nan if v is None else v for v in sp])
    top = np.array([f.top1 for f in feats])
    sa, sb, ta, tb = spa[iu], spa[ju], top[iu], top[ju]
    dom = np.where(rate == DIFFERS, pareto_dominance(sa, ta, sb, tb), 0).astype(np.int8)

    base = _table_outcome(np, [f.base_key for f in feats], lambda x, y: SAME if x == y else DIFFERS, iu, ju)
    if accept_base_accuracy:
        bt = _num_outcome(np, [f.base_top1 for f in feats], iu, ju, None)
        base = np.where((base == UNKNOWN) & (bt == SAME), SAME, base).astype(np.int8)
        inf_b = _inferred_mask(np, [f.base_inf or f.base_key is None for f in feats], iu, ju)
    else:
        inf_b = _inferred_mask(np, [f.base_inf for f in feats], iu, ju)
    base = _mark(np, base, inf_b)
    fte = _mark(np, _num_outcome(np, [f.ft_epochs for f in feats], iu, ju, None),
                _inferred_mask(np, [f.ft_epochs_inf for f in feats], iu, ju))
    fts = _mark(np, _table_outcome(np, [f.ft_sched for f in feats], _sched_code, iu, ju),
                _inferred_mask(np, [f.ft_sched_inf for f in feats], iu, ju))
    pkeys = [f.pr_key for f in feats]
    pre = _mark(np, _table_outcome(np, pkeys, _pr_epochs_cmp, iu, ju),
                _inferred_mask(np, [f.pr_epochs_inf for f in feats], iu, ju))
    # pruning schedule: one-shot/one-shot is same; one-shot vs a stage is differs
    prs_raw = _table_outcome(np, [f.pr_sched for f in feats], _sched_code, iu, ju)
    pe = np.array([-1 if k is None else (-2 if k == "+" else k) for k in pkeys])
    pa, pb = pe[iu], pe[ju]
    prs = np.where((pa == 0) & (pb == 0), SAME,
                   np.where((pa != -1) & (pb != -1) & ((pa == 0) != (pb == 0)), DIFFERS, prs_raw)).astype(np.int8)
    prs = _mark(np, prs, _inferred_mask(np, [f.pr_sched_inf for f in feats], iu, ju))

    ok = [(o <= SAME_INFERRED) for o in (rate, base, fte, fts, pre, prs)]
    infs = [(o == SAME_INFERRED) for o in (rate, base, fte, fts, pre, prs)]
    passes = ok[0] | (dom > 0)
    k = passes.astype(np.int8)
    run = passes.copy()
    inferred = infs[0] & run
    for c in range(1, 6):
        run &= ok[c]
        k += run
        inferred |= infs[c] & run
    rank = np.where(k > 0, k + 1, 1).astype(np.int8)
    sxa = _mark(np, _num_outcome(np, [f.total_epochs for f in feats], iu, ju, None),
                _inferred_mask(np, [f.total_inf for f in feats], iu, ju))
    sxb = _mark(np, _num_outcome(np, [f.cost for f in feats], iu, ju, tol),
                _inferred_mask(np, [f.cost_inf for f in feats], iu, ju))
    return iu, ju, rank, inferred, sxa, sxb, dom


def _sched_code(x: Schedule, y: Schedule) -> int:
    return _sched_outcome(x, y)


def classify_all(feats: Sequence[Feat], tolerance: float = 0.05, accept_base_accuracy: bool = False) -> PairTable:
    """Classify every pair within each (dataset, network) group (vectorized; numpy imported here).

    Indices refer to ``feats``; pairs across groups are *not comparable* and are not listed.
    Levels agree with :func:`classify` (the tests check it on random pairs).
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive (got {tolerance})")
    import numpy as np

    groups: dict[tuple[str, str], list[int]] = {}
    for idx, f in enumerate(feats):
        groups.setdefault((f.dataset, f.network), []).append(idx)
    parts: list[tuple] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        sub = [feats[m] for m in members]
        iu, ju, rank, inf, sxa, sxb, dom = _group_pairs(np, sub, tolerance, accept_base_accuracy)
        m = np.asarray(members, dtype=np.int64)
        parts.append((m[iu], m[ju], rank, inf, sxa, sxb, dom))
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        z = np.zeros(0, dtype=np.int8)
        return PairTable(e, e.copy(), z, z.astype(bool), z.copy(), z.copy(), z.copy())
    cols = list(zip(*parts))
    return PairTable(*(np.concatenate(c) for c in cols))


def rank_name(rank: int) -> Level:
    """Level of a rank from :class:`PairTable` / :class:`Comparison` (2..7 = S1..S4.2, 1 below S1, 0 none)."""
    return Level.of_rank(rank)


def level_rank(level: str) -> int:
    """Rank of a level name (``S3.2`` -> 5); :class:`ValueError` for a name that is not a level."""
    return Level(level).rank


def iter_feats(entries: Iterable[Any]) -> list[Feat]:
    """Features of registry entries, in order."""
    return [features_of_entry(e) for e in entries]
