"""``prune-audit registry list|show|validate|schema|add``: read, check and extend the registry.

Only typer and the shared options are imported here; the registry (pydantic) and rich are
imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from audit.cli.options import Command, CsvOpt, DatasetOpt, JsonOpt, NetworkOpt, RegistryOpt, new_app
from audit.io import jsontext

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from audit.registry.store import Entry, Registry

__all__ = ["app", "registry_add", "registry_list", "registry_schema", "registry_show", "registry_validate"]

app = new_app("List, show, validate and add registry entries.")


def _filtered(reg: Registry, dataset: str | None, network: str | None, method: str | None) -> list[Entry]:
    """The registry's entries on ``dataset``/``network`` of ``method`` (any alias), sorted by dataset,
    network, speedup, method and key; raises :class:`audit.errors.UnknownName` for an unknown id."""
    from audit.core.compare import check_filters

    check_filters(dataset, network, reg.networks)
    canonical = reg.resolve_method(method) if method else None
    rows = [
        e for e in reg.entries
        if (dataset is None or e.result.dataset == dataset)
        and (network is None or e.result.network == network)
        and (canonical is None or e.method == canonical)
    ]
    rows.sort(key=lambda e: (e.result.dataset, e.result.network, e.result.speedup or 0.0, e.method, e.key))
    return rows


@app.command("list", cls=Command)
def registry_list(
    dataset: DatasetOpt = None,
    network: NetworkOpt = None,
    method: Annotated[Optional[str], typer.Option("--method", metavar="NAME",
                                                  help="Only this method (any alias).")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """List results as a table (or --json / --csv)."""
    import csv
    import io
    import sys

    from audit.core import fmt
    from audit.registry.store import ResultRow, load_registry

    reg = load_registry(registry)
    entries = _filtered(reg, dataset, network, method)
    rows = [ResultRow.of(e).model_dump(mode="json") for e in entries]
    if as_json:
        sys.stdout.write(jsontext.dumps(rows))
        return
    if as_csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(ResultRow.model_fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
        return
    from rich.table import Table

    from audit.cli.console import make_console

    table = Table(title=f"{len(rows)} result(s)", show_lines=False)
    for col in ("method", "dataset", "network", "top-1", "speedup", "base top-1", "finetune", "key"):
        table.add_column(col, overflow="fold")
    for e in entries:
        r = e.result
        table.add_row(
            e.label, r.dataset, r.network, fmt.metric(r.top1), fmt.speedup(r.speedup),
            fmt.num(r.base.top1), fmt.stage(r.finetune if r.pipeline == "pruning" else r.scratch), e.key,
        )
    make_console().print(table)


def _show_entry(console: Console, e: Entry) -> None:
    """One result as a two-column table: every field, its sources, and which values are inferred."""
    from rich.table import Table
    from rich.text import Text

    from audit.core import fmt

    r = e.result
    t = Table(title=f"{e.key}  ({e.file}:{e.line})", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")

    def mark(path: str, text: str | Text) -> Text:
        out = Text(text) if isinstance(text, str) else text
        why = r.is_inferred(path)
        if why:
            out = out + "  "
            out.append(f"(inferred: {why})", style="italic")
        return out

    t.add_row("method", e.label + (f"  reimplementation of {r.reimplementation_of}" if r.reimplementation_of else ""))
    t.add_row("pipeline", f"{r.pipeline}, {r.granularity}" + (f", setup tag {r.setup_tag}" if r.setup_tag else ""))
    t.add_row("dataset / network", f"{r.dataset} / {r.network}")
    t.add_row("top-1", fmt.metric(r.top1))
    if r.top5 is not None:
        t.add_row("top-5", fmt.metric(r.top5))
    if r.trainability_acc is not None:
        t.add_row("trainability acc.", fmt.num(r.trainability_acc))
    t.add_row("base model", mark("base.identity", r.base.identity or fmt.NR)
              + (f" — {r.base.description}" if r.base.description else ""))
    t.add_row("base top-1 / top-5", mark("base.top1", f"{fmt.num(r.base.top1)} / {fmt.num(r.base.top5)}"))
    c = r.compression
    comp = [f"speedup {fmt.speedup(c.speedup)}"]
    if c.flops_reduction_pct is not None:
        comp.append(f"FLOPs −{c.flops_reduction_pct:g}%")
    if c.params_reduction_pct is not None:
        comp.append(f"params −{c.params_reduction_pct:g}%")
    if c.flops is not None:
        comp.append(f"FLOPs {fmt.num(c.flops.pruned)}/{fmt.num(c.flops.dense)} {c.flops.scale} "
                    f"{c.flops.convention or 'convention n/r'}")
    if c.pruning_ratio is not None:
        comp.append(f"ratio {c.pruning_ratio:g}")
    if c.layerwise_ratios is not None:
        comp.append(f"layer-wise {c.layerwise_ratios} {c.ratio_layout}")
    t.add_row("compression", mark("compression", ", ".join(comp)))
    for name in ("pretrain", "prune", "finetune", "scratch"):
        st = getattr(r, name)
        if st is None:
            continue
        extra = [f"{k} {getattr(st, k)}" for k in ("optimizer", "batch_size", "weight_decay", "momentum", "nesterov")
                 if getattr(st, k) is not None]
        text = fmt.stage(st) + (f" ({', '.join(extra)})" if extra else "")
        if st.notes:
            text += f" — {st.notes}"
        t.add_row(name, mark(f"{name}.lr_schedule", mark(f"{name}.epochs", text)))
    for s in r.sources:
        t.add_row("source", f"{s.paper or e.paper.id}: {s.where}" + ("" if s.fields == ["*"] else f" [{', '.join(s.fields)}]")
                  + (" (secondary)" if s.secondary else "") + (f" — {s.note}" if s.note else ""))
    for path, why in sorted(r.inferred.items()):
        t.add_row("inferred", f"{path}: {why}")
    if r.notes:
        t.add_row("notes", r.notes)
    console.print(t)


@app.command("show", cls=Command)
def registry_show(
    name: Annotated[str, typer.Argument(metavar="NAME", show_default=False,
                                        help="A method (any alias), a paper id, or a result key paper/result.")],
    as_json: JsonOpt = False,
    registry: RegistryOpt = None,
) -> None:
    """Show every result of a method or paper, with its full recipe and sources."""
    import sys

    from rich.text import Text

    from audit.cli.console import make_console
    from audit.registry.store import load_registry

    reg = load_registry(registry)
    kind, entries = reg.lookup(name)
    if as_json:
        out = [{"key": e.key, "method": e.method, **e.result.model_dump(mode="json", exclude_none=True)}
               for e in entries]
        sys.stdout.write(jsontext.dumps(out))
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
