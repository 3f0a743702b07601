"""Calibrated comparisons of two methods (``prune-audit compare``) and the registry-wide audit.

:func:`compare_methods` pairs every result of method A with every result of method B on the same
dataset and network, groups them by operating point (speedups within the tolerance), and for each
operating point keeps the pair at the strongest setup (*calibrated*) beside every other pair a
reader could cite (*naive*), a verdict, and the seed's Sec. 5 cross-validation plan (A with B's
finetuning recipe, B with A's).  :func:`audit_matrix` classifies all method pairs of the registry
and builds the calibrated leaderboard (only comparisons at S3.2 or stronger count) beside the naive
one (raw top-1).  Both return typed models (:mod:`audit.core.views`; their JSON schemas are
``docs/compare.schema.json`` and ``docs/audit.schema.json``); the command modules and the reports render them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from audit.core import catalog
from audit.core import classify as C
from audit.core.rules import rule1
from audit.core.schedule import Schedule
from audit.core.setups import CHAIN, TIE, Level, Outcome, Reading
from audit.core.views import (
    AuditGroup,
    AuditReport,
    CalibratedRow,
    CompareGroup,
    CompareReport,
    CrossRun,
    CrossValidation,
    Delta,
    Filters,
    MethodPair,
    Missing,
    NaiveRow,
    OperatingPoint,
    Pair,
    Recommendation,
    Reproduction,
    Role,
    Rule1Pair,
    Side,
    ValueGroup,
    ValueRow,
)
from audit.errors import AuditError, UnknownName

__all__ = [
    "CALIBRATED_MIN_RANK", "Recipe", "audit_matrix", "check_filters", "check_tolerance", "compare_methods",
    "best_value_rows", "own_recipe", "pair_view", "reproduction", "value_of_pruning", "verdict",
]

CALIBRATED_MIN_RANK = Level.S3_2.rank


_SX_ORDER = {Level.SX_A: 2, Level.SX_B: 1}
"""Among pruning-vs-scratch pairs below S4.2, SX-A (same total epochs) before SX-B (same total cost)."""


def value_of_pruning(entries: Sequence[Any], feats: Sequence[C.Feat], tolerance: float) -> list[ValueGroup]:
    """Every pruning result against each scratch-training result of the same pruned architecture (the
    same printed pruning ratios on the same network, or, within one paper, speedups within
    ``tolerance``), classified on the scratch chain
    (S4.2 / SX-A / SX-B / S1: :func:`audit.core.classify.classify`) with Welch's t-test where runs and
    stds are reported (a run count given as a lower bound is used at that bound: the conservative
    reading).  The seed's Mystery 2 (Sec. 4, Tab. 4).  Sorted by dataset, network, speedup, setup."""
    groups: dict[tuple[str, str], list[ValueRow]] = {}
    by_group: dict[tuple[str, str], list[int]] = {}
    for idx, f in enumerate(feats):
        by_group.setdefault((f.dataset, f.network), []).append(idx)
    for (ds, nw), idxs in by_group.items():
        scratch = [i for i in idxs if C.is_scratch(feats[i]) and feats[i].top1 is not None]
        pruning = [i for i in idxs if not C.is_scratch(feats[i]) and feats[i].top1 is not None]
        rows: list[ValueRow] = []
        for p in pruning:
            for sc in scratch:
                fp, fs = feats[p], feats[sc]
                same_arch = fp.ratio_key is not None and fp.ratio_key == fs.ratio_key
                if not same_arch and fp.paper != fs.paper:
                    continue  # a similar speedup of another paper is not the same pruned architecture
                cmp = C.classify(fp, fs, tolerance)
                if cmp.rank <= 1:
                    continue  # another architecture
                assert fp.top1 is not None and fs.top1 is not None
                ratio = C.ratio_text(fp) if fp.ratio_key is not None else _sp_text(fp.speedup)
                rows.append(ValueRow(ratio=ratio, speedup=fp.speedup, pruning=fp.key,
                                     pruning_label=fp.label + (f" [{fp.variant}]" if fp.variant else ""),
                                     scratch=fs.key, scratch_label=fs.label + (f" [{fs.variant}]" if fs.variant
                                                                               and fs.variant != fs.label else ""),
                                     setup=cmp.level, pruning_top1=fp.top1, scratch_top1=fs.top1,
                                     delta_top1=round(fp.top1 - fs.top1, 6), significance=cmp.significance))
        if rows:
            order = {Level.S4_2: 0, Level.SX_A: 1, Level.SX_B: 2}
            rows.sort(key=lambda r: (r.speedup or 0.0, order.get(r.setup, 3), -r.delta_top1, r.pruning))
            groups[(ds, nw)] = rows
    return [ValueGroup(dataset=ds, network=nw, rows=rows) for (ds, nw), rows in sorted(groups.items())]


def best_value_rows(rows: Sequence[ValueRow]) -> list[ValueRow]:
    """The best pruning row (highest Δ top-1) for each (architecture, setup, scratch result), in the
    order of ``rows`` (speedup, then setup): the "value of pruning" table of ``audit`` and reports."""
    best: dict[tuple[str, str, str], ValueRow] = {}
    for r in rows:
        k = (r.ratio, str(r.setup), r.scratch)
        if k not in best or r.delta_top1 > best[k].delta_top1:
            best[k] = r
    return [r for r in rows if best[(r.ratio, str(r.setup), r.scratch)] is r]


def _sp_text(v: float | None) -> str:
    return "speedup n/r" if v is None else f"{v:.2f}×"


def check_tolerance(tolerance: float) -> float:
    """``tolerance`` as a float; :class:`AuditError` unless it is a relative fraction in (0, 1)."""
    if not (tolerance > 0) or tolerance != tolerance:
        raise AuditError(f"tolerance must be positive (got {tolerance:g})")
    if tolerance >= 1:
        raise AuditError(f"tolerance is a relative fraction below 1, e.g. 0.05 for 5 % (got {tolerance:g})")
    return float(tolerance)


def check_filters(dataset: str | None, network: str | None, networks: Any = None) -> None:
    """:class:`UnknownName` (with "did you mean") for a dataset or network id that is not known: the
    catalog's, or one of ``networks`` (those paper files declare, ``Registry.networks``).  Filters take
    canonical ids (``resnet34``, not ``ResNet-34``), as the registry's results do."""
    if dataset is not None:
        catalog.dataset(dataset)
    if network is not None:
        pool = {**catalog.NETWORKS, **(networks or {})}
        if network not in pool:
            raise UnknownName.of("network", network, pool)


# ---------------------------------------------------------------------- helpers
def _recipe_text(epochs: int | None, sched: Schedule | None) -> str:
    ep = "n/r" if epochs is None else f"{epochs} epochs"
    if sched is None:
        return f"{ep}, LR schedule n/r"
    return f"{ep}, {sched.body_text()}"


def _side(f: C.Feat, entry: Any) -> Side:
    r = entry.result
    return Side(key=f.key, method=f.method, label=f.label, top1=f.top1, gain=f.gain, std=f.std,
                speedup_derived=f.speedup_derived, runs=f.runs, speedup=f.speedup,
                base=f.base_id, base_top1=f.base_top1, finetune=_recipe_text(f.ft_epochs, f.ft_sched),
                reimplementation_of=r.reimplementation_of, setup_tag=r.setup_tag, source=f.source,
                pipeline=f.pipeline, final_lr=None if f.ft_sched is None else f.ft_sched.final_lr,
                first_source=f.sources[0] if f.sources else "", finetune_epochs=f.ft_epochs,
                finetune_schedule=None if f.ft_sched is None else f.ft_sched.body_text())


def pair_view(cmp: C.Comparison, role: Role, ea: Any, eb: Any) -> Pair:
    """The typed view of a classified pair; ``ea``/``eb`` are the registry entries (or reruns) of its sides."""
    return Pair(role=role, a=_side(cmp.a, ea), b=_side(cmp.b, eb), setup=cmp.level, setup_label=cmp.label,
                rank=cmp.rank, inferred=list(cmp.inferred), criteria=list(cmp.criteria.values()),
                failed={str(k): list(v) for k, v in cmp.failed.items()}, sx={str(k): c for k, c in cmp.sx.items()},
                dominance=cmp.dominance, speedup_mismatch=cmp.rate_mismatch,
                delta=Delta(top1=cmp.delta_top1, drop=cmp.delta_drop), significant=cmp.significance.significant,
                significance=cmp.significance, rule1=cmp.rule1, failed_text=cmp.failed_text())


def _cluster(points: list[tuple[float, int]], tol: float) -> list[list[int]]:
    """Greedy clustering of sorted speedups: a point joins the cluster whose first speedup is within tol."""
    clusters: list[list[int]] = []
    first = 0.0
    for sp, idx in sorted(points):
        if clusters and C.rel_mismatch(sp, first) <= tol:
            clusters[-1].append(idx)
        else:
            clusters.append([idx])
            first = sp
    return clusters


def _best_key(cmp: C.Comparison) -> tuple:
    # strongest level; then fewer inferred criteria; then more SX flags met (pruning vs scratch);
    # then the closer rate
    sx = sum(1 for c in cmp.sx.values() if c.ok)
    return (cmp.rank, -len(cmp.inferred), sx, -(cmp.rate_mismatch or 0.0))


def _winner_text(cmp: C.Comparison) -> str:
    d = cmp.delta_top1
    if d is None:
        if cmp.delta_drop is None:
            return f"{cmp.a.label} vs {cmp.b.label}: no accuracy to compare (a top-1 change without the other's)"
        dd = cmp.delta_drop
        ga, gb = cmp.a.gain, cmp.b.gain
        assert ga is not None and gb is not None
        if abs(dd) < TIE:
            return f"{cmp.a.label} and {cmp.b.label} tie on the top-1 change (Δ {ga:+.2f} vs {gb:+.2f})"
        win, lose = (cmp.a, cmp.b) if dd < 0 else (cmp.b, cmp.a)
        return (f"{win.label} ahead of {lose.label} by {abs(dd):.2f} on the top-1 change from each base "
                f"(Δ {win.gain:+.2f} vs {lose.gain:+.2f}; Δ = pruned - base)")
    assert cmp.a.top1 is not None and cmp.b.top1 is not None
    if abs(d) < TIE:
        return f"{cmp.a.label} and {cmp.b.label} tie ({cmp.a.top1:.2f} vs {cmp.b.top1:.2f})"
    win, lose = (cmp.a, cmp.b) if d > 0 else (cmp.b, cmp.a)
    return f"{win.label} ahead of {lose.label} by {abs(d):.2f} top-1 ({win.top1:.2f} vs {lose.top1:.2f})"


def _sig_text(cmp: C.Comparison) -> str:
    s = cmp.significance
    if s.tested:
        return ("significant" if s.significant else "within noise") + f" (Welch p = {s.p_text()})"
    return f"significance unknown: {s.reason}"


def verdict(cmp: C.Comparison, sp_text: str) -> str:
    """The verdict on a calibrated pair at operating point ``sp_text``: who is ahead under which setup, and how
    far that can be trusted (fair from S3.2 on, not conclusive at S2/S3.1, weak at S1, none below)."""
    text = _verdict_chain(cmp, sp_text)
    if cmp.rank >= 1 and {cmp.a.pipeline, cmp.b.pipeline} != {"pruning"}:
        text += (f" Scratch training has no base model by design: judge it by the SX flags "
                 f"(SX-A {cmp.sx[C.SX_A].outcome}, SX-B {cmp.sx[C.SX_B].outcome}).")
    return text


def _verdict_chain(cmp: C.Comparison, sp_text: str) -> str:
    base = f"at {sp_text}: {_winner_text(cmp)} under {cmp.label}"
    reading = cmp.level.reading
    if reading is Reading.FAIR:
        return f"{base}; {_sig_text(cmp)}. A fair comparison (same base and finetuning)."
    if reading is Reading.NOT_CONCLUSIVE:
        return (f"{base}; {_sig_text(cmp)}. Not conclusive: the finetuning differs "
                f"({'; '.join(cmp.failed_text()[:1])}), which can explain the gap - cross-validate.")
    if reading is Reading.WEAK:
        drop = "" if cmp.delta_drop is None else f"; Δ drop from own base {cmp.delta_drop:+.2f}"
        return f"{base}{drop}. Weak: {cmp.criteria[C.BASE].describe()}."
    return f"at {sp_text}: {cmp.label}; no fair comparison"


def _next_setup(cmp: C.Comparison) -> str | None:
    """The next stronger level and what blocks it."""
    if cmp.rank < 1 or cmp.rank >= len(CHAIN) + 1:
        return None
    nxt = CHAIN[cmp.rank - 1] if cmp.rank >= 2 else Level.S1
    crit = C.CRITERIA[CHAIN.index(nxt)]
    return f"{nxt} fails on {cmp.criteria[crit].describe()}"


class Recipe(NamedTuple):
    """A finetuning recipe read from a registry result."""

    epochs: int | None
    schedule: Schedule | None
    key: str
    """The registry key of the result it is read from."""
    where: str
    """``dataset/network`` of that result."""


def own_recipe(reg: Any, method: str, dataset: str, network: str, *, complete_only: bool = False,
               by_key: bool = False) -> Recipe | None:
    """The method's published finetuning recipe **on this dataset and network** (``None``: none there with
    epochs and a schedule), preferring a result of the method's own paper.  A recipe of another
    benchmark is never borrowed: an ImageNet/ResNet-34 recipe says nothing about CIFAR-10/ResNet-56.

    ``complete_only`` skips schedules with unreported parts (a recipe someone must run); ``by_key`` breaks ties
    in the order of result keys instead of registry order.
    """
    paper = reg.method_paper.get(method)
    best: tuple[int, Any] | None = None
    entries = sorted(reg.entries, key=lambda e: e.key) if by_key else reg.entries
    for e in entries:
        r = e.result
        if (e.method != method or r.reimplementation_of is not None or r.finetune is None
                or (r.dataset, r.network) != (dataset, network)):
            continue
        ft = r.finetune
        if ft.epochs is None or ft.lr_schedule is None or (complete_only and not ft.lr_schedule.is_complete):
            continue
        score = 1 if e.paper.id == paper else 0
        if best is None or score > best[0]:
            best = (score, e)
    if best is None:
        return None
    e = best[1]
    ft = e.result.finetune
    return Recipe(ft.epochs, ft.lr_schedule, e.key, f"{e.result.dataset}/{e.result.network}")


def _existing(feats: Iterable[C.Feat], sched: Schedule) -> str | None:
    for f in feats:
        if f.ft_sched is not None and C.schedules_same(f.ft_sched, sched):
            return f.key
    return None


def _cross_validation(reg: Any, a: str, b: str, cal: C.Comparison, a_feats: Sequence[C.Feat],
                      b_feats: Sequence[C.Feat], dataset: str, network: str) -> CrossValidation:
    """The seed's Sec. 5 plan: A + B's finetuning recipe and B + A's, as two recipes to run."""
    here = f"{dataset}/{network}"
    ra = Recipe(cal.a.ft_epochs, cal.a.ft_sched, cal.a.key, here)
    own_b = own_recipe(reg, b, dataset, network)
    rb = own_b if own_b is not None else Recipe(cal.b.ft_epochs, cal.b.ft_sched, cal.b.key, here)
    own_a = own_recipe(reg, a, dataset, network)
    if own_a is not None and (cal.a.ft_sched is None):
        ra = own_a
    runs = []
    for method, recipe, other, feats in ((a, rb, b, a_feats), (b, ra, a, b_feats)):
        epochs, sched, key, where = recipe
        runs.append(CrossRun(method=method, recipe_of=other, recipe_from=key, recipe_where=where,
                             finetune_epochs=epochs, schedule=None if sched is None else sched.body_text(),
                             recipe=_recipe_text(epochs, sched),
                             already_in_registry=None if sched is None else _existing(feats, sched)))
    same = ra.schedule is not None and rb.schedule is not None and C.schedules_same(ra.schedule, rb.schedule) is True
    note = ("both methods' own recipes coincide: the calibrated pair already is the controlled comparison"
            if same else
            "if one method wins under both recipes it is the better pruning method; if the winner flips, "
            "pruning and finetuning interact and the higher number weighs more (seed Sec. 5)")
    return CrossValidation(runs=runs, note=note)


# ---------------------------------------------------------------------- compare
def _method_entries(reg: Any, method: str, dataset: str | None, network: str | None) -> list[Any]:
    """The registry entries of ``method`` under the filters; :class:`AuditError` when there are none."""
    entries = [e for e in reg.entries if e.method == method]
    if not entries:
        raise AuditError(f"{method} has no result in the registry")
    kept = [e for e in entries
            if (dataset is None or e.result.dataset == dataset) and (network is None or e.result.network == network)]
    if not kept:
        where = "/".join(x for x in (dataset, network) if x)
        has = sorted({f"{e.result.dataset}/{e.result.network}" for e in entries})
        raise AuditError(f"{method} has no result on {where} (it has results on {', '.join(has)})")
    return kept


def _by_benchmark(feats: Iterable[C.Feat]) -> dict[tuple[str, str], list[C.Feat]]:
    groups: dict[tuple[str, str], list[C.Feat]] = {}
    for f in feats:
        groups.setdefault((f.dataset, f.network), []).append(f)
    return groups


def _operating_point(reg: Any, a: str, b: str, bench: tuple[str, str], allf: Sequence[C.Feat], n_a: int,
                     members: Sequence[int], rate_unknown: bool, by_key: dict[str, Any], tolerance: float,
                     accept_base_accuracy: bool) -> tuple[OperatingPoint, str | None]:
    """One operating point of a benchmark: the results at one rate (``members``, indices into ``allf``
    whose first ``n_a`` are A's), its calibrated and naive pairs, verdict and cross-validation plan,
    and the citation it recommends (``None`` when no pair reaches S1)."""
    ia = [i for i in members if i < n_a]
    ib = [i for i in members if i >= n_a]
    if rate_unknown:  # results without a speedup meet every result of the other side
        pairs = [(x, y) for x in ia for y in range(n_a, len(allf))] + \
                [(x, y) for x in range(n_a) for y in ib if x not in ia]
    else:
        pairs = [(x, y) for x in ia for y in ib]
    sps = sorted(sp for i in members if (sp := allf[i].speedup) is not None)
    sp_text = "speedup n/r" if rate_unknown else (
        f"{sps[0]:.2f}×" if sps[0] == sps[-1] or round(sps[0], 2) == round(sps[-1], 2)
        else f"{sps[0]:.2f}-{sps[-1]:.2f}×")
    cmps = sorted((C.classify(allf[x], allf[y], tolerance, accept_base_accuracy) for x, y in pairs), key=_best_key,
                  reverse=True)
    speedup = None if rate_unknown else sps[0]
    a_keys, b_keys = [allf[i].key for i in ia], [allf[i].key for i in ib]
    if not cmps:
        only, other = (a, b) if ia else (b, a)
        return OperatingPoint(speedup=speedup, speedup_text=sp_text, a_results=a_keys, b_results=b_keys,
                              calibrated=None, naive=[], next_setup=None, cross_validation=None, only=only,
                              verdict=f"at {sp_text}: only {only} has a result ({other} has none at this rate)"), None
    cal = cmps[0]
    naive_reading = ""
    if len(cmps) > 1:
        shown = [("n/r" if c.delta_top1 is None else f"{c.delta_top1:+.2f}") + f" ({c.level})" for c in cmps[1:4]]
        more = f" and {len(cmps) - 4} more" if len(cmps) > 4 else ""
        naive_reading = f" Naive pairs would read Δ {', '.join(shown)}{more}."
    next_setup = _next_setup(cal)
    op = OperatingPoint(
        speedup=speedup, speedup_text=sp_text, a_results=a_keys, b_results=b_keys,
        calibrated=pair_view(cal, "calibrated", by_key[cal.a.key], by_key[cal.b.key]),
        naive=[pair_view(c, "naive", by_key[c.a.key], by_key[c.b.key]) for c in cmps[1:]],
        verdict=verdict(cal, sp_text) + naive_reading, next_setup=next_setup,
        cross_validation=_cross_validation(reg, a, b, cal, [allf[i] for i in ia], [allf[i] for i in ib], *bench),
        only=None)
    if cal.rank < 2:
        return op, None
    rec = f"at {sp_text}: cite {cal.a.key} vs {cal.b.key} ({cal.label})"
    return op, rec + (f"; stronger: {next_setup}" if next_setup else "")


def _compare_group(reg: Any, a: str, b: str, bench: tuple[str, str], fa: list[C.Feat], fb: list[C.Feat],
                   by_key: dict[str, Any], tolerance: float, accept_base_accuracy: bool
                   ) -> tuple[CompareGroup, list[str]]:
    """A and B on one benchmark: its operating points (speedups clustered within the tolerance; results
    without a speedup form one more) and the pairs across operating points; plus its recommendations."""
    allf = fa + fb
    clusters = _cluster([(f.speedup, i) for i, f in enumerate(allf) if f.speedup is not None], tolerance)
    unknown = [i for i, f in enumerate(allf) if f.speedup is None]
    cluster_of = {i: ci for ci, cl in enumerate(clusters) for i in cl}
    ops: list[OperatingPoint] = []
    recommendations: list[str] = []
    for ci, members in enumerate(clusters + ([unknown] if unknown else [])):
        op, rec = _operating_point(reg, a, b, bench, allf, len(fa), members, ci == len(clusters), by_key,
                                   tolerance, accept_base_accuracy)
        ops.append(op)
        if rec is not None:
            recommendations.append(rec)
    other_rate: list[Pair] = []  # pairs across operating points: informative only with a Pareto dominance
    for x in range(len(fa)):
        for y in range(len(fa), len(allf)):
            if x in cluster_of and y in cluster_of and cluster_of[x] != cluster_of[y]:
                c = C.classify(allf[x], allf[y], tolerance, accept_base_accuracy)
                other_rate.append(pair_view(c, "other-rate", by_key[c.a.key], by_key[c.b.key]))
    return CompareGroup(dataset=bench[0], network=bench[1], operating_points=ops,
                        other_rate_pairs=other_rate), recommendations


def reproduction(reg: Any, entry: Any, tolerance: float = 0.05) -> Reproduction | None:
    """The reproducibility gap of ``entry`` when it reproduces a published result (``reproduces``):
    its top-1 minus the published one, whether the rate (same ratios, or speedups within the tolerance)
    and the finetuning recipe (epochs and LR schedule) are the same.  ``None`` for other results."""
    key = entry.result.reproduces
    if key is None:
        return None
    pub = reg.find_result(key)
    fr, fp = C.features_of_entry(entry), C.features_of_entry(pub)
    cmp = C.classify(fr, fp, tolerance)
    rate = cmp.criteria[C.RATE].outcome
    ep, lr = cmp.criteria[C.FT_EPOCHS].outcome, cmp.criteria[C.FT_LR].outcome
    recipe = (Outcome.SAME if ep.ok and lr.ok else Outcome.DIFFERS if Outcome.DIFFERS in (ep, lr)
              else Outcome.UNKNOWN)
    gap = None if fr.top1 is None or fp.top1 is None else round(fr.top1 - fp.top1, 6)
    if gap is None:
        head = f"{entry.key} reproduces {key}: no top-1 to compare"
    else:
        where = "below" if gap < 0 else "above"
        head = (f"reproducibility gap: {entry.key} reaches {fr.top1:.2f}, {abs(gap):.2f} {where} the published "
                f"{fp.top1:.2f} ({key})")
    text = f"{head}; rate {rate}, finetuning recipe {recipe}"
    return Reproduction(key=entry.key, reproduces=key, top1=fr.top1, published_top1=fp.top1, gap=gap, rate=rate,
                        recipe=recipe, text=text)


def compare_methods(reg: Any, a_name: str, b_name: str, dataset: str | None = None, network: str | None = None,
                    tolerance: float = 0.05, accept_base_accuracy: bool = False) -> CompareReport:
    """The full content of ``prune-audit compare A B`` (see the module docstring).

    Raises :class:`AuditError` for a bad tolerance, the same method twice, or a method without results
    (under the filters), and :class:`UnknownName` for an unknown method, dataset or network.
    """
    tolerance = check_tolerance(tolerance)
    check_filters(dataset, network)
    a = reg.resolve_method(a_name)
    b = reg.resolve_method(b_name)
    if a == b:
        raise AuditError(f"{a_name!r} and {b_name!r} are the same method ({a}); compare two different methods")
    ea = _method_entries(reg, a, dataset, network)
    eb = _method_entries(reg, b, dataset, network)
    by_key = {e.key: e for e in ea + eb}
    groups_a = _by_benchmark(C.features_of_entry(e) for e in ea)
    groups_b = _by_benchmark(C.features_of_entry(e) for e in eb)
    missing = []
    for g in sorted(set(groups_a) | set(groups_b)):
        if g not in groups_a:
            missing.append(Missing(method=a, dataset=g[0], network=g[1], other=b, other_results=len(groups_b[g])))
        elif g not in groups_b:
            missing.append(Missing(method=b, dataset=g[0], network=g[1], other=a, other_results=len(groups_a[g])))
    groups: list[CompareGroup] = []
    recommendations: list[str] = []
    for g in sorted(set(groups_a) & set(groups_b)):
        group, recs = _compare_group(reg, a, b, g, groups_a[g], groups_b[g], by_key, tolerance, accept_base_accuracy)
        groups.append(group)
        recommendations.extend(recs)
    if not groups:
        recommendations.append(f"{a} and {b} share no dataset/network in the registry: no comparison is possible; "
                               f"run both on a common benchmark")
    recommendation = Recommendation(
        setup=Level.S3_2, per_operating_point=recommendations,
        text="Compare only at S3.2 or stronger: same base model and the same finetuning LR schedule "
             "(the seed's Sec. 6); report mean±std over several runs so the gap can be tested.")
    verdicts = [f"{g.dataset}/{g.network} {op.verdict}" for g in groups for op in g.operating_points]
    repro = [x for e in ea + eb if (x := reproduction(reg, e, tolerance)) is not None]
    verdicts.extend(x.text for x in repro)
    return CompareReport(a=a, b=b, tolerance=tolerance, accept_base_accuracy=accept_base_accuracy,
                         filters=Filters(dataset=dataset, network=network), groups=groups, missing=missing,
                         verdicts=verdicts, recommendation=recommendation, reproductions=repro)


# ---------------------------------------------------------------------- audit
def audit_matrix(reg: Any, dataset: str | None = None, network: str | None = None,
                 tolerance: float = 0.05, accept_base_accuracy: bool = False) -> AuditReport:
    """Setups of all method pairs, the calibrated leaderboard (S3.2+) and the naive one (raw top-1).

    Raises :class:`AuditError` for a bad tolerance or when no result passes the filters, :class:`UnknownName`
    for an unknown dataset or network.
    """
    tolerance = check_tolerance(tolerance)
    check_filters(dataset, network)
    entries = [e for e in reg.entries
               if (dataset is None or e.result.dataset == dataset) and (network is None or e.result.network == network)]
    if not entries:
        where = "/".join(x for x in (dataset, network) if x) or "the registry"
        raise AuditError(f"no results on {where}")
    feats = [C.features_of_entry(e) for e in entries]
    table = C.classify_all(feats, tolerance, accept_base_accuracy)
    methods = sorted({f.method for f in feats}, key=str.casefold)
    # the calibrated leaderboard ranks only results of files a second reader verified (data honesty)
    verified = {pid for pid, pf in reg.papers.items() if pf.paper.verified}
    unverified = sorted({f.paper for f in feats} - verified)
    best: dict[tuple[str, str, str, str], tuple[int, int, bool, int]] = {}
    best_level: dict[tuple[str, str, str, str], Level] = {}
    counts: dict[tuple[str, str, str, str], int] = {}
    wins: dict[str, list[int]] = {m: [0, 0, 0] for m in methods}  # wins, losses, ties (S3.2+)
    deltas: dict[str, list[float]] = {m: [] for m in methods}
    opponents: dict[str, set[str]] = {m: set() for m in methods}
    for k, (i, j, rank, inf, dom) in enumerate(zip(table.i.tolist(), table.j.tolist(), table.rank.tolist(),
                                                   table.inferred.tolist(), table.dominance.tolist())):
        fi, fj = feats[i], feats[j]
        if fi.method == fj.method:
            continue
        m1, m2 = sorted((fi.method, fj.method), key=str.casefold)
        key = (fi.dataset, fi.network, m1, m2)
        counts[key] = counts.get(key, 0) + 1
        if rank == 1 and (fi.speedup is None or fj.speedup is None):
            rank = 0  # S1 not established: a speedup is not reported (ranked below "not at this rate")
        cur = best.get(key)
        lvl = table.levels.get(k)
        cand = (rank, 0 if lvl is None else _SX_ORDER.get(lvl, 0), not inf, -dom)
        if cur is None or cand > cur:
            best[key] = cand
            best_level[key] = lvl if lvl is not None else (Level.RATE_UNKNOWN if rank == 0 else Level.of_rank(rank))
        d_or_none = C.accuracy_delta(fi, fj)
        if (rank >= CALIBRATED_MIN_RANK and dom == 0 and d_or_none is not None
                and fi.paper in verified and fj.paper in verified):
            d = d_or_none
            if abs(d) < TIE:
                wins[fi.method][2] += 1
                wins[fj.method][2] += 1
            elif d > 0:
                wins[fi.method][0] += 1
                wins[fj.method][1] += 1
            else:
                wins[fj.method][0] += 1
                wins[fi.method][1] += 1
            deltas[fi.method].append(d)
            deltas[fj.method].append(-d)
            opponents[fi.method].add(fj.method)
            opponents[fj.method].add(fi.method)
    rule1_pairs = []
    for i, j, rank in zip(table.i.tolist(), table.j.tolist(), table.rank.tolist()):
        fi, fj = feats[i], feats[j]
        if rank < Level.S2.rank or fi.method == fj.method:
            continue
        found = rule1(fi.ft_sched, fj.ft_sched, fi.key, fj.key)
        if found is not None:
            rule1_pairs.append(Rule1Pair(stops_higher=found.higher, final_lr=found.higher_lr, partner=found.lower,
                                         partner_final_lr=found.lower_lr, setup=Level.of_rank(rank)))
    pairs = []
    for (ds, nw, m1, m2), (rank, _sx, stated, _) in sorted(best.items()):
        level = best_level[(ds, nw, m1, m2)]
        inferred = not stated and rank >= 2
        pairs.append(MethodPair(dataset=ds, network=nw, a=m1, b=m2, setup=level, inferred=inferred,
                                label=level.label + ("*" if inferred else ""), pairs=counts[(ds, nw, m1, m2)]))
    group_methods: dict[tuple[str, str], set[str]] = {}
    for f in feats:
        group_methods.setdefault((f.dataset, f.network), set()).add(f.method)
    groups = [AuditGroup(dataset=ds, network=nw, methods=sorted(ms, key=str.casefold))
              for (ds, nw), ms in sorted(group_methods.items())]
    scored = []
    for m in methods:
        won, lost, tied = wins[m]
        if won + lost + tied:
            scored.append((-(won - lost), -round(sum(deltas[m]) / len(deltas[m]), 4), m))
    scored.sort()
    calibrated = [CalibratedRow(method=m, wins=wins[m][0], losses=wins[m][1], ties=wins[m][2], mean_delta=-negd,
                                opponents=sorted(opponents[m], key=str.casefold), rank=pos)
                  for pos, (_, negd, m) in enumerate(scored, 1)]
    unranked = [m for m in methods if sum(wins[m]) == 0]
    by_top1 = sorted((f for f in feats if f.top1 is not None), key=lambda f: (-(f.top1 or 0.0), f.key))
    naive = [NaiveRow(method=f.method, key=f.key, top1=f.top1 or 0.0, speedup=f.speedup, dataset=f.dataset,
                      network=f.network, rank=pos) for pos, f in enumerate(by_top1, 1)]
    value = value_of_pruning(entries, feats, tolerance)
    return AuditReport(filters=Filters(dataset=dataset, network=network), tolerance=tolerance, value_of_pruning=value,
                       accept_base_accuracy=accept_base_accuracy, methods=methods, groups=groups, pairs=pairs,
                       calibrated_leaderboard=calibrated, unranked=unranked, naive_leaderboard=naive,
                       rule1=rule1_pairs, results=len(feats), classified_pairs=len(table), unverified=unverified)
