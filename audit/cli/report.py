"""``prune-audit report``: fairness reports for paper reviewers (Markdown + self-contained HTML).

Mounted on the root app without a group name. Only typer and the shared options are imported
here; the implementation (:mod:`audit.report`) and matplotlib are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli.options import (
    BaseAccuracyOpt,
    Command,
    DatasetOpt,
    NetworkOpt,
    RegistryOpt,
    ReportFormat,
    ToleranceOpt,
    new_app,
)

__all__ = ["HELP", "app", "report"]

app = new_app("Fairness reports.")

HELP = (
    "Write a fairness report for a submission (or for `compare A B`) as Markdown and HTML.\n\n"
    "SUBMISSION.yaml is a registry paper file (paper, methods, results) plus `comparisons:`, a list of "
    "{result: <own result id>, against: <method name/alias or registry key paper-id/result-id>, claim: <text>}. "
    "Competitors the registry lacks are listed as \"not in registry\"; the report is still written.\n\n"
    "Output: <name>.md and <name>.html (self-contained: embedded PNG figures, no network, no JavaScript) in "
    "--out (default: review/), written atomically as a pair: both files carry one generation stamp, and a "
    "run (or --check DIR) names the stale file when an interrupted run left a mix; equal inputs give "
    "byte-identical files.\n\n"
    "Exit status: 0 report written (or --check found every pair whole); 1 invalid submission (one line per problem, "
    "file:line: field: message), a mixed pair under --check, "
    "no comparisons, output directory not writable, or bad options; 2 unknown method, dataset or network in "
    "--compare, or a usage error."
)


@app.command("report", help=HELP, cls=Command)
def report(
    submission: Annotated[Optional[Path], typer.Argument(metavar="SUBMISSION.yaml", show_default=False,
                                                         help="The submission file.")] = None,
    compare: Annotated[Optional[tuple[str, str]], typer.Option(
        "--compare", metavar="A B", show_default=False,
        help="Report on `prune-audit compare A B` instead of a submission.")] = None,
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", show_default=False,
                                                help="Output directory (default: review/ in the working directory).")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="Which files to write.")] = ReportFormat.both,
    tolerance: ToleranceOpt = 0.05,
    accept_base_accuracy: BaseAccuracyOpt = False,
    reruns: Annotated[Optional[Path], typer.Option(
        "--reruns", metavar="DIR", show_default=False,
        help="Rerun results directory (default: reruns/results in the working directory, if present).")] = None,
    regenerate_examples: Annotated[bool, typer.Option(
        "--regenerate-examples", help="Regenerate the shipped example reports in reports/ (or --out) and exit.")]
    = False,
    check: Annotated[Optional[Path], typer.Option(
        "--check", metavar="DIR", show_default=False,
        help="Check that every report's .md and .html in DIR are of one run (exit 1 naming each stale file).")]
    = None,
    registry: RegistryOpt = None,
) -> None:
    """Write a fairness report (the command's help is :data:`HELP`); failures raise AuditError."""
    from audit.report import main as report_main

    if check is not None:
        if submission is not None or compare:
            from audit.errors import AuditError

            raise AuditError("--check DIR takes no submission and no --compare")
        report_main.check(check)
        return

    report_main.run(submission=submission, compare=compare, out=out, fmt=fmt.value, registry=registry,
                    reruns=reruns, tolerance=tolerance, accept_base_accuracy=accept_base_accuracy,
                    regenerate=regenerate_examples, dataset=dataset, network=network)
