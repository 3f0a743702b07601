"""Terminal renderers of the typed ``compare`` and ``audit`` results (:mod:`audit.core.views`).

They read the models only (no classification happens here) and print through the one console
factory, laid out for its width (:mod:`audit.cli.console`): ``compare`` prints each operating point
as a block of short lines (a result key always on a line of its own, so it is never split), or with
``--wide`` one table with every column at its natural width; ``audit`` prints its setup matrix as a
table when it fits and as one line per method otherwise, and its naive leaderboard with the key
beside the row or, when that does not fit, under it.  Registry strings are escaped before they are
printed.  ``--format csv|json|md`` output is in :func:`compare_rows` and :func:`audit_tables`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from audit.cli.console import fits, make_console, widen
from audit.core.fmt import DERIVED, accuracy

if TYPE_CHECKING:
    from rich.console import Console

    from audit.core.views import AuditGroup, AuditReport, CompareReport, CrossValidation, MethodPair, Pair, Side

__all__ = ["DELTA_SIGN", "audit_tables", "compare_rows", "pair_role", "render_audit", "render_compare"]

DELTA_SIGN = ("Δ top-1 = A − B in percentage points (positive: A is ahead); Δ drop = A's drop from its own base "
              "− B's drop from its own (positive: A loses more).")
"""The sign convention of every Δ ``compare`` prints, printed with it."""


def _num(side: Side) -> str:
    if side.top1 is None:
        return "n/r" if side.gain is None else f"Δ {side.gain:+.2f}"
    return accuracy(side.top1, side.std, side.runs, bare_runs=True)


def _sp(side: Side) -> str:
    return "n/r" if side.speedup is None else f"{side.speedup:.2f}×" + (DERIVED if side.speedup_derived else "")


def pair_role(p: Pair) -> str:
    """How a pair is labelled: ``calibrated`` only for the strongest pair of an operating point that reaches
    S3.2 or stronger (the seed's fair setups); a strongest pair below S3.2 is ``strongest (not fair)``."""
    if p.role == "calibrated":
        return "calibrated" if p.setup.fair else "strongest (not fair)"
    return {"other-rate": "other rates, Pareto"}.get(p.role, p.role)


def _sig_text(p: Pair) -> str:
    sig = p.significance
    if sig.tested:
        return ("significant" if sig.significant else "not significant") + f" (p={sig.p_value:.2g})"
    return "untestable: " + sig.short_reason


def _delta_text(p: Pair) -> str:
    d = p.delta
    top = "Δ top-1 n/r" if d.top1 is None else f"Δ top-1 {d.top1:+.2f}"
    return top + ("" if d.drop is None else f", Δ drop {d.drop:+.2f}")


def _print(console: Console, text: str, indent: int = 0) -> None:
    """One markup line, wrapped at spaces within the width, continuation lines under its first character
    (a leading ``• `` or ``– `` marker hangs: the continuation lines are under the text after it)."""
    from rich.padding import Padding
    from rich.table import Table

    body: Any = text
    if text[:2] in ("• ", "– "):
        body = Table.grid(padding=(0, 1, 0, 0))
        body.add_column(no_wrap=True)
        body.add_column()
        body.add_row(text[0], text[2:])
    _out(console, Padding(body, (0, 0, 0, indent), expand=False) if indent or body is not text else text)


_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$")


def _out(console: Console, renderable: Any) -> None:
    """Print ``renderable`` without the spaces rich pads wrapped lines and titles with (styles kept)."""
    with console.capture() as cap:
        console.print(renderable)
    console.file.write("\n".join(_TRAILING.sub(r"\1", line) for line in cap.get().split("\n")))


def _side_lines(console: Console, name: str, side: Side) -> None:
    from rich.markup import escape

    tag = escape(f" [paper: {side.setup_tag}]") if side.setup_tag else ""
    _print(console, f"{name}  [bold]{_num(side)}[/bold]  {escape(side.label)}{tag} · "
                    f"{escape(side.finetune_short())}", 2)
    src = f" [dim]({escape(side.first_source)})[/dim]" if side.first_source else ""
    _print(console, f"{escape(side.key)}{src}", 5)


def _pair_block(console: Console, p: Pair, head: str) -> None:
    """A pair as short lines: its role and setup, each side with its key on a line of its own, Δ, failures."""
    from rich.markup import escape

    colour = p.setup.style
    sx = ", ".join(f"{k} {v.outcome}" for k, v in p.sx.items())
    _print(console, f"[bold]{escape(head)}[/bold] {escape(pair_role(p))}: [{colour}]{escape(p.setup_label)}"
                    f"[/{colour}] [dim]· {escape(sx)}[/dim]")
    _side_lines(console, "A", p.a)
    _side_lines(console, "B", p.b)
    _print(console, f"{_delta_text(p)} (A − B) · {escape(_sig_text(p))}", 2)
    fails = p.own_failures()
    if fails:
        _print(console, "stronger setups fail on:", 2)
        for line in fails:
            _print(console, f"– {escape(line)}", 4)
    if p.rule1 is not None:
        _print(console, f"[magenta]{escape(p.rule1.text())}[/magenta]", 2)


def _side_cell(side: Side) -> str:
    from rich.markup import escape

    tag = escape(f" [paper: {side.setup_tag}]") if side.setup_tag else ""
    return (f"[bold]{_num(side)}[/bold] {escape(side.label)}{tag}\n{escape(side.finetune_short())}\n"
            f"[dim]{escape(side.key)} ({escape(side.first_source)})[/dim]")


def _pair_row(p: Pair, rate: str) -> list[str]:
    from rich.markup import escape

    colour = p.setup.style
    sx = ", ".join(f"{k} {v.outcome}" for k, v in p.sx.items())
    text = "\n".join(escape(x) for x in p.own_failures()) or "—"
    if p.rule1 is not None:
        text += f"\n[magenta]{escape(p.rule1.text())}[/magenta]"
    delta = _delta_text(p).replace(", ", "\n")
    return [rate, _side_cell(p.a), _side_cell(p.b), f"[{colour}]{escape(p.setup_label)}[/{colour}]\n[dim]{sx}[/dim]",
            text, f"{delta}\n[dim]{escape(_sig_text(p))}[/dim]"]


def _wide_table(rep: CompareReport, g: Any) -> Any:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{g.dataset} / {g.network}", title_justify="left", show_lines=True)
    for col in ("rate", f"A = {escape(rep.a)}", f"B = {escape(rep.b)}", "setup", "stronger setups fail on",
                "Δ (A − B) / significant"):
        t.add_column(col)
    for op in g.operating_points:
        if op.calibrated is None:
            only = f"[dim]only {escape(op.only or '')}: " + ", ".join(escape(k) for k in op.a_results + op.b_results)
            t.add_row(op.speedup_text, only + "[/dim]", "", "", "", "")
            continue
        for p in [op.calibrated, *op.naive]:
            t.add_row(*_pair_row(p, f"{op.speedup_text}\n{pair_role(p)}"))
    for p in g.other_rate_pairs:
        if p.dominance:
            t.add_row(*_pair_row(p, "other rates\nPareto"))
    return t


def _dominance_line(p: Pair) -> str:
    """``A-key (top-1 @ speedup) Pareto-dominates B-key (...)``: higher speedup and at least the top-1."""
    from rich.markup import escape

    win, lose = (p.a, p.b) if p.dominance == "A" else (p.b, p.a)
    return (f"{escape(win.key)} ({win.top1:.2f} @ {_sp(win)}) Pareto-dominates {escape(lose.key)} "
            f"({lose.top1:.2f} @ {_sp(lose)}): a higher speedup and at least the top-1")


def render_compare(rep: CompareReport, *, wide: bool = False) -> None:
    """Print the compare report: per dataset/network the operating points (blocks, or one table with
    ``wide``), the Pareto-dominance pairs across rates, verdicts with the Δ sign convention, the
    recommendation and the cross-validation plan."""
    from rich.markup import escape

    console = make_console(markup=True)
    a, b = rep.a, rep.b
    _print(console, f"[bold]A = {escape(a)} vs B = {escape(b)}[/bold] — speedup tolerance {rep.tolerance * 100:g} %; "
                    f"setups per the seed's Tab. 2 (S3.2+ = fair: same base model and finetuning; only a fair "
                    f"strongest pair is called calibrated).")
    _print(console, f"[dim]{escape(DELTA_SIGN)}[/dim]")
    dominance: list[Pair] = []
    for g in rep.groups:
        dominance += [p for p in g.other_rate_pairs if p.dominance]
        if wide:
            t = _wide_table(rep, g)
            keys = [k for op in g.operating_points for k in op.a_results + op.b_results]
            keys += [k for p in g.other_rate_pairs if p.dominance for k in (p.a.key, p.b.key)]
            widen(console, t, keys)
            _out(console, t)
        else:
            console.print()
            _print(console, f"[bold underline]{escape(g.dataset)} / {escape(g.network)}[/bold underline]")
            for op in g.operating_points:
                if op.calibrated is None:
                    _print(console, f"[bold]{escape(op.speedup_text)}[/bold] only {escape(op.only or '')}:")
                    for k in op.a_results + op.b_results:
                        _print(console, f"[dim]{escape(k)}[/dim]", 5)
                    continue
                for p in [op.calibrated, *op.naive]:
                    _pair_block(console, p, op.speedup_text)
        rest = [p for p in g.other_rate_pairs if not p.dominance]
        if rest:
            _print(console, f"{len(rest)} pair(s) at different speedups without a Pareto dominance (not comparable "
                            f"at this rate):", 2)
            for p in rest[:8]:
                pa, pb = p.a, p.b
                mism = "" if p.speedup_mismatch is None else f", speedup mismatch {p.speedup_mismatch * 100:.1f}%"
                _print(console, f"{escape(pa.label)} {_num(pa)} @ {_sp(pa)} vs {escape(pb.label)} "
                                f"{_num(pb)} @ {_sp(pb)}{mism}", 4)
            if len(rest) > 8:
                _print(console, f"… {len(rest) - 8} more in --format json", 4)
    for m in rep.missing:
        _print(console, f"[yellow]{escape(m.method)} has no result on {escape(m.dataset)}/{escape(m.network)}"
                        f"[/yellow] ({escape(m.other)} has {m.other_results})")
    console.print()
    _print(console, "[bold]Verdict[/bold]")
    for v in rep.verdicts:
        _print(console, f"• {escape(v)}", 2)
    if dominance:
        _print(console, f"• Pareto dominance across rates ({len(dominance)} pair(s)):", 2)
        for p in dominance:
            _print(console, f"– {_dominance_line(p)}", 4)
    else:
        _print(console, "• Pareto dominance across rates: none (no result of one method is both faster and at "
                        "least as accurate as one of the other's at another rate)", 2)
    _print(console, f"• [dim]{escape(DELTA_SIGN)}[/dim]", 2)
    rec = rep.recommendation
    _print(console, f"[bold]Recommendation[/bold]: {escape(rec.text)}")
    for line in rec.per_operating_point:
        _print(console, f"• {escape(line)}", 2)
    _render_plans(console, rep)


def compare_rows(rep: CompareReport) -> tuple[list[str], list[list[Any]]]:
    """The pairs of a compare report as rows (``--format csv|md``): one per pair shown, calibrated first."""
    cols = ["dataset", "network", "rate", "role", "setup", "a_key", "a_top1", "a_speedup", "b_key", "b_top1",
            "b_speedup", "delta_top1_a_minus_b", "delta_drop_a_minus_b", "significance", "pareto_dominant"]
    rows: list[list[Any]] = []
    for g in rep.groups:
        pairs = [(op.speedup_text, p) for op in g.operating_points if op.calibrated is not None
                 for p in [op.calibrated, *op.naive]]
        pairs += [("other rates", p) for p in g.other_rate_pairs if p.dominance]
        for rate, p in pairs:
            d = p.delta
            rows.append([g.dataset, g.network, rate, pair_role(p), p.setup_label, p.a.key, p.a.top1, _sp(p.a),
                         p.b.key, p.b.top1, _sp(p.b), None if d.top1 is None else round(d.top1, 6), None if d.drop is None else round(d.drop, 6),
                         _sig_text(p), p.dominance])
    return cols, rows


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
        _print(console, f"[bold]Cross-validation[/bold] (seed Sec. 5) at {escape(', '.join(where))}:")
        for r, keys, src_list in zip(cv.runs, have, srcs):
            src = "; ".join(src_list)
            done = f" — already in the registry: {', '.join(keys)}" if keys else " — to run"
            _print(console, f"• {escape(r.method)} finetuned with {escape(r.recipe_of)}'s recipe: "
                            f"[bold]{escape(r.recipe)}[/bold] [dim](from {escape(src)})[/dim]{escape(done)}", 2)
        _print(console, escape(cv.note), 4)


# ---------------------------------------------------------------------- audit
_SHORT = {"not comparable at this rate": "rate", "not comparable": "—", "S1 not established (speedup not reported)":
          "n/r"}


def _cell_label(p: Any) -> str:
    return _SHORT.get(p.setup.value, p.label)


def _matrix(console: Console, rep: AuditReport, g: AuditGroup, wide: bool) -> None:
    """The setup matrix of one dataset/network as a table, or -- when it does not fit -- one line per method
    listing its partners by setup, strongest first."""
    from rich.markup import escape
    from rich.table import Table

    methods = g.methods

    def cell(m: str, n: str) -> MethodPair | None:
        return rep.pair_of(g.dataset, g.network, m, n)
    t = Table(title=f"{g.dataset} / {g.network}", title_justify="left", padding=(0, 0))
    t.add_column("method", no_wrap=True)
    for i in range(len(methods)):
        t.add_column(str(i + 1), justify="center", no_wrap=True, min_width=4)
    for i, m in enumerate(methods):
        row = [f"{i + 1} {escape(m)} "]
        for j, n in enumerate(methods):
            if i == j:
                row.append("·")
                continue
            p = cell(m, n)
            if p is None:
                row.append("")
                continue
            colour = p.setup.style
            row.append(f"[{colour}]{escape(_cell_label(p))}[/{colour}]")
        t.add_row(*row)
    if wide:
        widen(console, t)
    if wide or fits(console, t):
        _out(console, t)
        return
    _print(console, f"[bold]{escape(g.dataset)} / {escape(g.network)}[/bold] (strongest setup per partner, "
                    "strongest first)")
    for m in methods:
        by: dict[str, list[str]] = {}
        order: dict[str, int] = {}
        for n in methods:
            p = cell(m, n)
            if p is None:
                continue
            label = _cell_label(p)
            by.setdefault(label, []).append(n)
            order[label] = max(order.get(label, -1), p.setup.rank)
        parts = [f"[{_style(cell(m, by[lbl][0]))}]{escape(lbl)}[/]: {escape(', '.join(by[lbl]))}"
                 for lbl in sorted(by, key=lambda lbl: (-order[lbl], lbl))]
        _print(console, f"[bold]{escape(m)}[/bold] — " + "; ".join(parts), 2)


def _style(p: MethodPair | None) -> str:
    return "default" if p is None else p.setup.style


def _naive(console: Console, rep: AuditReport, wide: bool) -> None:
    """The naive leaderboard: a table with the full result key when it fits (or ``wide``), else one line per
    result with its key on the next line."""
    from rich.markup import escape
    from rich.table import Table

    rows = rep.naive_leaderboard if wide else rep.naive_leaderboard[:25]

    def table(with_benchmark: bool) -> tuple[Any, list[str]]:
        t = Table(title="Naive leaderboard (raw top-1)", title_justify="left")
        cols = ("#", "method", "top-1", "speedup", *(("dataset / network",) if with_benchmark else ()), "result")
        for col in cols:
            t.add_column(col, no_wrap=col != "method")
        keep = list(cols)
        for n in rows:
            bench = (f"{escape(n.dataset)}/{escape(n.network)}",) if with_benchmark else ()
            t.add_row(str(n.rank), escape(n.method), f"{n.top1:.2f}",
                      "n/r" if n.speedup is None else f"{n.speedup:.2f}×", *bench, escape(n.key))
            keep += [n.key, f"{n.top1:.2f}", *(f"{n.dataset}/{n.network}" for _ in bench)]
        return t, keep

    t, keep = table(True)
    if wide:
        widen(console, t, keep)
    elif not fits(console, t, keep):
        t, keep = table(False)
    if wide or fits(console, t, keep):
        _out(console, t)
    else:
        _print(console, "[bold]Naive leaderboard (raw top-1)[/bold]")
        for n in rows:
            sp = "n/r" if n.speedup is None else f"{n.speedup:.2f}×"
            _print(console, f"{n.rank:>3}  [bold]{n.top1:.2f}[/bold]  {sp}  {escape(n.method)}  "
                            f"[dim]{escape(n.dataset)}/{escape(n.network)}[/dim]")
            _print(console, f"[dim]{escape(n.key)}[/dim]", 5)
    if len(rep.naive_leaderboard) > len(rows):
        _print(console, f"[dim]naive leaderboard: first {len(rows)} of {len(rep.naive_leaderboard)} (all with --wide "
                        f"or --format json)[/dim]")


def render_audit(rep: AuditReport, *, wide: bool = False) -> None:
    """Print the setup matrices, both leaderboards, the Rule 1 flags and the unranked methods."""
    from rich.markup import escape
    from rich.table import Table

    console = make_console(markup=True)
    f = rep.filters
    where = "/".join(x for x in (f.dataset, f.network) if x) or "all datasets and networks"
    _print(console, f"[bold]Setup matrix[/bold] — {escape(where)}: {rep.results} results, {rep.classified_pairs} "
                    f"pairs classified; strongest setup per method pair (* = reached only through an inferred value)")
    for g in rep.groups:
        if len(g.methods) > 1:  # a dataset/network with a single method has no pair
            _matrix(console, rep, g, wide)
    _print(console, "[dim]rate = speedups never within tolerance and no Pareto dominance; n/r = a speedup not "
                    "reported[/dim]")
    cal = Table(title="Calibrated leaderboard (S3.2+ pairs only)", title_justify="left")
    for col in ("#", "method", "W-L-T", "mean Δ top-1", "compared with"):
        cal.add_column(col)
    for r in rep.calibrated_leaderboard:
        cal.add_row(str(r.rank), escape(r.method), f"{r.wins}-{r.losses}-{r.ties}", f"{r.mean_delta:+.2f}",
                    escape(", ".join(r.opponents)))
    _out(console, cal)
    _print(console, "[dim]mean Δ top-1 = the method's top-1 − its opponent's, averaged over its S3.2+ pairs "
                    "(positive: ahead)[/dim]")
    _naive(console, rep, wide)
    if rep.rule1:
        from audit.core.schedule import format_lr

        ex = rep.rule1[0]
        _print(console, f"[magenta]Rule 1[/magenta]: {len(rep.rule1)} pair(s) at S2 or stronger compare a finetuning "
                        f"that stops at a larger final LR with one decayed further, e.g. {escape(ex.stops_higher)} "
                        f"(final LR {format_lr(ex.final_lr)}) vs {escape(ex.partner)} "
                        f"({format_lr(ex.partner_final_lr)}); all in --format json")
    if rep.unranked:
        _print(console, f"Unranked (no comparison at S3.2 or stronger): {escape(', '.join(rep.unranked))}")
    if rep.unverified:
        _print(console, f"Left out of the calibrated leaderboard, not verified by a second reader: "
                        f"{escape(', '.join(rep.unverified))}")


def audit_tables(rep: AuditReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The audit's tables as (title, columns, rows) for ``--format md``: the setup matrix pairs, the
    calibrated leaderboard and the naive one."""
    pairs = [[p.dataset, p.network, p.a, p.b, p.setup.value, "yes" if p.inferred else "no", p.pairs]
             for p in rep.pairs]
    cal = [[r.rank, r.method, r.wins, r.losses, r.ties, round(r.mean_delta, 6), ", ".join(r.opponents)]
           for r in rep.calibrated_leaderboard]
    naive = [[n.rank, n.method, n.top1, None if n.speedup is None else round(n.speedup, 4), n.dataset, n.network,
              n.key] for n in rep.naive_leaderboard]
    return [
        ("Setup matrix (strongest setup per method pair)",
         ["dataset", "network", "method_a", "method_b", "setup", "inferred", "pairs"], pairs),
        ("Calibrated leaderboard (S3.2+ pairs only)",
         ["rank", "method", "wins", "losses", "ties", "mean_delta_top1", "compared_with"], cal),
        ("Naive leaderboard (raw top-1)", ["rank", "method", "top1", "speedup", "dataset", "network", "key"], naive),
    ]
