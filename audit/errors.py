"""The project's own errors: each renders as one clear line (no traceback)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["AuditError", "Problem", "UnknownName", "ValidationFailed"]


class AuditError(Exception):
    """A user-facing error: the CLI prints ``str(err)`` and exits with ``exit_code``."""

    exit_code = 1
    prefixed = True
    """Printed as ``prune-audit: error: <message>``; False for messages that are already located lines."""


class UnknownName(AuditError):
    """An unknown method, paper, dataset or network (the message carries "Did you mean ...?").

    ``suggestions`` holds the close known names themselves, best first, for callers that word
    their own message (build it with :meth:`of`)."""

    exit_code = 2

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()):
        super().__init__(message)
        self.suggestions = suggestions

    @classmethod
    def of(cls, kind: str, name: str, known: Iterable[str]) -> UnknownName:
        """``unknown KIND 'name'. Did you mean 'a', 'b'?`` with the close names of ``known``."""
        from audit.names import close_names, unknown_name

        known = list(known)
        return cls(unknown_name(kind, name, known), tuple(close_names(name, known)))


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
