"""Terminal renderers of the typed ``compare`` and ``audit`` results (:mod:`audit.core.views`).

They read the models only (no classification happens here) and print through the one console
factory.  Registry strings are escaped before they enter a table; the tables need at least
:data:`RENDER_WIDTH` columns (narrower terminals get the wide layout, wrapped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.cli.console import make_console
from audit.core.fmt import accuracy

if TYPE_CHECKING:
    from audit.core.views import AuditGroup, AuditReport, CompareReport, CrossValidation, Pair, Side

__all__ = ["RENDER_WIDTH", "render_audit", "render_compare"]

RENDER_WIDTH = 150
"""Columns the compare and audit tables are laid out for."""


def _num(side: Side) -> str:
    if side.top1 is None:
        return "n/r" if side.gain is None else f"Δ {side.gain:+.2f}"
    return accuracy(side.top1, side.std, side.runs, bare_runs=True)


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
    delta = ("n/r" if d.top1 is None else f"{d.top1:+.2f}") + ("" if d.drop is None else f"\ndrop {d.drop:+.2f}")
    sig = p.significance
    if sig.tested:
        sig_text = ("yes" if sig.significant else "no") + f" (p={sig.p_value:.2g})"
    else:
        sig_text = "untestable: " + sig.short_reason
    return [rate, _side_cell(p.a), _side_cell(p.b), f"[{colour}]{escape(p.setup_label)}[/{colour}]\n[dim]{sx}[/dim]",
            text, f"{delta}\n[dim]{escape(sig_text)}[/dim]"]


def render_compare(rep: CompareReport) -> None:
    """Print the compare report as rich tables (one per dataset/network), verdicts, recommendation and plan."""
    from rich.markup import escape
    from rich.table import Table

    console = make_console(markup=True, min_width=RENDER_WIDTH)
    a, b = rep.a, rep.b
    console.print(f"[bold]{escape(a)} vs {escape(b)}[/bold] — speedup tolerance {rep.tolerance * 100:g} %; "
                  f"setups per the seed's Tab. 2 (S3.2+ = fair: same base model and finetuning)")
    for g in rep.groups:
        t = Table(title=f"{g.dataset} / {g.network}", title_justify="left", show_lines=True, expand=True)
        t.add_column("rate", overflow="fold", width=10)
        for col, ratio in ((f"A = {escape(a)}", 5), (f"B = {escape(b)}", 5), ("setup", 3), ("stronger setups fail on", 5),
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
                console.print(f"    {escape(pa.label)} {_num(pa)} @ {_sp(pa)} vs {escape(pb.label)} "
                              f"{_num(pb)} @ {_sp(pb)}{mism}")
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


def _matrix(console: Any, rep: AuditReport, g: AuditGroup) -> None:
    from rich.markup import escape
    from rich.table import Table

    from audit.core.setups import Level

    methods = g.methods
    cell = {(p.a, p.b): p for p in rep.pairs if (p.dataset, p.network) == (g.dataset, g.network)}
    short_of = {Level.NOT_AT_RATE: "rate", Level.NOT_COMPARABLE: "—", Level.RATE_UNKNOWN: "n/r"}
    t = Table(title=f"{g.dataset} / {g.network}", title_justify="left")
    t.add_column("method", no_wrap=True)
    for i in range(len(methods)):
        t.add_column(str(i + 1), justify="center")
    for i, m in enumerate(methods):
        row = [f"{i + 1} {escape(m)}"]
        for j, n in enumerate(methods):
            if i == j:
                row.append("·")
                continue
            p = cell.get((m, n)) or cell.get((n, m))
            if p is None:
                row.append("")
                continue
            colour = p.setup.style
            row.append(f"[{colour}]{escape(short_of.get(p.setup, p.label))}[/{colour}]")
        t.add_row(*row)
    console.print(t)


def render_audit(rep: AuditReport) -> None:
    """Print the setup matrices, both leaderboards, the Rule 1 flags and the unranked methods."""
    from rich.markup import escape
    from rich.table import Table

    console = make_console(markup=True, min_width=RENDER_WIDTH)
    f = rep.filters
    where = "/".join(x for x in (f.dataset, f.network) if x) or "all datasets and networks"
    console.print(f"[bold]Setup matrix[/bold] — {where}: {rep.results} results, {rep.classified_pairs} pairs "
                  f"classified; strongest setup per method pair (* = reached only through an inferred value)")
    for g in rep.groups:
        if len(g.methods) > 1:  # a dataset/network with a single method has no pair
            _matrix(console, rep, g)
    console.print("[dim]rate = speedups never within tolerance and no Pareto dominance; n/r = a speedup not "
                  "reported[/dim]")

    cal = Table(title="Calibrated leaderboard (S3.2+ pairs only)", title_justify="left")
    for col in ("#", "method", "W-L-T", "mean Δ top-1", "compared with"):
        cal.add_column(col)
    for r in rep.calibrated_leaderboard:
        cal.add_row(str(r.rank), escape(r.method), f"{r.wins}-{r.losses}-{r.ties}", f"{r.mean_delta:+.2f}",
                    escape(", ".join(r.opponents)))
    naive = Table(title="Naive leaderboard (raw top-1)", title_justify="left")
    for col in ("#", "method", "top-1", "speedup", "result"):
        naive.add_column(col)
    for n in rep.naive_leaderboard[:25]:
        naive.add_row(str(n.rank), escape(n.method), f"{n.top1:.2f}",
                      "n/r" if n.speedup is None else f"{n.speedup:.2f}×", escape(n.key))
    from rich.columns import Columns

    console.print(Columns([cal, naive], padding=(0, 4)))
    if len(rep.naive_leaderboard) > 25:
        console.print(f"[dim]naive leaderboard: first 25 of {len(rep.naive_leaderboard)} (all in --json)[/dim]")
    if rep.rule1:
        from audit.core.schedule import format_lr

        ex = rep.rule1[0]
        console.print(f"[magenta]Rule 1[/magenta]: {len(rep.rule1)} pair(s) at S2 or stronger compare a finetuning "
                      f"that stops at a larger final LR with one decayed further, e.g. {escape(ex.stops_higher)} "
                      f"(final LR {format_lr(ex.final_lr)}) vs {escape(ex.partner)} "
                      f"({format_lr(ex.partner_final_lr)}); all in --json")
    if rep.unranked:
        console.print(f"Unranked (no comparison at S3.2 or stronger): {escape(', '.join(rep.unranked))}")
    if rep.unverified:
        console.print(f"Left out of the calibrated leaderboard, not verified by a second reader: "
                      f"{escape(', '.join(rep.unverified))}")
