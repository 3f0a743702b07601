"""Loading and validating the registry: ``registry/<paper-id>.yaml`` files, checked as a whole.

Every problem in every file is collected first and reported at once as
``file:line: field.path: message`` (see :class:`audit.errors.ValidationFailed`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, get_args, get_origin

from pydantic import BaseModel, ValidationError

from audit.io import yamlio
from audit.errors import AuditError, Problem, UnknownName, ValidationFailed
from audit.core.names import did_you_mean, name_key, unknown_name
from audit.registry.schema import MethodDecl, Paper, PaperFile, Result

ENV_VAR = "PRUNE_AUDIT_REGISTRY"


def default_registry_dir() -> Path:
    """The shipped registry: packaged inside the wheel, or ``registry/`` of a source checkout."""
    package = Path(__file__).resolve().parent.parent  # the ``audit`` package
    packaged = package / "_registry"
    if packaged.is_dir():
        return packaged
    return package.parent / "registry"


def registry_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--registry DIR``, else ``$PRUNE_AUDIT_REGISTRY``, else the shipped registry."""
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get(ENV_VAR):
        chosen = Path(os.environ[ENV_VAR])
    else:
        return default_registry_dir()
    if not chosen.is_dir():
        raise AuditError(f"{chosen}: registry directory does not exist")
    return chosen


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


# ---------------------------------------------------------------------- pydantic -> problems
def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``list[X]``, ``Annotated[X, ...]``."""
    seen = 0
    while annotation is not None and seen < 10:
        seen += 1
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        args = get_args(annotation)
        if not args:
            return None
        models = [_unwrap(a) for a in args if a is not type(None)]
        models = [m for m in models if m is not None]
        return models[0] if models else None
    return None


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _unwrap(info.annotation)
    return model


_LOC_NOISE = re.compile(r"^(function-|json-or-python|lax-or-strict|tagged-union|nullable|constrained|chain\[)")


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if isinstance(p, int) or not _LOC_NOISE.match(str(p)))


def _message(err: dict[str, Any], loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        hint = did_you_mean(str(loc[-1]), parent.model_fields) if parent is not None else ""
        return f"unknown field ({hint.strip().replace('Did', 'did').rstrip('?')}?)" if hint else "unknown field"
    if kind == "missing":
        return "required field is missing"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    msg = msg.replace("Input should be", "must be")
    if kind in ("string_type", "int_type", "float_type", "bool_type", "model_type", "list_type", "dict_type",
                "int_from_float", "float_parsing", "int_parsing", "literal_error", "string_pattern_mismatch",
                "greater_than_equal", "less_than_equal", "greater_than", "less_than", "too_short", "too_long",
                "bool_parsing", "enum", "int_parsing_size"):
        value = err.get("input")
        if not isinstance(value, (dict, list)):
            text = repr(value)
            if len(text) > 60:
                text = text[:57] + "..."
            msg = f"{msg} (got {text})"
    return msg


def problems_from_validation(exc: ValidationError, display: str, lines: dict[tuple, int],
                             root: type[BaseModel] = PaperFile) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err.get("loc", ())))
        out.append(Problem(display, yamlio.line_of(lines, loc), yamlio.dotted_path(loc), _message(err, loc, root)))
    return out


# ---------------------------------------------------------------------- one file
@dataclass
class FileCheck:
    """One file, checked on its own: the parsed model (if valid), the raw data and its lines."""

    path: Path
    display: str
    model: PaperFile | None = None
    data: Any = None
    lines: dict[tuple, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def check_file(path: Path, display: str | None = None) -> FileCheck:
    """Parse and validate one paper file (file-local checks only)."""
    display = display or display_path(path)
    fc = FileCheck(path=path, display=display)
    try:
        text = yamlio.read_text(path, display)
        fc.data, fc.lines = yamlio.load_cached(text, display)
    except yamlio.YamlProblems as exc:
        fc.problems.extend(exc.problems)
        return fc
    if not isinstance(fc.data, dict):
        fc.problems.append(Problem(display, 1, "", f"the file must be a mapping with 'paper' and 'results', not {_kind(fc.data)}"))
        return fc
    try:
        fc.model = PaperFile.model_validate(fc.data)
    except ValidationError as exc:
        fc.problems.extend(problems_from_validation(exc, display, fc.lines))
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:  # defensive: never a traceback
        fc.problems.append(Problem(display, 1, "", f"invalid content: {exc}"))
    # File-level checks on the raw data, so they are reported alongside schema problems.
    paper = fc.data.get("paper")
    stem = path.name[: -len(".yaml")] if path.name.endswith(".yaml") else path.stem
    if not path.name.endswith(".yaml"):
        fc.problems.append(Problem(display, 1, "", "registry files must be named <paper-id>.yaml"))
    if isinstance(paper, dict) and isinstance(paper.get("id"), str) and paper["id"] != stem:
        fc.problems.append(Problem(display, yamlio.line_of(fc.lines, ("paper", "id")), "paper.id",
                                   f"id {paper['id']!r} does not match the file name {stem!r}"))
    results = fc.data.get("results")
    if isinstance(results, list):
        seen: dict[str, int] = {}
        for i, r in enumerate(results):
            if isinstance(r, dict) and isinstance(r.get("id"), str):
                rid = r["id"]
                if rid in seen:
                    fc.problems.append(Problem(display, yamlio.line_of(fc.lines, ("results", i, "id")),
                                               f"results[{i}].id",
                                               f"duplicate result id {rid!r} (first at results[{seen[rid]}])"))
                else:
                    seen[rid] = i
    if fc.problems:
        fc.model = None
        fc.problems.sort(key=lambda p: (p.line, p.path, p.message))
    return fc


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__)


# ---------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Entry:
    """One result in its registry context."""

    paper: Paper
    result: Result
    method: str
    """Canonical method name."""
    file: str
    line: int

    @property
    def key(self) -> str:
        """Globally unique id ``paper-id/result-id``."""
        return f"{self.paper.id}/{self.result.id}"

    @property
    def label(self) -> str:
        r = self.result
        own = "" if r.reimplementation_of is None else " (reimpl.)"
        variant = f" [{r.variant}]" if r.variant else ""
        return f"{self.method}{own}{variant}"


@dataclass
class Registry:
    """All paper files of one registry directory, validated together."""

    root: Path
    papers: dict[str, PaperFile]
    files: dict[str, Path]
    methods: dict[str, MethodDecl]
    method_paper: dict[str, str]
    entries: list[Entry]

    @cached_property
    def _method_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for name, decl in self.methods.items():
            for alias in (name, *decl.aliases):
                keys[name_key(alias)] = name
        return keys

    def resolve_method(self, name: str) -> str:
        """Canonical name of a method given any alias; :class:`UnknownName` otherwise."""
        found = self._method_keys.get(name_key(name))
        if found is None:
            names = list(self.methods)
            for decl in self.methods.values():
                names.extend(decl.aliases)
            raise UnknownName(unknown_name("method", name, names))
        return found

    def results_of(self, method: str) -> list[Entry]:
        canonical = self.resolve_method(method)
        return [e for e in self.entries if e.method == canonical]

    def find_result(self, key: str) -> Entry:
        for e in self.entries:
            if e.key == key:
                return e
        raise UnknownName(unknown_name("result", key, [e.key for e in self.entries]))

    def find_paper(self, paper_id: str) -> PaperFile:
        if paper_id not in self.papers:
            raise UnknownName(unknown_name("paper", paper_id, self.papers))
        return self.papers[paper_id]

    def lookup(self, name: str) -> tuple[str, list[Entry]]:
        """Everything ``registry show NAME`` can mean: a method, a paper or a result key."""
        if name in self.papers:
            return "paper", [e for e in self.entries if e.paper.id == name]
        if "/" in name and any(e.key == name for e in self.entries):
            return "result", [self.find_result(name)]
        try:
            canonical = self.resolve_method(name)
        except UnknownName:
            known = list(self.papers) + list(self.methods)
            for decl in self.methods.values():
                known.extend(decl.aliases)
            raise UnknownName(unknown_name("method or paper", name, known)) from None
        return "method", [e for e in self.entries if e.method == canonical]


def cross_check(checks: list[FileCheck]) -> tuple[list[Problem], dict[str, MethodDecl], dict[str, str]]:
    """Registry-wide checks: unique paper ids, unique method names/aliases, resolvable references."""
    problems: list[Problem] = []
    methods: dict[str, MethodDecl] = {}
    method_paper: dict[str, str] = {}
    owner_of_key: dict[str, tuple[str, str]] = {}
    papers: dict[str, str] = {}
    for fc in checks:
        if fc.model is None:
            continue
        pid = fc.model.paper.id
        if pid in papers:
            problems.append(Problem(fc.display, yamlio.line_of(fc.lines, ("paper", "id")), "paper.id",
                                    f"paper id {pid!r} is already used by {papers[pid]}"))
        papers[pid] = fc.display
        for i, decl in enumerate(fc.model.methods):
            for j, alias in enumerate((decl.name, *decl.aliases)):
                key = name_key(alias)
                path: tuple[Any, ...] = ("methods", i, "name") if j == 0 else ("methods", i, "aliases", j - 1)
                if not key:
                    problems.append(Problem(fc.display, yamlio.line_of(fc.lines, path), yamlio.dotted_path(path),
                                            "a method name needs letters or digits"))
                    continue
                if key in owner_of_key and owner_of_key[key][0] != decl.name:
                    other, where = owner_of_key[key]
                    problems.append(Problem(fc.display, yamlio.line_of(fc.lines, path), yamlio.dotted_path(path),
                                            f"{alias!r} is already a name of method {other!r} ({where})"))
                    continue
                owner_of_key[key] = (decl.name, fc.display)
            if decl.name in methods and method_paper[decl.name] != pid:
                continue
            methods[decl.name] = decl
            method_paper[decl.name] = pid
    known_names = sorted({alias for d in methods.values() for alias in (d.name, *d.aliases)})
    for fc in checks:
        if fc.model is None:
            continue
        for i, r in enumerate(fc.model.results):
            if name_key(r.method) not in owner_of_key:
                path = ("results", i, "method")
                problems.append(Problem(fc.display, yamlio.line_of(fc.lines, path), yamlio.dotted_path(path),
                                        unknown_name("method", r.method, known_names)))
            if r.reimplementation_of is not None and r.reimplementation_of not in papers:
                path = ("results", i, "reimplementation_of")
                problems.append(Problem(fc.display, yamlio.line_of(fc.lines, path), yamlio.dotted_path(path),
                                        unknown_name("paper", r.reimplementation_of, papers)))
    return problems, methods, method_paper


def registry_files(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def build(checks: list[FileCheck], root: Path) -> Registry:
    """Cross-check file checks and assemble a :class:`Registry`; raise with every problem found."""
    problems = [p for fc in checks for p in fc.problems]
    cross, methods, method_paper = cross_check(checks)
    problems.extend(cross)
    if problems:
        raise ValidationFailed(problems)
    keys: dict[str, str] = {}
    for name, decl in methods.items():
        for alias in (name, *decl.aliases):
            keys[name_key(alias)] = name
    papers: dict[str, PaperFile] = {}
    files: dict[str, Path] = {}
    entries: list[Entry] = []
    for fc in checks:
        assert fc.model is not None
        papers[fc.model.paper.id] = fc.model
        files[fc.model.paper.id] = fc.path
        for i, r in enumerate(fc.model.results):
            entries.append(Entry(paper=fc.model.paper, result=r, method=keys[name_key(r.method)],
                                 file=fc.display, line=yamlio.line_of(fc.lines, ("results", i))))
    return Registry(root=root, papers=papers, files=files, methods=methods, method_paper=method_paper,
                    entries=entries)


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """Load and validate a whole registry directory (see :func:`registry_dir`)."""
    root = registry_dir(path)
    return build([check_file(p) for p in registry_files(root)], root)


def validate(paths: Iterable[Path], registry: str | os.PathLike[str] | None = None) -> Registry:
    """Validate files or directories; single files are checked in the context of the registry.

    A file given explicitly replaces the registry file of the same name, so that a paper file
    may refer to methods declared elsewhere in the registry.
    """
    root = registry_dir(registry)
    explicit: list[Path] = []
    dirs: list[Path] = []
    for p in paths:
        if p.is_dir():
            dirs.append(p)
        elif p.exists():
            explicit.append(p)
        else:
            raise AuditError(f"{p}: no such file or directory")
    if dirs:
        files = [f for d in dirs for f in registry_files(d)]
        context_root = dirs[0]
    else:
        files = []
        context_root = root
    if explicit:
        names = {p.name for p in explicit}
        if not dirs:
            files = [f for f in registry_files(root) if f.name not in names]
        files = [f for f in files if f.name not in names] + explicit
    checks = [check_file(f) for f in files]
    return build(checks, context_root)
