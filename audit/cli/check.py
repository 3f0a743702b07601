"""``prune-audit registry check``: the arithmetic auditor (see :mod:`audit.registry.check`).

Registered on the ``registry`` command group.  Reads the registry, or paper and submission files in
the registry's context, and prints one line per finding (``file:line: key: field: severity [check]:
message``), JSON (``--json``) or Markdown (``--md``; ``--write FILE`` writes it atomically, as
``registry/CHECK.md`` is).  Exit status 1 when an error-level finding exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from audit.cli.options import Command, JsonOpt, RegistryOpt
from audit.cli.registry import app

__all__ = ["CHECK_MD_COMMAND", "registry_check"]

CHECK_MD_COMMAND = "prune-audit registry check --write registry/CHECK.md"
"""The one command that regenerates the shipped registry's findings file."""


def _entries_of(paths: list[Path], registry: Path | None) -> tuple[list[Any], dict[str, Any]]:
    """The entries of the given paper or submission files, read in the registry's context, and the
    networks they may use (catalog plus declarations)."""
    from audit.io import yamlio
    from audit.io.loader import display_path
    from audit.registry.store import validate

    entries: list[Any] = []
    networks: dict[str, Any] = {}
    papers: list[Path] = []
    for p in paths:
        data: Any = None
        if p.is_file():
            try:
                data, _ = yamlio.load(yamlio.read_text(p, display_path(p)), display_path(p))
            except yamlio.YamlProblems:
                data = None  # reported by the validation below
        if isinstance(data, dict) and "comparisons" in data:
            from audit.report.submission import load_submission

            sub = load_submission(p, registry)
            pid = sub.submission.paper.id
            entries.extend(e for e in sub.registry.entries if e.paper.id == pid)
            networks.update(sub.registry.all_networks)
        else:
            papers.append(p)
    if papers:
        reg = validate(papers, registry)
        shown = {display_path(p) for p in papers if p.is_file()}
        dirs = [p for p in papers if p.is_dir()]
        entries.extend(e for e in reg.entries if dirs or e.file in shown)
        networks.update(reg.all_networks)
    return entries, networks


@app.command("check", cls=Command)
def registry_check(
    paths: Annotated[Optional[list[Path]], typer.Argument(metavar="PATH", show_default=False,
                                                          help="Paper or submission files, or directories "
                                                               "(default: the registry).")] = None,
    registry: RegistryOpt = None,
    json_out: JsonOpt = False,
    md: Annotated[bool, typer.Option("--md", help="Markdown output (errors and warnings; notes counted).")] = False,
    write: Annotated[Optional[Path], typer.Option("--write", metavar="FILE", show_default=False,
                                                  help="Write the Markdown findings to FILE (atomically).")] = None,
    notes: Annotated[bool, typer.Option("--notes", help="Also list info-level notes (inferred conventions).")]
    = False,
) -> None:
    """Check the arithmetic each result prints: Δ vs pruned - base, accuracy vs error rate, speedup vs
    FLOPs reduction vs absolute FLOPs, parameter counts, the FLOPs convention against the network
    catalog, the speedup its pruning ratios give, impossible statistics. Exit 1 on an error finding."""
    from audit.errors import AuditError
    from audit.io import jsontext
    from audit.io.atomic import atomic_write_text
    from audit.registry.check import check_entries, mac_table_speedup, markdown
    from audit.registry.store import load_registry

    if paths:
        entries, networks = _entries_of(paths, registry)
    else:
        reg = load_registry(registry)
        entries, networks = reg.entries, reg.all_networks
    report = check_entries(entries, speedup_at=mac_table_speedup, networks=networks)
    if write is not None or md:
        severities = ("error", "warning", "info") if notes else ("error", "warning")
        text = markdown(report, "Findings of `registry check` on the shipped registry"
                        if not paths and registry is None else "Findings of `registry check`",
                        CHECK_MD_COMMAND if not paths and registry is None else "prune-audit registry check --md",
                        severities)  # type: ignore[arg-type]
        if write is not None:
            try:
                atomic_write_text(write, text)
            except OSError as exc:
                raise AuditError(f"{write}: cannot write: {exc.strerror or exc}") from None
            print(f"wrote {write}: {report.count('error')} errors, {report.count('warning')} warnings, "
                  f"{report.count('info')} notes on {report.results} results")
        else:
            typer.echo(text, nl=False)
    elif json_out:
        typer.echo(jsontext.dumps(report.model_dump(mode="json"), indent=1))
    else:
        for f in report.findings:
            if f.severity != "info" or notes:
                print(f.text())
        print(f"{report.results} results checked: {report.count('error')} errors, {report.count('warning')} "
              f"warnings, {report.count('info')} notes" + ("" if notes else " (--notes lists them)"))
    if report.has_errors:
        raise typer.Exit(1)

