"""The project's own errors: each renders as one clear line (no traceback)."""

from __future__ import annotations

from dataclasses import dataclass


class AuditError(Exception):
    """A user-facing error: the CLI prints ``str(err)`` and exits with ``exit_code``."""

    exit_code = 1
    prefixed = True
    """Printed as ``prune-audit: error: <message>``; False for messages that are already located lines."""


class UnknownName(AuditError):
    """An unknown method, paper, dataset or network (the message carries "Did you mean ...?")."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem, printed as ``file:line: field.path: message``."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"


class ValidationFailed(AuditError):
    """All problems found in one pass over one or more files."""

    prefixed = False

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.path, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))
