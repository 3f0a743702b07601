"""What every command of ``prune-audit`` shares: the app factory, the options and the choices.

Options used by more than one command are declared here once, as ``Annotated`` types; a closed
set of values is an ``Enum`` (Typer lists its members in the help and rejects any other value
with a usage error, exit status 2). Only typer, enum, pathlib and typing are imported, so that
``prune-audit --help`` stays fast.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperArgument, TyperCommand

__all__ = [
    "BaseAccuracyOpt", "Command", "CsvOpt", "DatasetOpt", "Device", "DeviceOpt", "Executor", "ExecutorOpt",
    "FormatOpt", "JsonOpt", "NetworkOpt", "OutputFormat", "RegistryOpt", "ReportFormat", "ResultsDirOpt",
    "RunsDirOpt", "SeedsOpt", "ToleranceOpt", "WideOpt", "WorkersOpt", "new_app", "output_format", "parse_finite",
]


class OutputFormat(str, enum.Enum):
    """``--format`` of every command that prints a table: a terminal table (fitted to the width), CSV, JSON or
    a GitHub-flavoured Markdown table."""

    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


class ReportFormat(str, enum.Enum):
    """``report --format``: which files a report is written as."""

    md = "md"
    html = "html"
    both = "both"


class Device(str, enum.Enum):
    """``--device`` of the rerun engine: ``auto`` takes CUDA when it is available."""

    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


class Executor(str, enum.Enum):
    """``--executor``: a local pool of worker processes, or SLURM through submitit."""

    local = "local"
    slurm = "slurm"


class Command(TyperCommand):
    """A command whose usage line names its arguments as their metavar (``GRID.yaml``, ``[PATH]...``).

    Typer's own usage line wraps required arguments in braces (``{GRID.yaml}``); this one follows
    the usual convention: required bare, optional in brackets, repeatable with ``...``.
    """

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Click's help page, without the type Typer appends to each argument in the Arguments section
        (``A <str>``): an argument is named by its placeholder alone, like the usage line."""
        import re

        page = type(formatter)(width=formatter.width, max_width=formatter.width)
        super().format_help(ctx, page)
        text = page.getvalue()
        head, sep, rest = text.partition("\nArguments:\n")
        if sep:
            args, sep2, tail = rest.partition("\n\n")
            args = re.sub(r"^(  \S+)( <[^>\s]+>)", lambda m: m.group(1) + " " * len(m.group(2)), args, flags=re.M)
            text = head + sep + args + sep2 + tail
        formatter.write(text)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if not isinstance(param, TyperArgument):
                continue
            name = param.display_name_raw
            name = name if param.required else f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces


def _no_return_value(value: object, **_: object) -> None:
    """Result callback of every app: a command signals failure by raising, never by returning.

    Typer ignores a command's return value, so ``return 1`` would exit 0; any value other than
    None is therefore a programming error and fails the command (exit status 1).
    """
    if value is not None:
        from audit.errors import AuditError

        raise AuditError(f"internal error: a command returned {value!r} instead of raising on failure")


def new_app(help: str, **kwargs: Any) -> typer.Typer:
    """A Typer app in the project's one style: plain help (no ``<bool>`` after flags; as wide as
    the terminal, at most 120 columns), no completion commands, no pretty tracebacks, help when called without arguments, and failure
    only by raising (see :func:`_no_return_value`)."""
    settings: dict[str, Any] = dict(
        help=help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
        result_callback=_no_return_value,
        context_settings={"max_content_width": 120},
    )
    settings.update(kwargs)
    return typer.Typer(**settings)


def parse_finite(value: str | float) -> float:
    """Parse a number option: NaN and infinities are usage errors (exit status 2), like any non-number."""
    import math

    try:
        number = float(value)
    except (TypeError, ValueError):
        raise typer.BadParameter(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise typer.BadParameter(f"{value!r} is not a finite number")
    return number


RegistryOpt = Annotated[
    Optional[Path],
    typer.Option("--registry", metavar="DIR", show_default=False,
                 help="Registry directory (default: $PRUNE_AUDIT_REGISTRY, else the shipped one)."),
]
DatasetOpt = Annotated[
    Optional[str], typer.Option("--dataset", metavar="ID", help="Only this dataset id (e.g. imagenet-1k).")
]
NetworkOpt = Annotated[
    Optional[str], typer.Option("--network", metavar="ID", help="Only this network id (e.g. resnet50).")
]
ToleranceOpt = Annotated[
    float, typer.Option("--tolerance", metavar="FRACTION", parser=parse_finite,
                        help="Relative speedup tolerance for 'same rate' and SX-B (0.05 = 5 %).")
]
BaseAccuracyOpt = Annotated[
    bool, typer.Option("--accept-base-accuracy",
                       help="Count an equal base accuracy without a base identity as the same base (inferred) for S2.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output (same as --format json).")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="CSV output (same as --format csv).")]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", help="table (fitted to the terminal), csv, json or md (a Markdown table).")
]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column and full keys in one wide table, however wide the terminal.")
]


def output_format(fmt: OutputFormat, *, as_json: bool = False, as_csv: bool = False) -> OutputFormat:
    """The format asked for: ``--json`` and ``--csv`` are aliases of ``--format json|csv``; two different
    formats at once are a usage error (exit status 2)."""
    asked = {fmt} - {OutputFormat.table}
    if as_json:
        asked.add(OutputFormat.json)
    if as_csv:
        asked.add(OutputFormat.csv)
    if len(asked) > 1:
        raise typer.BadParameter("give one output format: " + ", ".join(sorted(f.value for f in asked)),
                                 param_hint="'--format'")
    return asked.pop() if asked else OutputFormat.table
RunsDirOpt = Annotated[
    Path, typer.Option("--runs-dir", metavar="DIR", help="Where runs live (one folder per recipe hash).")
]
ResultsDirOpt = Annotated[
    Path, typer.Option("--results-dir", metavar="DIR",
                       help="Collect each result record (RESULT-ID.json) and learning curve (.csv) here.")
]
DeviceOpt = Annotated[Device, typer.Option("--device", help="Where to train.")]
ExecutorOpt = Annotated[
    Executor, typer.Option("--executor", help="local (a pool of worker processes) or slurm (submitit).")
]
WorkersOpt = Annotated[int, typer.Option("--workers", metavar="N", min=1, help="Local worker processes.")]
SeedsOpt = Annotated[int, typer.Option("--seeds", metavar="N", min=1, help="Seeds 0..N-1 of every configuration.")]
