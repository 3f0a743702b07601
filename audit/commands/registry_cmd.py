"""``prune-audit registry list|show|validate|schema|add``."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from audit.core import fmt
from audit.core.catalog import DATASETS, NETWORKS
from audit.core.names import unknown_name
from audit.io.atomic import atomic_write_text

from ..errors import AuditError


def _console():
    from rich.console import Console

    return Console(soft_wrap=False, width=max(120, Console().width))


def _filtered(reg, dataset: str | None, network: str | None, method: str | None):
    from ..errors import UnknownName

    if dataset is not None and dataset not in DATASETS:
        raise UnknownName(unknown_name("dataset", dataset, DATASETS))
    if network is not None and network not in NETWORKS:
        raise UnknownName(unknown_name("network", network, NETWORKS))
    canonical = reg.resolve_method(method) if method else None
    rows = [
        e for e in reg.entries
        if (dataset is None or e.result.dataset == dataset)
        and (network is None or e.result.network == network)
        and (canonical is None or e.method == canonical)
    ]
    rows.sort(key=lambda e: (e.result.dataset, e.result.network, e.result.speedup or 0.0, e.method, e.key))
    return rows


def list_main(*, dataset=None, network=None, method=None, as_json=False, as_csv=False, registry=None) -> int:
    from audit.registry.store import load_registry

    reg = load_registry(registry)
    entries = _filtered(reg, dataset, network, method)
    rows = [fmt.result_row(e) for e in entries]
    if as_json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if as_csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["key"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
        return 0
    from rich.table import Table

    table = Table(title=f"{len(rows)} result(s)", show_lines=False)
    for col in ("method", "dataset", "network", "top-1", "speedup", "base top-1", "finetune", "key"):
        table.add_column(col, overflow="fold")
    for e in entries:
        r = e.result
        table.add_row(
            e.label, r.dataset, r.network, fmt.metric(r.top1), fmt.speedup(r.speedup),
            fmt.num(r.base.top1), fmt.stage(r.finetune if r.pipeline == "pruning" else r.scratch), e.key,
        )
    _console().print(table)
    return 0


def _show_entry(console, e) -> None:
    from rich.table import Table

    r = e.result
    t = Table(title=f"{e.key}  ({e.file}:{e.line})", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")

    def mark(path: str, text: str) -> str:
        why = r.is_inferred(path)
        return f"{text}  [italic](inferred: {why})[/italic]" if why else text

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


def show_main(*, name: str, as_json: bool = False, registry=None) -> int:
    from audit.registry.store import load_registry

    reg = load_registry(registry)
    kind, entries = reg.lookup(name)
    if as_json:
        out = [{"key": e.key, "method": e.method, **e.result.model_dump(mode="json", exclude_none=True)} for e in entries]
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    console = _console()
    if kind == "method":
        canonical = entries[0].method if entries else reg.resolve_method(name)
        decl = reg.methods[canonical]
        aliases = f" (aliases: {', '.join(decl.aliases)})" if decl.aliases else ""
        console.print(f"[bold]{canonical}[/bold]{aliases} — introduced by {reg.method_paper[canonical]}; "
                      f"{len(entries)} result(s)")
    elif kind == "paper":
        p = reg.papers[name].paper
        console.print(f"[bold]{p.title}[/bold] — {', '.join(p.authors)}, {p.venue} {p.year}; {len(entries)} result(s)")
    if not entries:
        console.print("no results in the registry")
    for e in sorted(entries, key=lambda e: (e.result.dataset, e.result.network, e.result.speedup or 0, e.key)):
        _show_entry(console, e)
    return 0


def validate_main(*, paths: list[Path], registry=None) -> int:
    from audit.registry.store import load_registry, validate

    reg = validate(paths, registry) if paths else load_registry(registry)
    n_files = len(reg.papers)
    print(f"ok: {n_files} file(s), {len(reg.methods)} method(s), {len(reg.entries)} result(s)")
    return 0


def schema_text() -> str:
    from audit.registry.schema import json_schema

    schema = json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "prune-audit paper file"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def schema_main(*, out: Path | None = None) -> int:
    text = schema_text()
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            atomic_write_text(out, text)
        except OSError as exc:
            raise AuditError(f"{out}: cannot write: {exc.strerror or exc}") from None
        print(f"wrote {out}")
    return 0


def add_main(*, file: Path, registry=None) -> int:
    from audit.registry.store import build, check_file, registry_dir, registry_files

    root = registry_dir(registry)
    if not file.is_file():
        raise AuditError(f"{file}: no such file")
    new = check_file(file)
    target = root / file.name
    if new.model is not None and target.exists():
        raise AuditError(f"{file}: paper {new.model.paper.id!r} is already in the registry ({target}); "
                         "edit that file instead")
    existing = [check_file(p) for p in registry_files(root)]
    build(existing + [new], root)  # raises with every problem of the new file and every conflict
    text = file.read_bytes().decode("utf-8")
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise AuditError(f"{target}: cannot write: {exc.strerror or exc}") from None
    assert new.model is not None
    print(f"added {new.model.paper.id}: {len(new.model.results)} result(s) -> {target}")
    return 0
