"""``prune-audit registry import``: a results table read into draft paper files.

Three table forms are read (:data:`TABLE_FORMATS`):

* ``shrinkbench``: ShrinkBench's results grid (Blalock et al., MLSys 2020; repository JJGO/shrinkbench,
  ``analysis/assets/existing-results/Results-Grid view.csv``), whose columns are mapped natively
  (:data:`SHRINKBENCH_COLUMNS`): ``Err1``/``Err5`` error rates, ``Top1``/``Top5`` accuracies, ``dTop1``/``dTop5``
  changes (pruned - base: the grid's row 50 prints Top1 76.52%, OrigTop1 76.69%, dTop1 -0.170%), ``GFLOPS``
  (G, convention not stated), ``MParams`` (M), ``savedFLOPS``/``savedParams`` (percent removed),
  ``keptFLOPS``/``keptParams`` (percent kept), ``old/new FLOPS`` (dense / pruned = the speedup), ``old/new
  Nparam`` and the ``Orig*`` base columns; ``Name`` is the grid's row number, ``Paper`` the paper it cites.
* ``csv``: any CSV with a header, its columns named by a column map (``top1=Acc,speedup="Speed Up"``).
* ``markdown``: a pipe table as printed in READMEs (``| Method | Base | Pruned | Δ | Speed Up |``,
  Torch-Pruning's ``benchmarks/readme.md``); cells ``-`` are empty, ``**bold**``, ``$...$`` and link
  references ``[[1]](#1)`` are stripped.

Every value is entered as printed (an error rate as ``top1.error``, a change as ``top1_change`` with its
sign, absolute FLOPs with their scale and ``convention: null`` when the table does not say); a value the
schema holds only in another form (a base error rate, a kept percentage, a parameter ratio) is converted
and listed in ``inferred`` with the cell it comes from.  Each result has one source whose ``note`` names
every cell (file, line, row, column and the text as printed) and the field it filled.  A cell that cannot
be read as its column's quantity (a percentage in a speedup column) is not entered: it is an
:class:`ImportFinding` naming the cell, as is a row that is skipped (unknown dataset or network, no
accuracy).  Nothing here imports torch.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from audit.core import catalog
from audit.core.catalog import Network
from audit.errors import AuditError, UnknownName
from audit.io.loader import StrictModel, display_path
from audit.names import name_key
from audit.registry.schema import MethodDecl, Paper, PaperFile

__all__ = [
    "COLUMN_FIELDS", "SHRINKBENCH_COLUMNS", "SHRINKBENCH_SOURCE", "TABLE_FORMATS", "Bibliography", "CellRef", "Draft",
    "ImportFinding", "ImportOptions", "ImportReport", "PaperMap", "PaperMapEntry", "Table", "TableRow",
    "import_table", "load_paper_map", "parse_column_map", "read_shrinkbench_papers", "read_table",
    "validate_drafts",
]

TABLE_FORMATS = ("shrinkbench", "csv", "markdown")
"""The table forms :func:`read_table` reads."""

COLUMN_FIELDS: Mapping[str, str] = {
    "row": "row label (the grid's row number); names the result and its source",
    "paper": "the paper a row belongs to (one draft per paper)",
    "method": "method name or alias",
    "variant": "variant / operating-point label",
    "dataset": "dataset name (ImageNet, CIFAR-10, ...)",
    "network": "network name (ResNet-56, ...)",
    "top1": "top-1 accuracy, % (93.55 or 93.55%)",
    "err1": "top-1 error rate, %",
    "top5": "top-5 accuracy, %",
    "err5": "top-5 error rate, %",
    "top1_std": "std of top-1 over runs, percentage points",
    "runs": "number of runs",
    "top1_change": "top-1 change pruned - base, points (a Δ column)",
    "top1_drop": "top-1 drop base - pruned, points",
    "top5_change": "top-5 change pruned - base, points",
    "base_top1": "base (dense) top-1 accuracy, %",
    "base_err1": "base top-1 error rate, % (entered as 100 - error, inferred)",
    "base_top5": "base top-5 accuracy, %",
    "base_err5": "base top-5 error rate, % (entered as 100 - error, inferred)",
    "speedup": "dense / pruned FLOPs (2.13 or 2.13x)",
    "flops_reduction": "FLOPs removed, %",
    "flops_kept": "FLOPs kept, % (entered as 100 - kept, inferred)",
    "flops": "pruned FLOPs, absolute (scale from a G/M/K suffix or --flops-scale)",
    "flops_dense": "dense FLOPs, absolute",
    "params_reduction": "parameters removed, %",
    "params_kept": "parameters kept, % (entered as 100 - kept, inferred)",
    "params": "pruned parameters, absolute (scale from a M/K suffix or --params-scale)",
    "params_dense": "dense parameters, absolute",
    "params_ratio": "dense / pruned parameters (entered as a reduction 100 * (1 - 1/ratio), inferred)",
}
"""The fields a column map may name, with the unit each column is read in."""

SHRINKBENCH_COLUMNS: Mapping[str, str] = {
    "row": "Name", "paper": "Paper", "dataset": "Dataset", "network": "Model", "method": "Method",
    "runs": "NumTrials", "err1": "Err1", "err5": "Err5", "top1": "Top1", "top1_std": "stdTop1",
    "top1_change": "dTop1", "top5": "Top5", "top5_change": "dTop5", "params": "MParams",
    "params_reduction": "savedParams", "params_kept": "keptParams", "flops": "GFLOPS",
    "flops_reduction": "savedFLOPS", "flops_kept": "keptFLOPS", "base_top1": "OrigTop1", "base_top5": "OrigTop5",
    "params_dense": "OrigMParams", "flops_dense": "OrigGFLOPS", "params_ratio": "old/new Nparam",
    "speedup": "old/new FLOPS", "base_err1": "OrigErr1", "base_err5": "OrigErr5",
}
"""ShrinkBench's results-grid columns by field.  ``Notes`` is never copied; ``stdOrigTop1`` has no
field in the schema (a base std) and is reported when a row prints it."""
_SHRINKBENCH_UNMAPPED = ("stdOrigTop1",)
_SHRINKBENCH_SCALES = {"flops": "G", "flops_dense": "G", "params": "M", "params_dense": "M"}

SHRINKBENCH_SOURCE = ("JJGO/shrinkbench", "ShrinkBench results grid, row {row}")
"""The default source (``paper``, ``where``) of a ShrinkBench grid row: a secondary transcription."""

_MARKDOWN_HEADERS = (("method", "method"), ("base", "base_top1"), ("pruned", "top1"), ("delta", "top1_change"),
                     ("Δ", "top1_change"), ("speedup", "speedup"))
"""Header words a Markdown table is read by without a column map (first match wins)."""
_DATASET_ALIASES = {"imagenet": "imagenet-1k", "ilsvrc2012": "imagenet-1k", "imagenet1k": "imagenet-1k"}
_SCRATCH = {"scratchb": "scratch-b", "scratche": "scratch-e", "scratchtraining": "scratch", "scratch": "scratch"}


# ---------------------------------------------------------------------- models
class CellRef(BaseModel):
    """One cell of the table: where it is and its text as printed."""

    file: str
    line: int = Field(description="line of the row in the file (1-based)")
    row: str = Field(description="row label: the table's row-number column, else 'line N'")
    column: str = Field(description="column header as printed")
    text: str = Field(description="the cell as printed")

    def where(self) -> str:
        """``file:line: column 'X' (row N)``."""
        return f"{self.file}:{self.line}: column {self.column!r} (row {self.row})"


class ImportFinding(BaseModel):
    """A cell not entered, or a row skipped, and why."""

    cell: CellRef
    message: str

    def text(self) -> str:
        """``file:line: column 'X' (row N) 'text': message``."""
        shown = f" {self.cell.text!r}" if self.cell.text else ""
        return f"{self.cell.where()}{shown}: {self.message}"


class TableRow(BaseModel):
    """One data row: its cells by column header, its line and label."""

    line: int
    label: str
    cells: dict[str, str]


class Table(BaseModel):
    """A table read from a file: the header and its data rows (in file order)."""

    file: str
    format: Literal["shrinkbench", "csv", "markdown"]
    header: list[str]
    rows: list[TableRow]


class Bibliography(StrictModel):
    """A paper's bibliographic identity for a draft (see :class:`audit.registry.schema.Paper`)."""

    title: str
    authors: list[str] = Field(min_length=1)
    venue: str
    year: int


class PaperMapEntry(StrictModel):
    """How one paper name of the table becomes a registry paper."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """Registry paper id (``he2018-sfp``)."""
    method: str | None = None
    """The method of rows whose method cell is empty (the paper's own method)."""
    aliases: list[str] = []
    """Aliases declared with ``method`` when the draft declares it."""
    bibliography: Bibliography | None = None
    """The paper's identity when neither the registry nor a papers table gives it."""


class PaperMap(StrictModel):
    """A YAML file mapping the table's paper, dataset and network names onto the registry."""

    papers: dict[str, PaperMapEntry] = {}
    """Table paper name -> registry paper."""
    networks: dict[str, str] = {}
    """Table network name (or ``Dataset/Network`` for one dataset only) -> network id."""
    datasets: dict[str, str] = {}
    """Table dataset name -> dataset id."""
    declare: list[Network] = []
    """Networks the catalog lacks, declared by the first draft that uses them."""
    skip_papers: list[str] = []
    """Table paper names whose rows are not imported."""


class ImportOptions(BaseModel):
    """What :func:`import_table` needs besides the table."""

    paper_id: str | None = None
    """The paper of every row (when the table has no paper column)."""
    method: str | None = None
    """The method of rows without a method cell."""
    dataset: str | None = None
    """The dataset of rows without a dataset cell."""
    network: str | None = None
    """The network of rows without a network cell."""
    bibliography: Bibliography | None = None
    """The identity of ``paper_id``'s paper when the registry does not hold it."""
    papers: dict[str, Bibliography] = {}
    """Identities by table paper name (a papers table, :func:`read_shrinkbench_papers`)."""
    paper_map: PaperMap = PaperMap()
    source_paper: str | None = None
    """``paper`` of every source (``JJGO/shrinkbench``); ``None`` = the draft's own paper."""
    where: str = "{file} line {line}"
    """``where`` of every source; ``{row}``, ``{line}`` and ``{file}`` are filled in."""
    secondary: bool = False
    flops_scale: Literal["K", "M", "G", "T"] | None = None
    """Scale of FLOP cells without a suffix (``None``: such a cell is not entered)."""
    params_scale: Literal["K", "M", "G"] | None = None
    """Scale of parameter cells without a suffix."""
    flops_convention: Literal["MACs", "2xMACs", "MACs+elementwise", "MACs-no-projection", "unstated"] | None = None
    """The FLOPs convention when the table states it; ``None`` = not stated (never guessed)."""
    keep_same_point: bool = False
    """Append a row even when the paper's file (or the draft) already holds a result that looks like the
    same published point (:func:`same_point`); by default such a row is listed and skipped."""


class Draft(BaseModel):
    """One draft paper file: the validated model and the YAML text to write."""

    paper_id: str
    file: PaperFile
    text: str
    """The YAML written: for a paper the registry holds, its file with the new results appended."""
    existing: bool
    """True when the registry already holds this paper (the draft is its file plus the new results)."""
    results: int
    """Results imported into this draft."""
    declared_methods: list[str]
    declared_networks: list[str]
    rows_skipped: int


class ImportReport(BaseModel):
    """The drafts of one table and every finding about it."""

    table: Table
    drafts: list[Draft]
    findings: list[ImportFinding]


# ---------------------------------------------------------------------- reading tables
def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AuditError(f"{display_path(path)}: no such file") from None
    except IsADirectoryError:
        raise AuditError(f"{display_path(path)}: is a directory, not a table") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AuditError(f"{display_path(path)}:{line}: not UTF-8 text (byte {exc.start})") from None


def read_table(path: Path, fmt: str = "auto") -> Table:
    """Read ``path`` as a table: ``fmt`` one of :data:`TABLE_FORMATS` or ``auto`` (``.md`` is Markdown;
    a CSV whose header has ShrinkBench's ``Name``, ``Paper``, ``Err1`` and ``OrigTop1`` is the grid).
    Raises :class:`AuditError` (one line with file:line) for a file that holds no table, a row with a
    different number of cells than the header, or an unknown format."""
    shown = display_path(path)
    text = _decode(path)
    if fmt == "auto":
        fmt = "markdown" if path.suffix.lower() in (".md", ".markdown") else "csv"
    if fmt == "markdown":
        return _read_markdown(text, shown)
    if fmt not in ("csv", "shrinkbench"):
        raise AuditError(f"unknown table format {fmt!r} (one of {', '.join(TABLE_FORMATS)})")
    return _read_csv(text, shown, fmt)


def _read_csv(text: str, shown: str, fmt: str) -> Table:
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise AuditError(f"{shown}: not a CSV table: {exc}") from None
    # line numbers: csv.reader joins quoted newlines, so count them per record
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for _ in reader:
        lines.append(line)
        line = reader.line_num + 1
    if not records or not any(c.strip() for c in records[0]):
        raise AuditError(f"{shown}:1: no header row (a CSV table starts with its column names)")
    header = [c.strip() for c in records[0]]
    if fmt == "csv" and {"Name", "Paper", "Err1", "OrigTop1"} <= set(header):
        fmt = "shrinkbench"
    label_col = SHRINKBENCH_COLUMNS["row"] if fmt == "shrinkbench" else None
    rows: list[TableRow] = []
    for rec, ln in zip(records[1:], lines[1:]):
        if not any(c.strip() for c in rec):
            continue
        if len(rec) != len(header):
            raise AuditError(f"{shown}:{ln}: the row has {len(rec)} cells, the header {len(header)}")
        cells = {h: c.strip() for h, c in zip(header, rec)}
        label = cells.get(label_col, "") if label_col else ""
        rows.append(TableRow(line=ln, label=label or f"line {ln}", cells=cells))
    if fmt == "shrinkbench":
        missing = [c for c in SHRINKBENCH_COLUMNS.values() if c not in header]
        if missing:
            raise AuditError(f"{shown}:1: not a ShrinkBench results grid: no column {', '.join(map(repr, missing))}")
    return Table(file=shown, format="shrinkbench" if fmt == "shrinkbench" else "csv", header=header, rows=rows)


def _md_cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def _read_markdown(text: str, shown: str) -> Table:
    lines = text.splitlines()
    tables: list[tuple[int, list[str], list[TableRow]]] = []
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and re.fullmatch(
                r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", lines[i + 1]):
            header = _md_cells(lines[i])
            start = i + 1
            rows: list[TableRow] = []
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                cells = _md_cells(lines[j])
                if any(cells):
                    if len(cells) != len(header):
                        raise AuditError(f"{shown}:{j + 1}: the row has {len(cells)} cells, the header "
                                         f"{len(header)} (line {start})")
                    rows.append(TableRow(line=j + 1, label=f"line {j + 1}", cells=dict(zip(header, cells))))
                j += 1
            tables.append((start, header, rows))
            i = j
        else:
            i += 1
    if not tables:
        raise AuditError(f"{shown}:1: no Markdown table (a header row, then a |---| separator row)")
    if len(tables) > 1:
        raise AuditError(f"{shown}: holds {len(tables)} tables (lines {', '.join(str(t[0]) for t in tables)}); "
                         "import one table at a time (cut it out, with its header)")
    _, header, rows = tables[0]
    return Table(file=shown, format="markdown", header=header, rows=rows)


def parse_column_map(specs: Sequence[str], header: Sequence[str], shown: str) -> dict[str, str]:
    """``["top1=Acc,speedup=Speed Up"]`` as ``{field: column}``; a value may be quoted (``"Speed Up"``).
    Raises :class:`AuditError` naming an unknown field or a column the header lacks."""
    out: dict[str, str] = {}
    for spec in specs:
        for part in next(csv.reader([spec], skipinitialspace=True)):
            if not part.strip():
                continue
            name, sep, column = part.partition("=")
            name, column = name.strip(), column.strip().strip('"').strip("'")
            if not sep or not column:
                raise AuditError(f"--map: {part!r} is not field=column")
            if name not in COLUMN_FIELDS:
                raise UnknownName.of("column-map field", name, COLUMN_FIELDS)
            if column not in header:
                raise AuditError(f"--map {name}={column}: {shown} has no column {column!r} "
                                 f"(columns: {', '.join(map(repr, header))})")
            out[name] = column
    return out


def _default_map(table: Table) -> dict[str, str]:
    if table.format == "shrinkbench":
        return dict(SHRINKBENCH_COLUMNS)
    out: dict[str, str] = {}
    if table.format == "markdown":
        for column in table.header:
            key = re.sub(r"[^a-zδ]", "", column.casefold().replace("$\\delta$", "δ").replace("\\delta", "δ"))
            for word, target in _MARKDOWN_HEADERS:
                if key.startswith(word.casefold()) or (word in ("delta", "Δ") and word.casefold() in key):
                    out.setdefault(target, column)
                    break
    return out


def load_paper_map(path: Path) -> PaperMap:
    """Read a :class:`PaperMap` YAML file; :class:`audit.errors.ValidationFailed` on bad content."""
    from audit.io.loader import load_model

    return load_model(path, PaperMap, noun="a paper map").require()


def read_shrinkbench_papers(path: Path) -> dict[str, Bibliography]:
    """Identities from ShrinkBench's ``Papers-Grid view.csv`` (``Name``, ``Date`` ``YYYY-M``,
    ``AuthorName``, ``Venue`` and the ``BibTeX`` title and author list), by paper name.  A paper whose
    BibTeX lacks a title or authors is left out (its rows then need another identity)."""
    shown = display_path(path)
    text = _decode(path)
    out: dict[str, Bibliography] = {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not {"Name", "Date", "Venue", "BibTeX"} <= set(reader.fieldnames):
        raise AuditError(f"{shown}:1: not a ShrinkBench papers table (columns Name, Date, Venue, BibTeX)")
    for rec in reader:
        bib = rec.get("BibTeX") or ""
        title = re.search(r"title\s*=\s*\{(.+?)\}\s*,?\s*\n", bib)
        authors = re.search(r"author\s*=\s*\{(.+?)\}\s*,?\s*\n", bib)
        year = re.match(r"(\d{4})", rec.get("Date") or "")
        if not (title and authors and year and rec.get("Name")):
            continue
        names = []
        for a in authors.group(1).split(" and "):
            last, _, first = a.partition(",")
            names.append(_latex_text(" ".join(p for p in (first.strip(), last.strip()) if p)))
        out[rec["Name"]] = Bibliography(title=_latex_text(title.group(1)), authors=names,
                                        venue=(rec.get("Venue") or "").strip() or "unknown", year=int(year.group(1)))
    return out


def _latex_text(text: str) -> str:
    """A BibTeX field as plain text: accents and escapes decoded (``Carreira-Perpin{\\'a}n`` ->
    ``Carreira-Perpinán``, ``\\&`` -> ``&``), case-protecting braces dropped, whitespace collapsed.
    Decoding LaTeX is not this project's business: pylatexenc does it."""
    from pylatexenc.latex2text import LatexNodes2Text

    return " ".join(LatexNodes2Text().latex_to_text(text).split())


# ---------------------------------------------------------------------- reading cells
_EMPTY = {"", "-", "—", "–", "n/a", "na", "n/r", "?", "???"}
_NUM = r"[-+−]?\d+(?:\.\d+)?"


def _clean(text: str) -> str:
    t = re.sub(r"\[\[[^\]]*\]\]\([^)]*\)", "", text)  # [[1]](#1)
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", t)  # [text](link)
    t = t.replace("**", "").replace("__", "").replace("$", "").replace("−", "-")
    return t.strip()


@dataclass
class _Num:
    value: float
    text: str
    """The number as printed, without sign '+' or unit (the precision the checker reads)."""
    unit: str = ""


def _number(text: str) -> _Num | None:
    m = re.fullmatch(rf"({_NUM})\s*([%x×GMKT]?)\s*(?:\((\s*{_NUM}\s*%?\s*)\))?", text)
    if not m:
        return None
    num = m.group(1).lstrip("+")
    return _Num(float(num), num, m.group(2).replace("×", "x"))


class _Printed(float):
    """A float that is written to YAML as the text it was printed with (``0.0910``)."""

    text: str

    def __new__(cls, value: float, text: str) -> _Printed:
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Printed, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", v.text))


def _p(value: float, text: str) -> _Printed:
    return _Printed(value, text)


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _fmt(value: float, decimals: int) -> _Printed:
    return _p(round(value, decimals), f"{value:.{decimals}f}")


@dataclass
class _RowBuild:
    """The data of one result while its cells are read."""

    result: dict[str, Any] = field(default_factory=dict)
    inferred: dict[str, str] = field(default_factory=dict)
    cells: list[str] = field(default_factory=list)
    """``column 'text' -> field`` for the source note."""
    fields: list[str] = field(default_factory=list)

    def put(self, path: str, value: Any, cell: CellRef, how: str = "") -> None:
        node = self.result
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        if path not in self.fields:
            self.fields.append(path)
        self.cells.append(f"{cell.column} {cell.text!r} -> {path}{f' ({how})' if how else ''}")

    def infer(self, path: str, value: Any, cell: CellRef, why: str) -> None:
        self.put(path, value, cell, "converted")
        self.inferred[path] = f"{why} ({cell.column} {cell.text!r}, row {cell.row})"

    def has(self, path: str) -> bool:
        node: Any = self.result
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True


_PERCENT_FIELDS = {"top1": "top1.mean", "err1": "top1.error", "top5": "top5.mean", "err5": "top5.error",
                   "base_top1": "base.top1", "base_top5": "base.top5",
                   "flops_reduction": "compression.flops_reduction_pct",
                   "params_reduction": "compression.params_reduction_pct"}
_CHANGE_FIELDS = {"top1_change": ("top1_change", "gain"), "top1_drop": ("top1_change", "drop"),
                  "top5_change": ("top5_change", "gain")}
_COUNT_FIELDS = {"flops": ("flops", "pruned"), "flops_dense": ("flops", "dense"), "params": ("params", "pruned"),
                 "params_dense": ("params", "dense")}


def _read_row(row: TableRow, colmap: Mapping[str, str], table: Table, opts: ImportOptions,
              findings: list[ImportFinding]) -> _RowBuild:
    """Every numeric cell of ``row`` entered in a result body (no identity fields yet)."""
    b = _RowBuild()
    scales = _SHRINKBENCH_SCALES if table.format == "shrinkbench" else {}

    def cell(name: str) -> tuple[CellRef, _Num] | None:
        column = colmap.get(name)
        if column is None:
            return None
        raw = row.cells.get(column, "")
        text = _clean(raw)
        ref = CellRef(file=table.file, line=row.line, row=row.label, column=column, text=raw)
        if text.casefold() in _EMPTY:
            return None
        num = _number(text)
        if num is None:
            findings.append(ImportFinding(cell=ref, message=f"not a number ({COLUMN_FIELDS[name]}): not entered"))
            return None
        return ref, num

    def percent(name: str) -> tuple[CellRef, _Num] | None:
        got = cell(name)
        if got is not None and got[1].unit not in ("", "%"):
            findings.append(ImportFinding(cell=got[0], message=f"a '{got[1].unit}' value in a percentage column "
                                          f"({COLUMN_FIELDS[name]}): not entered"))
            return None
        if got is not None and not 0 <= got[1].value <= 100 and name not in _CHANGE_FIELDS:
            findings.append(ImportFinding(cell=got[0], message="outside 0-100 %: not entered"))
            return None
        return got

    for name, path in _PERCENT_FIELDS.items():
        got = percent(name)
        if got is not None:
            b.put(path, _p(got[1].value, got[1].text), got[0], "error rate, %" if "err" in name else "%")
    for name, target in (("base_err1", "base.top1_error"), ("base_err5", "base.top5_error")):
        got = percent(name)
        if got is not None:  # the printed form: the base accuracy is derived from it on loading
            b.put(target, _p(got[1].value, got[1].text), got[0], "base error rate, %")
    for name, target in (("flops_kept", "compression.flops_reduction_pct"),
                         ("params_kept", "compression.params_reduction_pct")):
        got = percent(name)
        if got is not None:
            if b.has(target):
                b.cells.append(f"{got[0].column} {got[0].text!r} (kept %; {target} printed too)")
                continue
            b.infer(target, _fmt(100.0 - got[1].value, _decimals(got[1].text)), got[0], "100 - the printed kept %")
    for name, (path, sign) in _CHANGE_FIELDS.items():
        got = percent(name)
        if got is not None:
            b.put(f"{path}.value", _p(got[1].value, got[1].text), got[0], f"change, sign {sign}")
            b.result[path]["sign"] = sign
    got = percent("top1_std")
    if got is not None:
        if "top1" in b.result:
            b.put("top1.std", _p(got[1].value, got[1].text), got[0], "std, points")
        else:
            findings.append(ImportFinding(cell=got[0], message="a std without a top-1 in the row: not entered"))
    got = cell("runs")
    if got is not None:
        if "top1" in b.result and got[1].unit == "" and got[1].value.is_integer() and got[1].value >= 1:
            b.put("top1.runs", int(got[1].value), got[0], "runs")
        else:
            findings.append(ImportFinding(cell=got[0], message="not a run count of a printed top-1: not entered"))
    got = cell("speedup")
    if got is not None:
        ref, num = got
        if num.unit == "%":
            findings.append(ImportFinding(cell=ref, message="a percentage in a speedup column (dense/pruned FLOPs, "
                                          "e.g. 2.13x): not entered; it may be a FLOPs reduction or the kept FLOPs"))
        elif num.unit not in ("", "x") or num.value < 1:
            findings.append(ImportFinding(cell=ref, message="not a speedup (dense/pruned FLOPs >= 1): not entered"))
        else:
            b.put("compression.speedup", _p(num.value, num.text), ref, "dense/pruned FLOPs")
    got = cell("params_ratio")
    if got is not None:
        ref, num = got
        if num.unit not in ("", "x") or num.value < 1:
            findings.append(ImportFinding(cell=ref, message="not a parameter ratio (dense/pruned >= 1): not entered"))
        elif b.has("compression.params_reduction_pct") or (colmap.get("params") and colmap.get("params_dense") and
                                                             _filled(row, colmap, ("params", "params_dense"))):
            b.cells.append(f"{ref.column} {ref.text!r} (dense/pruned parameters; not entered: the reduction or "
                           "both counts are printed too)")
        else:
            b.infer("compression.params_reduction_pct", _fmt(100 * (1 - 1 / num.value), 2),
                    ref, "100 * (1 - 1 / the printed dense/pruned parameter ratio), to 0.01")
    for name, (group, which) in _COUNT_FIELDS.items():
        got = cell(name)
        if got is None:
            continue
        ref, num = got
        kind = "flops" if group == "flops" else "params"
        default = scales.get(name) or (opts.flops_scale if kind == "flops" else opts.params_scale)
        unit = num.unit if num.unit in ("K", "M", "G", "T") else ("" if num.unit else default)
        if num.unit in ("%", "x") or not unit or (kind == "params" and unit == "T"):
            findings.append(ImportFinding(cell=ref, message=f"no {kind} count with a unit (a G/M/K suffix or "
                                          f"--{kind}-scale): not entered"))
            continue
        current = b.result.get("compression", {}).get(group, {})
        if current.get("scale", unit) != unit:
            findings.append(ImportFinding(cell=ref, message=f"scale {unit} differs from the row's other {kind} "
                                          f"count ({current['scale']}): not entered"))
            continue
        if num.value <= 0:
            findings.append(ImportFinding(cell=ref, message=f"a {kind} count must be positive: not entered"))
            continue
        how = f"{unit}" + (", convention not stated" if kind == "flops" and opts.flops_convention is None else "")
        b.put(f"compression.{group}.{which}", _p(num.value, num.text), ref, how)
        b.result["compression"][group]["scale"] = unit
        if kind == "flops":
            b.result["compression"][group]["convention"] = opts.flops_convention
    for column in (_SHRINKBENCH_UNMAPPED if table.format == "shrinkbench" else ()):
        raw = row.cells.get(column, "")
        if _clean(raw).casefold() not in _EMPTY:
            findings.append(ImportFinding(cell=CellRef(file=table.file, line=row.line, row=row.label, column=column,
                                                       text=raw), message="the schema has no field for it: not entered"))
    return b


def _filled(row: TableRow, colmap: Mapping[str, str], names: Sequence[str]) -> bool:
    return all(_clean(row.cells.get(colmap[n], "")).casefold() not in _EMPTY for n in names)


# ---------------------------------------------------------------------- rows to drafts
def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-.+")
    return s or "x"


def _resolve_dataset(name: str, opts: ImportOptions) -> str | None:
    if name in opts.paper_map.datasets:
        return opts.paper_map.datasets[name]
    key = name_key(name)
    for did in catalog.DATASETS:
        if name_key(did) == key:
            return did
    return _DATASET_ALIASES.get(key)


def _resolve_network(name: str, dataset: str, opts: ImportOptions, known: Mapping[str, Network],
                     dataset_name: str = "") -> str | None:
    pm = opts.paper_map
    for k in (f"{dataset_name}/{name}", f"{dataset}/{name}", name):
        if k in pm.networks:
            return pm.networks[k]
    try:
        net = catalog.network(name, known)
    except UnknownName:
        return None
    # a catalog network is one layout at one input size: ImageNet's VGG-16 is not the CIFAR VGG-16
    return net.id if net.input_size == catalog.DATASETS[dataset].input_size else None


@dataclass
class _DraftBuild:
    paper_id: str
    existing: Any = None  # the registry's PaperFile of this id, if any
    bibliography: Bibliography | None = None
    methods: list[MethodDecl] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    models: list[Any] = field(default_factory=list)  # the validated Result of each entry of ``results``
    skipped: int = 0

    def comparable(self) -> list[tuple[str, Any]]:
        """``(result id, Result)`` of the results a new row is compared with: the registry file's, then
        the draft's own."""
        held = [(r.id, r) for r in self.existing.results] if self.existing is not None else []
        return held + [(r["id"], m) for r, m in zip(self.results, self.models, strict=True)]

    @cached_property
    def existing_ids(self) -> frozenset[str]:
        """Result ids the registry's file of this paper already holds (empty for a new paper)."""
        return frozenset(r.id for r in self.existing.results) if self.existing is not None else frozenset()

    @cached_property
    def cited_places(self) -> dict[tuple[str | None, str], str]:
        """``(document, where)`` of every source and alternative the registry's file of this paper already
        cites, mapped to the result that cites it.  A row merged by hand into a result with another id
        (e.g. a primary result that also cites the grid's row) is found by this provenance, not by its id."""
        cited: dict[tuple[str | None, str], str] = {}
        if self.existing is None:
            return cited
        for r in self.existing.results:
            for place in (*r.sources, *r.alternatives):
                cited.setdefault((place.paper, place.where), r.id)
        return cited


def import_table(table: Table, colmap: Mapping[str, str], opts: ImportOptions, registry: Any) -> ImportReport:
    """Turn ``table`` into one validated draft per paper.

    ``colmap`` maps :data:`COLUMN_FIELDS` names to column headers (the table format's own columns
    are used for fields it leaves out); ``registry`` is the :class:`audit.registry.store.Registry` the
    drafts are checked against: a method it knows is cited, an unknown one is declared by the first
    draft that uses it; a paper it holds gets a draft that is its file with the new results appended.
    Raises :class:`AuditError` when a paper has no identity (``--papers``, ``--title``... or a paper
    map) and :class:`audit.errors.ValidationFailed` when a draft does not validate.
    """
    cmap = {**_default_map(table), **colmap}
    findings: list[ImportFinding] = []
    drafts: dict[str, _DraftBuild] = {}
    declared_methods: dict[str, str] = {}  # name key -> draft paper id
    declared_nets: set[str] = set()
    known_nets: dict[str, Network] = dict(registry.networks)
    for net in opts.paper_map.declare:
        known_nets.setdefault(net.id, net)

    def text(name: str, row: TableRow) -> tuple[str, CellRef | None]:
        column = cmap.get(name)
        if column is None:
            return "", None
        raw = row.cells.get(column, "")
        return _clean(raw), CellRef(file=table.file, line=row.line, row=row.label, column=column, text=raw)

    def undeclare(d: _DraftBuild, mname: str, pid: str) -> None:
        """Take back the declaration of ``mname`` that this row made, when the row is not entered after all
        and no entered row of the draft uses the method."""
        if d.methods and d.methods[-1].name == mname and declared_methods.get(name_key(mname)) == pid \
                and not any(r["method"] == mname for r in d.results):
            d.methods.pop()
            del declared_methods[name_key(mname)]

    def skip(row: TableRow, ref: CellRef | None, message: str) -> None:
        findings.append(ImportFinding(cell=ref or CellRef(file=table.file, line=row.line, row=row.label,
                                                          column="(row)", text=""), message=message))

    for row in table.rows:
        paper_name, _ = text("paper", row)
        paper_name = paper_name or (opts.paper_id or "")
        if not paper_name:
            raise AuditError(f"{table.file}:{row.line}: no paper for this row: give --paper-id (or map a paper column)")
        if paper_name in opts.paper_map.skip_papers:
            continue
        entry = opts.paper_map.papers.get(paper_name)
        pid = entry.id if entry else (opts.paper_id if opts.paper_id and not cmap.get("paper") else _slug(
            paper_name).lower())
        d = drafts.get(pid)
        if d is None:
            d = drafts[pid] = _DraftBuild(pid, existing=registry.papers.get(pid))
            d.bibliography = (entry.bibliography if entry and entry.bibliography else None) \
                or opts.papers.get(paper_name) or (opts.bibliography if pid == opts.paper_id else None)
        dname, dref = text("dataset", row)
        dname = dname or (opts.dataset or "")
        dataset = _resolve_dataset(dname, opts) if dname else None
        if dataset is None:
            d.skipped += 1
            skip(row, dref, f"dataset {dname!r} is not in the catalog ({', '.join(catalog.DATASETS)}): row not imported"
                 if dname else "no dataset (a dataset column or --dataset): row not imported")
            continue
        nname, nref = text("network", row)
        nname = nname or (opts.network or "")
        network = _resolve_network(nname, dataset, opts, known_nets, dname) if nname else None
        if network is None or (network not in catalog.NETWORKS and network not in known_nets):
            d.skipped += 1
            skip(row, nref, f"network {nname!r} is not in the catalog (map it in a paper map, declaring it there "
                 "when the catalog lacks it): row not imported" if nname else "no network: row not imported")
            continue
        label = _slug(row.label.replace("line ", "line"))
        rid = f"{dataset.replace('imagenet-1k', 'imagenet')}-{network}-{'row' if table.format == 'shrinkbench' else ''}{label}"
        # before the cells are read: a row imported before yields no findings again
        where = opts.where.format(row=row.label, line=row.line, file=table.file)
        if rid in d.existing_ids:
            d.skipped += 1
            skip(row, None, f"{pid!r} already holds result {rid!r} (imported before): row not imported again")
            continue
        citing = d.cited_places.get((opts.source_paper, where))
        if citing is not None:
            d.skipped += 1
            skip(row, None, f"{pid!r} result {citing!r} already cites {where!r} (imported before): row not "
                 "imported again")
            continue
        mname, mref = text("method", row)
        if not mname and entry is not None and entry.method is None:
            d.skipped += 1
            skip(row, mref, f"no method in the row, and the paper map names none for {paper_name!r}: row not imported")
            continue
        mname = mname or (entry.method if entry and entry.method else "") or (opts.method or "") or paper_name
        b = _read_row(row, cmap, table, opts, findings)
        if not any(k in b.result for k in ("top1", "top5", "top1_change", "top5_change")):
            d.skipped += 1
            skip(row, None, "no accuracy (top-1, top-5 or a change) in the row: row not imported")
            continue
        try:
            canonical = registry.resolve_method(mname)
        except UnknownName:
            canonical = None
        if canonical is None and d.existing is not None:
            d.skipped += 1
            skip(row, mref, f"method {mname!r} is not in the registry, and {pid!r} already has a file (the import "
                 "only appends results to it): row not imported")
            continue
        if network not in catalog.NETWORKS and network not in registry.networks and d.existing is not None:
            d.skipped += 1
            skip(row, nref, f"network {network!r} is not in the catalog, and {pid!r} already has a file (the import "
                 "only appends results to it): row not imported")
            continue
        if canonical is None and name_key(mname) not in declared_methods:
            declared_methods[name_key(mname)] = pid
            aliases = entry.aliases if entry and entry.method == mname else []
            d.methods.append(MethodDecl(name=mname, aliases=aliases))
        if network not in catalog.NETWORKS and network not in registry.networks and network not in declared_nets:
            declared_nets.add(network)
            d.networks.append(known_nets[network])
        res: dict[str, Any] = {"id": rid, "method": canonical or mname}
        vname, _ = text("variant", row)
        if vname:
            res["variant"] = vname
        pipeline = _SCRATCH.get(name_key(canonical or mname))
        if pipeline:
            res["pipeline"] = pipeline
        res.update(dataset=dataset, network=network)
        res.update(b.result)
        if b.inferred:
            res["inferred"] = dict(b.inferred)
        source: dict[str, Any] = {"paper": opts.source_paper, "where": where}
        if opts.source_paper is None:
            del source["paper"]
        if opts.secondary:
            source["secondary"] = True
        source["fields"] = [f for f in b.fields if f not in b.inferred] or ["*"]
        source["note"] = f"{table.file} line {row.line}: " + "; ".join(b.cells)
        res["sources"] = [source]
        try:
            model = _validate_result(res)
        except ValidationError as exc:
            d.skipped += 1
            err = exc.errors()[0]
            skip(row, None, f"{'.'.join(str(x) for x in err['loc']) or 'row'}: {err['msg']}: row not imported")
            undeclare(d, mname, pid)
            continue
        twin = None if opts.keep_same_point else next(
            (rid2 for rid2, other in d.comparable() if same_point(model, other, registry)), None)
        if twin is not None:
            d.skipped += 1
            skip(row, None, f"looks like the same published point as {pid!r} result {twin!r} (same method, dataset "
                 "and network, the same accuracy, no compression that differs): not appended; add the row to that "
                 f"result as a source (where: {where!r}), or import with --keep-same-point")
            undeclare(d, mname, pid)
            continue
        d.results.append(res)
        d.models.append(model)
    return ImportReport(table=table, drafts=[_finish(d, registry) for d in drafts.values() if d.results],
                        findings=findings)


def _validate_result(res: dict[str, Any]) -> Any:
    from audit.registry.schema import Result

    return Result.model_validate(_plain(res))


SAME_POINT_ACC_TOL = 0.011
"""Percentage points two accuracies may differ and still be read as one printed value (two values
printed to two decimals each round by up to 0.005)."""
SAME_POINT_REL_TOL = 0.03
"""Relative difference (3 %) of a compression quantity both results state beyond which they are two
operating points (a speedup printed as 2.25x by one table and 2.26x by another is one point)."""


def same_point(a: Any, b: Any, registry: Any) -> bool:
    """Whether results ``a`` and ``b`` (:class:`audit.registry.schema.Result`) look like one published
    operating point printed twice (a paper's table and a later transcription of it): the same method
    (after aliases), dataset and network, no differing variant, the same top-1 accuracy (else top-5;
    printed or ``100 - error``, within :data:`SAME_POINT_ACC_TOL`), and no speedup, FLOPs reduction or
    parameter reduction that both state and that differ by more than :data:`SAME_POINT_REL_TOL`.
    A base accuracy may differ: transcriptions often print another base."""
    def method(r: Any) -> str:
        try:
            return str(registry.resolve_method(r.method))
        except UnknownName:
            return str(r.method)

    if (a.dataset, a.network, a.pipeline) != (b.dataset, b.network, b.pipeline) or method(a) != method(b):
        return False
    if a.variant and b.variant and a.variant != b.variant:
        return False
    va, vb = a.top1_value, b.top1_value
    if va is None or vb is None:
        va = a.top5.value if a.top5 is not None else None
        vb = b.top5.value if b.top5 is not None else None
    if va is None or vb is None or abs(va - vb) > SAME_POINT_ACC_TOL:
        return False
    pairs = ((a.speedup, b.speedup), (a.compression.flops_reduction_pct, b.compression.flops_reduction_pct),
             (a.compression.params_reduction_pct, b.compression.params_reduction_pct))
    return not any(x is not None and y is not None and abs(x - y) > SAME_POINT_REL_TOL * max(abs(x), abs(y), 1e-9)
                   for x, y in pairs)


def _plain(obj: Any) -> Any:
    if isinstance(obj, _Printed):
        return float(obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)


def _finish(d: _DraftBuild, registry: Any) -> Draft:
    results_text = _dump(d.results)
    if d.existing is not None:
        path = registry.files[d.paper_id]
        base = path.read_text(encoding="utf-8")
        if d.methods or d.networks:
            raise AuditError(f"{display_path(path)}: the rows for paper {d.paper_id!r} name methods or networks it "
                             f"does not declare ({', '.join([m.name for m in d.methods] + [n.id for n in d.networks])}); "
                             "map them onto registry names or declare them in the paper file first")
        lines = base.rstrip("\n").split("\n")
        last_key = max((i for i, ln in enumerate(lines) if re.match(r"[A-Za-z_]", ln)), default=-1)
        if last_key < 0 or not re.fullmatch(r"results:\s*(\[\s*\])?\s*", lines[last_key]):
            raise AuditError(f"{display_path(path)}: 'results:' is not the file's last key; the imported results "
                             "cannot be appended as text")
        lines[last_key] = "results:"
        if d.existing.paper.verification is not None:
            lines = _mark_unread(lines, [r["id"] for r in d.results], display_path(path))
        item = next((ln for ln in lines[last_key + 1:] if ln.lstrip().startswith("- ")), "- ")
        indent = " " * (len(item) - len(item.lstrip()))  # the file's own indentation of its results
        text = "\n".join(lines) + "\n" + "".join(indent + ln if ln.strip() else ln
                                                 for ln in results_text.splitlines(keepends=True))
    else:
        if d.bibliography is None:
            raise AuditError(f"paper {d.paper_id!r}: no bibliography (give --papers FILE, --title/--authors/--venue/"
                             "--year, or a paper map entry with one)")
        bib = d.bibliography
        head: dict[str, Any] = {"paper": {"id": d.paper_id, "title": bib.title, "authors": list(bib.authors),
                                          "venue": bib.venue, "year": bib.year}}
        if d.networks:
            head["networks"] = [n.model_dump(mode="json", exclude_defaults=True) for n in d.networks]
        head["methods"] = [m.model_dump(mode="json", exclude_defaults=True) for m in d.methods]
        text = ("# Draft written by `prune-audit registry import`: every number as printed in the table; the\n"
                "# sources name each cell. Review before adding it to the registry.\n" + _dump(head)
                + "results:\n" + results_text)
    model = _check_text(text, d.paper_id, registry)
    return Draft(paper_id=d.paper_id, file=model, text=text, existing=d.existing is not None, results=len(d.results),
                 declared_methods=[m.name for m in d.methods], declared_networks=[n.id for n in d.networks],
                 rows_skipped=d.skipped)


def _mark_unread(lines: list[str], ids: Sequence[str], file: str) -> list[str]:
    """``lines`` of a paper file whose ``paper.verification`` block now says that the results ``ids``
    were appended after the second reading: ``status: differences`` and one line naming them under
    ``differences`` (registry/README.md, "Verification").  The block must be written in block style
    (``verification:`` then indented ``status:`` and ``differences:`` keys); raises :class:`AuditError`
    naming ``file`` otherwise, since a half-marked file would claim a reading that never happened."""
    out = list(lines)
    start = next((i for i, ln in enumerate(out) if re.fullmatch(r"  verification:\s*", ln)), None)
    if start is None:
        raise AuditError(f"{file}: at paper.verification: not in block style; the appended results cannot be "
                         "marked as not re-read (write it as 'verification:' with indented keys)")
    end = next((i for i in range(start + 1, len(out)) if out[i].strip() and not out[i].startswith("    ")), len(out))
    status = next((i for i in range(start + 1, end) if re.match(r"    status:", out[i])), None)
    diffs = next((i for i in range(start + 1, end) if re.match(r"    differences:", out[i])), None)
    if status is None or diffs is None:
        raise AuditError(f"{file}: at paper.verification: no 'status:' or 'differences:' key; the appended results "
                         "cannot be marked as not re-read")
    line = "    - " + json.dumps(f"{len(ids)} result(s) appended by registry import after this reading "
                                 f"({', '.join(ids)}) were not re-read", ensure_ascii=False)
    out[status] = "    status: differences"
    if re.fullmatch(r"    differences:\s*\[\s*\]\s*", out[diffs]):
        out[diffs] = "    differences:"
        out.insert(diffs + 1, line)
        return out
    if not re.fullmatch(r"    differences:\s*", out[diffs]):
        raise AuditError(f"{file}: at paper.verification.differences: not a block list; the appended results "
                         "cannot be marked as not re-read")
    last = diffs
    while last + 1 < end and (out[last + 1].startswith("    - ") or out[last + 1].startswith("      ")):
        last += 1
    out.insert(last + 1, line)
    return out


def _check_text(text: str, paper_id: str, registry: Any) -> PaperFile:
    from audit.registry.store import check_file

    loaded = check_file(Path(f"{paper_id}.yaml"), display=f"draft {paper_id}.yaml", text=text)
    return loaded.require()


def validate_drafts(drafts: Sequence[Draft], registry: Any) -> Any:
    """The registry with ``drafts`` in place of (or beside) its files, validated as a whole; its entries
    of the drafts' papers are what ``registry check`` audits.  Raises :class:`ValidationFailed`."""
    from audit.registry.store import build, check_file, registry_files

    names = {f"{d.paper_id}.yaml" for d in drafts}
    checks = [check_file(p) for p in registry_files(registry.root) if p.name not in names]
    checks += [check_file(Path(f"{d.paper_id}.yaml"), display=f"draft {d.paper_id}.yaml", text=d.text) for d in drafts]
    return build(checks, registry.root)

