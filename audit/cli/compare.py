"""``prune-audit compare A B`` and ``prune-audit audit``: fair comparisons from the registry.

Mounted on the root app without a group name (both are top-level commands). Only typer and the
shared options are imported here; the implementations are imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli.options import (
    BaseAccuracyOpt,
    Command,
    DatasetOpt,
    JsonOpt,
    NetworkOpt,
    RegistryOpt,
    RunsDirOpt,
    SeedsOpt,
    ToleranceOpt,
    new_app,
)

__all__ = ["app"]

app = new_app("Fair comparisons of published results.")


@app.command("compare", cls=Command)
def compare(
    method_a: Annotated[str, typer.Argument(metavar="A", show_default=False,
                                            help="A method (any alias), e.g. GReg-2.")],
    method_b: Annotated[str, typer.Argument(metavar="B", show_default=False, help="Another method, e.g. L1-norm.")],
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    tolerance: ToleranceOpt = 0.05,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON (docs/compare.schema.json).")]
    = False,
    accept_base_accuracy: BaseAccuracyOpt = False,
    registry: RegistryOpt = None,
    rerun: Annotated[bool, typer.Option(
        "--rerun", help="Run the printed cross-validation plan with the rerun engine (A+RA, B+RB, A+RB, B+RA; "
                        "needs --rerun-base and the 'rerun' extra).")] = False,
    rerun_base: Annotated[Optional[Path], typer.Option(
        "--rerun-base", metavar="RECIPE.yaml", show_default=False,
        help="Rerun recipe giving model, dataset, pretraining and ratio; its finetuning stage is replaced by the "
             "plan's recipes.")] = None,
    seeds: SeedsOpt = 1,
    runs_dir: RunsDirOpt = Path("reruns/runs"),
) -> None:
    """Which published numbers of A and B may be compared fairly, the real gap, and what would settle it."""
    from audit.commands import compare_cmd

    if rerun:
        compare_cmd.rerun_plan(a=method_a, b=method_b, dataset=dataset, network=network, tolerance=tolerance,
                               registry=registry, base=rerun_base, seeds=seeds, runs_dir=runs_dir,
                               accept_base_accuracy=accept_base_accuracy)
        return
    compare_cmd.main(a=method_a, b=method_b, dataset=dataset, network=network, tolerance=tolerance,
                     as_json=as_json, registry=registry, accept_base_accuracy=accept_base_accuracy)


@app.command("audit", cls=Command)
def audit(
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    tolerance: ToleranceOpt = 0.05,
    as_csv: Annotated[bool, typer.Option("--csv", help="The setup matrix as CSV (one row per method pair).")] = False,
    as_json: JsonOpt = False,
    accept_base_accuracy: BaseAccuracyOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """Setups of all method pairs, the calibrated leaderboard (S3.2+) and the naive one (raw top-1)."""
    from audit.commands import audit_cmd

    audit_cmd.main(dataset=dataset, network=network, tolerance=tolerance, as_csv=as_csv, as_json=as_json,
                   registry=registry, accept_base_accuracy=accept_base_accuracy)
