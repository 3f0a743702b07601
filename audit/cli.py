"""The ``prune-audit`` command line.

Heavy modules (pydantic models, pandas, scipy, torch) are imported inside the commands that
need them, so ``prune-audit --help`` and the audit commands start fast and never import torch.
Every user-facing error is one line on stderr and a non-zero exit (see :func:`main`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="prune-audit",
    help="Audit and calibrate published neural-network pruning results.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
registry_app = typer.Typer(help="List, show, validate and add registry entries.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")

RegistryOpt = Annotated[
    Optional[Path],
    typer.Option("--registry", help="Registry directory (default: $PRUNE_AUDIT_REGISTRY, else the shipped one).",
                 show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


@registry_app.command("list")
def registry_list(
    dataset: Annotated[Optional[str], typer.Option(help="Only this dataset id (e.g. imagenet-1k).")] = None,
    network: Annotated[Optional[str], typer.Option(help="Only this network id (e.g. resnet50).")] = None,
    method: Annotated[Optional[str], typer.Option(help="Only this method (any alias).")] = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV output.")] = False,
    registry: RegistryOpt = None,
) -> int:
    """List results as a table (or --json / --csv)."""
    from .commands import registry_cmd

    return registry_cmd.list_main(dataset=dataset, network=network, method=method, as_json=as_json,
                                  as_csv=as_csv, registry=registry)


@registry_app.command("show")
def registry_show(
    name: Annotated[str, typer.Argument(help="A method (any alias), a paper id, or a result key paper/result.")],
    as_json: JsonOpt = False,
    registry: RegistryOpt = None,
) -> int:
    """Show every result of a method or paper, with its full recipe and sources."""
    from .commands import registry_cmd

    return registry_cmd.show_main(name=name, as_json=as_json, registry=registry)


@registry_app.command("validate")
def registry_validate(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or directories (default: the registry).")] = None,
    registry: RegistryOpt = None,
) -> int:
    """Validate paper files; report every problem of every file, one per line."""
    from .commands import registry_cmd

    return registry_cmd.validate_main(paths=paths or [], registry=registry)


@registry_app.command("schema")
def registry_schema(
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> int:
    """Print the JSON Schema of a paper file (for editors)."""
    from .commands import registry_cmd

    return registry_cmd.schema_main(out=out)


@registry_app.command("add")
def registry_add(
    file: Annotated[Path, typer.Argument(help="A paper file named <paper-id>.yaml.")],
    registry: RegistryOpt = None,
) -> int:
    """Validate a new paper file against the registry and copy it in atomically."""
    from .commands import registry_cmd

    return registry_cmd.add_main(file=file, registry=registry)


def _mount_commands() -> None:
    """Commands that live in other modules (each module imports only typer at import time)."""
    from audit import cli_analysis, cli_report

    from .rerun.cli import app as rerun_app

    cli_analysis.register(app)
    cli_report.register(app)
    app.add_typer(rerun_app, name="rerun")


_mount_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, turn project errors into one line and an exit code."""
    from .errors import AuditError

    try:
        app(args=argv, prog_name="prune-audit", standalone_mode=True)
    except AuditError as exc:
        print(f"prune-audit: error: {exc}" if exc.prefixed else str(exc), file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        print("prune-audit: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
