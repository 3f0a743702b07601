"""``prune-audit site``: the static leaderboard site (:mod:`audit.site`).

Mounted on the root app without a group name. Only typer and the shared options are imported here; the
registry, the site builder and matplotlib are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.cli.options import BaseAccuracyOpt, Command, RegistryOpt, ToleranceOpt, new_app

__all__ = ["app", "site"]

app = new_app("The static leaderboard site.")


@app.command("site", cls=Command)
def site(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Where to write the site (replaced as a whole; "
                                                                   "a non-empty folder that is not a site is refused).")]
    = Path("site"),
    tolerance: ToleranceOpt = 0.05,
    accept_base_accuracy: BaseAccuracyOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """Write a self-contained static site from the registry: an index of benchmarks; per benchmark the
    calibrated leaderboard (S3.2+ pairs only) beside the naive one, the setup matrix (reasons on hover),
    the top-1 vs speedup plot, the value of pruning where scratch results exist and the registry check
    findings; a page per paper with every result, its sources and recipe. Opens from
    file://, makes no network request, reads without JavaScript; equal registries give identical files."""
    from audit.registry.store import load_registry
    from audit.site import build_site, write_site
    from audit.site.hooks import check_findings, value_of_pruning_tables
    from audit.site.write import check_target

    check_target(out)  # before the work: a folder that may not be replaced is refused at once
    reg = load_registry(registry)
    files = build_site(reg, tolerance=tolerance, accept_base_accuracy=accept_base_accuracy,
                       findings=check_findings(reg), value_of_pruning=value_of_pruning_tables(reg, tolerance))
    write_site(files, out)
    pages = sum(1 for name in files if name.endswith(".html"))
    print(f"wrote {out}/index.html ({pages} page(s), {len(files)} file(s))")
