"""``prune-audit audit``: the setup matrix of all method pairs and both leaderboards."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.core.views import AuditGroup, AuditReport


def _console():
    from rich.console import Console

    return Console(soft_wrap=False, width=max(150, Console().width))


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


def render(rep: AuditReport) -> None:
    """Print the setup matrices, both leaderboards, the Rule 1 flags and the unranked methods."""
    from rich.markup import escape
    from rich.table import Table

    console = _console()
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


def main(*, dataset=None, network=None, tolerance: float = 0.05, as_csv: bool = False, as_json: bool = False,
         registry=None, accept_base_accuracy: bool = False) -> int:
    from audit.core.compare import audit_matrix, check_filters, check_tolerance
    from audit.registry.store import load_registry

    check_tolerance(tolerance)
    check_filters(dataset, network)
    reg = load_registry(registry)
    rep = audit_matrix(reg, dataset=dataset, network=network, tolerance=tolerance,
                       accept_base_accuracy=accept_base_accuracy)
    if as_json:
        json.dump(rep.model_dump(mode="json"), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if as_csv:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["dataset", "network", "method_a", "method_b", "setup", "inferred", "pairs"])
        for p in rep.pairs:
            w.writerow([p.dataset, p.network, p.a, p.b, p.setup, "yes" if p.inferred else "no", p.pairs])
        sys.stdout.write(buf.getvalue())
        return 0
    render(rep)
    return 0
