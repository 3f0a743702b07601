"""Writes the torch-free MAC tables (``audit/data/mac-tables/<network>.json``) from the engine's models.

    python -m audit.rerun.mactables            # every catalog network the engine builds
    python -m audit.rerun.mactables resnet56   # some
    python -m audit.rerun.mactables --check    # exit 1 when a written table differs from a fresh one

A table (format :data:`audit.core.macs.TABLE_FORMAT`) lists the network's prune units
(:func:`audit.rerun.prune.prune_units`), its convs in module order (the order of a per-conv ratio
list) and every counted module call in forward order, found by tracing the model with ``torch.fx``:
kind (conv, linear, bn, relu, pool), dense input/output channels, the unit that sets each (or none),
kernel area, groups, bias, BN affine, whether it is the module's first call (parameters count once),
the 1x1 projection role, and the spatial-op chains from the input image to the call's input and
output (indices into the table's ``chains``; :func:`audit.core.macs.side_after`).  Output is deterministic (sorted keys, no timestamps).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from audit.core import catalog, macs
from audit.io.atomic import atomic_write_text

from .flops import projection_convs
from .models import ShortcutA, build_model, network_info
from .prune import conv_names, prune_units

__all__ = ["TABLE_DIR", "build_table", "main", "table_text"]

TABLE_DIR = Path(__file__).resolve().parent.parent / "data" / "mac-tables"

_RELUS = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_ADAPTIVE = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, ShortcutA) or super().is_leaf_module(m, qualname)


def _pair(v: Any) -> int:
    a = v if isinstance(v, int) else v[0]
    b = a if isinstance(v, int) else v[-1]
    if a != b:
        raise ValueError(f"non-square kernel/stride/padding {v!r} is not supported by the MAC tables")
    return int(a)


def _op(mod: nn.Module) -> list[Any] | None:
    """The spatial op of a module, or None when it keeps the side of every input (stride 1, "same" padding)."""
    op = _raw_op(mod)
    if op is not None and op[0] != "adaptive" and op[2] == 1 and 2 * op[3] == op[4] * (op[1] - 1):
        return None
    return op


def _raw_op(mod: nn.Module) -> list[Any] | None:
    if isinstance(mod, nn.Conv2d):
        return ["conv", _pair(mod.kernel_size), _pair(mod.stride), _pair(mod.padding), _pair(mod.dilation)]
    if isinstance(mod, nn.MaxPool2d):
        return ["pool", _pair(mod.kernel_size), _pair(mod.stride), _pair(mod.padding), _pair(mod.dilation),
                bool(mod.ceil_mode)]
    if isinstance(mod, nn.AvgPool2d):
        return ["pool", _pair(mod.kernel_size), _pair(mod.stride), _pair(mod.padding), 1, bool(mod.ceil_mode)]
    if isinstance(mod, _ADAPTIVE):
        return ["adaptive", _pair(mod.output_size)]
    if isinstance(mod, ShortcutA):
        return ["conv", 1, mod.stride, 0, 1] if mod.stride != 1 else None
    return None


def build_table(network: str) -> dict[str, Any]:
    """The MAC table of engine network ``network`` at its catalog classes (the classifier's output is
    marked and takes any class count)."""
    info = network_info(network)
    with torch.device("meta"):
        model = build_model(network, info.classes)
    units = prune_units(model, network)
    out_unit: dict[str, str] = {}
    in_unit: dict[str, str] = {}
    for u in units:
        for conv, bn in u.members:
            out_unit[conv] = out_unit[bn] = u.name
        for c in u.consumers:
            in_unit[c] = u.name
    projections = projection_convs(model)
    mods = dict(model.named_modules())
    classifier = [n for n, m in mods.items() if isinstance(m, nn.Linear)][-1]
    graph = _Tracer().trace(model)
    chain: dict[str, list[list[Any]]] = {}
    source: dict[str, str | None] = {}  # the unit that sets a tensor's channels
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for node in graph.nodes:
        args = [a for a in node.args if isinstance(a, fx.Node)]
        first = args[0].name if args else None
        in_chain = chain.get(first, []) if first else []
        in_src = source.get(first) if first else None
        if node.op == "placeholder":
            chain[node.name], source[node.name] = [], None
            continue
        if node.op != "call_module":  # additions, flatten, F.relu, padding: side and channel source pass through
            chain[node.name], source[node.name] = in_chain, in_src
            continue
        name = str(node.target)
        mod = mods[name]
        op = _op(mod)
        out_chain = in_chain + [op] if op is not None else in_chain
        chain[node.name] = out_chain
        row: dict[str, Any] | None = None
        if isinstance(mod, nn.Conv2d):
            source[node.name] = out_unit.get(name)
            row = {"kind": "conv", "in": mod.in_channels, "out": mod.out_channels,
                   "in_unit": in_unit.get(name), "out_unit": out_unit.get(name),
                   "k": mod.kernel_size[0] * mod.kernel_size[1], "groups": mod.groups, "bias": mod.bias is not None,
                   "role": "projection" if name in projections else None}
        elif isinstance(mod, nn.Linear):
            source[node.name] = None
            row = {"kind": "linear", "in": mod.in_features, "out": mod.out_features, "in_unit": in_unit.get(name),
                   "out_unit": None, "bias": mod.bias is not None, "classes": name == classifier}
        elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
            source[node.name] = out_unit.get(name, in_src)
            row = {"kind": "bn", "in": mod.num_features, "out": mod.num_features, "in_unit": source[node.name],
                   "out_unit": source[node.name], "affine": bool(mod.affine)}
            if isinstance(mod, nn.BatchNorm1d):
                row["flat"] = True
        elif isinstance(mod, _RELUS + _POOLS + _ADAPTIVE):
            source[node.name] = in_src
            kind = "relu" if isinstance(mod, _RELUS) else "pool"
            row = {"kind": kind, "in": None, "out": None, "in_unit": in_src, "out_unit": in_src}
        elif isinstance(mod, ShortcutA):
            source[node.name] = None
        else:
            source[node.name] = in_src
        if row is None:
            continue
        row.update(name=name, first=name not in seen, spatial_in=in_chain, spatial_out=out_chain)
        seen.add(name)
        rows.append(row)
    _fill_channels(rows, model, graph)
    chains: list[list[list[Any]]] = []
    index: dict[str, int] = {}
    for row in rows:
        for key in ("spatial_in", "spatial_out"):
            text = json.dumps(row[key])
            if text not in index:
                index[text] = len(chains)
                chains.append(row[key])
            row[key] = index[text]
    return {
        "chains": chains,
        "format": macs.TABLE_FORMAT,
        "network": network,
        "classes": info.classes,
        "input_size": info.input_size,
        "generated_by": "python -m audit.rerun.mactables",
        "convs": conv_names(model),
        "units": [{"name": u.name, "stage": u.stage, "block": u.block, "label": u.label, "channels": u.channels,
                   "kind": u.kind, "convs": list(u.convs)} for u in units],
        "layers": rows,
    }


def _fill_channels(rows: list[dict[str, Any]], model: nn.Module, graph: fx.Graph) -> None:
    """Channels of the element-wise rows (ReLU, pooling), measured on a meta forward pass."""
    seen: dict[str, list[int]] = {}
    hooks = []

    def hook(name: str):
        def fn(mod: nn.Module, inp: Any, out: torch.Tensor) -> None:
            seen.setdefault(name, []).append(int(inp[0].shape[1]))
        return fn

    for name, mod in model.named_modules():
        if isinstance(mod, _RELUS + _POOLS + _ADAPTIVE + (nn.modules.batchnorm._BatchNorm,)):
            hooks.append(mod.register_forward_hook(hook(name)))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, 32, 32, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    calls: dict[str, int] = {}
    for row in rows:
        if row["kind"] in ("relu", "pool"):
            i = calls.get(row["name"], 0)
            calls[row["name"]] = i + 1
            row["in"] = row["out"] = seen[row["name"]][i]


def table_text(network: str) -> str:
    """The table of ``network`` as the JSON text written to disk (sorted keys, one row a line)."""
    t = build_table(network)
    rows = t.pop("layers")
    chains = t.pop("chains")
    t["chains"] = []
    head = json.dumps(t, sort_keys=True, indent=1)
    head = head.replace('"chains": []', '"chains": [\n' + ",\n".join("  " + json.dumps(c) for c in chains) + "\n ]")
    body = ",\n".join("  " + json.dumps(r, sort_keys=True) for r in rows)
    return head[:-2] + ',\n "layers": [\n' + body + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) the tables of the networks named, default every engine network."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    names = [a for a in args if a != "--check"] or catalog.engine_networks()
    stale = []
    for n in names:
        text = table_text(n)
        path = TABLE_DIR / f"{n}.json"
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(n)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        print(f"wrote {path.relative_to(TABLE_DIR.parent.parent.parent)}")
    if stale:
        print(f"stale MAC tables: {', '.join(stale)} (run python -m audit.rerun.mactables)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
