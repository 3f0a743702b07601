"""The content of a fairness report, as a :class:`~audit.report.doc.Doc`.

Two entry points share every section: :func:`submission_report` (a reviewer's submission file: the
paper's own results against each competitor it cites) and :func:`compare_report` (the calibrated
pairs of ``prune-audit compare A B``).  Each claimed comparison is classified with
:func:`audit.core.classify.classify`; the report adds the seed's Sec. 6 checklist of what is not
reported, the Appendix-A Rule 1 check, copyable requests (S3.2 or stronger; the Sec. 5
cross-validation with the recipes written out), the calibrated L1-norm baseline under the
submission's own finetuning recipe when the registry or ``reruns/`` holds one, and the plots.
Everything is sorted and formatted with fixed formats, so equal inputs give equal bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from audit.core import classify as C
from audit.core import fmt
from audit.core.compare import own_recipe, pair_view
from audit.core.schedule import format_lr
from audit.core.setups import TIE, Level, Outcome, Reading
from audit.core.views import CompareReport, CrossValidation, Pair

from ..errors import UnknownName
from .doc import Bullets, Doc, Figure, Heading, Inline, Para, Table
from .evidence import Rerun

__all__ = [
    "BASELINE_METHOD", "CHECK_WHY", "FAIR_RANK", "LEVELS", "S2_RANK", "Baseline", "Claim", "Context", "Requests",
    "compare_report", "submission_report",
]

FAIR_RANK = Level.S3_2.rank
S2_RANK = Level.S2.rank
BASELINE_METHOD = "L1-norm"
LEVELS = ("S1", "S2", "S3.1", "S3.2", "S4.1", "S4.2")


# ---------------------------------------------------------------------- one claimed comparison
@dataclass
class Claim:
    """One claimed comparison, resolved against the registry."""

    index: int
    own: Any
    """The submission's (or A's) registry entry."""
    against: str
    """What the claim names (method, alias or result key)."""
    claim: str | None = None
    other: Any = None
    """The competitor's registry entry (``None`` when not in the registry)."""
    cmp: Pair | None = None
    """The classified pair (``None`` when the competitor has no usable registry result)."""
    status: str = "ok"
    """``ok`` | ``not in registry`` | ``no result here``."""
    message: str = ""
    alternatives: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    """Where the submission prints its own number for the competitor: that number beside the registry's."""
    naive: list[Pair] = field(default_factory=list)
    verdict: str | None = None
    cross_validation: CrossValidation | None = None
    speedup_text: str | None = None

    @property
    def cid(self) -> str:
        return f"C{self.index}"

    @property
    def level(self) -> str:
        return "not in registry" if self.cmp is None else self.cmp.setup.label


def _hint(exc: UnknownName) -> str:
    return f" (did you mean {', '.join(repr(s) for s in exc.suggestions)}?)" if exc.suggestions else ""


def _feat(entry: Any) -> C.Feat:
    return C.features_of_entry(entry)


def _sp(v: float | None) -> str:
    return fmt.speedup(v)


def _sp_of(result: Any) -> str:
    """A result's speedup with :data:`audit.core.fmt.DERIVED` when it is not printed (derived from the
    FLOPs reduction, the absolute counts or the pruning ratios)."""
    return fmt.speedup(result.speedup, derived=result.compression.speedup is None)


def _resolve_claim(reg: Any, own: Any, against: str, tolerance: float, accept: bool) -> tuple:
    """(other entry, comparison, status, message, alternatives)."""
    candidates: list[Any]
    if "/" in against:
        try:
            candidates = [reg.find_result(against)]
        except UnknownName as exc:
            return None, None, "not in registry", f"{against} is not in the registry{_hint(exc)}", []
    else:
        try:
            method = reg.resolve_method(against)
        except UnknownName as exc:
            return None, None, "not in registry", f"{against} is not in the registry{_hint(exc)}", []
        # competitor numbers come from the registry: rows the submission itself prints for a method it
        # does not introduce are what it cites, checked against the registry (see _cited_values)
        everywhere = [e for e in reg.entries if e.method == method and e.paper.id != own.paper.id]
        r = own.result
        candidates = [e for e in everywhere if (e.result.dataset, e.result.network) == (r.dataset, r.network)]
        if not candidates:
            has = sorted({f"{e.result.dataset}/{e.result.network}" for e in everywhere})
            where = f" (it has results on {', '.join(has)})" if has else ""
            return None, None, "no result here", (f"{method} has no result on {r.dataset}/{r.network} in the "
                                                  f"registry{where}"), []
    fo = _feat(own)
    scored = []
    for e in candidates:
        cmp = C.classify(fo, _feat(e), tolerance, accept)
        fb = cmp.b
        dist = float("inf") if fo.speedup is None or fb.speedup is None else C.rel_mismatch(fo.speedup, fb.speedup)
        scored.append((round(dist, 6), -cmp.rank, len(cmp.inferred), e.key, e, cmp))
    scored.sort(key=lambda t: t[:4])
    _, _, _, _, best, cmp = scored[0]
    alternatives = [t[3] for t in scored[1:]]
    return best, pair_view(cmp, "claimed", own, best), "ok", "", alternatives


def _cited_values(reg: Any, own: Any, other: Any | None, against: str) -> list[str]:
    """The submission's own rows for the competitor's method on its benchmark (it did not introduce the
    method), each set beside the registry's number: the report's competitor numbers are the registry's."""
    if other is not None:
        method = other.method
    elif "/" in against:  # a registry key that does not exist: nothing the submission prints can be matched
        return []
    else:
        try:
            method = reg.resolve_method(against)
        except UnknownName:
            return []
    if reg.method_paper.get(method) == own.paper.id:
        return []
    r = own.result
    rows = [e for e in reg.entries if e.paper.id == own.paper.id and e.method == method
            and (e.result.dataset, e.result.network) == (r.dataset, r.network)]
    out = []
    for e in rows:
        mine = e.result.top1_value
        theirs = None if other is None else other.result.top1_value
        if mine is None:
            continue
        if other is None or theirs is None:
            out.append(f"the submission cites {method} at {mine:.2f} ({e.key}); the registry has no {method} result "
                       f"on {r.dataset}/{r.network} to check it against")
        elif abs(mine - theirs) >= 0.005:
            out.append(f"the submission cites {method} at {mine:.2f} ({e.key}); the registry's source says "
                       f"{theirs:.2f} ({other.key})")
    return out


# ---------------------------------------------------------------------- text helpers
def _metric(entry: Any) -> str:
    return fmt.top1(entry.result)


def _base_text(entry: Any) -> str:
    b = entry.result.base
    if entry.result.pipeline != "pruning":
        return "random initialization (scratch training)"
    ident = b.identity or "identity n/r"
    acc = "top-1 n/r" if b.top1 is None else f"top-1 {b.top1:.2f}"
    return f"{ident} ({acc})"


def _recipe(epochs: int | None, sched: Any, repeats: Any = None) -> str:
    ep = "epochs n/r" if epochs is None else f"{epochs} epochs"
    if repeats is not None:
        ep += f" {'x ' + str(repeats) if isinstance(repeats, int) else repeats.replace('per-', 'after each pruned ')}"
    if sched is None:
        return f"{ep}, LR schedule n/r"
    only_lr = sched.kind == "initial-only" and not sched.warmup_epochs
    return f"{ep}, LR {format_lr(sched.initial_lr) if only_lr else sched.body_text()}"


def _stage_text(entry: Any, name: str) -> str:
    r = entry.result
    st = getattr(r, name)
    if name == "finetune" and r.pipeline != "pruning":
        st = r.scratch
    if st is None:
        return "n/r"
    if name == "prune" and st.epochs == 0:
        return "one-shot (0 epochs)"
    text = _recipe(st.epochs, st.lr_schedule)
    if st.iterations is not None:
        text += f", {st.iterations} iterations"
    return text


def _sources(entry: Any) -> str:
    out = []
    for s in entry.result.sources:
        who = s.paper or entry.paper.id
        sec = " (secondary)" if s.secondary else ""
        out.append(f"{who} {s.where}{sec}")
    return "; ".join(out)


def _delta(v: float | None) -> str:
    return "n/r" if v is None else f"{v:+.2f}"


def _pareto_pair(cmp: Pair) -> str:
    a, b = cmp.a, cmp.b
    if cmp.setup is Level.NOT_COMPARABLE:
        return "none: the two results are on different benchmarks (dataset or network)"
    if a.speedup is None or b.speedup is None:
        return "undecidable: a speedup is not reported"
    if cmp.criterion(C.RATE).ok:
        return (f"same operating point ({_sp(a.speedup)} vs {_sp(b.speedup)}, mismatch "
                f"{(cmp.speedup_mismatch or 0) * 100:.1f}% within the tolerance)")
    if cmp.dominance == "A":
        return (f"{a.label} Pareto-dominates: higher speedup ({_sp(a.speedup)} vs {_sp(b.speedup)}) and at least "
                "the top-1")
    if cmp.dominance == "B":
        return (f"{b.label} Pareto-dominates: higher speedup ({_sp(b.speedup)} vs {_sp(a.speedup)}) and at least "
                "the top-1")
    return (f"neither dominates: {_sp(a.speedup)} vs {_sp(b.speedup)} with the higher speedup at the lower "
            f"top-1, so the pair does not rank the methods")


def _frontier(entry: Any, group: Sequence[Any]) -> str:
    r = entry.result
    sp, acc = r.speedup, r.top1_value
    if sp is None or acc is None:
        return f"{entry.key}: speedup or top-1 n/r, no Pareto position"
    dom = sorted((e for e in group if e.key != entry.key and e.result.speedup is not None
                  and e.result.top1_value is not None
                  and e.result.speedup >= sp and e.result.top1_value >= acc
                  and (e.result.speedup > sp or e.result.top1_value > acc)),
                 key=lambda e: (-e.result.top1_value, -e.result.speedup, e.key))
    if not dom:
        return (f"{entry.key} is on the registry's Pareto front of {r.dataset}/{r.network} (no result is faster and "
                "more accurate)")
    names = ", ".join(f"{e.key} ({e.result.top1_value:.2f} @ {_sp(e.result.speedup)})" for e in dom[:3])
    more = f" and {len(dom) - 3} more" if len(dom) > 3 else ""
    return f"{entry.key} is Pareto-dominated in the registry by {names}{more}"


def _sig(cmp: Pair) -> str:
    s = cmp.significance
    if s.tested:
        return s.describe()
    return f"not testable: {s.reason}"


def _recipe_of(reg: Any, entry: Any) -> tuple[str, str]:
    """(recipe text, where it comes from) for a result's finetuning: the result's own complete recipe,
    else the method's published recipe on the same dataset and network, else the seed's Appendix A
    derivation from the result's epochs and initial LR (labelled derived), else what is known with a
    request to the authors. A recipe of another benchmark is never used (case: a CIFAR-10 claim must not
    be cross-validated with an ImageNet recipe)."""
    r = entry.result
    st = r.finetune if r.pipeline == "pruning" else r.scratch
    if st is not None and st.epochs is not None and st.lr_schedule is not None and st.lr_schedule.is_complete:
        return _recipe(st.epochs, st.lr_schedule, st.repeats), entry.key
    own = own_recipe(reg, entry.method, r.dataset, r.network, complete_only=True, by_key=True)
    if own is not None:
        return (_recipe(own.epochs, own.schedule),
                f"{own.key} (the method's own recipe; {entry.key} does not report all of it)")
    where = f"{r.dataset}/{r.network}"
    if st is not None and st.epochs and st.lr_schedule is not None and st.lr_schedule.kind == "initial-only":
        from audit.core.rules import derive

        try:
            derived = derive(st.epochs, st.lr_schedule.initial_lr)
        except Exception:  # defensive: an LR the rules cannot step down from; ask instead
            derived = None
        if derived is not None:
            return (_recipe(st.epochs, derived),
                    f"the seed's Appendix A rules applied to {entry.key}'s {st.epochs} epochs and initial LR "
                    f"(no complete published recipe for {entry.method} on {where}; ask the authors to confirm)")
    if st is not None:
        return _recipe(st.epochs, st.lr_schedule), f"{entry.key} (incomplete: ask the authors for the rest)"
    return "not reported", (f"{entry.key}; no published recipe for {entry.method} on {where}: ask the authors "
                            "for the finetuning recipe")


# ---------------------------------------------------------------------- calibrated baseline
@dataclass
class Baseline:
    key: str
    label: str
    top1: float
    speedup: float | None
    recipe: str
    mismatch: float | None
    base: str | None = None
    """The baseline's base-model identity (``None``: not reported)."""
    result: Any = None
    """The baseline's result (for the classifier's base-model criterion)."""


def _calibrated_baseline(reg: Any, entry: Any, reruns: Sequence[Rerun],
                         tolerance: float) -> tuple[Baseline | None, str]:
    """L1-norm under the entry's own finetuning recipe at the nearest operating point (registry or reruns/)."""
    r = entry.result
    st = r.finetune
    if r.pipeline != "pruning" or st is None or st.lr_schedule is None:
        return None, f"no calibrated baseline: {entry.key} does not report its finetuning LR schedule"
    try:
        l1 = reg.resolve_method(BASELINE_METHOD)
    except UnknownName:
        return None, f"no calibrated baseline: the registry has no {BASELINE_METHOD}"
    cands: list[tuple[str, str, Any]] = []
    for e in reg.entries:
        if e.method == l1 and e.key != entry.key:
            cands.append((e.key, e.method + (" (reimpl.)" if e.result.reimplementation_of else ""), e.result))
    for rr in reruns:
        try:
            m = reg.resolve_method(rr.result.method)
        except UnknownName:
            continue
        if m == l1:
            cands.append((rr.key, f"{BASELINE_METHOD} (rerun)", rr.result))
    found: list[tuple[float, str, Baseline]] = []
    for key, label, res in cands:
        if (res.dataset, res.network) != (r.dataset, r.network) or res.finetune is None:
            continue
        sched = res.finetune.lr_schedule
        if sched is None or C.schedules_same(sched, st.lr_schedule) is not True:
            continue
        if res.finetune.epochs is not None and st.epochs is not None and res.finetune.epochs != st.epochs:
            continue
        sp = res.compression.effective_speedup()
        if res.top1_value is None:
            continue
        mis = None if sp is None or r.speedup is None else C.rel_mismatch(sp, r.speedup)
        found.append((float("inf") if mis is None else round(mis, 6), key,
                      Baseline(key, label, res.top1_value, sp, _recipe(res.finetune.epochs, sched), mis,
                               res.base.identity, res)))
    if not found:
        return None, (f"no calibrated baseline in the registry or reruns/: no {BASELINE_METHOD} result on "
                      f"{r.dataset}/{r.network} finetuned with {entry.key}'s recipe "
                      f"({_recipe(st.epochs, st.lr_schedule)})")
    found.sort(key=lambda t: t[:2])
    return found[0][2], ""


# ---------------------------------------------------------------------- checklist (seed Sec. 6)
def _state(entry: Any, path: str, value: Any) -> str:
    if value is None or value is False:
        return "not reported"
    return "inferred" if entry.result.is_inferred(path) else "reported"


def _check_items(entry: Any) -> list[tuple[str, str]]:
    r = entry.result
    scratch = r.pipeline != "pruning"
    st = r.scratch if scratch else r.finetune
    sp = "scratch" if scratch else "finetune"
    sched = None if st is None else st.lr_schedule
    items = [
        ("finetuning epochs", _state(entry, f"{sp}.epochs", None if st is None else st.epochs)),
        ("initial LR", _state(entry, f"{sp}.lr_schedule", sched)),
        ("LR decay points and factors", _state(entry, f"{sp}.lr_schedule",
                                                 sched is not None and sched.is_complete or None)),
        ("final LR", _state(entry, f"{sp}.lr_schedule", None if sched is None else sched.final_lr)),
    ]
    if scratch:
        items += [("pruning-stage epochs", "n/a"), ("pruning-stage LR schedule", "n/a"),
                  ("base-model identity", "n/a"), ("base-model top-1", "n/a")]
    else:
        pr = r.prune
        pe = None if pr is None else pr.epochs
        items.append(("pruning-stage epochs", _state(entry, "prune.epochs", pe)))
        if pe == 0:
            items.append(("pruning-stage LR schedule", "n/a"))
        else:
            items.append(("pruning-stage LR schedule", _state(entry, "prune.lr_schedule",
                                                              None if pr is None else pr.lr_schedule)))
        items.append(("base-model identity", _state(entry, "base.identity", r.base.identity)))
        items.append(("base-model top-1", _state(entry, "base.top1", r.base.top1)))
    items.append(("number of runs", _state(entry, "top1.runs", None if r.top1 is None else r.top1.runs)))
    items.append(("std over runs", _state(entry, "top1.std", None if r.top1 is None else r.top1.std)))
    fl = r.compression.flops
    if fl is not None and (fl.dense is not None or fl.pruned is not None):
        # only absolute counts depend on the convention; a speedup or a ratio does not (case C01)
        conv = fl.convention if fl.convention != "unstated" else None
        items.append(("FLOPs convention (MACs or 2×MACs)", _state(entry, "compression.flops.convention", conv)))
    return items


CHECK_WHY = {
    "finetuning epochs": "S3.1 needs it",
    "initial LR": "S3.2 needs the full schedule",
    "LR decay points and factors": "S3.2 needs the full schedule",
    "final LR": "Rule 1 (App. A) needs it",
    "pruning-stage epochs": "S4.1 needs it",
    "pruning-stage LR schedule": "S4.2 needs it",
    "base-model identity": "S2 needs it",
    "base-model top-1": "the S1 drop needs it",
    "number of runs": "significance needs it",
    "std over runs": "significance needs it",
    "FLOPs convention (MACs or 2×MACs)": "absolute FLOPs are ambiguous without it",
}


def _checklist(entries: Sequence[Any]) -> tuple[Table, list[tuple[str, list[str]]]]:
    rows: list[list[Any]] = []
    missing: list[tuple[str, list[str]]] = []
    names = [n for n, _ in _check_items(entries[0])] if entries else list(CHECK_WHY)
    per = {e.key: dict(_check_items(e)) for e in entries}
    for name in names:
        states = [per[e.key].get(name, "n/a") for e in entries]
        rep = sum(s == "reported" for s in states)
        inf = sum(s == "inferred" for s in states)
        nr = sum(s == "not reported" for s in states)
        applicable = len([s for s in states if s != "n/a"])
        lacking = [e.result.id for e, s in zip(entries, states) if s in ("not reported", "inferred")]
        if applicable == 0:
            status = "n/a"
        elif nr:
            status = "not reported"
        elif inf:
            status = "inferred"
        else:
            status = "reported"
        shown = ", ".join(lacking[:4]) + (f" and {len(lacking) - 4} more" if len(lacking) > 4 else "")
        rows.append([name, status, f"{rep}/{applicable}", f"{inf}/{applicable}", f"{nr}/{applicable}",
                     shown or "—", CHECK_WHY.get(name, "")])
        if nr or inf:
            missing.append((name, lacking))
    table = Table(["item (seed Sec. 6)", "status", "reported", "inferred", "not reported", "results lacking it",
                   "why it matters"], rows)
    return table, missing


# ---------------------------------------------------------------------- the document
@dataclass
class Context:
    reg: Any
    reruns: Sequence[Rerun]
    tolerance: float
    subject: str
    """What is under review, for sentences ("the submission", "GReg-2")."""
    highlight_methods: set[str]
    own_name: str
    is_own: Any = None
    """Predicate: is a registry entry part of what is under review (drawn as a star)?"""
    is_competitor: Any = None
    competitor_name: str = "the compared results"
    crossvals: Sequence[Any] = ()
    """Recorded cross-validations (:class:`audit.report.evidence.Crossval`)."""
    used_reruns: set = field(default_factory=set)
    """Keys of the rerun results the report cites (calibrated baselines)."""
    noun: str = "claimed comparison(s)"


def _group_entries(reg: Any, dataset: str, network: str) -> list[Any]:
    return sorted((e for e in reg.entries if (e.result.dataset, e.result.network) == (dataset, network)),
                  key=lambda e: e.key)


def _side_table(c: Claim) -> Table:
    a, b = c.own, c.other
    rows = [
        ["result", [("code", a.key)], [("code", b.key)]],
        ["method", a.label, b.label],
        ["top-1 (%)", _metric(a), _metric(b)],
        ["speedup", _sp_of(a.result), _sp_of(b.result)],
        ["base model", _base_text(a), _base_text(b)],
        ["finetuning", _stage_text(a, "finetune"), _stage_text(b, "finetune")],
        ["pruning stage", _stage_text(a, "prune"), _stage_text(b, "prune")],
        ["setup the paper states", a.result.setup_tag or "—", b.result.setup_tag or "—"],
        ["sources", _sources(a), _sources(b)],
    ]
    return Table(["", f"A = {a.method}", f"B = {b.method}"], rows)


def _criteria_table(cmp: Pair) -> Table:
    rows: list[list[Any]] = []
    for crit in [*cmp.criteria, *cmp.sx.values()]:
        rows.append([crit.name, crit.outcome, crit.a, crit.b, crit.note or "—"])
    return Table(["criterion", "outcome", "A", "B", "note"], rows)


def _reproduction_of(reg: Any, c: Claim) -> Any:
    """The reproducibility gap when one side of the claim reproduces the other (``reproduces``)."""
    from audit.core.compare import reproduction

    if c.other is None:
        return None
    if c.own.result.reproduces == c.other.key:
        return reproduction(reg, c.own)
    if c.other.result.reproduces == c.own.key:
        return reproduction(reg, c.other)
    return None


def _verdict_text(c: Claim, subject: str) -> str:
    cmp = c.cmp
    assert cmp is not None
    d = cmp.delta.top1
    a, b = cmp.a.label, cmp.b.label
    if d is None:
        dd = cmp.delta.drop
        ahead = (f"{a} vs {b}: no accuracy to compare" if dd is None else f"{a} and {b} tie on the top-1 change"
                 if abs(dd) < TIE else
                 f"{a} is {'ahead' if dd < 0 else 'behind'} by {abs(dd):.2f} on the top-1 change from each base")
    else:
        ahead = (f"{a} and {b} tie" if abs(d) < TIE else
                 f"{a} is {'ahead' if d > 0 else 'behind'} by {abs(d):.2f} top-1")
    reading = cmp.setup.reading
    if reading is Reading.FAIR:
        return f"Fair (S3.2 or stronger): {ahead}; {_sig(cmp)}."
    if reading is Reading.NOT_CONCLUSIVE:
        return (f"Not conclusive ({cmp.setup}): {ahead}, but the finetuning is not shown to be the same, and "
                f"finetuning alone can move top-1 by more than this. Cross-validate the recipes.")
    if reading is Reading.WEAK:
        drop = "" if cmp.delta.drop is None else f"; Δ drop from each side's own base {_delta(cmp.delta.drop)}"
        return f"Weak (S1 only: {cmp.criterion(C.BASE).describe()}): {ahead}{drop}."
    return f"No fair reading: {cmp.setup_label}."


def _baseline_para(c: Claim, base: Baseline, tolerance: float) -> Para:
    mis = "n/r" if base.mismatch is None else f"{base.mismatch * 100:.1f}%"
    own_top1 = c.own.result.top1_value
    delta = float("nan") if own_top1 is None else own_top1 - base.top1
    far = "" if base.mismatch is not None and base.mismatch <= tolerance else \
        " (a different operating point: read it as a trend, not a same-rate comparison)"
    if base.result is not None:
        # the classifier's own base-model criterion, so the report and compare agree (one paper's own
        # training is one base; printed base accuracies are evidence)
        fa = C.features(c.own.result, paper=c.own.paper.id, label=c.own.method)
        fb = C.features(base.result, paper=base.key.split("/", 1)[0], label=base.label)
        crit = C.classify(fa, fb, tolerance).criteria.get(C.BASE)
        if crit is not None and crit.outcome == Outcome.UNKNOWN:
            far += f"; the base model is not known to be the same ({crit.a or 'n/r'} vs {crit.b or 'n/r'})"
        elif crit is not None and not crit.ok:
            far += f"; the {crit.describe()}"
    return Para([("b", "Calibrated baseline:"), f" {base.label} finetuned with the same recipe "
                 f"({base.recipe}) reaches {base.top1:.2f} at {_sp(base.speedup)}, the nearest operating point "
                 f"(speedup mismatch {mis}; ", ("code", base.key), f"): {c.own.method} − baseline = "
                 f"{_delta(delta)} top-1{far}."])


@dataclass
class Requests:
    """Requests to the authors, collected over the claims and merged where they repeat."""

    fair: list[str] = field(default_factory=list)
    cross: list[list[Any]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    rule1: list[str] = field(default_factory=list)
    baseline: dict[str, str] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)

    def items(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        if self.fair:
            out.append([("b", "Compare at S3.2 or stronger"), ": the same base model and the same finetuning LR "
                        "schedule on both sides (the seed's Sec. 6; S2 ignores the finetuning recipe) for "
                        + ", ".join(self.fair) + "."])
        out.extend(self.cross)
        if self.runs:
            out.append([("b", "Report mean ± std over several runs"), " for the compared results, so the gaps of "
                        + ", ".join(self.runs) + " can be tested for significance."])
        for r in self.rule1:
            out.append([("b", "Finetune to the same final LR"), f" (App. A Rule 1): {r}."])
        for key in sorted(self.baseline):
            out.append([("b", "Add the calibrated baseline"), ": " + self.baseline[key]])
        for a in self.absent:
            out.append([a])
        for r in self.report:
            out.append([r])
        return out


def _claim_title(c: Claim) -> str:
    """``GReg-2 (2.31×) vs L1-norm (reimpl.) (2.31×)``: the two sides of a claim."""
    if c.other is None:
        return f"{_short_label(c.own)} ({_sp(c.own.result.speedup)}) vs {c.against}"
    return (f"{_short_label(c.own)} ({_sp(c.own.result.speedup)}) vs {_short_label(c.other)} "
            f"({_sp(c.other.result.speedup)})")


def _claim_section(ctx: Context, c: Claim, doc: Doc, req: Requests) -> None:
    doc.add(Heading(3, f"{c.cid}. {_claim_title(c)} — {_one_line(c)}", anchor=c.cid.lower()))
    if c.claim:
        doc.add(Para(["Claim: ", ("b", c.claim)]))
    for line in c.cited:
        doc.add(Para([("b", "Cited value differs from the registry:"), f" {line}."], kind="note"))
    if c.cmp is None:
        what = "Not in registry" if c.status == "not in registry" else "No registry result here"
        doc.add(Para([("b", what + ":"), f" {c.message}. Nothing in this claim can be checked against published "
                      "recipes; add the competitor's paper to the registry (prune-audit registry add) to audit it."]))
        doc.add(Para(["Submission side: ", ("code", c.own.key), f", top-1 {_metric(c.own)} at "
                      f"{_sp(c.own.result.speedup)}, base {_base_text(c.own)}, finetuning "
                      f"{_stage_text(c.own, 'finetune')}."]))
        base, _ = _calibrated_baseline(ctx.reg, c.own, ctx.reruns, ctx.tolerance)
        if base is not None:
            ctx.used_reruns.add(base.key)
            doc.add(_baseline_para(c, base, ctx.tolerance))
        req.absent.append(f"{c.cid}: state the exact number, base model and finetuning recipe of {c.against} that "
                          f"{c.own.result.id} is compared against (the registry has no usable record of it).")
        return
    cmp = c.cmp
    doc.add(_side_table(c))
    doc.add(Para([("b", f"Setup reached: {cmp.setup_label}"), " (the seed's Tab. 2; S3.2 or stronger is fair)."]))
    doc.add(_criteria_table(cmp))
    failed: list[Any] = list(cmp.failed_text)
    if failed:
        doc.add(Para("Stronger setups fail on:"))
        doc.add(Bullets(failed))
    drop = "" if cmp.delta.drop is None else f"; Δ drop (each side from its own base) {_delta(cmp.delta.drop)}"
    doc.add(Para([("b", "Δ top-1 (A − B):"), f" {_delta(cmp.delta.top1)}{drop}; significance: {_sig(cmp)}."]))
    doc.add(Para([("b", "Pareto position:"), " " + _pareto_pair(cmp) + ". " +
                  _frontier(c.own, _group_entries(ctx.reg, c.own.result.dataset, c.own.result.network)) + "."]))
    base, why = _calibrated_baseline(ctx.reg, c.own, ctx.reruns, ctx.tolerance)
    if base is not None:
        ctx.used_reruns.add(base.key)
        doc.add(_baseline_para(c, base, ctx.tolerance))
    else:
        doc.add(Para([("b", "Calibrated baseline:"), " " + why + "."]))
    if cmp.rule1 is not None:
        doc.add(Para([("b", "Rule 1 (App. A):"), " " + cmp.rule1.detail() + "."]))
    if c.naive:
        rows: list[list[Inline]] = []
        for n in c.naive:
            rows.append([[("code", n.a.key)], [("code", n.b.key)], n.setup_label, _delta(n.delta.top1)])
        doc.add(Table(["other pair at this rate: A", "B", "setup", "Δ top-1"], rows,
                      caption="Naive pairs a reader could also cite at this operating point"))
    verdict = c.verdict or _verdict_text(c, ctx.subject)
    repro = _reproduction_of(ctx.reg, c)
    if repro is not None:
        doc.add(Para([("b", "Reproduction:"), " " + repro.text + "."]))
        verdict = (f"A reproduction, not a competing method: {repro.text}. The setup above says how far the two "
                   "runs can be compared; a gap under the same rate and recipe is a reproducibility gap.")
    doc.add(Para([("b", "Verdict:"), " " + verdict]))
    if c.alternatives:
        more = len(c.alternatives) - 4
        shown = ", ".join(c.alternatives[:4]) + (f" and {more} more" if more > 0 else "")
        doc.add(Para(f"{c.other.method} has {len(c.alternatives)} other result(s) on "
                     f"{c.own.result.dataset}/{c.own.result.network} (the nearest speedup is used): {shown}.",
                     kind="note"))
    # requests
    if not cmp.setup.fair:
        req.fair.append(f"{c.cid} ({cmp.setup})")
        ra, wa = _recipe_of(ctx.reg, c.own)
        rb, wb = _recipe_of(ctx.reg, c.other)
        if c.cross_validation is not None:
            runs = c.cross_validation.runs
            rb, wb = runs[0].recipe, runs[0].recipe_from
            ra, wa = runs[1].recipe, runs[1].recipe_from
        req.cross.append([("b", f"{c.cid}: cross-validate finetuning recipes with {c.other.method}"),
                          f" (seed Sec. 5): run {c.own.method} with {c.other.method}'s recipe (", ("b", rb),
                          f"; from {wb}) and {c.other.method} with {c.own.method}'s recipe (", ("b", ra),
                          f"; from {wa}); compare both pairs. A method that wins under both recipes is the better "
                          "pruning method; if the winner flips, the higher number weighs more."])
    if not cmp.significance.tested:
        req.runs.append(f"{c.cid} ({_delta(cmp.delta.top1)})")
    if cmp.rule1 is not None:
        req.rule1.append(f"{c.cid}: {cmp.rule1.detail()}")
    ft = c.own.result.finetune
    if base is None and ft is not None and ft.lr_schedule is not None and c.own.result.pipeline == "pruning" \
            and c.own.method != BASELINE_METHOD:
        req.baseline[c.own.key] = (f"{BASELINE_METHOD} at {_sp(c.own.result.speedup)} on "
                                   f"{c.own.result.dataset}/{c.own.result.network}, finetuned with "
                                   f"{c.own.result.id}'s recipe ({_recipe(ft.epochs, ft.lr_schedule)}).")


def _summary(ctx: Context, claims: Sequence[Claim]) -> tuple[Para, Table]:
    counted = [c.cmp for c in claims if c.cmp is not None]
    counts = {lvl: 0 for lvl in LEVELS}
    below = 0
    for p in counted:
        if p.setup in counts:
            counts[p.setup] += 1
        else:
            below += 1
    sxa = sum(1 for p in counted if p.sx[C.SX_A].ok)
    sxb = sum(1 for p in counted if p.sx[C.SX_B].ok)
    fair = [p for p in counted if p.setup.fair]
    survive = sum(1 for p in fair if p.delta.top1 is not None and p.delta.top1 > TIE)
    absent = [c for c in claims if c.cmp is None]
    parts = [f"{n} at {lvl}" for lvl, n in counts.items() if n]
    if below:
        parts.append(f"{below} below S1 (not comparable at the rate)")
    reach = "; ".join(parts) if parts else "none"
    s2_or_weaker = sum(1 for p in counted if p.rank <= S2_RANK)
    s31 = sum(1 for p in counted if S2_RANK < p.rank < FAIR_RANK)
    text = (f"{len(claims)} {ctx.noun}; {len(counted)} classified against the registry "
            f"({reach}; SX-A met by {sxa}, SX-B by {sxb}).")
    if absent:
        text += (f" {len(absent)} name(s) a competitor without a usable registry result ("
                 + ", ".join(sorted({c.against for c in absent})) + ").")
    text += (f" {s2_or_weaker} of {len(counted)} are at S2 or weaker, which the seed calls unfair because it "
             f"ignores the finetuning recipe")
    text += (f"; {s31} more {'reaches' if s31 == 1 else 'reach'} only S3.1 (same epochs, LR schedule not "
             f"shown equal)." if s31 else ".")
    text += (f" Claims that survive a fair comparison (S3.2 or stronger with {ctx.own_name} ahead): "
             f"{survive} of {len(claims)}" + (f" ({len(fair)} reach S3.2 or stronger)." if fair else "."))
    rows: list[list[Inline]] = [[lvl, str(counts[lvl])] for lvl in LEVELS]
    rows.append(["below S1 (rate differs, no dominance / speedup n/r)", str(below)])
    rows.append(["SX-A met (same total epochs)", str(sxa)])
    rows.append(["SX-B met (same total FLOPs)", str(sxb)])
    rows.append(["not in the registry / no result on this dataset-network", str(len(absent))])
    return Para(text, kind="summary"), Table(["setup reached", ctx.noun.replace("(s)", "s")], rows)


def _rule1_table(claims: Sequence[Claim]) -> Table:
    rows: list[list[Inline]] = []
    for c in claims:
        if c.cmp is None:
            continue
        la, lb = c.cmp.a.final_lr, c.cmp.b.final_lr
        if la is None or lb is None:
            who = " and ".join(side.label for side, v in ((c.cmp.a, la), (c.cmp.b, lb)) if v is None)
            outcome = f"cannot check: {who} final LR n/r"
        elif c.cmp.rule1 is not None:
            outcome = "differs: " + c.cmp.rule1.detail()
        else:
            outcome = "same"
        rows.append([c.cid, f"{c.cmp.a.label}: {format_lr(la)}", f"{c.cmp.b.label}: {format_lr(lb)}", outcome])
    return Table(["claim", "A final finetuning LR", "B final finetuning LR", "Rule 1"], rows)


def _short_label(entry: Any) -> str:
    r = entry.result
    tag = " (reimpl.)" if r.reimplementation_of else ""
    base = "*" if r.base.identity is not None and r.base.identity.casefold().startswith("own") else ""
    return f"{entry.method}{base}{tag}"


def _plots(ctx: Context, claims: Sequence[Claim], own_entries: Sequence[Any], doc: Doc) -> None:
    from audit.report import plots

    groups = sorted({(e.result.dataset, e.result.network) for e in own_entries})
    for ds, nw in groups:
        members = _group_entries(ctx.reg, ds, nw)
        own_keys = {e.key for e in own_entries if (e.result.dataset, e.result.network) == (ds, nw)}
        own_keys |= {e.key for e in members if ctx.is_own is not None and ctx.is_own(e)}
        comp_keys = {c.other.key for c in claims if c.other is not None
                     and (c.other.result.dataset, c.other.result.network) == (ds, nw)}
        comp_keys |= {e.key for e in members if ctx.is_competitor is not None and ctx.is_competitor(e)}
        comp_keys -= own_keys
        highlight, background, others = [], [], []
        no_speedup = 0
        for e in members:
            sp, acc = e.result.speedup, e.result.top1_value
            if sp is None or acc is None:
                no_speedup += 1
                continue
            if e.key in own_keys:
                highlight.append((sp, acc, _short_label(e), "own"))
            elif e.key in comp_keys:
                highlight.append((sp, acc, _short_label(e), "competitor"))
            else:
                background.append((sp, acc))
                others.append(e)
        lines = []
        for c in claims:
            p = c.cmp
            if p is None or (c.own.result.dataset, c.own.result.network) != (ds, nw):
                continue
            if p.a.speedup is None or p.b.speedup is None or p.a.top1 is None or p.b.top1 is None:
                continue
            lines.append((p.a.speedup, p.a.top1, p.b.speedup, p.b.top1,
                          p.setup.label if p.setup in LEVELS else "below S1", c.cid))
        rerun_pts = [(rr.result.speedup, rr.result.top1_value, f"{rr.result.method} (rerun)") for rr in ctx.reruns
                     if (rr.result.dataset, rr.result.network) == (ds, nw) and rr.result.speedup is not None
                     and rr.result.top1_value is not None]
        # the view: the compared operating points (each claim's two sides, else the results under review)
        focus = [(ln[0], ln[1]) for ln in lines] + [(ln[2], ln[3]) for ln in lines]
        focus += [(e.result.speedup, e.result.top1_value) for e in own_entries
                  if (e.result.dataset, e.result.network) == (ds, nw) and e.result.speedup is not None
                  and e.result.top1_value is not None]
        rng = plots.focus_range(focus)
        png = partial(plots.top1_vs_speedup, f"{ds} / {nw}: top-1 vs speedup", background, highlight, lines,
                      highlight_name=ctx.own_name, competitor_name=ctx.competitor_name, reruns=rerun_pts,
                      focus=focus)
        caption = (f"Top-1 vs speedup on {ds}/{nw}, around the compared operating points: {ctx.own_name} (stars), "
                   f"{ctx.competitor_name} (squares) and the other registry results (grey, listed below the "
                   f"figure); each claimed comparison is a line styled by the setup it reaches; results outside "
                   f"the view are counted in its corner. A * marks a result on an own-trained base.")
        if rerun_pts:
            caption += (f" Triangles are the {len(rerun_pts)} rerun result(s) recorded under reruns/results"
                        + (" (unlabelled when more than 3)." if len(rerun_pts) > 3 else "."))
        if no_speedup:
            caption += f" {no_speedup} result(s) without a reported speedup are not drawn."
        doc.add(Figure(png, f"top-1 vs speedup, {ds}/{nw}", caption, narrow=partial(png, narrow=True)))
        shown = sorted((e for e in others if plots.in_range(rng, e.result.speedup, e.result.top1_value)),
                       key=lambda e: (e.result.speedup, -e.result.top1_value, e.key))
        if shown:
            doc.add(Table(["other result (grey point)", "method", "top-1", "speedup"],
                          [[[("code", e.key)], e.label, f"{e.result.top1_value:.2f}", _sp(e.result.speedup)]
                           for e in shown], caption=f"The other registry results in the view of the figure on "
                                                    f"{ds}/{nw}, by speedup"))
    # finetuning epochs over the years (the seed's Tab. 3 trend)
    pts: set[tuple[int, int, str, bool]] = set()
    for e in ctx.reg.entries:
        r = e.result
        if r.reimplementation_of is not None or r.pipeline != "pruning" or r.finetune is None:
            continue
        if r.finetune.epochs is None or ctx.reg.method_paper.get(e.method) != e.paper.id:
            continue
        pts.add((e.paper.year, r.finetune.epochs, e.method, e.method in ctx.highlight_methods))
    if pts:
        png = partial(plots.epochs_by_year, sorted(pts), "Finetuning epochs per method over publication year")
        doc.add(Figure(png, "finetuning epochs per method over publication year", narrow=partial(png, narrow=True),
                       caption=
                       "Finetuning epochs of each method in its own paper, by publication year (the seed's Tab. 3 "
                       "trend: finetuning grows longer over the years, which makes comparisons with older results "
                       "more and more unfair, Sec. 3.2)."))
    # rerun evidence
    # learning curves: the reruns the report cites first, then reruns of its methods nearest in speedup
    own_sp = [e.result.speedup for e in own_entries if e.result.speedup is not None]

    def nearest(rr: Rerun) -> float:
        sp = rr.result.speedup
        return min((C.rel_mismatch(sp, s) for s in own_sp), default=1.0) if sp is not None else 1.0

    cands = []
    for rr in ctx.reruns:
        if (rr.result.dataset, rr.result.network) not in groups or not rr.curve:
            continue
        try:
            method = ctx.reg.resolve_method(rr.result.method)
        except UnknownName:
            method = rr.result.method
        if rr.key in ctx.used_reruns:
            cands.append((0, 0.0, rr.id, rr))
        elif method in ctx.highlight_methods:
            cands.append((1, round(nearest(rr), 6), rr.id, rr))
    cands.sort(key=lambda t: t[:3])
    chosen = [t[3] for t in cands[:3]]
    if chosen:
        curves = [(rr.id.removeprefix("rerun-"), rr.curve, rr.result.trainability_acc) for rr in chosen]
        png = partial(plots.learning_curves, curves, "Rerun evidence: learning curves with trainability accuracy (TA)")
        more = len(cands) - len(chosen)
        doc.add(Figure(png, "rerun learning curves", narrow=partial(png, narrow=True), caption=
                       "Learning curves recorded by the rerun engine (reruns/results): test top-1 (solid), train "
                       "accuracy (dashed) and the trainability accuracy TA (dash-dot, the seed's Eq. 1); the reruns "
                       "the report cites first, then those of its methods nearest in speedup"
                       + (f" ({more} more in reruns/results)." if more > 0 else ".")))


def _crossval_section(ctx: Context, claims: Sequence[Claim], doc: Doc) -> None:
    """Recorded cross-validations (reruns/crossval) of a method pair that a claim compares."""
    pairs = {frozenset((c.own.method, c.other.method)) for c in claims if c.other is not None}
    shown = []
    for cv in ctx.crossvals:
        try:
            ma, mb = ctx.reg.resolve_method(cv.a), ctx.reg.resolve_method(cv.b)
        except UnknownName:
            continue
        if frozenset((ma, mb)) in pairs:
            shown.append((cv, ma, mb))
    if not shown:
        return
    doc.add(Heading(2, "Recorded cross-validation of finetuning recipes (reruns/crossval)", anchor="crossval"))
    groups = sorted({f"{c.own.result.dataset}/{c.own.result.network}" for c in claims})
    for cv, ma, mb in shown:
        other = "" if cv.benchmark in groups else (f" This ran on {cv.benchmark}, a miniature benchmark, not on "
                                                   f"{', '.join(groups)}: it shows the method, not the paper's numbers.")
        doc.add(Para([f"The seed's Sec. 5 experiment for {ma} vs {mb}, run by the rerun engine on {cv.benchmark} "
                      f"with {cv.seeds} seed(s) per cell (", ("code", cv.command), ")." + other]))
        rows = []
        for method, name in ((cv.a, ma), (cv.b, mb)):
            cells: list[Any] = [name]
            for r in cv.recipes:
                key = f"{method}+{r}"
                if key in cv.mean:
                    sd = cv.std.get(key)
                    cells.append(f"{cv.mean[key]:.2f}" + ("" if sd is None else f"±{sd:.2f}"))
                else:
                    cells.append("n/r")
            rows.append(cells)
        doc.add(Table(["method \\ finetuning recipe"] + list(cv.recipes), rows,
                      caption=f"Top-1 (%) mean±std over seeds; {cv.name}"))
        doc.add(Para([("b", "Verdict of the rerun:"), " " + cv.verdict]))


def _value_section(ctx: Context, claims: Sequence[Claim], doc: Doc) -> None:
    """The value of pruning (seed Sec. 4, Mystery 2) on the benchmarks of the claims, where the registry
    holds scratch training of pruned architectures: per ratio and setup, the best pruning result against
    scratch training, with Welch's test."""
    from audit.core.compare import best_value_rows, value_of_pruning

    benches = sorted({(c.own.result.dataset, c.own.result.network) for c in claims})
    entries = [e for e in ctx.reg.entries if (e.result.dataset, e.result.network) in benches]
    groups = value_of_pruning(entries, [_feat(e) for e in entries], ctx.tolerance)
    if not groups:
        return
    doc.add(Heading(2, "Value of pruning: pruning vs scratch training", anchor="value-of-pruning"))
    doc.add(Para("Per pruned architecture and setup, the best pruning result against scratch training of the "
                 "same architecture (the seed's Sec. 4): S4.2 = one overall LR schedule with the pruning at "
                 "epoch P; SX-A = the same total epochs; SX-B = the same total cost in dense-epoch units."))
    for g in groups:
        rows: list[list[Inline]] = []
        for r in best_value_rows(g.rows):
            sig = r.significance
            rows.append([r.ratio, str(r.setup), [("code", r.pruning)], _delta(r.delta_top1),
                         sig.p_text() if sig.tested else "n/r",
                         ("yes" if sig.significant else "no") if sig.tested else f"untestable: {sig.reason}"])
        doc.add(Table(["architecture", "setup", "best pruning result", "Δ top-1 (pruning − scratch)", "Welch p",
                       "significant"], rows, caption=f"{g.dataset}/{g.network}"))


def _one_line(c: Claim) -> str:
    """A claim's verdict in one line (its heading and the verdict list at the top of the report)."""
    p = c.cmp
    if p is None:
        return ("cannot be checked: the competitor is not in the registry" if c.status == "not in registry"
                else "cannot be checked: no registry result of the competitor on this benchmark")
    d = p.delta.top1
    if d is None:
        dd = p.delta.drop
        gap = ("no accuracy to compare" if dd is None else "a tie on the top-1 change" if abs(dd) < TIE else
               f"{p.a.label} {'ahead' if dd < 0 else 'behind'} by {abs(dd):.2f} on the top-1 change")
        d = 0.0 if dd is None else -dd
    else:
        gap = "a tie" if abs(d) < TIE else f"{p.a.label} {'ahead' if d > 0 else 'behind'} by {abs(d):.2f} top-1"
    reading = p.setup.reading
    if reading is Reading.FAIR:
        return f"{'survives' if d > TIE else 'does not survive'} at {p.setup} (fair): {gap}"
    if reading is Reading.NOT_CONCLUSIVE:
        return f"not conclusive at {p.setup} (finetuning not shown the same): {gap}"
    if reading is Reading.WEAK:
        return f"unfair, {p.setup} only: {gap}"
    return f"no fair reading ({p.setup_label})"


def _verdict_blocks(ctx: Context, claims: Sequence[Claim]) -> list[Any]:
    """The report's first lines: how many claims survive at S3.2+ and each claim's one-line verdict."""
    fair = [c for c in claims if c.cmp is not None and c.cmp.setup.fair]
    survive = sum(1 for c in fair if c.cmp is not None and c.cmp.delta.top1 is not None and c.cmp.delta.top1 > TIE)
    what = ctx.noun.replace("(s)", "s")
    head = Para([("b", "Verdict:"), f" {survive} of {len(claims)} {what} survive a fair comparison (S3.2 or "
                 f"stronger, with {ctx.own_name} ahead); {len(fair)} reach S3.2 or stronger."], kind="verdict")
    items: list[Inline] = [[("b", f"{c.cid}"), f" {_claim_title(c)}: {_one_line(c)}"] for c in claims]
    return [head, Bullets(items or ["Nothing was compared."])]


def _common(ctx: Context, doc: Doc, claims: list[Claim], audited: list[Any], intro: list[Any]) -> None:
    """Assemble the report: the verdict first (its first lines), the summary, the figures, what is under review,
    one section per claim, the checklist and the requests."""
    req = Requests()
    sections = Doc(doc.title)  # built before the figures: the claims record the reruns the figures show first
    sections.add(Heading(2, "Claimed comparisons" if ctx.noun.startswith("claimed") else "Compared operating points",
                         anchor="comparisons"))
    for c in claims:
        _claim_section(ctx, c, sections, req)
    _crossval_section(ctx, claims, sections)
    _value_section(ctx, claims, sections)
    figures = Doc(doc.title)
    _plots(ctx, claims, [c.own for c in claims], figures)
    doc.add(*_verdict_blocks(ctx, claims))
    para, table = _summary(ctx, claims)
    doc.add(Heading(2, "Summary", anchor="summary"), para, table)
    if figures.blocks:
        doc.add(Heading(2, "Figures", anchor="figures"), *figures.blocks)
    doc.add(Heading(2, "What is under review", anchor="scope"), *intro)
    doc.add(*sections.blocks)
    doc.add(Heading(2, "What is not reported (seed Sec. 6 checklist)", anchor="checklist"))
    if not audited:
        doc.add(Para("No result is under review: nothing was compared."))
        doc.add(Heading(2, "Requests to the authors (copy into the review)", anchor="requests"))
        doc.add(Bullets(["No requests."]))
        return
    check_table, missing = _checklist(audited)
    doc.add(Para(f"Over the {len(audited)} result(s) under review: "
                 + ", ".join(e.key for e in audited) + ". 'inferred' = the registry entry supplies a value the "
                                                       "paper implies but does not state."))
    doc.add(check_table)
    doc.add(Heading(3, "Rule 1: final LRs of the compared recipes (App. A)"))
    doc.add(Para("Finetuning that stops at a larger final LR understates a method (decaying 1e-3 to 1e-4 on "
                 "ImageNet adds about 0.5-0.8 top-1), so compared recipes should end at the same LR."))
    doc.add(_rule1_table(claims))
    for name, lacking in missing:
        shown = ", ".join(lacking[:6]) + (f" and {len(lacking) - 6} more" if len(lacking) > 6 else "")
        req.report.append(f"Report the {name} of {shown} (not stated; {CHECK_WHY.get(name, '')}).")
    doc.add(Heading(2, "Requests to the authors (copy into the review)", anchor="requests"))
    items = req.items()
    doc.add(Bullets([[f"R{i}. "] + r for i, r in enumerate(items, 1)] or ["No requests."]))
    doc.add(Para("Setups follow Wang et al., 'Why is the State of Neural Network Pruning so Confusing?' (2023), "
                 f"Tab. 2; speedups within {ctx.tolerance * 100:g}% count as the same rate. 'n/r' = not reported. "
                 "Generated by prune-audit report from the registry; equal inputs give identical files.",
                 kind="note"))


def _group_counts(reg: Any, entries: Sequence[Any]) -> str:
    groups = sorted({(e.result.dataset, e.result.network) for e in entries})
    return ", ".join(f"{len(_group_entries(reg, ds, nw))} on {ds}/{nw}" for ds, nw in groups)


# ---------------------------------------------------------------------- entry points
def submission_report(loaded: Any, reruns: Sequence[Rerun] = (), tolerance: float = 0.05,
                      accept_base_accuracy: bool = False, crossvals: Sequence[Any] = ()) -> Doc:
    """The report of a reviewer's submission file (see :mod:`audit.report.submission`)."""
    sub = loaded.submission
    reg = loaded.registry
    pid = sub.paper.id
    claims: list[Claim] = []
    for i, cc in enumerate(sub.comparisons, 1):
        own = reg.find_result(f"{pid}/{cc.result}")
        other, cmp, status, message, alts = _resolve_claim(reg, own, cc.against, tolerance, accept_base_accuracy)
        claims.append(Claim(index=i, own=own, against=cc.against, claim=cc.claim, other=other, cmp=cmp,
                            status=status, message=message, alternatives=alts,
                            cited=_cited_values(reg, own, other, cc.against)))
    own_keys = sorted({c.own.key for c in claims})
    audited = [reg.find_result(k) for k in own_keys]
    own_methods = {e.method for e in reg.entries if e.paper.id == pid}
    highlight = own_methods | {c.other.method for c in claims if c.other is not None}
    name = "the submission"
    ctx = Context(reg, reruns, tolerance, name, highlight, "the submission", is_own=lambda e: e.paper.id == pid,
                  crossvals=crossvals)
    p = sub.paper
    doc = Doc(f"Fairness report: {p.title} ({p.venue} {p.year})")
    groups = sorted({f"{e.result.dataset}/{e.result.network}" for e in audited})
    absent = sorted({c.against for c in claims if c.status == "not in registry"})
    intro: list[Any] = [
        Table(["", "report on"], [
            ["submission", [("code", loaded.name), f" (paper id {pid})"]],
            ["authors", ", ".join(p.authors)],
            ["venue", f"{p.venue} {p.year}"],
            ["dataset / network", ", ".join(groups)],
            ["own results compared", str(len(audited))],
            ["claimed comparisons", str(len(claims))],
            ["not in registry", ", ".join(absent) if absent else "—"],
            ["registry results on these benchmarks", _group_counts(reg, audited) + " (the submission included)"],
        ]),
    ]
    if loaded.replaces is not None:
        intro.append(Para([("b", "Replaces a registry paper:"),
                           f" the submission has the paper id {pid}, which the registry holds in its file {loaded.replaces}; "
                           "this report reads the submission in its place, so every number of that paper here is "
                           "the submission's, not the registry's."], kind="note"))
    _common(ctx, doc, claims, audited, intro)
    return doc


def compare_report(reg: Any, a: str, b: str, reruns: Sequence[Rerun] = (), tolerance: float = 0.05,
                   accept_base_accuracy: bool = False, dataset: str | None = None,
                   network: str | None = None, crossvals: Sequence[Any] = ()) -> Doc:
    """The report of ``prune-audit compare A B``: one section per operating point's calibrated pair."""
    from audit.core.compare import compare_methods

    rep: CompareReport = compare_methods(reg, a, b, dataset=dataset, network=network, tolerance=tolerance,
                                         accept_base_accuracy=accept_base_accuracy)
    ca, cb = rep.a, rep.b
    by_key = {e.key: e for e in reg.entries}
    claims: list[Claim] = []
    only: list[list[Any]] = []
    for g in rep.groups:
        for op in g.operating_points:
            cal = op.calibrated
            if cal is None:
                keys = op.a_results + op.b_results
                only.append([f"{g.dataset}/{g.network}", op.speedup_text, op.only or "",
                             [("code", k) for k in keys[:1]] + [", " + k for k in keys[1:]]])
                continue
            claims.append(Claim(index=len(claims) + 1, own=by_key[cal.a.key], against=cb, other=by_key[cal.b.key],
                                cmp=cal, naive=list(op.naive), verdict=op.verdict,
                                cross_validation=op.cross_validation, speedup_text=op.speedup_text))
    audited_keys = sorted({c.own.key for c in claims} | {c.other.key for c in claims})
    audited = [by_key[k] for k in audited_keys]
    ctx = Context(reg, reruns, tolerance, ca, {ca, cb}, ca, noun="compared operating point(s)",
                  is_own=lambda e: e.method == ca, is_competitor=lambda e: e.method == cb, competitor_name=cb,
                  crossvals=crossvals)
    doc = Doc(f"Fairness report: {ca} vs {cb}")
    groups = sorted({f"{g.dataset}/{g.network}" for g in rep.groups})
    intro: list[Any] = [
        Table(["", "report on"], [
            ["comparison", [("code", f"prune-audit report --compare {ca} {cb}")]],
            ["A", f"{ca} ({reg.method_paper.get(ca, 'n/r')})"],
            ["B", f"{cb} ({reg.method_paper.get(cb, 'n/r')})"],
            ["dataset / network (both methods)", ", ".join(groups) or "none"],
            ["operating points compared", str(len(claims))],
            ["registry results on these benchmarks", _group_counts(reg, audited) or "—"],
        ]),
        Para("Each operating point (speedups within the tolerance) contributes its calibrated pair: the pair "
             "of published results at the strongest setup. The other pairs a reader could cite at the same "
             "rate are listed under it."),
    ]
    if only or rep.missing:
        rows = list(only)
        for m in rep.missing:
            rows.append([f"{m.dataset}/{m.network}", "—", m.other,
                         f"{m.method} has no result here ({m.other} has {m.other_results})"])
        intro.append(Table(["dataset/network", "speedup", "only", "results"], rows,
                           caption="Where only one of the two methods has a result (nothing to compare)"))
    if not claims:
        intro.append(Para([("b", "Nothing to compare:"), " " + "; ".join(rep.recommendation.per_operating_point
                                                                         or ["no operating point has both methods"])]))
    _common(ctx, doc, claims, audited, intro)
    return doc

