"""Cross-validation of finetuning recipes between two pruning methods (the seed's end of Sec. 5).

Given methods A and B with their recipes RA and RB, run A+RA, B+RB, A+RB and B+RA (x seeds) and
compare A vs B under RA and under RB:

* one method wins under both recipes -> its advantage is its own (the pruning design);
* the order flips -> pruning and finetuning interact; the higher-performing configuration weighs
  more (the seed's second rule of thumb).

A recipe here is a rerun recipe YAML; "A+RB" is RB with ``pruning.method`` set to A (a GReg method
keeps RB's ``pruning.stage`` or gets the defaults).

Shared pretraining: the runs that pretrain the same dense model (same network, data, optimizer,
batch size, seed and ``pretrain`` stage -- normally all four configurations of a seed) start from
one dense run (``audit.rerun.dense.run_dense``) instead of pretraining it four times: each becomes an
ordinary recipe whose ``base.checkpoint`` is that run's weights.  This is exact (the dense run is the
recipe's own ``pretrain`` stage, epoch by epoch, so the results are the ones the unshared runs
give), and it makes "both methods start from the same base model" literally true: one weights file.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from .errors import RerunError

if TYPE_CHECKING:
    from .config import Recipe
    from .executor import Executor, Job

__all__ = ["CrossvalReport", "CrossvalRun", "Sharing", "check_methods", "crossval_jobs", "pretrain_spec",
           "run_crossval", "share_pretraining", "verdict"]


class _SharingDense(TypedDict, total=False):
    dense: list[str]  # the dense runs' folder names (absent when nothing was shared)


class Sharing(_SharingDense):
    """The account of shared pretraining: dense runs, and pretraining epochs with and without sharing."""

    dense_runs: int
    pretrain_epochs_unshared: int
    pretrain_epochs_shared: int


class CrossvalRun(TypedDict):
    """One run of a cross-validation: method, recipe name, seed, its final top-1 and trainability
    accuracy, its result id and run folder name."""

    method: str
    recipe: str
    seed: int
    top1: float
    trainability_acc: float | None
    result_id: str
    run: str


class _CrossvalCommand(TypedDict, total=False):
    command: str  # the producing command line (added by the command that writes the report)


class CrossvalReport(_CrossvalCommand):
    """:func:`run_crossval`'s report (plain JSON types: it is written as ``crossval.json``).

    ``mean``/``std`` map ``"method+recipe"`` to top-1 over seeds (std NaN for one seed).
    """

    a: str
    b: str
    recipes: list[str]
    seeds: list[int]
    runs: list[CrossvalRun]
    mean: dict[str, float]
    std: dict[str, float]
    pretraining: Sharing
    verdict: str
    seconds: float


def check_methods(*names: str) -> list[str]:
    """Engine ids of the named methods (any spelling of :data:`audit.core.catalog.ENGINE_METHODS`); an
    unknown one is a one-line error listing what the engine runs."""
    from audit.core.catalog import ENGINE_METHODS, engine_method
    from audit.errors import UnknownName

    out = []
    for n in names:
        try:
            out.append(engine_method(n).id)
        except UnknownName:
            can = ", ".join(f"{k} ({m.label})" for k, m in ENGINE_METHODS.items())
            raise RerunError(f"the rerun engine cannot run method {n!r}; it can run: {can}") from None
    return out


def _with(recipe_data: dict[str, Any], method: str, seed: int, tag: str) -> dict[str, Any]:
    d = json.loads(json.dumps(recipe_data))
    pr = dict(d.get("pruning") or {})
    pr["method"] = method
    if method in ("l1", "random"):
        pr.pop("stage", None)
    d["pruning"] = pr
    d["seed"] = seed
    d["name"] = f"{tag}"
    return d


def crossval_jobs(a: str, b: str, ra: dict[str, Any], rb: dict[str, Any], seeds: list[int],
                  name_a: str = "RA", name_b: str = "RB") -> list[tuple[str, str, int, dict[str, Any]]]:
    """(method, recipe name, seed, recipe data) for A+RA, B+RB, A+RB, B+RA."""
    jobs = []
    for m, rn, rd in ((a, name_a, ra), (b, name_b, rb), (a, name_b, rb), (b, name_a, ra)):
        for s in seeds:
            jobs.append((m, rn, s, _with(rd, m, s, f"crossval-{m}-{rn}")))
    return jobs


def pretrain_spec(recipe: Recipe) -> dict[str, Any] | None:
    """The dense run (``audit.rerun.dense.run_dense`` spec) that equals ``recipe``'s pretrain stage,
    or None where there is nothing to share (a base checkpoint, a scratch pipeline)."""
    from .dense import make_dense_spec

    pre = recipe.pretrain  # an ``overall`` schedule is already split into pretrain and finetune
    if recipe.pipeline != "pruning" or recipe.base.checkpoint is not None or pre is None or pre.epochs == 0:
        return None
    d = recipe.model_dump(mode="json")
    return make_dense_spec(d["model"], d["dataset"], d["optimizer"], recipe.batch_size, recipe.eval_batch_size,
                           recipe.seed, pre.lr_schedule, pre.epochs)


def _from_base(recipe_data: dict[str, Any], recipe: Recipe, checkpoint: str) -> dict[str, Any]:
    """``recipe_data`` with its pretrain stage replaced by ``checkpoint`` (an ``overall`` schedule
    becomes its finetuning tail, as a recipe with a base checkpoint must give it)."""
    from audit.core.rules import schedule_text

    d = json.loads(json.dumps(recipe_data))
    if d.pop("overall", None) is not None:
        tail = recipe.finetune
        assert tail is not None, "an overall schedule resolves into a finetune stage"
        d["finetune"] = {"epochs": tail.epochs, "lr_schedule": schedule_text(tail.lr_schedule)}
    d.pop("pretrain", None)
    d["base"] = {"checkpoint": checkpoint}
    return d


def share_pretraining(datas: list[dict[str, Any]], runs_dir: str | Path, executor: Executor, device: str = "cpu",
                      log: Callable[[str], object] = print) -> tuple[list[dict[str, Any]], Sharing]:
    """Run each distinct pretraining of ``datas`` once; return the recipes rewired onto the dense
    weights, and an account (dense runs, epochs with and without sharing)."""
    from .config import recipe_from_data
    from .dense import dense_dir, run_dense

    recipes = [recipe_from_data(d) for d in datas]
    specs = [pretrain_spec(r) for r in recipes]
    keys = [None if sp is None else json.dumps(sp, sort_keys=True) for sp in specs]
    unique = {k: sp for k, sp in zip(keys, specs) if sp is not None}
    total = sum(sp["epochs"] for sp in specs if sp is not None)
    account = Sharing(dense_runs=len(unique), pretrain_epochs_unshared=total,
                      pretrain_epochs_shared=sum(sp["epochs"] for sp in unique.values()))
    if not unique:
        return datas, account
    log(f"shared pretraining: {len(unique)} dense run(s), {account['pretrain_epochs_shared']} epochs "
        f"instead of {total}")
    jobs: list[Job] = [(run_dense, (sp, [sp["epochs"]], str(runs_dir), device)) for sp in unique.values()]
    outs = executor.map(jobs)
    weights = {k: o[sp["epochs"]] for (k, sp), o in zip(unique.items(), outs)}
    account["dense"] = [dense_dir(Path(runs_dir), sp).name for sp in unique.values()]
    new = [d if k is None else _from_base(d, r, weights[k]) for d, r, k in zip(datas, recipes, keys)]
    return new, account


def verdict(a: str, b: str, scores: dict[tuple[str, str], float], name_a: str = "RA", name_b: str = "RB",
            std: dict[tuple[str, str], float] | None = None) -> str:
    """The seed's verdict from mean top-1 of (method, recipe)."""
    std = std or {}

    def fmt(m: str, r: str) -> str:
        s = std.get((m, r))
        return f"{scores[(m, r)]:.2f}" + (f"±{s:.2f}" if s is not None and not math.isnan(s) else "")

    def winner(r: str) -> str | None:
        x, y = scores[(a, r)], scores[(b, r)]
        return a if x > y else b if y > x else None

    wa, wb = winner(name_a), winner(name_b)
    spread = [v for v in std.values() if v is not None and not math.isnan(v)]
    caveat = ""
    if spread:
        gaps = [abs(scores[(a, r)] - scores[(b, r)]) for r in (name_a, name_b)]
        if min(gaps) < max(spread):
            caveat = (f" [caution: a gap ({min(gaps):.2f}) is below the largest seed-to-seed std ({max(spread):.2f}); "
                      "more seeds are needed to trust it]")
    detail = (f"under {name_a}: {a} {fmt(a, name_a)} vs {b} {fmt(b, name_a)}; "
              f"under {name_b}: {a} {fmt(a, name_b)} vs {b} {fmt(b, name_b)}")
    if wa is not None and wa == wb:
        return (f"{wa} wins under both recipes ({detail}): its advantage is its own (the pruning design), "
                "not the finetuning recipe's" + caveat)
    best = max(scores, key=lambda k: scores[k])
    if wa is None or wb is None:
        return (f"a tie under at least one recipe ({detail}): no method is shown better; "
                f"the higher-performing configuration ({best[0]} + {best[1]}, {scores[best]:.2f}) weighs more" + caveat)
    return (f"the order flips ({detail}): pruning and finetuning interact, so neither method's advantage is its own; "
            f"the higher-performing configuration ({best[0]} + {best[1]}, {scores[best]:.2f}) weighs more" + caveat)


def run_crossval(a: str, b: str, ra: dict[str, Any], rb: dict[str, Any], seeds: list[int], runs_dir: str | Path,
                 executor: Executor | None = None, device: str = "cpu", name_a: str = "RA", name_b: str = "RB",
                 log: Callable[[str], object] = print) -> CrossvalReport:
    """Run A+RA, B+RB, A+RB and B+RA for every seed (sharing their pretraining) and give the
    seed's verdict.  ``ra``/``rb`` are recipe data; bad input raises before anything runs."""
    from .config import recipe_from_data
    from .executor import LocalExecutor
    from .runs import run_cell

    a, b = check_methods(a, b)
    if a == b:
        raise RerunError(f"cross-validation needs two different methods (both are {a})")
    jobs = crossval_jobs(a, b, ra, rb, seeds, name_a, name_b)
    for _, rn, _, d in jobs:
        recipe_from_data(d, f"<{rn}>")  # bad input fails before anything runs
    ex = executor or LocalExecutor(1)
    t0 = time.perf_counter()
    log(f"cross-validation: {len(jobs)} runs ({a}, {b} x {name_a}, {name_b} x {len(seeds)} seeds)")
    datas, sharing = share_pretraining([d for *_, d in jobs], runs_dir, ex, device, log)
    cell_jobs: list[Job] = [(run_cell, (d, str(runs_dir), device)) for d in datas]
    outs = ex.map(cell_jobs)
    per: dict[tuple[str, str], list[float]] = {}
    rows: list[CrossvalRun] = []
    for (m, rn, s, _), o in zip(jobs, outs):
        top1 = o["result"]["top1"]["mean"]
        per.setdefault((m, rn), []).append(top1)
        rows.append(CrossvalRun(method=m, recipe=rn, seed=s, top1=top1,
                                trainability_acc=o["result"].get("trainability_acc"), result_id=o["result"]["id"],
                                run=Path(o["run_dir"]).name))
    scores = {k: statistics.fmean(v) for k, v in per.items()}
    std = {k: (statistics.stdev(v) if len(v) > 1 else float("nan")) for k, v in per.items()}
    return CrossvalReport(a=a, b=b, recipes=[name_a, name_b], seeds=seeds, runs=rows,
                          mean={f"{m}+{r}": v for (m, r), v in scores.items()},
                          std={f"{m}+{r}": v for (m, r), v in std.items()},
                          pretraining=sharing, verdict=verdict(a, b, scores, name_a, name_b, std),
                          seconds=time.perf_counter() - t0)
