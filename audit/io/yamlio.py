"""Safe, bounded YAML reading that remembers the line of every value.

Only plain YAML data is accepted (mappings, sequences, strings, numbers, booleans, null, anchors
and merge keys); any other tag -- ``!!python/object`` above all -- is a problem, never executed.
YAML 1.1 reads ``1e-4`` (no dot) as a string; here an unquoted scalar that is a number in YAML 1.2
is read as a float, so no LR silently stays a string.  Other YAML 1.1 surprises are problems with
a "quote it" hint: sexagesimal numbers (``1:30`` = 90), ``yes``/``no``/``on``/``off`` as booleans,
dates.  Duplicate keys are problems too.

Every file is untrusted input, so reading is bounded:

* at most :data:`MAX_FILE_BYTES` (2 MiB) per file -- the largest paper file today is about 0.2 MiB;
* at most :data:`MAX_VALUES` values after alias expansion (a "billion laughs" file stops there, in
  milliseconds, with one problem);
* at most :data:`MAX_DEPTH` levels of nesting;
* no string may hold a control character (C0 except tab and newline, DEL, C1): printed to a
  terminal, ESC and OSC sequences would act on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from audit.errors import Problem

__all__ = [
    "MAX_DEPTH", "MAX_FILE_BYTES", "MAX_VALUES", "Document", "Path_", "YamlProblems", "dotted_path", "line_of",
    "load", "load_document", "read_text",
]

Path_ = tuple  # a path into the data: tuple of str keys and int indices
_CORE = "tag:yaml.org,2002:"
_ALLOWED = {_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_FLOAT_12 = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
MAX_FILE_BYTES = 2 * 1024 * 1024
"""Largest file read, in bytes."""
MAX_VALUES = 200_000
"""Most values (scalars, lists, mappings) one file may hold after alias expansion."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BOOL_11 = {"yes", "no", "on", "off", "y", "n"}


class YamlProblems(Exception):
    """The problems that make a file unreadable as plain YAML data (raised by :func:`read_text` and
    :func:`load`; the loader turns them into :class:`audit.errors.Problem` lines)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


class _OverLimit(YamlProblems):
    """A bound was exceeded: reported at once, never parsed a second time."""


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def read_text(path: Path, display: str) -> str:
    """The file's text; a binary or non-UTF-8 file is a problem."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlProblems([Problem(display, 0, "", f"cannot read file: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblems([Problem(display, 0, "", f"file is larger than the limit of {MAX_FILE_BYTES // 2**20} MiB "
                                                    "(split it: one file per paper)")])
    if b"\x00" in raw:
        raise YamlProblems([Problem(display, 1, "", "not a YAML text file (binary content)")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblems([Problem(display, line, "", "not a YAML text file (invalid UTF-8)")]) from None


@dataclass(frozen=True)
class Document:
    """One parsed YAML document: its plain data, the line (1-based) of every path, and the text of
    every number exactly as written (``93.50`` keeps its two decimals: the precision a number was
    printed with sets the tolerance of the registry's arithmetic checks)."""

    data: Any
    lines: dict[Path_, int]
    texts: dict[Path_, str]


def load(text: str, display: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; return the data and the line (1-based) of every path
    (:func:`load_document` also gives the text of every number)."""
    doc = load_document(text, display)
    return doc.data, doc.lines


def load_document(text: str, display: str) -> Document:
    """Parse one YAML document (see :class:`Document`); :class:`YamlProblems` when it is not plain,
    bounded YAML.

    libyaml's parser is used when available (fast); on any error the file is parsed again with the
    pure-Python parser, so that messages are the same on every installation.
    """
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise YamlProblems([Problem(display, 1, "", "empty file")])
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _load_with(fast, text, display)
        except _OverLimit:
            raise
        except YamlProblems:
            pass
    return _load_with(yaml.SafeLoader, text, display)


def _load_with(loader_class: Any, text: str, display: str) -> Document:
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:
        return _reader_problem(text, exc, display)
    try:
        try:
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            _reader_problem(text, exc, display)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            if isinstance(exc, yaml.composer.ComposerError) and "expected a single document" in str(exc):
                raise YamlProblems([Problem(display, line, "", "more than one YAML document in the file")]) from None
            what = (exc.problem or exc.context or "invalid YAML").strip()
            if exc.problem and exc.context and exc.context_mark is not None:
                what += f" ({exc.context.strip()} at line {exc.context_mark.line + 1})"
            raise YamlProblems([Problem(display, line, "", f"YAML syntax error: {what}")]) from None
        except yaml.YAMLError as exc:
            raise YamlProblems([Problem(display, 1, "", f"YAML error: {exc}")]) from None
        except RecursionError:
            raise YamlProblems([Problem(display, 1, "", "YAML nesting too deep")]) from None
        if node is None:
            raise YamlProblems([Problem(display, 1, "", "empty file")])
        builder = _Builder(loader, display)
        try:
            data = builder.build(node, (), 0)
        except _TooMany:
            raise _OverLimit([Problem(display, 1, "", f"more than {MAX_VALUES:,} values after alias expansion "
                                                        "(an alias bomb?)")]) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise YamlProblems(builder.problems)
    return Document(data, builder.lines, builder.texts)


def _reader_problem(text: str, exc: yaml.reader.ReaderError, display: str):
    line = text[: exc.position].count("\n") + 1
    raise YamlProblems([Problem(display, line, "", f"YAML syntax error: unacceptable character #x{exc.character:04x}")])


class _TooMany(Exception):
    """Raised when a file holds more than :data:`MAX_VALUES` values (alias expansion)."""


class _Builder:
    """Turns composed YAML nodes into plain data, recording lines and problems, within the bounds."""

    def __init__(self, loader: Any, display: str):
        self.loader = loader
        self.display = display
        self.lines: dict[Path_, int] = {}
        self.texts: dict[Path_, str] = {}
        self.problems: list[Problem] = []
        self.values = 0

    def problem(self, line: int, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.display, line, dotted_path(path), message))

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooMany
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        if depth > MAX_DEPTH:
            self.problem(line, path, f"nesting deeper than {MAX_DEPTH} levels (recursive alias?)")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, line, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _CORE + "seq":
                self.problem(line, path, f"tag {_tag_name(node.tag)} is not allowed (plain YAML data only)")
                return None
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        value = self.scalar(node, path)
        return None if value is _BAD else value

    def _mapping(self, node: yaml.MappingNode, path: Path_, line: int, depth: int) -> Any:
        if node.tag != _CORE + "map":
            self.problem(line, path, f"tag {_tag_name(node.tag)} is not allowed (plain YAML data only)")
            return None
        try:
            self.loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(line, path, f"bad merge key: {exc.problem}")
            return None
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_line, path, "a mapping key must be a plain scalar")
                continue
            key = self.scalar(key_node, path)
            if key is _BAD:
                continue
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                key = str(key)
            sub = path + (key,)
            if key in out:
                self.problem(key_line, sub, "duplicate key")
                continue
            self.lines[sub] = key_line
            out[key] = self.build(value_node, sub, depth + 1)
        return out

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        line = node.start_mark.line + 1
        if node.tag == _CORE + "timestamp":
            self.problem(line, path, f"{node.value!r} reads as a date in YAML; quote it to keep it as text")
            return _BAD
        if node.tag not in _ALLOWED:
            self.problem(line, path, f"tag {_tag_name(node.tag)} is not allowed (plain YAML data only)")
            return _BAD
        if not node.style:
            if node.tag in (_CORE + "int", _CORE + "float") and ":" in node.value:
                self.problem(line, path, f"{node.value!r} reads as a base-60 number in YAML 1.1; quote it")
                return _BAD
            if node.tag == _CORE + "bool" and node.value.lower() in _BOOL_11:
                self.problem(line, path, f"{node.value!r} reads as a boolean in YAML 1.1; write true/false, "
                                         "or quote it to keep it as text")
                return _BAD
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self.problem(line, path, f"bad value: {exc}")
            return _BAD
        if not node.style and node.tag in (_CORE + "int", _CORE + "float"):
            self.texts[path] = node.value
        if isinstance(value, str):
            bad = _CONTROL.search(value)
            if bad:
                self.problem(line, path, f"control character U+{ord(bad.group()):04X} is not allowed in text")
                return _BAD
            if not node.style and _FLOAT_12.match(value):
                # YAML 1.1 reads 1e-4 as a string; it is a number (YAML 1.2), never a string here.
                self.texts[path] = value
                return float(value)
        return value


_BAD = object()


def dotted_path(path: Path_) -> str:
    """``('results', 2, 'finetune', 'epochs')`` -> ``results[2].finetune.epochs``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def line_of(lines: dict[Path_, int], path: Path_) -> int:
    """Line of ``path``, or of its nearest ancestor that has one."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get((), 1)
