"""The "value of pruning" section of ``prune-audit audit``: pruning vs scratch training per ratio.

The seed's Mystery 2 (Sec. 4, Tab. 4): for each pruned architecture and each setup of the scratch
chain (S4.2: one overall LR schedule; SX-A: same total epochs; SX-B: same total cost), the best pruning
result against scratch training of that architecture, with Welch's test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.core.views import AuditReport

__all__ = ["render_value_of_pruning"]


def render_value_of_pruning(rep: AuditReport) -> None:
    """Print one table per dataset/network that has scratch-training results (nothing otherwise)."""
    from rich.markup import escape
    from rich.table import Table

    from audit.cli.console import make_console
    from audit.core.compare import best_value_rows

    if not rep.value_of_pruning:
        return
    console = make_console(markup=True)
    for g in rep.value_of_pruning:
        t = Table(title=f"Value of pruning — {g.dataset}/{g.network}: best pruning result per setup vs scratch "
                        "training of the same pruned architecture", title_justify="left")
        for col in ("architecture", "setup", "pruning (best of the setup)", "Δ top-1 (pruning − scratch)",
                    "Welch p", "significant"):
            t.add_column(col)
        for r in best_value_rows(g.rows):
            sig = r.significance
            t.add_row(escape(r.ratio), f"[{r.setup.style}]{r.setup}[/]", escape(r.pruning_label),
                      f"{r.delta_top1:+.2f}", sig.p_text() if sig.tested else "n/r",
                      ("yes" if sig.significant else "no") if sig.tested else "untestable")
        console.print(t)
    console.print("[dim]S4.2 = one overall LR schedule (pruned at epoch P); SX-A = same total epochs; SX-B = same "
                  "total cost in dense-epoch units (the seed's Sec. 4); all rows in --json[/dim]")
