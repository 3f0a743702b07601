"""What the site shows beyond the leaderboards: the registry's arithmetic findings and the value of pruning.

Both come from the modules that own them (:mod:`audit.registry.check`, :func:`audit.core.compare.value_of_pruning`)
and are handed to :func:`audit.site.build.build_site` as its hook points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audit.site.build import Finding, SiteTable

__all__ = ["check_findings", "value_of_pruning_tables"]


def check_findings(reg: Any) -> list[Finding]:
    """The error- and warning-level findings of ``registry check`` on ``reg``, one per result and check
    (the informational notes, e.g. an inferred FLOPs convention, are left to ``registry check --notes``)."""
    from audit.registry.check import check_entries, mac_table_speedup

    report = check_entries(reg.entries, speedup_at=mac_table_speedup, networks=reg.all_networks)
    return [Finding(subject=f.key, message=f"{f.severity} [{f.check}] {f.field}: {f.message}",
                    where=f"{f.file}:{f.line}") for f in report.findings if f.severity != "info"]


def value_of_pruning_tables(reg: Any, tolerance: float) -> Callable[[str, str], SiteTable | None]:
    """A hook that gives a benchmark's "value of pruning" table (pruning vs scratch training of the same
    pruned architecture, best pruning result per ratio and setup, Welch's test), or ``None`` where the
    registry has no scratch training there."""
    from audit.core.classify import features_of_entry
    from audit.core.compare import best_value_rows, value_of_pruning

    def table(dataset: str, network: str) -> SiteTable | None:
        entries = [e for e in reg.entries if (e.result.dataset, e.result.network) == (dataset, network)]
        groups = value_of_pruning(entries, [features_of_entry(e) for e in entries], tolerance)
        if not groups:
            return None
        rows = []
        for r in best_value_rows(groups[0].rows):
            sig = r.significance
            rows.append([r.ratio, str(r.setup), r.pruning, f"{r.delta_top1:+.2f}", sig.p_text() if sig.tested else "n/r",
                         ("yes" if sig.significant else "no") if sig.tested else "untestable"])
        return SiteTable(caption="Value of pruning: pruning vs scratch training of the same pruned architecture",
                         columns=["architecture", "setup", "best pruning result", "Δ top-1 (pruning − scratch)",
                                  "Welch p", "significant"], rows=rows,
                         note="S4.2 = one overall LR schedule (pruned at epoch P); SX-A = same total epochs; SX-B = "
                              "same total cost (the seed's Sec. 4).")

    return table
