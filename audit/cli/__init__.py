"""The ``prune-audit`` command line: the root app and :func:`main`.

One module per command group, each one Typer app: :mod:`~audit.cli.registry`,
:mod:`~audit.cli.compare` (``compare`` and ``audit``), :mod:`~audit.cli.recipe`,
:mod:`~audit.cli.report`, :mod:`~audit.cli.rerun` and :mod:`~audit.cli.site`; the options they share are in
:mod:`~audit.cli.options`, the console in :mod:`~audit.cli.console`.

Heavy modules (pydantic models, pandas, scipy, matplotlib, torch) are imported inside the
commands that need them, so ``prune-audit --help`` and the audit commands start fast and never
import torch. A command fails only by raising :class:`audit.errors.AuditError`; :func:`main`
prints it as one line (or one ``file:line: field: message`` line per problem) and returns its
exit status.
"""

from __future__ import annotations

import sys

from audit.cli import check, compare, importer, recipe, registry, report, rerun, site  # noqa: F401 (check, importer register "registry check", "registry import")
from audit.cli.options import new_app

__all__ = ["app", "main"]

app = new_app("Audit and calibrate published neural-network pruning results.", name="prune-audit")
app.add_typer(registry.app, name="registry")
app.add_typer(compare.app)
app.add_typer(recipe.app, name="recipe")
app.add_typer(report.app)
app.add_typer(rerun.app, name="rerun")
app.add_typer(site.app)


def main(argv: list[str] | None = None) -> int:
    """Run ``prune-audit`` on ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    0 success; 1 invalid input or a failed command (an :class:`~audit.errors.AuditError`, printed
    as ``prune-audit: error: <message>``, or its located problem lines as they are; an
    :class:`OSError` on a path, printed as ``prune-audit: error: <path>: <reason>``); 2 an unknown
    name (:class:`~audit.errors.UnknownName`) or a usage error (printed by Typer); 130 interrupted.
    This is the console-script entry point ``audit.cli:main``.
    """
    from audit.errors import AuditError

    try:
        app(args=argv, prog_name="prune-audit", standalone_mode=True)
    except AuditError as exc:
        print(f"prune-audit: error: {exc}" if exc.prefixed else str(exc), file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OSError as exc:  # a path the user gave that the system refuses (too long, no permission, disk full)
        where = exc.filename if exc.filename is not None else "prune-audit"
        what = (exc.strerror or str(exc)).lower()
        print(f"prune-audit: error: {where}: {what}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("prune-audit: interrupted", file=sys.stderr)
        return 130
    return 0
