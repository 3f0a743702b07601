"""``prune-audit compare A B``: calibrated vs naive pairs, verdicts and the cross-validation plan."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.core.views import CompareReport, CrossRun, CrossValidation, Pair, Side


def _console():
    from rich.console import Console

    return Console(soft_wrap=False, width=max(150, Console().width))


def _num(side: Side) -> str:
    text = f"{side.top1:.2f}"
    if side.std is not None:
        text += f"±{side.std:.2f}"
    if side.runs is not None:
        text += f" n={side.runs}"
    return text


def _sp(side: Side) -> str:
    return "n/r" if side.speedup is None else f"{side.speedup:.2f}×"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _side_cell(side: Side) -> str:
    from rich.markup import escape

    tag = escape(f" [paper: {side.setup_tag}]") if side.setup_tag else ""
    return (f"[bold]{_num(side)}[/bold] {escape(side.label)}{tag}\n{escape(side.finetune_short())}\n"
            f"[dim]{escape(side.key)} ({escape(_short(side.first_source, 45))})[/dim]")


def _pair_row(p: Pair, rate: str) -> list[str]:
    from rich.markup import escape

    colour = p.setup.style
    sx = ", ".join(f"{k} {v.outcome}" for k, v in p.sx.items())
    text = "\n".join(escape(x) for x in p.own_failures()[:2]) or "—"
    if p.rule1 is not None:
        text += f"\n[magenta]{escape(p.rule1.text())}[/magenta]"
    d = p.delta
    delta = f"{d.top1:+.2f}" + ("" if d.drop is None else f"\ndrop {d.drop:+.2f}")
    sig = p.significance
    if sig.tested:
        sig_text = ("yes" if sig.significant else "no") + f" (p={sig.p_value:.2g})"
    else:
        sig_text = "untestable: " + sig.short_reason
    return [rate, _side_cell(p.a), _side_cell(p.b), f"[{colour}]{escape(p.setup_label)}[/{colour}]\n[dim]{sx}[/dim]",
            text, f"{delta}\n[dim]{escape(sig_text)}[/dim]"]


def render(rep: CompareReport) -> None:
    """Print the compare report as rich tables (one per dataset/network), verdicts, recommendation and plan."""
    from rich.markup import escape
    from rich.table import Table

    console = _console()
    a, b = rep.a, rep.b
    console.print(f"[bold]{escape(a)} vs {escape(b)}[/bold] — speedup tolerance {rep.tolerance * 100:g} %; "
                  f"setups per the seed's Tab. 2 (S3.2+ = fair: same base model and finetuning)")
    for g in rep.groups:
        t = Table(title=f"{g.dataset} / {g.network}", title_justify="left", show_lines=True, expand=True)
        t.add_column("rate", overflow="fold", width=10)
        for col, ratio in ((f"A = {a}", 5), (f"B = {b}", 5), ("setup", 3), ("stronger setups fail on", 5),
                           ("Δ top-1 / significant", 3)):
            t.add_column(col, overflow="fold", ratio=ratio)
        for op in g.operating_points:
            if op.calibrated is None:
                only = f"[dim]only {escape(op.only or '')}: " + ", ".join(escape(k) for k in op.a_results + op.b_results)
                t.add_row(op.speedup_text, only + "[/dim]", "", "", "", "")
                continue
            for p in [op.calibrated, *op.naive]:
                t.add_row(*_pair_row(p, f"{op.speedup_text}\n{p.role}"))
        for p in g.other_rate_pairs:
            if p.dominance:
                t.add_row(*_pair_row(p, "other rates\nPareto"))
        console.print(t)
        rest = [p for p in g.other_rate_pairs if not p.dominance]
        if rest:
            console.print(f"  {len(rest)} pair(s) at different speedups without a Pareto dominance "
                          f"(not comparable at this rate):")
            for p in rest[:8]:
                pa, pb = p.a, p.b
                mism = "" if p.speedup_mismatch is None else f", speedup mismatch {p.speedup_mismatch * 100:.1f}%"
                console.print(f"    {escape(pa.label)} {pa.top1:.2f} @ {_sp(pa)} vs {escape(pb.label)} "
                              f"{pb.top1:.2f} @ {_sp(pb)}{mism}")
            if len(rest) > 8:
                console.print(f"    … {len(rest) - 8} more in --json")
    for m in rep.missing:
        console.print(f"[yellow]{escape(m.method)} has no result on {m.dataset}/{m.network}[/yellow] "
                      f"({escape(m.other)} has {m.other_results})")
    console.print("[bold]Verdict[/bold]")
    for v in rep.verdicts:
        console.print(f"  • {escape(v)}")
    rec = rep.recommendation
    console.print(f"[bold]Recommendation[/bold]: {escape(rec.text)}")
    for line in rec.per_operating_point:
        console.print(f"  • {escape(line)}")
    _render_plans(console, rep)


def _render_plans(console: Any, rep: CompareReport) -> None:
    """The cross-validation plans, merged where operating points share the same pair of recipes."""
    from rich.markup import escape

    plans: dict[tuple[tuple[str, str], ...], tuple[CrossValidation, list[str], list[list[str]], list[list[str]]]] = {}
    for g in rep.groups:
        for op in g.operating_points:
            cv = op.cross_validation
            if cv is None:
                continue
            key = tuple((r.method, r.recipe) for r in cv.runs)
            entry = plans.setdefault(key, (cv, [], [[] for _ in cv.runs], [[] for _ in cv.runs]))
            here = f"{g.dataset}/{g.network}"
            entry[1].append(f"{here} {op.speedup_text}")
            for k, r in enumerate(cv.runs):
                src = r.recipe_from + ("" if r.recipe_where == here else f", {r.recipe_where}")
                if src not in entry[3][k]:
                    entry[3][k].append(src)
                if r.already_in_registry:
                    entry[2][k].append(r.already_in_registry)
    for cv, where, have, srcs in plans.values():
        console.print(f"[bold]Cross-validation[/bold] (seed Sec. 5) at {escape(', '.join(where))}:")
        for r, keys, src_list in zip(cv.runs, have, srcs):
            src = "; ".join(src_list)
            done = f" — already in the registry: {', '.join(keys)}" if keys else " — to run"
            console.print(f"  • {escape(r.method)} finetuned with {escape(r.recipe_of)}'s recipe: "
                          f"[bold]{escape(r.recipe)}[/bold] [dim](from {escape(src)})[/dim]{escape(done)}")
        console.print(f"    {escape(cv.note)}")


def main(*, a: str, b: str, dataset=None, network=None, tolerance: float = 0.05, as_json: bool = False,
         registry=None, accept_base_accuracy: bool = False) -> int:
    from audit.core.compare import check_filters, check_tolerance, compare_methods
    from audit.registry.store import load_registry

    check_tolerance(tolerance)
    check_filters(dataset, network)
    reg = load_registry(registry)
    rep = compare_methods(reg, a, b, dataset=dataset, network=network, tolerance=tolerance,
                          accept_base_accuracy=accept_base_accuracy)
    if as_json:
        json.dump(rep.model_dump(mode="json"), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    render(rep)
    return 0


def rerun_plan(*, a: str, b: str, dataset=None, network=None, tolerance: float = 0.05, registry=None, base=None,
               seeds: int = 1, runs_dir: Any = "reruns/runs", accept_base_accuracy: bool = False) -> int:
    """``compare A B --rerun``: run the cross-validation plan of the compare report with the rerun engine."""
    from audit.core.compare import check_filters, check_tolerance, compare_methods
    from audit.registry.store import load_registry

    from ..errors import AuditError
    from ..rerun.crossval import check_methods

    check_tolerance(tolerance)
    check_filters(dataset, network)
    reg = load_registry(registry)
    ma, mb = reg.resolve_method(a), reg.resolve_method(b)
    ea, eb = check_methods(ma, mb)
    if base is None:
        raise AuditError("--rerun needs --rerun-base RECIPE.yaml (model, dataset, pretraining and pruning ratio "
                         "of the runs; the plan supplies the finetuning recipes)")
    rep = compare_methods(reg, a, b, dataset=dataset, network=network, tolerance=tolerance,
                          accept_base_accuracy=accept_base_accuracy)
    plan = next((op.cross_validation for g in rep.groups for op in g.operating_points
                 if op.cross_validation is not None), None)
    if plan is None:
        raise AuditError(f"compare {ma} {mb} has no cross-validation plan (no operating point where both have results)")
    by_method = {r.method: r for r in plan.runs}
    rb_run, ra_run = by_method[ma], by_method[mb]  # A runs with B's recipe (RB), B with A's (RA)
    for r, owner in ((ra_run, ma), (rb_run, mb)):
        if not r.schedule or not r.finetune_epochs:
            raise AuditError(f"the registry gives no complete finetuning recipe for {owner} ({r.recipe}): "
                             "nothing to rerun")
    from audit.rerun.config import read_recipe
    from audit.rerun.errors import require_torch

    data = read_recipe(base).data
    require_torch()
    from audit.rerun.crossval import run_crossval

    def with_ft(r: CrossRun) -> dict[str, Any]:
        d = json.loads(json.dumps(data))
        d["finetune"] = {"epochs": r.finetune_epochs, "lr_schedule": r.schedule}
        return d

    print(f"cross-validation plan: {ma} with {rb_run.recipe_from}'s recipe ({rb_run.recipe}), "
          f"{mb} with {ra_run.recipe_from}'s ({ra_run.recipe}); base {base}", file=sys.stderr)
    out = run_crossval(ea, eb, with_ft(ra_run), with_ft(rb_run), list(range(seeds)), runs_dir,
                       name_a=f"R({ma})", name_b=f"R({mb})", log=lambda m: print(m, file=sys.stderr))
    for k, v in out["mean"].items():
        print(f"{k}: top-1 {v:.2f}")
    print(f"verdict: {out['verdict']}")
    return 0
