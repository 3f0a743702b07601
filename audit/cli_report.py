"""``prune-audit report``: fairness reports for paper reviewers (Markdown + self-contained HTML).

Mounted on the main app by :func:`register`.  Only typer, typing and pathlib are imported here;
the implementation (:mod:`audit.report`) and matplotlib are imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

HELP = (
    "Write a fairness report for a submission (or for `compare A B`) as Markdown and HTML.\n\n"
    "SUBMISSION.yaml is a registry paper file (paper, methods, results) plus `comparisons:`, a list of "
    "{result: <own result id>, against: <method name/alias or registry key paper-id/result-id>, claim: <text>}. "
    "Competitors the registry lacks are listed as \"not in registry\"; the report is still written.\n\n"
    "Output: <name>.md and <name>.html (self-contained: embedded PNG figures, no network, no JavaScript) in "
    "--out (default: reports/), written atomically; equal inputs give byte-identical files.\n\n"
    "Exit status: 0 report written; 1 invalid submission (one line per problem, file:line: field: message), "
    "no comparisons, output directory not writable, or bad options; 2 unknown method, dataset or network in "
    "--compare, or a usage error."
)


def register(app: typer.Typer) -> None:
    """Add the top-level ``report`` command to ``app``."""

    @app.command("report", help=HELP)
    def report(
        submission: Annotated[Optional[Path], typer.Argument(metavar="SUBMISSION.yaml",
                                                             help="The submission file.", show_default=False)] = None,
        compare: Annotated[Optional[tuple[str, str]], typer.Option(
            "--compare", metavar="A B", help="Report on `prune-audit compare A B` instead of a submission.",
            show_default=False)] = None,
        dataset: Annotated[Optional[str], typer.Option(help="With --compare: only this dataset id.")] = None,
        network: Annotated[Optional[str], typer.Option(help="With --compare: only this network id.")] = None,
        out: Annotated[Optional[Path], typer.Option("--out", help="Output directory (default: reports/).",
                                                    show_default=False)] = None,
        fmt: Annotated[str, typer.Option("--format", help="md, html or both.")] = "both",
        tolerance: Annotated[float, typer.Option(
            help="Relative speedup tolerance for 'same rate' (0.05 = 5 %).")] = 0.05,
        accept_base_accuracy: Annotated[bool, typer.Option(
            "--accept-base-accuracy",
            help="Count an equal base accuracy without a base identity as the same base (inferred) for S2.")] = False,
        reruns: Annotated[Optional[Path], typer.Option(
            "--reruns", help="Rerun results directory (default: reruns/results of the checkout, if any).",
            show_default=False)] = None,
        regenerate_examples: Annotated[bool, typer.Option(
            "--regenerate-examples",
            help="Regenerate the shipped example reports in reports/ (or --out) and exit.")] = False,
        registry: Annotated[Optional[Path], typer.Option(
            "--registry", help="Registry directory (default: $PRUNE_AUDIT_REGISTRY, else the shipped one).",
            show_default=False)] = None,
    ) -> int:
        from .report import main as report_main

        return report_main.run(submission=submission, compare=compare, out=out, fmt=fmt, registry=registry,
                               reruns=reruns, tolerance=tolerance, accept_base_accuracy=accept_base_accuracy,
                               regenerate=regenerate_examples, dataset=dataset, network=network)
