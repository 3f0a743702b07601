"""``prune-audit compare A B`` and ``prune-audit audit``: fair comparisons from the registry.

Mounted on the root app without a group name (both are top-level commands). Only typer and the
shared options are imported here; the implementations are imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from audit.cli.options import (
    BaseAccuracyOpt,
    Command,
    DatasetOpt,
    FormatOpt,
    JsonOpt,
    NetworkOpt,
    OutputFormat,
    RegistryOpt,
    RunsDirOpt,
    SeedsOpt,
    ToleranceOpt,
    WideOpt,
    new_app,
    output_format,
)
from audit.io import jsontext

__all__ = ["app", "audit", "compare"]

app = new_app("Fair comparisons of published results.")


@app.command("compare", cls=Command)
def compare(
    method_a: Annotated[str, typer.Argument(metavar="A", show_default=False,
                                            help="A method (any alias), e.g. GReg-2.")],
    method_b: Annotated[str, typer.Argument(metavar="B", show_default=False, help="Another method, e.g. L1-norm.")],
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    tolerance: ToleranceOpt = 0.05,
    fmt: FormatOpt = OutputFormat.table,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON (docs/compare.schema.json; same as "
                                                         "--format json).")]
    = False,
    wide: WideOpt = False,
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
    if rerun:
        _rerun_plan(a=method_a, b=method_b, dataset=dataset, network=network, tolerance=tolerance,
                    registry=registry, base=rerun_base, seeds=seeds, runs_dir=runs_dir,
                    accept_base_accuracy=accept_base_accuracy)
        return
    import sys

    from audit.core.compare import check_filters, check_tolerance, compare_methods
    from audit.registry.store import load_registry

    out = output_format(fmt, as_json=as_json)
    check_tolerance(tolerance)
    check_filters(dataset, network)
    rep = compare_methods(load_registry(registry), method_a, method_b, dataset=dataset, network=network,
                          tolerance=tolerance, accept_base_accuracy=accept_base_accuracy)
    if out is OutputFormat.json:
        sys.stdout.write(jsontext.dumps(rep.model_dump(mode="json")))
        return
    from audit.cli.render import compare_rows, render_compare

    if out is OutputFormat.table:
        render_compare(rep, wide=wide)
        return
    from audit.cli.console import write_rows

    cols, rows = compare_rows(rep)
    write_rows(out.value, cols, rows, title=f"{rep.a} vs {rep.b}: pairs (Δ = A − B, top-1 points)")


@app.command("audit", cls=Command)
def audit(
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    tolerance: ToleranceOpt = 0.05,
    fmt: FormatOpt = OutputFormat.table,
    as_csv: Annotated[bool, typer.Option("--csv", help="The setup matrix as CSV, one row per method pair (same as "
                                                       "--format csv).")] = False,
    as_json: JsonOpt = False,
    wide: WideOpt = False,
    accept_base_accuracy: BaseAccuracyOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """Setups of all method pairs, the calibrated leaderboard (S3.2+) and the naive one (raw top-1)."""
    import sys

    from audit.core.compare import audit_matrix, check_filters, check_tolerance
    from audit.registry.store import load_registry

    out = output_format(fmt, as_json=as_json, as_csv=as_csv)
    check_tolerance(tolerance)
    check_filters(dataset, network)
    rep = audit_matrix(load_registry(registry), dataset=dataset, network=network, tolerance=tolerance,
                       accept_base_accuracy=accept_base_accuracy)
    if out is OutputFormat.json:
        sys.stdout.write(jsontext.dumps(rep.model_dump(mode="json")))
        return
    from audit.cli.render import audit_tables, render_audit

    if out is OutputFormat.table:
        from audit.cli.render_value import render_value_of_pruning

        render_audit(rep, wide=wide)
        render_value_of_pruning(rep)
        return
    from audit.cli.console import write_rows

    tables = audit_tables(rep)
    if out is OutputFormat.csv:  # the setup matrix, one row per method pair (as before --format)
        write_rows("csv", tables[0][1], tables[0][2])
        return
    for i, (title, cols, rows) in enumerate(tables):
        if i:
            sys.stdout.write("\n")
        write_rows("md", cols, rows, title=title)


def _rerun_plan(*, a: str, b: str, dataset: str | None, network: str | None, tolerance: float, registry: Path | None,
                base: Path | None, seeds: int, runs_dir: Path, accept_base_accuracy: bool) -> None:
    """``compare A B --rerun``: run the cross-validation plan of the compare report with the rerun engine."""
    import json
    import sys

    from audit.core.compare import check_filters, check_tolerance, compare_methods
    from audit.core.views import CrossRun
    from audit.errors import AuditError
    from audit.registry.store import load_registry
    from audit.rerun.crossval import check_methods

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
