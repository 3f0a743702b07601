"""``prune-audit registry import``: a results table into draft paper files (see :mod:`audit.registry.importer`).

Registered on the ``registry`` command group.  Prints, for each draft, where it was written and its
counts, then every cell not entered and every row skipped (``file:line: column 'X' (row N) 'text':
why``), then the findings of ``registry check`` on the drafts.  A draft never replaces an existing file
without ``--force``; files are written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli.options import Command, RegistryOpt
from audit.cli.registry import app

__all__ = ["registry_import"]


@app.command("import", cls=Command)
def registry_import(
    table: Annotated[Path, typer.Argument(metavar="TABLE", show_default=False,
                                          help="A CSV (ShrinkBench's results grid natively) or a Markdown file "
                                               "holding one pipe table.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Directory the drafts are written to.")]
    = Path("."),
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT",
                                     help="auto, shrinkbench, csv or markdown (auto: .md is Markdown; a CSV "
                                          "with ShrinkBench's columns is the grid).")] = "auto",
    column_map: Annotated[Optional[list[str]], typer.Option(
        "--map", metavar="FIELD=COLUMN,...", show_default=False,
        help="Columns by field, e.g. top1=Acc,speedup=\"Speed Up\" (fields: row, paper, method, variant, dataset, "
             "network, top1, err1, top5, err5, top1_std, runs, top1_change, top1_drop, top5_change, base_top1, "
             "base_err1, base_top5, base_err5, speedup, flops_reduction, flops_kept, flops, flops_dense, "
             "params_reduction, params_kept, params, params_dense, params_ratio).")] = None,
    paper_id: Annotated[Optional[str], typer.Option("--paper-id", metavar="ID", show_default=False,
                                                    help="The paper of every row (a table without a paper column).")]
    = None,
    method: Annotated[Optional[str], typer.Option("--method", metavar="NAME", show_default=False,
                                                  help="The method of rows without a method cell.")] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", metavar="DATASET", show_default=False,
                                                   help="The dataset of rows without a dataset cell.")] = None,
    network: Annotated[Optional[str], typer.Option("--network", metavar="NETWORK", show_default=False,
                                                   help="The network of rows without a network cell.")] = None,
    title: Annotated[Optional[str], typer.Option("--title", metavar="TEXT", show_default=False, help="Title of --paper-id's paper.")]
    = None,
    authors: Annotated[Optional[str], typer.Option("--authors", metavar="A;B", show_default=False,
                                                   help="Authors of --paper-id's paper, ';'-separated.")] = None,
    venue: Annotated[Optional[str], typer.Option("--venue", metavar="TEXT", show_default=False, help="Venue of --paper-id's paper.")]
    = None,
    year: Annotated[Optional[int], typer.Option("--year", metavar="YEAR", show_default=False, help="Year of --paper-id's paper.")]
    = None,
    papers: Annotated[Optional[Path], typer.Option("--papers", metavar="FILE", show_default=False,
                                                   help="ShrinkBench's Papers-Grid view.csv: the identity of each "
                                                        "paper the grid cites.")] = None,
    paper_map: Annotated[Optional[Path], typer.Option("--paper-map", metavar="FILE.yaml", show_default=False,
                                                      help="Table paper/dataset/network names onto registry ids "
                                                           "(see registry/README.md).")] = None,
    source_paper: Annotated[Optional[str], typer.Option("--source-paper", metavar="ID", show_default=False,
                                                        help="'paper' of every source (default: the draft's "
                                                             "paper; JJGO/shrinkbench for the grid).")] = None,
    where: Annotated[Optional[str], typer.Option("--where", metavar="TEXT", show_default=False,
                                                 help="'where' of every source; {row}, {line}, {file} are filled "
                                                      "in (default: '{file} line {line}').")] = None,
    secondary: Annotated[Optional[bool], typer.Option("--secondary/--primary", show_default=False,
                                                      help="The table transcribes others' numbers (default: "
                                                           "secondary for the grid).")] = None,
    flops_scale: Annotated[Optional[str], typer.Option("--flops-scale", metavar="K|M|G|T", show_default=False,
                                                       help="Scale of FLOP cells printed without a suffix.")] = None,
    params_scale: Annotated[Optional[str], typer.Option("--params-scale", metavar="K|M|G", show_default=False,
                                                        help="Scale of parameter cells printed without a suffix.")]
    = None,
    flops_convention: Annotated[Optional[str], typer.Option(
        "--flops-convention", metavar="CONVENTION", show_default=False,
        help="MACs, 2xMACs, MACs+elementwise or MACs-no-projection, only when the table states it.")] = None,
    keep_same_point: Annotated[bool, typer.Option(
        "--keep-same-point", help="Append a row even when its paper's file already holds a result that looks "
                                  "like the same published point (same method, dataset, network and accuracy; "
                                  "by default such a row is listed and skipped).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files of the same name.")] = False,
    registry: RegistryOpt = None,
) -> None:
    """Read a results table into one draft paper file per paper: every value as printed (error rates,
    changes with their sign, FLOPs with scale and an unstated convention), each cell named in its
    result's source; unreadable cells and skipped rows are listed; the drafts are validated and checked
    by `registry check`."""
    from pydantic import ValidationError

    from audit.errors import AuditError
    from audit.io.atomic import atomic_write_group
    from audit.io.loader import display_path
    from audit.registry import importer as imp
    from audit.registry.check import check_entries, mac_table_speedup
    from audit.registry.store import load_registry

    def choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
        if value is not None and value not in allowed:
            raise AuditError(f"{name} {value!r}: one of {', '.join(allowed)}")

    choice("--format", fmt, ("auto", *imp.TABLE_FORMATS))
    choice("--flops-scale", flops_scale, ("K", "M", "G", "T"))
    choice("--params-scale", params_scale, ("K", "M", "G"))
    choice("--flops-convention", flops_convention, ("MACs", "2xMACs", "MACs+elementwise", "MACs-no-projection"))
    reg = load_registry(registry)
    tab = imp.read_table(table, fmt)
    colmap = imp.parse_column_map(column_map or [], tab.header, tab.file)
    grid = tab.format == "shrinkbench"
    bib = None
    if any(v is not None for v in (title, authors, venue, year)):
        if paper_id is None or title is None or authors is None or venue is None or year is None:
            raise AuditError("--title, --authors, --venue and --year go together, with --paper-id")
        try:
            bib = imp.Bibliography(title=title, authors=[a.strip() for a in authors.split(";") if a.strip()],
                                   venue=venue, year=year)
        except ValidationError as exc:
            raise AuditError(f"--authors: {exc.errors()[0]['msg']}") from None
    try:
        opts = imp.ImportOptions.model_validate(dict(
            paper_id=paper_id, method=method, dataset=dataset, network=network, bibliography=bib,
            papers=imp.read_shrinkbench_papers(papers) if papers else {},
            paper_map=imp.load_paper_map(paper_map) if paper_map else imp.PaperMap(),
            source_paper=source_paper if source_paper is not None else (imp.SHRINKBENCH_SOURCE[0] if grid else None),
            where=where or (imp.SHRINKBENCH_SOURCE[1] if grid else "{file} line {line}"),
            secondary=secondary if secondary is not None else grid,
            flops_scale=flops_scale, params_scale=params_scale, flops_convention=flops_convention,
            keep_same_point=keep_same_point))
    except ValidationError as exc:
        raise AuditError(f"options: {exc.errors()[0]['msg']}") from None
    report = imp.import_table(tab, colmap, opts, reg)
    if not report.drafts:
        for f in report.findings:
            print(f.text())
        raise AuditError(f"{tab.file}: no row could be imported ({len(tab.rows)} rows, {len(report.findings)} "
                         "findings above)")
    merged = imp.validate_drafts(report.drafts, reg)
    if out.exists() and not out.is_dir():
        raise AuditError(f"{display_path(out)}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    targets = {out / f"{d.paper_id}.yaml": d for d in report.drafts}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise AuditError(f"{display_path(existing[0])}: exists; not replaced without --force"
                         + (f" ({len(existing)} drafts would replace files)" if len(existing) > 1 else ""))
    try:
        atomic_write_group({p: d.text.encode("utf-8") for p, d in targets.items()})
    except OSError as exc:
        raise AuditError(f"{display_path(out)}: cannot write: {exc.strerror or exc}") from None
    for p, d in targets.items():
        extra = [f"{d.rows_skipped} rows skipped"] if d.rows_skipped else []
        if d.declared_methods:
            extra.append(f"declares {len(d.declared_methods)} methods ({', '.join(d.declared_methods)})")
        if d.declared_networks:
            extra.append(f"declares networks {', '.join(d.declared_networks)}")
        kind = "appended to a copy of the registry's file" if d.existing else "new paper"
        print(f"wrote {display_path(p)}: {d.results} results ({kind})" + (f"; {'; '.join(extra)}" if extra else ""))
    for f in report.findings:
        print(f"not entered: {f.text()}")
    ids = {d.paper_id for d in report.drafts}
    check = check_entries([e for e in merged.entries if e.paper.id in ids], speedup_at=mac_table_speedup,
                          networks=merged.all_networks)
    for finding in check.findings:
        if finding.severity != "info":
            print(f"check: {finding.text()}")
    total = sum(d.results for d in report.drafts)
    print(f"{len(report.drafts)} drafts, {total} results from {len(tab.rows)} rows of {tab.file}; "
          f"{len(report.findings)} cells or rows not entered; registry check: {check.count('error')} errors, "
          f"{check.count('warning')} warnings")

