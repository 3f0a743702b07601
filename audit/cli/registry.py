"""``prune-audit registry list|show|validate|schema|add``: read, check and extend the registry.

Only typer and the shared options are imported here; the registry (pydantic) and rich are
imported inside the commands.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from audit.cli.options import (
    Command,
    CsvOpt,
    DatasetOpt,
    FormatOpt,
    JsonOpt,
    NetworkOpt,
    OutputFormat,
    RegistryOpt,
    WideOpt,
    new_app,
    output_format,
)
from audit.io import jsontext

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from audit.registry.store import Entry, Registry

__all__ = ["ListSort", "app", "registry_add", "registry_list", "registry_schema", "registry_show", "registry_validate"]

app = new_app("List, show, validate and add registry entries.")


class ListSort(str, enum.Enum):
    """``registry list --sort``: the order of the rows within a benchmark."""

    speedup = "speedup"
    top1 = "top1"
    method = "method"
    paper = "paper"


def _sort_key(sort: ListSort) -> Callable[[Entry], tuple]:
    def speedup(e: Entry) -> float:
        return e.result.speedup if e.result.speedup is not None else float("inf")

    if sort is ListSort.top1:
        return lambda e: (-_top1(e), speedup(e), e.key)
    if sort is ListSort.method:
        return lambda e: (e.method.casefold(), speedup(e), e.key)
    if sort is ListSort.paper:
        return lambda e: (e.paper.id, speedup(e), e.key)
    return lambda e: (speedup(e), -_top1(e), e.key)


def _top1(e: Entry) -> float:
    """The top-1 to sort by (a result known only as a change sorts last)."""
    v = e.result.top1_value
    return float("-inf") if v is None else v


def _filtered(reg: Registry, dataset: str | None, network: str | None, method: str | None,
              sort: ListSort = ListSort.speedup) -> list[Entry]:
    """The registry's entries on ``dataset``/``network`` of ``method`` (any alias), sorted by dataset, network
    and then ``sort`` (speedup: ascending, n/r last; top1: descending); raises :class:`audit.errors.UnknownName`
    for an unknown id."""
    from audit.core.compare import check_filters

    check_filters(dataset, network, reg.networks)
    canonical = reg.resolve_method(method) if method else None
    rows = [
        e for e in reg.entries
        if (dataset is None or e.result.dataset == dataset)
        and (network is None or e.result.network == network)
        and (canonical is None or e.method == canonical)
    ]
    key = _sort_key(sort)
    rows.sort(key=lambda e: (e.result.dataset, e.result.network, *key(e)))
    return rows


_OPTIONAL = ("base top-1", "finetune", "variant")
"""Columns ``registry list`` leaves out, last first, when the table would not fit the terminal."""


_WHOLE = ("method", "top-1", "speedup", "base top-1")
"""Columns of ``registry list`` whose cells are never wrapped or cut (with the key column)."""


def _list_table(entries: list[Entry], columns: tuple[str, ...], by_paper: bool) -> tuple[Any, list[str]]:
    """One benchmark's results: the full key per row, or (``by_paper``) the paper id once as a section row
    above its result ids; and the cell texts that must show whole (keys, names, numbers)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from audit.core import fmt

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    keep: list[str] = []
    t.add_column("paper / result" if by_paper else "result", no_wrap=True)
    for col in columns:
        t.add_column(col, no_wrap=col in _WHOLE,
                     justify="right" if col in ("top-1", "speedup", "base top-1") else "left")
    groups: dict[str, list[Entry]] = {}
    for e in entries:  # ``entries`` come sorted: each paper's section sits where its first (best) row does
        groups.setdefault(e.paper.id if by_paper else "", []).append(e)
    for paper, rows in groups.items():
        if by_paper:
            t.add_row(Text(paper, style="bold"), *["" for _ in columns])
            keep.append(paper)
        for e in rows:
            r = e.result
            values = {"method": e.method + (" (reimpl.)" if r.reimplementation_of else ""), "variant": r.variant or "",
                      "top-1": fmt.top1(r), "speedup": fmt.speedup(r.speedup, r.compression.speedup is None),
                      "base top-1": fmt.num(r.base.top1),
                      "finetune": fmt.stage(r.finetune if r.pipeline == "pruning" else r.scratch)}
            key = "  " + r.id if by_paper else e.key
            t.add_row(Text(key), *[Text(values[c]) for c in columns])
            keep += [key.strip(), *(values[c] for c in columns if c in _WHOLE)]
            keep += [w for c in columns if c not in _WHOLE for w in values[c].split()]  # wrapped, never cut
    keep += list(columns)
    return t, keep


def _print_list(console: Console, entries: list[Entry], wide: bool) -> None:
    """``registry list`` as tables, one per benchmark with its counts: the widest layout that fits the console
    (full keys and every column; then fewer columns; then the paper id once per paper), or with ``wide`` the
    full one, the console widened to it."""
    from rich.text import Text

    from audit.cli.console import fits, widen

    groups: dict[tuple[str, str], list[Entry]] = {}
    for e in entries:
        groups.setdefault((e.result.dataset, e.result.network), []).append(e)
    console.print(Text(f"{len(entries)} result(s) on {len(groups)} benchmark(s)", style="bold"))
    full = ("method", "top-1", "speedup", *_OPTIONAL)
    layouts = [(full[: len(full) - k], by_paper) for by_paper in (False, True) for k in range(len(_OPTIONAL) + 1)]
    for (ds, nw), rows in groups.items():
        papers = len({e.paper.id for e in rows})
        chosen = None
        for columns, by_paper in layouts[:1] if wide else layouts:
            t, keep = _list_table(rows, columns, by_paper)
            if wide or fits(console, t, keep):
                chosen = (t, keep, columns)
                break
        if chosen is None:  # the narrowest layout; only a terminal narrower than a result id gets here
            t, keep = _list_table(rows, ("top-1", "speedup"), True)
            chosen = (t, keep, ("top-1", "speedup"))
        t, keep, columns = chosen
        if wide:
            widen(console, t, keep)
        left = [c for c in full if c not in columns]
        note = f" (not shown here: {', '.join(left)}; see --wide)" if left else ""
        console.print()
        console.print(Text.assemble((f"{ds} / {nw}", "bold underline"),
                                    f" — {len(rows)} result(s) from {papers} paper(s){note}"))
        console.print(t)


@app.command("list", cls=Command)
def registry_list(
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    method: Annotated[Optional[str], typer.Option("--method", metavar="NAME",
                                                  help="Only this method (any alias).")] = None,
    sort: Annotated[ListSort, typer.Option("--sort", help="Order of the results within a benchmark "
                                                          "(speedup ascending, top1 descending).")]
    = ListSort.speedup,
    fmt_opt: FormatOpt = OutputFormat.table,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    wide: WideOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """List results grouped by benchmark (dataset / network) with counts, as a table fitted to the terminal
    (or --format csv|json|md)."""
    import csv
    import io
    import sys

    from audit.registry.store import ResultRow, load_registry

    out = output_format(fmt_opt, as_json=as_json, as_csv=as_csv)
    reg = load_registry(registry)
    entries = _filtered(reg, dataset, network, method, sort)
    rows = [ResultRow.of(e).model_dump(mode="json") for e in entries]
    if out is OutputFormat.json:
        sys.stdout.write(jsontext.dumps(rows))
        return
    if out is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(ResultRow.model_fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
        return
    if out is OutputFormat.md:
        from audit.cli.console import write_rows
        from audit.core import fmt

        write_rows("md", ["dataset", "network", "key", "method", "top-1", "speedup", "base top-1", "finetune"],
                   [[e.result.dataset, e.result.network, e.key, e.label, fmt.top1(e.result),
                     fmt.speedup(e.result.speedup, e.result.compression.speedup is None), fmt.num(e.result.base.top1),
                     fmt.stage(e.result.finetune if e.result.pipeline == "pruning" else e.result.scratch)]
                    for e in entries])
        return
    from audit.cli.console import make_console

    _print_list(make_console(), entries, wide)


def _show_entry(console: Console, e: Entry) -> None:
    """One result as a two-column table: every field, its sources, and which values are inferred."""
    from rich.table import Table
    from rich.text import Text

    from audit.core import fmt

    r = e.result
    t = Table(title=f"{e.key}  ({e.file}:{e.line})", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")

    # each justification once: numbered here, marked "(inferred [n])" on the fields it covers, printed at the end
    notes: dict[str, int] = {}
    for why in dict.fromkeys(r.inferred.values()):
        notes[why] = len(notes) + 1

    def mark(path: str | tuple[str, ...], text: str | Text) -> Text:
        out = Text(text) if isinstance(text, str) else text
        whys = [r.is_inferred(p) for p in ((path,) if isinstance(path, str) else path)]
        refs = sorted({notes.setdefault(w, len(notes) + 1) for w in whys if w})
        if refs:
            out = out + "  "
            out.append(f"(inferred {', '.join(f'[{n}]' for n in refs)})", style="italic")
        return out

    t.add_row("method", e.label + (f"  reimplementation of {r.reimplementation_of}" if r.reimplementation_of else ""))
    t.add_row("pipeline", f"{r.pipeline}, {r.granularity or 'granularity not stated'}" + (f", setup tag {r.setup_tag}" if r.setup_tag else ""))
    t.add_row("dataset / network", f"{r.dataset} / {r.network}")
    t.add_row("top-1", fmt.top1(r))
    if r.top1_change is not None or r.top5_change is not None:
        t.add_row("change (as printed)", " / ".join(fmt.change(c) for c in (r.top1_change, r.top5_change)
                                                      if c is not None))
    if r.top5 is not None:
        t.add_row("top-5", fmt.metric(r.top5))
    if r.trainability_acc is not None:
        t.add_row("trainability acc.", fmt.num(r.trainability_acc))
    t.add_row("base model", mark("base.identity", r.base.identity or fmt.NR)
              + (f" — {r.base.description}" if r.base.description else ""))
    def base_acc(name: str) -> str:
        value, err = getattr(r.base, name), getattr(r.base, f"{name}_error")
        if err is not None and f"base.{name}" not in e.printed:
            return f"{fmt.num(value)} (100 - printed error {e.printed.get(f'base.{name}_error', fmt.num(err))})"
        return fmt.num(value)

    t.add_row("base top-1 / top-5", mark("base.top1", f"{base_acc('top1')} / {base_acc('top5')}"))
    c = r.compression
    printed = e.printed

    def as_printed(path: str, value: float | None) -> str:
        return fmt.NR if value is None else printed.get(path, f"{value:g}")

    comp = [f"speedup {fmt.speedup(c.speedup)}"]
    if c.speedup is None and r.speedup is not None:  # derived, not printed by the source
        how = ("the FLOPs reduction" if c.flops_reduction_pct is not None and c.flops_reduction_pct < 100
               else "the dense and pruned FLOPs")
        comp = [f"speedup {fmt.speedup(r.speedup, derived=True)} (derived from {how}; not printed by the source)"]
    if c.flops_reduction_pct is not None:
        comp.append(f"FLOPs −{as_printed('compression.flops_reduction_pct', c.flops_reduction_pct)}%")
    if c.params_reduction_pct is not None:
        comp.append(f"params −{as_printed('compression.params_reduction_pct', c.params_reduction_pct)}%")
    if c.flops is not None:
        comp.append(f"FLOPs {as_printed('compression.flops.pruned', c.flops.pruned)}/"
                    f"{as_printed('compression.flops.dense', c.flops.dense)} {c.flops.scale} "
                    f"{c.flops.convention or 'convention n/r'}")
    if c.params is not None:
        comp.append(f"params {as_printed('compression.params.pruned', c.params.pruned)}/"
                    f"{as_printed('compression.params.dense', c.params.dense)} {c.params.scale}")
    if c.pruning_ratio is not None:
        comp.append(f"ratio {c.pruning_ratio:g}")
    if c.layerwise_ratios is not None:
        comp.append(f"layer-wise {c.layerwise_ratios} {c.ratio_layout}")
    if c.conv_ratios is not None:
        comp.append(f"per-conv ratios ({len(c.conv_ratios)}) {c.conv_ratio_layout}")
    if c.skip:
        comp.append(f"skip {', '.join(c.skip)}")
    if c.rounding is not None:
        comp.append(f"rounding {c.rounding}")
    t.add_row("compression", mark("compression", ", ".join(comp)))
    for alt in r.alternatives:
        src = f"{alt.paper + ' ' if alt.paper else ''}{alt.where}{' (secondary)' if alt.secondary else ''}"
        t.add_row(f"{alt.status} value", f"{alt.field} = {alt.value} ({src})" + (f" — {alt.note}" if alt.note else ""))
    if r.reproduces is not None:
        t.add_row("reproduces", r.reproduces)
    for name in ("pretrain", "prune", "finetune", "scratch"):
        st = getattr(r, name)
        if st is None:
            continue
        extra = [f"{k} {getattr(st, k)}" for k in ("optimizer", "batch_size", "weight_decay", "momentum", "nesterov")
                 if getattr(st, k) is not None]
        text = fmt.stage(st) + (f" ({', '.join(extra)})" if extra else "")
        if st.notes:
            text += f" — {st.notes}"
        t.add_row(name, mark((f"{name}.epochs", f"{name}.lr_schedule"), text))
    for s in r.sources:
        t.add_row("source", f"{s.paper or e.paper.id}: {s.where}" + ("" if s.fields == ["*"] else f" [{', '.join(s.fields)}]")
                  + (" (secondary)" if s.secondary else "") + (f" — {s.note}" if s.note else ""))
    paths: dict[str, list[str]] = {}
    for path, why in sorted(r.inferred.items()):
        paths.setdefault(why, []).append(path)
    for why, n in sorted(notes.items(), key=lambda kv: kv[1]):
        t.add_row(f"inferred [{n}]", f"{', '.join(paths.get(why, []))}: {why}")
    if r.notes:
        t.add_row("notes", r.notes)
    console.print(t)


@app.command("show", cls=Command)
def registry_show(
    name: Annotated[str, typer.Argument(metavar="NAME", show_default=False,
                                        help="A method (any alias), a paper id, or a result key paper/result.")],
    fmt_opt: FormatOpt = OutputFormat.table,
    as_json: JsonOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """Show every result of a method or paper, with its full recipe and sources (--format csv|md: one row
    per result, the columns of registry list --csv)."""
    import sys

    from rich.text import Text

    from audit.cli.console import make_console
    from audit.registry.store import ResultRow, load_registry

    fmt_out = output_format(fmt_opt, as_json=as_json)
    reg = load_registry(registry)
    kind, entries = reg.lookup(name)
    if fmt_out is OutputFormat.json:
        out = [{"key": e.key, "method": e.method, **e.result.model_dump(mode="json", exclude_none=True)}
               for e in entries]
        sys.stdout.write(jsontext.dumps(out))
        return
    if fmt_out in (OutputFormat.csv, OutputFormat.md):
        from audit.cli.console import write_rows

        cols = list(ResultRow.model_fields)
        rows = [ResultRow.of(e).model_dump(mode="json") for e in entries]
        write_rows(fmt_out.value, cols, [[r[c] for c in cols] for r in rows])
        return
    console = make_console()
    if kind == "method":
        canonical = entries[0].method if entries else reg.resolve_method(name)
        decl = reg.methods[canonical]
        aliases = f" (aliases: {', '.join(decl.aliases)})" if decl.aliases else ""
        console.print(Text.assemble((canonical, "bold"), f"{aliases} — introduced by {reg.method_paper[canonical]}; "
                                                         f"{len(entries)} result(s)"))
    elif kind == "paper":
        p = reg.papers[name].paper
        console.print(Text.assemble((p.title, "bold"), f" — {', '.join(p.authors)}, {p.venue} {p.year}; "
                                                       f"{len(entries)} result(s)"))
    if not entries:
        console.print("no results in the registry")
    for e in sorted(entries, key=lambda e: (e.result.dataset, e.result.network, e.result.speedup or 0, e.key)):
        _show_entry(console, e)


@app.command("validate", cls=Command)
def registry_validate(
    paths: Annotated[Optional[list[Path]], typer.Argument(metavar="PATH", show_default=False,
                                                          help="Files or directories (default: the registry).")]
    = None,
    registry: RegistryOpt = None,
) -> None:
    """Validate paper files; report every problem of every file, one per line."""
    from audit.registry.store import load_registry, validate

    reg = validate(paths, registry) if paths else load_registry(registry)
    print(f"ok: {len(reg.papers)} file(s), {len(reg.methods)} method(s), {len(reg.entries)} result(s)")


def _schema_text(networks: bool = False) -> str:
    """The JSON Schema of a paper file (draft 2020-12), as committed in ``registry/paper.schema.json``;
    with ``networks``, that of the network catalog (``registry/networks.schema.json``)."""
    import json

    from audit.registry.schema import json_schema, networks_json_schema

    schema = networks_json_schema() if networks else json_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically; an OS error becomes a one-line :class:`AuditError`."""
    from audit.errors import AuditError
    from audit.io.atomic import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise AuditError(f"{path}: cannot write: {exc.strerror or exc}") from None


@app.command("schema", cls=Command)
def registry_schema(
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", show_default=False,
                                                help="Write to this file instead of stdout.")] = None,
    networks: Annotated[bool, typer.Option("--networks", help="The schema of registry/networks.yaml instead.")]
    = False,
) -> None:
    """Print the JSON Schema of a paper file, or of the network catalog (for editors)."""
    import sys

    text = _schema_text(networks)
    if out is None:
        sys.stdout.write(text)
        return
    _write(out, text)
    print(f"wrote {out}")


@app.command("add", cls=Command)
def registry_add(
    file: Annotated[Path, typer.Argument(metavar="FILE.yaml", show_default=False,
                                         help="A paper file named <paper-id>.yaml.")],
    registry: RegistryOpt = None,
) -> None:
    """Validate a new paper file against the registry and copy it in, atomically and under a lock on the
    registry (parallel adds never leave an invalid registry)."""
    from audit.registry.store import add_paper

    added = add_paper(file, registry)
    print(f"added {added.paper_id}: {added.results} result(s) -> {added.target}")
