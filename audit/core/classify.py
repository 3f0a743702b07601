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

Each criterion is declared once, as a :class:`Spec` of :data:`SPECS` (the chain) or :data:`SX_SPECS`
(name, value extractor, comparator, inferred flag, shown value), and two entry points iterate that
declaration: :func:`classify` explains one pair (what the CLI prints) and :func:`classify_all`
classifies every pair within each (dataset, network) group at once with numpy (imported lazily), for
the audit matrix and the benchmark.  :func:`features`
extracts what the classifier needs from a result once, so no pydantic attribute access happens
per pair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.core.fmt import half_unit
from audit.core.rules import Rule1, rule1
from audit.core.schedule import Schedule
from audit.core.setups import CHAIN, Level, Outcome, pareto_dominance

__all__ = [
    "BASE", "CRITERIA", "FT_EPOCHS", "FT_LR", "NOT_AT_RATE", "NOT_COMPARABLE", "OUTCOMES", "PR_EPOCHS", "PR_LR",
    "RANDOM_INIT", "RATE", "RATE_UNKNOWN", "SPECS", "SX_A", "SX_B", "SX_SPECS", "Blocker", "Comparison", "accuracy_delta",
    "Criterion", "Feat", "Options", "PairTable", "Significance", "Spec", "classify", "classify_all", "features",
    "features_of_entry", "is_scratch", "level_rank", "overall_schedule", "rank_name", "ratio_text", "rel_mismatch",
    "schedules_same", "welch", "ARCH", "OVERALL",
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

RANDOM_INIT = "random initialization"


# ---------------------------------------------------------------------- features
@dataclass(eq=False, slots=True)
class Feat:
    """What the classifier needs from one result, extracted once (plain attributes, no pydantic)."""

    key: str
    method: str
    dataset: str
    network: str
    top1: float | None
    """Top-1 in percent (printed, from the error rate, or base + printed change); ``None`` when only a
    change from an unreported base is known (see :attr:`gain`)."""
    gain: float | None = None
    """Top-1 change pruned - base in percentage points (printed, or from top-1 and base top-1)."""
    std: float | None = None
    runs: int | None = None
    speedup: float | None = None
    speedup_inf: str | None = None
    speedup_derived: bool = False
    """True when the speedup is not printed but derived (FLOPs reduction, counts or pruning ratios)."""
    base_id: str | None = None
    """Base identity as reported (``None``: not reported)."""
    base_key: str | None = None
    """Comparison key of the base identity (case-folded; "own training" is specific to the paper)."""
    base_inf: str | None = None
    base_top1: float | None = None
    base_hu: float = 0.0
    """Half a unit in the last printed place of ``base_top1`` (its rounding interval)."""
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
    pt_sched: Schedule | None = None
    """Pretraining LR schedule (the head of the overall schedule when pruning happens mid-training)."""
    ratio_key: tuple | None = None
    """The pruned architecture as printed: (uniform ratio or layer-wise ratios, skip list, per-conv
    ratios); two results with equal keys on one network have the same pruned architecture."""
    pipeline: str = "pruning"
    paper: str = ""
    label: str = ""
    source: str = ""
    """The first two sources, joined with ``; `` (``paper where``)."""
    sources: tuple[str, ...] = ()
    """Every source as ``paper where``."""
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
    value = r.top1_value
    f = Feat(
        key=key or r.id,
        method=method or r.method,
        dataset=r.dataset,
        network=r.network,
        top1=None if value is None else float(value),
        gain=r.top1_gain,
        std=None if top1 is None else top1.std,
        runs=None if top1 is None else top1.runs,
        speedup=r.speedup,
        speedup_derived=comp.speedup is None and r.speedup is not None,
        speedup_inf=why("compression.speedup"),
        pipeline=r.pipeline,
        paper=paper,
        label=label or (method or r.method),
        source=source,
        variant=r.variant,
    )
    if comp.pruning_ratio is not None or comp.layerwise_ratios is not None or comp.conv_ratios is not None:
        f.ratio_key = (comp.pruning_ratio, tuple(comp.layerwise_ratios or ()), tuple(comp.skip or ()),
                       tuple(comp.conv_ratios or ()))
    if r.pipeline == "pruning":
        f.base_id = r.base.identity
        f.base_key = _base_key(r.base.identity, paper)
        f.base_inf = why("base.identity")
        f.base_top1 = r.base.top1
        if r.base.top1 is not None:
            f.base_hu = half_unit(None, r.base.top1)  # refined from the printed text by features_of_entry
        ft, pr, pt = r.finetune, r.prune, r.pretrain
        if ft is not None:
            f.ft_epochs, f.ft_sched = ft.total_epochs, ft.lr_schedule  # over all repeats; None if symbolic
            f.ft_epochs_inf, f.ft_sched_inf = why("finetune.epochs"), why("finetune.lr_schedule")
        if pr is not None:
            f.pr_epochs, f.pr_sched, f.pr_iters = pr.total_epochs, pr.lr_schedule, pr.iterations
            f.pr_epochs_inf, f.pr_sched_inf = why("prune.epochs"), why("prune.lr_schedule")
        if pt is not None:
            f.pt_epochs, f.pt_inf = pt.epochs, why("pretrain.epochs")
            f.pt_sched = pt.lr_schedule
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
    sources = tuple(f"{s.paper or entry.paper.id} {s.where}" for s in r.sources)
    label = entry.method + (" (reimpl.)" if r.reimplementation_of else "")
    f = features(r, key=entry.key, method=entry.method, paper=entry.paper.id, label=label,
                 source="; ".join(sources[:2]))
    f.sources = sources
    if f.base_top1 is not None:
        printed = getattr(entry, "printed", {})  # the accuracy's own text, else the error rate it comes from
        f.base_hu = half_unit(printed.get("base.top1") or printed.get("base.top1_error"), f.base_top1)
    return f


def accuracy_delta(fa: Feat, fb: Feat) -> float | None:
    """A's accuracy advantage over B in percentage points: the top-1 difference when both top-1 are
    known, else the difference of the top-1 changes (gain = pruned - base) when both are known (equal
    to the top-1 difference when the two share their base model); ``None`` otherwise."""
    if fa.top1 is not None and fb.top1 is not None:
        return fa.top1 - fb.top1
    if fa.gain is not None and fb.gain is not None:
        return fa.gain - fb.gain
    return None


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


def _sched_outcome(a: Schedule, b: Schedule) -> int:
    v = schedules_same(a, b)
    return UNKNOWN if v is None else (SAME if v else DIFFERS)


def _pr_epochs_cmp(x: int | str, y: int | str) -> int:
    """Pruning-epoch keys (see :attr:`Feat.pr_key`)."""
    if isinstance(x, int) and isinstance(y, int):
        return SAME if x == y else DIFFERS
    if x == 0 or y == 0:
        return DIFFERS  # one-shot vs a stage that has an LR schedule
    return UNKNOWN


def _with_inferred(outcome: int, ia: str | None, ib: str | None) -> int:
    return SAME_INFERRED if outcome == SAME and (ia or ib) else outcome


# ---------------------------------------------------------------------- the criteria, declared once
@dataclass(frozen=True)
class Options:
    """The classifier's options: the relative speedup tolerance and ``accept_base_accuracy``."""

    tolerance: float
    accept_base_accuracy: bool = False
    trust_identity: bool = False
    """Accept one base identity as the same base even when the printed base accuracies differ."""


@dataclass(frozen=True)
class Spec:
    """One comparison criterion: how to read it from a result and how to compare two readings.

    Both :func:`classify` (one pair, explained) and :func:`classify_all` (all pairs, vectorised) iterate
    :data:`SPECS`, so a criterion's meaning is written once.
    """

    name: str
    word: str
    """The criterion in the "inferred" qualifier of a level (``S3.2, base model inferred``)."""
    value: Callable[[Feat, Options], Any]
    """The comparison value of a side (hashable; ``None``: not reported)."""
    inferred: Callable[[Feat, Options], str | None]
    """Why a side's value is inferred rather than stated (``None``: stated)."""
    shown: Callable[[Feat, Options, bool], Any]
    """The value as shown for a side (``None``: n/r); the flag says whether the criterion is met."""
    compare: Callable[[Any, Any, Options], int] | None = None
    """Outcome code of two reported values; ``None``: numbers, equal (or within the tolerance if ``tolerant``)."""
    tolerant: bool = False
    note: Callable[[Feat, Feat, int, Options], str] | None = None
    """Extra explanation given the two sides and the outcome code."""
    partly: bool = False
    """An ``unknown`` outcome with both values shown means a partly reported schedule."""

    def outcome(self, va: Any, vb: Any, opts: Options) -> int:
        """The outcome code (``OUTCOMES``) of two comparison values, before the inferred mark."""
        if va is None or vb is None:
            return UNKNOWN
        if self.compare is not None:
            return self.compare(va, vb, opts)
        if self.tolerant:
            return SAME if rel_mismatch(va, vb) <= opts.tolerance else DIFFERS
        return SAME if va == vb else DIFFERS

    def explain(self, fa: Feat, fb: Feat, opts: Options) -> Criterion:
        """The criterion of one pair with its values and the reason for its outcome."""
        o = self.outcome(self.value(fa, opts), self.value(fb, opts), opts)
        va, vb = self.shown(fa, opts, o == SAME), self.shown(fb, opts, o == SAME)
        note = "" if self.note is None else self.note(fa, fb, o, opts)
        if self.partly and o == UNKNOWN and va is not None and vb is not None:
            note = "a schedule is only partly reported"
        return _crit(self.name, o, va, vb, self.inferred(fa, opts), self.inferred(fb, opts), fa, fb, note)

    def codes(self, np: Any, feats: Sequence[Feat], iu: Any, ju: Any, opts: Options) -> Any:
        """Outcome codes of the pairs ``(iu[k], ju[k])`` of ``feats`` (int8 array, inferred marks applied)."""
        values = [self.value(f, opts) for f in feats]
        if self.compare is None:
            out = _num_outcome(np, values, iu, ju, opts.tolerance if self.tolerant else None)
        else:
            cmp = self.compare
            out = _table_outcome(np, values, lambda x, y: cmp(x, y, opts), iu, ju)
        return _mark(np, out, _inferred_mask(np, [self.inferred(f, opts) for f in feats], iu, ju))


def _rate_value(f: Feat, opts: Options) -> Any:
    return None if f.speedup is None and f.ratio_key is None else (f.speedup, f.ratio_key)


def _rate_cmp(x: Any, y: Any, opts: Options) -> int:
    """The same operating point: the same printed pruning ratios on the same network (whatever speedups are
    printed), else speedups within the tolerance; unknown without either."""
    (sa, ka), (sb, kb) = x, y
    if ka is not None and ka == kb:
        return SAME
    if sa is None or sb is None:
        return UNKNOWN
    return SAME if rel_mismatch(sa, sb) <= opts.tolerance else DIFFERS


def _rate_shown(f: Feat, opts: Options, met: bool) -> str | None:
    if f.speedup is None:
        return None if f.ratio_key is None else ratio_text(f)
    return _sp(f.speedup)


def _rate_note(fa: Feat, fb: Feat, o: int, opts: Options) -> str:
    if o == SAME and fa.ratio_key is not None and fa.ratio_key == fb.ratio_key:
        return "same pruning ratios on the same network"
    if fa.speedup is None or fb.speedup is None:
        return ""
    return f"mismatch {rel_mismatch(fa.speedup, fb.speedup) * 100:.1f}% (tolerance {opts.tolerance * 100:g}%)"


_SAME_ACCURACY = "identity unknown, same base accuracy"


def _base_value(f: Feat, opts: Options) -> Any:
    return None if f.base_key is None and f.base_top1 is None else (f.base_key, f.base_top1, f.base_hu)


def _structured(key: str) -> bool:
    """A base identity that names one checkpoint unambiguously: an id such as
    ``torchvision/resnet50/imagenet1k_v1`` (no spaces, a slash) or a paper's own training."""
    return key.startswith("own") or ("/" in key and " " not in key.split("@", 1)[0])


def _acc_differs(ta: float | None, ha: float, tb: float | None, hb: float) -> bool:
    """Two printed base accuracies that no rounding reconciles (76.1 and 76.13 agree; 93.53 and 93.59 do not)."""
    return ta is not None and tb is not None and abs(ta - tb) > ha + hb + 1e-9


def _base_cmp(x: Any, y: Any, opts: Options) -> int:
    """The evidence is the identity **and** the printed base accuracy (issue-level rule of the classifier):

    * different identities differ; the same identity is the same base unless the two printed base
      accuracies differ beyond their printed precision (then it differs, with the note "same identity,
      base top-1 differs"; ``trust_identity`` accepts it as the same base instead) — the default is the
      strict reading, because a 0.05 gap between two evaluations of "one" checkpoint is as large as many
      claimed improvements;
    * without both identities, printed base accuracies that differ mean the bases differ; with
      ``accept_base_accuracy`` equal ones stand in for the missing identity; otherwise unknown.
    """
    (ka, ta, ha), (kb, tb, hb) = x, y
    differs = _acc_differs(ta, ha, tb, hb)
    if ka is not None and kb is not None:
        if ka != kb:
            # two checkpoint ids, or an own training, are different bases; two descriptions in prose
            # ("the authors' released checkpoint", "the repo's --pretrained model") may name one
            return DIFFERS if differs or (_structured(ka) and _structured(kb)) else UNKNOWN
        return DIFFERS if differs and not opts.trust_identity else SAME
    if differs:
        return DIFFERS
    if opts.accept_base_accuracy and ta is not None and tb is not None:
        return SAME
    return UNKNOWN


def _base_inferred(f: Feat, opts: Options) -> str | None:
    return f.base_inf or (_SAME_ACCURACY if opts.accept_base_accuracy and f.base_id is None else None)


def _base_shown(f: Feat, opts: Options, met: bool) -> str | None:
    if f.base_top1 is None:
        return f.base_id
    acc = f"top-1 {f.base_top1:g}"  # the printed base accuracy is evidence too
    return acc if f.base_id is None else f"{f.base_id} ({acc})"


def _base_note(fa: Feat, fb: Feat, o: int, opts: Options) -> str:
    differs = _acc_differs(fa.base_top1, fa.base_hu, fb.base_top1, fb.base_hu)
    if fa.base_key is not None and fa.base_key == fb.base_key and differs:
        word = "accepted as the same base (trust_identity)" if opts.trust_identity else "not the same base unless accepted"
        return (f"same identity, base top-1 differs by {abs(fa.base_top1 - fb.base_top1):.2f}; "  # type: ignore[operator]
                f"{word}")
    if o == UNKNOWN and fa.base_key is not None and fb.base_key is not None:
        return "identities given in prose: they may or may not name one checkpoint"
    if o == UNKNOWN:
        sides = [f.label or s for s, f in (("A", fa), ("B", fb)) if f.base_key is None and f.base_top1 is not None]
        why = f"{' and '.join(sides)} did not report it" if sides else ""
        same = (f"same accuracy ({fa.base_top1:g}), identity unknown"
                if fa.base_top1 is not None and fb.base_top1 is not None else "")
        return "; ".join(x for x in (why, same) if x)
    return ""


def _pr_lr_value(f: Feat, opts: Options) -> Any:
    k = f.pr_key
    return None if k is None else (k == 0, None if k == 0 else f.pr_sched)


def _pr_lr_cmp(x: Any, y: Any, opts: Options) -> int:
    (one_shot_a, sa), (one_shot_b, sb) = x, y
    if one_shot_a and one_shot_b:
        return SAME  # two one-shot pruning stages: nothing to schedule
    if one_shot_a != one_shot_b:
        return DIFFERS
    return UNKNOWN if sa is None or sb is None else _sched_outcome(sa, sb)


def _sx_b_note(fa: Feat, fb: Feat, o: int, opts: Options) -> str:
    ca, cb = fa.cost, fb.cost
    return "" if ca is None or cb is None else f"dense-epoch units; mismatch {rel_mismatch(ca, cb) * 100:.1f}%"


SPECS = (
    Spec(RATE, "speedup", _rate_value, lambda f, o: f.speedup_inf, _rate_shown, compare=_rate_cmp, note=_rate_note),
    Spec(BASE, "base model", _base_value, _base_inferred, _base_shown, compare=_base_cmp, note=_base_note),
    Spec(FT_EPOCHS, "finetuning epochs", lambda f, o: f.ft_epochs, lambda f, o: f.ft_epochs_inf,
         lambda f, o, m: f.ft_epochs),
    Spec(FT_LR, "finetuning LR", lambda f, o: f.ft_sched, lambda f, o: f.ft_sched_inf, lambda f, o, m: f.ft_sched,
         compare=lambda x, y, o: _sched_outcome(x, y), partly=True),
    Spec(PR_EPOCHS, "pruning epochs", lambda f, o: f.pr_key, lambda f, o: f.pr_epochs_inf,
         lambda f, o, m: _pr_text(f.pr_key), compare=lambda x, y, o: _pr_epochs_cmp(x, y)),
    Spec(PR_LR, "pruning LR", _pr_lr_value, lambda f, o: f.pr_sched_inf,
         lambda f, o, m: "none (one-shot)" if f.pr_key == 0 else f.pr_sched, compare=_pr_lr_cmp, partly=True),
)
"""The S-chain's criteria in chain order: level ``CHAIN[k]`` needs the first ``k + 1`` of them."""

SX_SPECS = (
    Spec(SX_A.value, "total epochs", lambda f, o: f.total_epochs, lambda f, o: f.total_inf,
         lambda f, o, m: f.total_epochs),
    Spec(SX_B.value, "total cost", lambda f, o: f.cost, lambda f, o: f.cost_inf,
         lambda f, o, m: None if f.cost is None else round(f.cost, 2), tolerant=True, note=_sx_b_note),
)
"""The SX flags beside the chain: same total epochs (SX-A), same total cost within the tolerance (SX-B)."""


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
        return f"{word} (Welch t = {self.t:.2f}, p = {self.p_text()})"

    def p_text(self) -> str:
        """The p-value as shown: two significant digits, ``<0.001`` below that, ``n/r`` when not tested."""
        p = self.p_value
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

    assert fa.top1 is not None and fb.top1 is not None
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
    delta_top1: float | None
    """A's top-1 − B's top-1 in percentage points; ``None`` when a side has only a change from an
    unreported base (then the pair is compared on :attr:`delta_drop`)."""
    delta_drop: float | None
    """(A's drop from its own base) − (B's drop from its own base): the S1 practice, given when the bases
    are not the same (differ or unknown) and both sides' changes are known (printed, or from base and
    pruned top-1)."""
    significance: Significance
    rule1: Rule1 | None = None
    """The App. A Rule 1 finding on the two finetuning schedules (``None``: same final LR or unknown)."""

    def blockers(self) -> list[Blocker]:
        """One entry per level above the one reached, in chain order (see :class:`Blocker`)."""
        out = []
        for lvl in CHAIN:
            if lvl not in self.failed:
                continue
            names = self.failed[lvl]
            # a pair on different benchmarks has only its dataset/network criterion
            c = self.criteria.get(CRITERIA[CHAIN.index(lvl)]) or self.criteria[names[0]]
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
             alpha: float = 0.05, trust_identity: bool = False) -> Comparison:
    """Classify one pair and explain it (see the module docstring)."""
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive (got {tolerance})")
    delta = None if fa.top1 is None or fb.top1 is None else fa.top1 - fb.top1
    delta_drop = None
    if fa.gain is not None and fb.gain is not None:
        delta_drop = fb.gain - fa.gain  # (base_a - top1_a) - (base_b - top1_b)
    if fa.dataset != fb.dataset or fa.network != fb.network:
        why = []
        if fa.dataset != fb.dataset:
            why.append(f"dataset {fa.dataset} vs {fb.dataset}")
        if fa.network != fb.network:
            why.append(f"network {fa.network} vs {fb.network}")
        crit = Criterion(name="dataset/network", outcome=Outcome.DIFFERS, a=f"{fa.dataset}/{fa.network}",
                         b=f"{fb.dataset}/{fb.network}")
        # SX-A/SX-B compare budgets on one benchmark: across benchmarks they fail with the benchmark
        across: dict[str, Criterion] = {lvl: crit.model_copy(update={"name": str(lvl)}) for lvl in (SX_A, SX_B)}
        return Comparison(fa, fb, tolerance, 0, NOT_COMPARABLE, f"{NOT_COMPARABLE} ({', '.join(why)})", [],
                          {"dataset/network": crit}, across, {lvl: ["dataset/network"] for lvl in CHAIN}, None, None,
                          delta, delta_drop, Significance(tested=False, reason="different dataset or network",
                                                          short_reason="different dataset or network"))

    opts = Options(tolerance, accept_base_accuracy, trust_identity)
    if is_scratch(fa) != is_scratch(fb):
        return _classify_scratch(fa, fb, opts, delta, alpha)
    crits = {spec.name: spec.explain(fa, fb, opts) for spec in SPECS}
    rate_o = crits[RATE].outcome.code
    mismatch = None if fa.speedup is None or fb.speedup is None else rel_mismatch(fa.speedup, fb.speedup)
    dominance: Literal["A", "B"] | None = None
    if rate_o == DIFFERS and fa.top1 is not None and fb.top1 is not None:
        dominance = _DOMINANT.get(pareto_dominance(_nan(fa.speedup), fa.top1, _nan(fb.speedup), fb.top1))

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
            label += ", " + " and ".join(spec.word for spec in SPECS if spec.name in inferred) + " inferred"
        if dominance is not None:
            who = fa.label if dominance == "A" else fb.label
            label += f"; speedups differ, {who} Pareto-dominates"

    sx = {spec.name: spec.explain(fa, fb, opts) for spec in SX_SPECS}
    if crits[BASE].ok and delta is not None:
        delta_drop = None  # same base: the drop differs from Δ top-1 only through the base accuracy entries
    return Comparison(fa, fb, tolerance, rank, level, label, inferred, crits, sx, failed, dominance, mismatch,
                      delta, delta_drop, welch(fa, fb, alpha), rule1(fa.ft_sched, fb.ft_sched, fa.label, fb.label))


def is_scratch(f: Feat) -> bool:
    """True for scratch training of the pruned architecture (``scratch``, ``scratch-e``, ``scratch-b``)."""
    return f.pipeline != "pruning"


OVERALL = "overall LR schedule"
"""The scratch chain's S4.2 criterion (seed Sec. 4, Tab. 4 legend): pretraining to the pruning epoch P
followed by finetuning is one LR schedule, equal epoch by epoch to the scratch training's."""
ARCH = RATE
"""The scratch chain's first criterion: the same pruned architecture (the rate criterion, named alike so
every reader of a pair finds it under one name)."""


def overall_schedule(f: Feat) -> tuple[float | None, ...] | None:
    """The per-epoch LRs of a pipeline as one schedule: pretraining (to the pruning epoch), the
    pruning stage, finetuning; a scratch run's own schedule. ``None`` when a part is not known."""
    parts: list[tuple[int | None, Schedule | None]]
    if is_scratch(f):
        parts = [(f.ft_epochs, f.ft_sched)]
    else:
        if f.pr_epochs not in (0, None) or f.pt_epochs is None:
            return None  # a pruning stage with its own LR, or no pretraining length: not one overall schedule
        parts = [(f.pt_epochs, f.pt_sched), (f.ft_epochs, f.ft_sched)]
    out: list[float | None] = []
    for epochs, sched in parts:
        if epochs is None or sched is None:
            return None
        try:
            lrs = sched.with_total(epochs).lrs() if sched.total_epochs != epochs else sched.lrs()
        except Exception:  # defensive: an incomplete schedule is unknown, never a crash
            return None
        if any(lr is None for lr in lrs):
            return None
        out.extend(lrs)
    return tuple(out)


def _same_lrs(x: tuple[float | None, ...], y: tuple[float | None, ...]) -> bool:
    return len(x) == len(y) and all(a is not None and b is not None and abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1)
                                    for a, b in zip(x, y))


def _classify_scratch(fa: Feat, fb: Feat, opts: Options, delta: float | None, alpha: float) -> Comparison:
    """A pruning pipeline against scratch training of the pruned architecture: the seed's own chain for
    its Mystery 2 (Sec. 4, Tab. 4 legend).  Scratch training has no base model by design, so what must
    match is the pruned architecture (same ratios on the same network, or the speedup within the
    tolerance), then:

    * **S4.2**: one overall LR schedule: pretraining to the pruning epoch P plus finetuning equals the
      scratch run's schedule epoch by epoch (so the total epochs match too);
    * **SX-A**: the same total epochs (pretraining + pruning + finetuning = scratch epochs), the LR
      schedule changed (e.g. a larger finetuning LR);
    * **SX-B**: the same total training cost in dense-epoch units (pretraining + finetuning / speedup =
      scratch epochs / speedup, the seed's pruning epoch 30/k), within the tolerance.

    The S4.2 test is exact (epoch-by-epoch LRs), so the 5 % tolerance never turns an S4.2 row into
    SX-B: SX-B is only reached when the schedule and the epoch totals differ.
    """
    arch_same = fa.ratio_key is not None and fa.ratio_key == fb.ratio_key
    rate = SPECS[0].explain(fa, fb, opts)
    if arch_same:
        rate = Criterion(name=ARCH, outcome=Outcome.SAME, a=_txt(ratio_text(fa)), b=_txt(ratio_text(fb)),
                         note="same pruned architecture: the same pruning ratios on the same network")
    oa, ob = overall_schedule(fa), overall_schedule(fb)
    o = UNKNOWN if oa is None or ob is None else (SAME if _same_lrs(oa, ob) else DIFFERS)
    overall = _crit(OVERALL, o, _overall_text(fa), _overall_text(fb), None, None, fa, fb)
    sx = {spec.name: spec.explain(fa, fb, opts) for spec in SX_SPECS}
    crits = {ARCH: rate, OVERALL: overall}
    mismatch = None if fa.speedup is None or fb.speedup is None else rel_mismatch(fa.speedup, fb.speedup)
    failed: dict[str, list[str]] = {}
    if not rate.ok:
        level, rank = (RATE_UNKNOWN if rate.outcome == Outcome.UNKNOWN else NOT_AT_RATE), 1
        label = f"{level.label} (pruning vs scratch: the pruned architectures differ)"
        failed = {lvl: [ARCH] for lvl in CHAIN}
    elif overall.ok:
        level, rank, label = Level.S4_2, Level.S4_2.rank, "S4.2 (pruning vs scratch: one overall LR schedule)"
    else:
        failed = {Level.S4_2: [OVERALL]}
        if sx[SX_A.value].ok:
            level, rank, label = SX_A, Level.S1.rank, "SX-A (pruning vs scratch: same total epochs)"
        elif sx[SX_B.value].ok:
            level, rank, label = SX_B, Level.S1.rank, "SX-B (pruning vs scratch: same total cost)"
        else:
            level, rank, label = Level.S1, Level.S1.rank, "S1 (pruning vs scratch: same pruned architecture only)"
    return Comparison(fa, fb, opts.tolerance, rank, level, label, [], crits, sx, failed, None, mismatch, delta,
                      None, welch(fa, fb, alpha), None)


def ratio_text(f: Feat) -> str:
    """The printed pruning ratios of a result as text: ``ratio 0.5``, ``ratios [...]``, with its skip list."""
    if f.ratio_key is None:
        return "n/r"
    ratio, layers, skip, convs = f.ratio_key
    text = f"ratio {ratio:g}" if ratio is not None else f"ratios {list(layers) or list(convs)}"
    return text + (f", skip {', '.join(skip)}" if skip else "")


def _overall_text(f: Feat) -> str | None:
    if is_scratch(f):
        return None if f.ft_sched is None else f"scratch {f.ft_epochs} ep: {f.ft_sched.body_text()}"
    if f.pt_sched is None or f.ft_sched is None:
        return None
    return (f"pretrain {f.pt_epochs} ep {f.pt_sched.body_text()} + finetune {f.ft_epochs} ep "
            f"{f.ft_sched.body_text()}")


def _pr_text(v: int | str | None) -> int | str | None:
    if v == 0:
        return "0 (one-shot)"
    return "> 0 (n/r; the stage has an LR)" if v == "+" else v


def _sp(v: float | None) -> str | None:
    return None if v is None else f"{v:.2f}×"


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
    levels: dict[int, Level] = field(default_factory=dict)
    """Pair index -> level, for the pairs whose level is not the chain level of their rank (pruning vs
    scratch: SX-A, SX-B)."""

    def level(self, k: int) -> Level:
        """The level of pair ``k``."""
        return self.levels.get(k) or Level.of_rank(int(self.rank[k]))

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


def _group_pairs(np: Any, feats: Sequence[Feat], opts: Options) -> tuple:
    n = len(feats)
    iu, ju = np.triu_indices(n, k=1)
    chain = [spec.codes(np, feats, iu, ju, opts) for spec in SPECS]
    rate = chain[0]
    spa = np.array([np.nan if f.speedup is None else f.speedup for f in feats])
    top = np.array([np.nan if f.top1 is None else f.top1 for f in feats])
    dom = np.where(rate == DIFFERS, pareto_dominance(spa[iu], top[iu], spa[ju], top[ju]), 0).astype(np.int8)
    ok = [(o <= SAME_INFERRED) for o in chain]
    infs = [(o == SAME_INFERRED) for o in chain]
    passes = ok[0] | (dom > 0)
    k = passes.astype(np.int8)
    run = passes.copy()
    inferred = infs[0] & run
    for c in range(1, len(chain)):
        run &= ok[c]
        k += run
        inferred |= infs[c] & run
    rank = np.where(k > 0, k + 1, 1).astype(np.int8)
    sxa, sxb = (spec.codes(np, feats, iu, ju, opts) for spec in SX_SPECS)
    return iu, ju, rank, inferred, sxa, sxb, dom


def classify_all(feats: Sequence[Feat], tolerance: float = 0.05, accept_base_accuracy: bool = False,
                 trust_identity: bool = False) -> PairTable:
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
        iu, ju, rank, inf, sxa, sxb, dom = _group_pairs(np, sub, Options(tolerance, accept_base_accuracy,
                                                                           trust_identity))
        m = np.asarray(members, dtype=np.int64)
        parts.append((m[iu], m[ju], rank, inf, sxa, sxb, dom))
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        z = np.zeros(0, dtype=np.int8)
        return PairTable(e, e.copy(), z, z.astype(bool), z.copy(), z.copy(), z.copy())
    cols = list(zip(*parts))
    i, j, rank, inf, sxa, sxb, dom = (np.concatenate(c) for c in cols)
    table = PairTable(i, j, rank, inf, sxa, sxb, dom)
    # pruning vs scratch pairs follow their own chain (see _classify_scratch): classified one by one
    scratch = np.fromiter((is_scratch(f) for f in feats), dtype=bool, count=len(feats))
    opts = Options(tolerance, accept_base_accuracy)
    for k in np.nonzero(scratch[table.i] != scratch[table.j])[0].tolist():
        cmp = _classify_scratch(feats[int(table.i[k])], feats[int(table.j[k])], opts, None, 0.05)
        table.rank[k] = cmp.rank
        table.inferred[k] = False
        table.dominance[k] = 0
        table.levels[k] = cmp.level
    return table


def rank_name(rank: int) -> Level:
    """Level of a rank from :class:`PairTable` / :class:`Comparison` (2..7 = S1..S4.2, 1 below S1, 0 none)."""
    return Level.of_rank(rank)


def level_rank(level: str) -> int:
    """Rank of a level name (``S3.2`` -> 5); :class:`ValueError` for a name that is not a level."""
    return Level(level).rank
