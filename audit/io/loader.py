"""The one loader of every YAML file the project reads: registry paper files, reviewer submissions,
rerun recipes and rerun grids.

:func:`load_model` reads a file with :mod:`audit.io.yamlio` (safe, line-aware), validates it
against a pydantic model and returns a :class:`Loaded`: the model (``None`` when anything is wrong)
and **every** problem found, each a :class:`audit.errors.Problem` printed as
``file:line: field.path: message``.  Callers add file-type rules as *checks* (functions of the
:class:`Loaded` that return more problems), so that all problems of a file are collected first and
reported at once.  :func:`validate_data` does the same for data that did not come from a file.

Every model read from a file derives from :class:`StrictModel`: unknown fields are errors, with one
wording for every file type (``unknown field (did you mean 'epochs'?)``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from audit.errors import Problem, ValidationFailed
from audit.io import yamlio
from audit.names import close_names

__all__ = [
    "Check", "Lines", "Loaded", "StrictModel", "display_path", "load_model", "problems_from_validation",
    "unknown_field_message", "validate_data",
]

Lines = dict[tuple[Any, ...], int]
"""The 1-based line of every path into the data (see :func:`audit.io.yamlio.load`)."""

_M = TypeVar("_M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every model read from a file: unknown fields are errors (a typo must not pass
    silently), NaN and infinities are never numbers, instances are immutable, defaults are validated
    too, and the docstring written under a field is its description (JSON Schema, ``--help`` texts,
    docs)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, use_attribute_docstrings=True,
                              allow_inf_nan=False)


@dataclass
class Loaded(Generic[_M]):
    """One file (or one piece of data) read against a model.

    ``model`` is set only when ``problems`` is empty; ``data`` and ``lines`` are the raw YAML data
    and the line of each of its paths (empty when the file could not be parsed).
    """

    display: str
    """The file as shown in messages (see :func:`display_path`)."""
    path: Path | None = None
    """The file read (``None`` for data that did not come from a file)."""
    data: Any = None
    lines: Lines = field(default_factory=dict)
    texts: dict[tuple[Any, ...], str] = field(default_factory=dict)
    """The text of every number as written in the file, by path (see :class:`audit.io.yamlio.Document`)."""
    model: _M | None = None
    problems: list[Problem] = field(default_factory=list)

    def line(self, *path: Any) -> int:
        """Line of ``path`` (or of its nearest ancestor that has one)."""
        return yamlio.line_of(self.lines, path)

    def problem(self, path: Sequence[Any], message: str) -> Problem:
        """A :class:`Problem` at ``path`` (``("results", 2, "id")``) of this file."""
        return Problem(self.display, yamlio.line_of(self.lines, tuple(path)), yamlio.dotted_path(tuple(path)), message)

    def require(self) -> _M:
        """The model; :class:`ValidationFailed` with every problem when there are problems."""
        if self.problems or self.model is None:
            raise ValidationFailed(self.problems or [Problem(self.display, 1, "", "invalid content")])
        return self.model


Check = Callable[[Loaded[Any]], Iterable[Problem]]
"""A file-type rule: called with the :class:`Loaded` (``model`` may be ``None`` when the schema
failed, so a check that needs it returns nothing then), returns its problems."""


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def load_model(path: str | os.PathLike[str], model: type[_M], *, noun: str, display: str | None = None,
               checks: Sequence[Check] = (), text: str | None = None) -> Loaded[_M]:
    """Read ``path`` as YAML and validate it against ``model``; never raises for bad content.

    ``noun`` names the file type in messages (``"a rerun recipe"``).  Problems of parsing (syntax,
    forbidden tags, duplicate keys, binary content, the bounds of :mod:`audit.io.yamlio`), of the
    schema, and of every ``check`` are all collected; ``model`` is returned only when there is none.
    A file that cannot be read (missing, a directory, no permission) is one problem at line 0.
    ``text``, when given, is the file's content already read (:func:`audit.io.yamlio.read_text`), so
    that what is validated is exactly what a caller then writes elsewhere.
    """
    p = Path(path)
    shown = display or display_path(p)
    loaded: Loaded[_M] = Loaded(display=shown, path=p)
    try:
        if text is None:
            text = yamlio.read_text(p, shown)
        doc = yamlio.load_document(text, shown)
        loaded.data, loaded.lines, loaded.texts = doc.data, doc.lines, doc.texts
    except yamlio.YamlProblems as exc:
        loaded.problems.extend(exc.problems)
        return loaded
    return _validate(loaded, model, noun, checks)


def validate_data(data: Any, model: type[_M], *, noun: str, display: str, lines: Lines | None = None,
                  checks: Sequence[Check] = ()) -> Loaded[_M]:
    """:func:`load_model` for data already in memory (``lines`` where it came from a file)."""
    return _validate(Loaded(display=display, data=data, lines=dict(lines or {})), model, noun, checks)


def _validate(loaded: Loaded[_M], model: type[_M], noun: str, checks: Sequence[Check]) -> Loaded[_M]:
    data = loaded.data
    if not isinstance(data, dict):
        fields = ", ".join(model.model_fields)
        loaded.problems.append(Problem(loaded.display, 1, "",
                                       f"{noun} must be a mapping of its fields ({fields}), not {_kind(data)}"))
        return loaded
    try:
        loaded.model = model.model_validate(data)
    except ValidationError as exc:
        loaded.problems.extend(problems_from_validation(exc, loaded.display, loaded.lines, model))
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:  # defensive: never a traceback
        loaded.problems.append(Problem(loaded.display, 1, "", f"invalid content: {exc}"))
    for check in checks:
        loaded.problems.extend(check(loaded))
    if loaded.problems:
        loaded.model = None
        loaded.problems = sorted(set(loaded.problems), key=lambda p: (p.line, p.path, p.message))
    return loaded


def _kind(value: Any) -> str:
    if value is None:
        return "an empty document"
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__)


# ---------------------------------------------------------------------- pydantic errors -> problems
def _model_in(annotation: Any, depth: int = 0) -> type[BaseModel] | None:
    """The model class inside ``X | None``, ``list[X]``, ``dict[str, X]``, ``Annotated[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if depth > 8:
        return None
    for arg in get_args(annotation):
        if arg is not type(None):
            found = _model_in(arg, depth + 1)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose fields the last element of ``loc`` names."""
    current: type[BaseModel] | None = root
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _model_in(info.annotation)
    return current


_LOC_NOISE = re.compile(r"^(function-|json-or-python|lax-or-strict|tagged-union|nullable|constrained|chain\[|"
                        r"float$|int$|str$|bool$|list\[|dict\[|union\[)")
_SHOW_INPUT = {"string_type", "int_type", "float_type", "bool_type", "model_type", "list_type", "dict_type",
               "int_from_float", "float_parsing", "int_parsing", "literal_error", "string_pattern_mismatch",
               "greater_than_equal", "less_than_equal", "greater_than", "less_than", "too_short", "too_long",
               "bool_parsing", "enum", "int_parsing_size"}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's validator and union-branch labels from an error location."""
    return tuple(p for p in loc if isinstance(p, int) or not _LOC_NOISE.match(str(p)))


def unknown_field_message(name: str, allowed: Iterable[str]) -> str:
    """The one wording of an unknown field, in every file type:
    ``unknown field (did you mean 'epochs'?)``, else ``unknown field (allowed: a, b)``."""
    allowed = list(allowed)
    close = close_names(name, allowed)
    if close:
        return f"unknown field (did you mean {', '.join(repr(c) for c in close)}?)"
    return f"unknown field (allowed: {', '.join(allowed)})" if allowed else "unknown field"


def _message(err: Any, loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        return unknown_field_message(str(loc[-1]), parent.model_fields if parent is not None else ())
    if kind == "missing":
        return "required field is missing"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    msg = msg.replace("Input should be", "must be")
    if kind in _SHOW_INPUT:
        value = err.get("input")
        if not isinstance(value, (dict, list)):
            text = repr(value)
            if len(text) > 60:
                text = text[:57] + "..."
            msg = f"{msg} (got {text})"
    return msg


def problems_from_validation(exc: ValidationError, display: str, lines: Lines,
                             root: type[BaseModel]) -> list[Problem]:
    """One :class:`Problem` per pydantic error, located at the line of its field (duplicates of one
    location from several union branches are reported once)."""
    out: list[Problem] = []
    seen: set[tuple[tuple[Any, ...], str]] = set()
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err.get("loc", ())))
        message = _message(err, loc, root)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        out.append(Problem(display, yamlio.line_of(lines, loc), yamlio.dotted_path(loc), message))
    return out
