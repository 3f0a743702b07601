"""Safe YAML reading that remembers the line of every value.

Only plain YAML data is accepted (mappings, sequences, strings, numbers, booleans, null, anchors
and merge keys); any other tag -- ``!!python/object`` above all -- is a problem, never executed.
YAML 1.1 reads ``1e-4`` (no dot) as a string; here an unquoted scalar that is a number in YAML 1.2
is read as a float, so no LR silently stays a string.  Duplicate keys are problems too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from audit.errors import Problem

Path_ = tuple  # a path into the data: tuple of str keys and int indices
_CORE = "tag:yaml.org,2002:"
_ALLOWED = {_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_FLOAT_12 = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
_MAX_DEPTH = 64


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def read_text(path: Path, display: str) -> str:
    """The file's text; a binary or non-UTF-8 file is a problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblems([Problem(display, 0, "", f"cannot read file: {exc.strerror or exc}")]) from None
    if b"\x00" in raw:
        raise YamlProblems([Problem(display, 1, "", "not a YAML text file (binary content)")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblems([Problem(display, line, "", "not a YAML text file (invalid UTF-8)")]) from None


def load(text: str, display: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; return the data and the line (1-based) of every path.

    libyaml's parser is used when available (fast); on any error the file is parsed again with the
    pure-Python parser, so that messages are the same on every installation.
    """
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise YamlProblems([Problem(display, 1, "", "empty file")])
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _load_with(fast, text, display)
        except YamlProblems:
            pass
    return _load_with(yaml.SafeLoader, text, display)


def _load_with(loader_class: Any, text: str, display: str) -> tuple[Any, dict[Path_, int]]:
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
        lines: dict[Path_, int] = {}
        problems: list[Problem] = []
        data = _build(loader, node, (), lines, problems, display, 0)
    finally:
        loader.dispose()
    if problems:
        raise YamlProblems(problems)
    return data, lines


def _reader_problem(text: str, exc: yaml.reader.ReaderError, display: str):
    line = text[: exc.position].count("\n") + 1
    raise YamlProblems([Problem(display, line, "", f"YAML syntax error: unacceptable character #x{exc.character:04x}")])


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, lines: dict[Path_, int],
           problems: list[Problem], display: str, depth: int) -> Any:
    line = node.start_mark.line + 1
    lines.setdefault(path, line)
    dotted = dotted_path(path)
    if depth > _MAX_DEPTH:
        problems.append(Problem(display, line, dotted, "nesting too deep (recursive alias?)"))
        return None
    if isinstance(node, yaml.MappingNode):
        if node.tag not in (_CORE + "map",):
            problems.append(Problem(display, line, dotted, f"tag {_tag_name(node.tag)} is not allowed (plain YAML data only)"))
            return None
        try:
            loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            problems.append(Problem(display, line, dotted, f"bad merge key: {exc.problem}"))
            return None
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(display, key_line, dotted, "a mapping key must be a plain scalar"))
                continue
            key = _scalar(loader, key_node, path, problems, display)
            if key is _BAD:
                continue
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                key = str(key)
            sub = path + (key,)
            if key in out:
                problems.append(Problem(display, key_line, dotted_path(sub), "duplicate key"))
                continue
            lines[sub] = key_line
            out[key] = _build(loader, value_node, sub, lines, problems, display, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _CORE + "seq":
            problems.append(Problem(display, line, dotted, f"tag {_tag_name(node.tag)} is not allowed (plain YAML data only)"))
            return None
        return [_build(loader, item, path + (i,), lines, problems, display, depth + 1) for i, item in enumerate(node.value)]
    value = _scalar(loader, node, path, problems, display)
    return None if value is _BAD else value


_BAD = object()


def _scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode, path: Path_, problems: list[Problem], display: str) -> Any:
    line = node.start_mark.line + 1
    if node.tag not in _ALLOWED:
        problems.append(Problem(display, line, dotted_path(path), f"tag {_tag_name(node.tag)} is not allowed (plain YAML data only)"))
        return _BAD
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        problems.append(Problem(display, line, dotted_path(path), f"bad value: {exc}"))
        return _BAD
    if isinstance(value, str) and not node.style and _FLOAT_12.match(value):
        # YAML 1.1 reads 1e-4 as a string; it is a number (YAML 1.2), never a string here.
        value = float(value)
    return value


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
