"""Pruning layouts, rounding rules, counting conventions and MAC tables of the engine's networks (torch-free).

This module answers "how many MACs and parameters does network N keep at ratios R" without torch:
each catalog network the rerun engine builds has a MAC table (``audit/data/mac-tables/<network>.json``,
written by ``python -m audit.rerun.mactables`` from the engine's own models) that lists

* its **prune units** in forward order: a ``conv`` unit is one convolution whose output filters are
  removed (its BN and the consumers' input channels follow; the seed's conventions: the first conv of
  a basic block, conv1 and conv2 of a bottleneck, every VGG conv), a ``residual`` unit is the channel
  set of a residual stream (every conv writing into it, e.g. the second convs of a stage's basic
  blocks and its 1x1 projection shortcut, plus the stem where the first stage has no projection;
  Li et al.'s ResNet-34-pruned-C prunes such a stream);
* every counted module call (conv, linear, BN, ReLU, pooling) with its channels, which unit sets its
  input and output channels, its kernel and the chain of spatial operations from the input image.

The same layout rules serve the engine (``audit.rerun.prune.resolve_ratios`` calls :func:`resolve`)
and this module's :func:`count_macs`, so a torch-free count equals the engine's counter (a test pins
it for every engine network over several layouts, roundings and conventions).

Ratio forms (:func:`resolve`): a uniform ratio (every ``conv`` unit; VGG: every conv but the first),
a stage-wise list following the catalog's ``ratio_layout`` (ResNet-56: ``[stem, layer1, layer2,
layer3, fc]``; VGG-19: ``[conv0 .. conv15, fc]``), a per-conv list (one entry per convolution in
module order, HRank's ``compress_rate``: 55 entries for ResNet-56 incl. the stem), or a mapping
``{"layer1": 0.6, "layer2.3": 0, "layer3.residual": 0.2, "7-12": 0.5}``; ``overrides`` (a mapping)
apply after, ``skip`` (blocks or layers) last.

Rounding rules (:data:`ROUNDINGS`), for ``C`` filters at ratio ``r`` (exact decimal arithmetic):

* ``ceil-pruned`` (default): ``min(ceil(r*C), C-1)`` removed -- the seed and GReg (Wang et al.
  ICLR'21, ``Regularization-Pruning``'s ``get_kept_filter_channel``).
* ``floor-pruned``: ``min(floor(r*C), C-1)`` removed -- Distiller's thinning and HRank's
  ``int(r*C)``.
* ``floor-kept``: ``max(floor((1-r)*C), 1)`` kept -- rethinking-network-pruning's
  ``int(C*(1-r))`` (``imagenet/l1-norm-pruning/prune.py``); at least one filter is kept, where
  Torch-Pruning's same formula would leave a layer with 0 filters unpruned.

Counting conventions (:data:`CONVENTIONS`); MACs are per image (batch 1):

* ``MACs`` (default): conv + linear multiply-accumulates, ``H_out*W_out*C_out*C_in/groups*k_h*k_w``
  and ``in*out``; no BN, ReLU, pooling, bias or residual addition.
* ``2xMACs``: twice that ("FLOPs" as the seed's Tab. 6/7 print them).
* ``ptflops``: ptflops' module hooks, which Torch-Pruning's ``count_ops_and_params`` prints: conv
  and linear MACs plus their bias (one per output element), BN ``2 x`` its input elements (affine),
  ReLU modules one per output element (functional ``F.relu`` calls are not seen), pooling one per
  input element; residual additions and padding shortcuts are not counted.
* ``no-projection``: ``MACs`` without the 1x1 projection shortcuts -- Li et al.'s ResNet-34 FLOPs
  (pruned-A/B/C reductions 15.5 %/24.2 %/7.5 % hold only without them).
* ``outputs-only``: HRank's ``get_flops.py`` (Lin et al. CVPR'20): each conv counts
  ``C_in(dense) * kept_out * k_h*k_w * H_out*W_out`` -- a conv's kept outputs shrink its own
  MACs but never the next layer's inputs (mask-based pruning); linear layers dense, with their bias.
  The only convention under which a per-conv list may prune convs that no surgery can prune alone;
  its parameter counts are those of the surgery's units.

Parameters count every parameter (conv and linear weights and biases, BN affine), in all conventions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, Protocol

from audit.core import catalog
from audit.core.catalog import Network
from audit.errors import AuditError, UnknownName
from audit.names import did_you_mean

__all__ = [
    "CONVENTIONS",
    "ROUNDINGS",
    "TABLE_FORMAT",
    "LayoutError",
    "MacCount",
    "Resolved",
    "Unit",
    "UnitLike",
    "count_macs",
    "flops_json",
    "fmt_ratio",
    "has_table",
    "kept_count",
    "load_table",
    "report",
    "resolve",
    "side_after",
    "to_ratio",
]

TABLE_FORMAT = "prune-audit-mac-table/1"
ROUNDINGS: tuple[str, ...] = ("ceil-pruned", "floor-pruned", "floor-kept")
"""Rounding rules of :func:`kept_count` (see the module docstring for their sources)."""
CONVENTIONS: dict[str, str] = {
    "MACs": "MACs (conv + linear multiply-accumulates; no BN, ReLU, pooling, bias)",
    "2xMACs": "2xMACs (twice the conv + linear multiply-accumulates)",
    "ptflops": "ptflops-style (conv + linear MACs + bias, BN, ReLU modules, pooling; Torch-Pruning's counter)",
    "no-projection": "MACs without the 1x1 projection shortcuts (Li et al.'s ResNet-34 FLOPs)",
    "outputs-only": "HRank's get_flops.py (each conv's kept outputs only; next layers' inputs not reduced)",
}
"""Counting conventions by name, with the one-line description a report prints."""


class LayoutError(AuditError):
    """A ratio, ratio list, key, rounding rule or convention that does not fit a network (one line).

    ``field`` locates the culprit in a recipe's ``pruning`` block: ``("ratio",)``, ``("overrides", key)``
    or ``("skip", index)``."""

    def __init__(self, message: str, field: tuple[str | int, ...] = ("ratio",)):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------- ratios and rounding
def to_ratio(value: Any, where: str, error: type[AuditError] = LayoutError) -> Fraction:
    """An exact pruning ratio in [0, 1) from a number or its decimal text (0.7 -> 7/10, never
    0.69999...); anything else raises ``error`` naming ``where``."""
    if isinstance(value, bool) or value is None:
        raise error(f"pruning ratio for {where} must be a number in [0, 1), not {value!r}")
    if isinstance(value, Fraction):
        r = value
    elif isinstance(value, int):
        r = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise error(f"pruning ratio {value!r} for {where} is outside [0, 1)")
        r = Fraction(repr(value))  # the shortest decimal text of the float: 0.7 -> 7/10
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text):
            raise error(f"pruning ratio {value!r} for {where} is not a number")
        r = Fraction(text)
    else:
        raise error(f"pruning ratio for {where} must be a number in [0, 1), not {type(value).__name__}")
    if not 0 <= r < 1:
        raise error(f"pruning ratio {fmt_ratio(r)} for {where} is outside [0, 1)")
    return r


def fmt_ratio(r: Fraction) -> str:
    """A ratio as its shortest decimal text (``7/10`` -> ``0.7``), or ``p/q`` when it has none."""
    if r.denominator == 1:
        return str(r.numerator)
    return format(float(r), "g") if Fraction(format(float(r), "g")) == r else str(r)


def kept_count(channels: int, ratio: Fraction, rounding: str = "ceil-pruned") -> int:
    """Filters kept of ``channels`` at ``ratio`` under ``rounding`` (:data:`ROUNDINGS`); always 1..C.

    ``ceil-pruned``: ``C - min(ceil(r*C), C-1)``; ``floor-pruned``: ``C - min(floor(r*C), C-1)``;
    ``floor-kept``: ``max(floor((1-r)*C), 1)``.  Raises :class:`LayoutError` for an unknown rule."""
    r = Fraction(ratio)
    if rounding == "ceil-pruned":
        return channels - max(min(math.ceil(r * channels), channels - 1), 0)
    if rounding == "floor-pruned":
        return channels - max(min(math.floor(r * channels), channels - 1), 0)
    if rounding == "floor-kept":
        return max(math.floor((1 - r) * channels), 1)
    raise LayoutError(f"unknown rounding rule {rounding!r} (known: {', '.join(ROUNDINGS)})")


# ---------------------------------------------------------------------- units and layouts
class UnitLike(Protocol):
    """What :func:`resolve` reads of a prune unit (``audit.rerun.prune.PruneGroup`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def block(self) -> str | None: ...
    @property
    def label(self) -> str: ...
    @property
    def channels(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def convs(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Unit:
    """A prune unit of a MAC table: ``name`` (its key: the lead conv's module path, or
    ``layerN.residual`` / ``stem`` for a residual stream), ``stage`` (ratio-list entry), ``block``
    (``layer1.0`` or None), ``label`` (display), ``channels`` (dense filters), ``kind`` (``conv`` or
    ``residual``) and ``convs`` (module paths of the convs whose outputs it sets, lead first)."""

    name: str
    stage: str
    block: str | None
    label: str
    channels: int
    kind: str
    convs: tuple[str, ...]


@dataclass(frozen=True)
class Resolved:
    """Ratios per unit (``units``, every unit present) and per conv (``convs``: a per-conv list's
    entries, else each conv its unit's ratio, 0 outside every unit)."""

    units: dict[str, Fraction]
    convs: dict[str, Fraction]


def _vgg_keys(key: str, units: Sequence[UnitLike], network: str) -> list[UnitLike] | None:
    convs = [u for u in units if u.kind == "conv"]
    m = re.fullmatch(r"(?:conv)?(\d+)\s*-\s*(?:conv)?(\d+)", key)
    if m:
        lo, hi = int(m[1]), int(m[2])
        if lo > hi or hi >= len(convs):
            raise LayoutError(f"conv index range {key!r} is outside 0-{len(convs) - 1} of {network}")
        return list(convs[lo: hi + 1])
    m = re.fullmatch(r"(?:conv)?(\d+)", key)
    if m:
        i = int(m[1])
        if i >= len(convs):
            raise LayoutError(f"conv index {i} is outside 0-{len(convs) - 1} of {network}")
        return [convs[i]]
    return [u for u in units if u.name == key] or None


def _stem_unit(units: Sequence[UnitLike]) -> UnitLike | None:
    return next((u for u in units if u.kind == "residual" and (u.name == "stem" or u.stage == "stem")), None)


def _select(key: Any, info: Network, units: Sequence[UnitLike],
            field: tuple[str | int, ...] = ("ratio",)) -> list[UnitLike]:
    """The units a key names: a stage (its conv units), a block, a unit name or label,
    ``layerN.residual``, ``stem`` (the unit holding the stem, if any), ``fc`` (none); for VGG a
    conv index or range.  Unknown keys raise :class:`LayoutError` with "Did you mean"."""
    key = str(key).strip()
    if key == "fc":
        return []
    if key == "stem":
        stem = _stem_unit(units)
        return [stem] if stem is not None else []
    if info.family == "vgg":
        sel = _vgg_keys(key, units, info.id)
    else:
        sel = [u for u in units if (u.kind == "conv" and (u.stage == key or u.block == key))
               or u.name == key or u.label == key]
    if not sel:
        known = ["stem", "fc"] + sorted({u.stage for u in units if u.kind == "conv"}
                                        | {u.block or u.name for u in units if u.kind == "conv"}
                                        | {u.name for u in units})
        raise LayoutError(f"{key!r} names no prunable layer of {info.id}.{did_you_mean(key, known)}", field)
    return sel


def _check_unprunable(key: str, r: Fraction, info: Network, units: Sequence[UnitLike]) -> None:
    if r == 0:
        return
    if key == "fc":
        raise LayoutError(f"the fc of {info.id} is never pruned (its outputs are the classes; its ratio must be 0, "
                          f"got {fmt_ratio(r)})")
    if key == "stem" and _stem_unit(units) is None:
        why = (" (its channels feed the parameter-free option-A shortcuts)" if info.family == "cifar-resnet"
               else "")
        raise LayoutError(f"the stem of {info.id} is never pruned{why}: its ratio must be 0, got {fmt_ratio(r)}")


def _apply_mapping(spec: Mapping[Any, Any], info: Network, units: Sequence[UnitLike],
                   ratios: dict[str, Fraction], field: str = "ratio") -> None:
    for key, value in spec.items():
        where: tuple[str | int, ...] = (field,) if field == "ratio" else (field, str(key))
        try:
            r = to_ratio(value, f"{info.id} {key}")
            _check_unprunable(str(key).strip(), r, info, units)
        except LayoutError as exc:
            raise LayoutError(str(exc), where) from None
        for u in _select(key, info, units, where):
            ratios[u.name] = r


def _split_list(spec: Any) -> Any:
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("{"):
            try:
                spec = json.loads(text)
            except ValueError:
                raise LayoutError(f"ratio mapping {text[:60]!r} is not valid JSON") from None
            if not isinstance(spec, dict):
                raise LayoutError(f"ratio mapping {text[:60]!r} is not a mapping")
            return spec
        if "=" in text:  # layer1=0.6,layer2=0.3
            out: dict[str, str] = {}
            for part in text.split(","):
                k, eq, v = part.partition("=")
                if not eq or not k.strip():
                    raise LayoutError(f"ratio mapping entry {part.strip()!r} is not KEY=RATIO")
                out[k.strip()] = v.strip()
            return out
        if "," in text or text.startswith("["):
            return [s for s in text.strip("[]").split(",")]
    return spec


def resolve(network: str | Network, units: Sequence[UnitLike], spec: Any,
            overrides: Mapping[Any, Any] | None = None, skip: Sequence[str] = (),
            convs: Sequence[str] = (), physical: bool = True) -> Resolved:
    """Per-unit (and per-conv) ratios of ``network`` from ``spec`` (see the module docstring).

    ``units`` are the network's prune units in forward order, ``convs`` the module paths of all its
    convs in module order (needed for per-conv lists).  ``physical`` (every convention but
    ``outputs-only``) requires a per-conv list to give the convs of one residual unit one ratio, and
    0 to convs no unit holds.  Raises :class:`LayoutError` (one line) for a wrong list length (it
    names the layout), an unknown key, a ratio outside [0, 1), a pruned fc or an unprunable stem."""
    info = network if isinstance(network, Network) else catalog.network(network)
    ratios: dict[str, Fraction] = {u.name: Fraction(0) for u in units}
    conv_ratios: dict[str, Fraction] | None = None
    layout = info.ratio_layout
    spec = _split_list(spec)
    if isinstance(spec, (list, tuple)):
        if len(spec) == len(layout):
            for key, value in zip(layout, spec):
                r = to_ratio(value, f"{info.id} {key}")
                _check_unprunable(key, r, info, units)
                for u in _select(key, info, units):
                    ratios[u.name] = r
        elif convs and len(spec) == len(convs):
            conv_ratios = {c: to_ratio(v, f"{info.id} {c}") for c, v in zip(convs, spec)}
            _per_conv(info, units, conv_ratios, ratios, physical)
        else:
            per_conv = f" (or {len(convs)}: one per conv, in module order)" if convs else ""
            raise LayoutError(f"a ratio list for {info.id} has {len(layout)} entries [{', '.join(layout)}], "
                              f"got {len(spec)}{per_conv}")
    elif isinstance(spec, Mapping):
        _apply_mapping(spec, info, units, ratios)
    elif spec is not None:
        r = to_ratio(spec, info.id)
        first = next((u.name for u in units if u.kind == "conv"), None)
        for u in units:
            if u.kind != "conv" or (info.family == "vgg" and u.name == first):
                continue
            ratios[u.name] = r
    if overrides:
        _apply_mapping(overrides, info, units, ratios, "overrides")
    for i, key in enumerate(skip):
        for u in _select(key, info, units, ("skip", i)):
            ratios[u.name] = Fraction(0)
    if conv_ratios is None or overrides or skip:
        spread = {c: Fraction(0) for c in convs}
        for u in units:
            for c in u.convs:
                spread[c] = ratios[u.name]
        if conv_ratios is not None:  # a per-conv list with overrides/skip: the units' final ratios win
            spread = {c: (spread[c] if any(c in u.convs for u in units) else conv_ratios[c]) for c in convs}
        conv_ratios = spread
    return Resolved(ratios, conv_ratios)


def _per_conv(info: Network, units: Sequence[UnitLike], conv_ratios: dict[str, Fraction],
              ratios: dict[str, Fraction], physical: bool) -> None:
    owner = {c: u for u in units for c in u.convs}
    for u in units:
        vals = {conv_ratios[c] for c in u.convs if c in conv_ratios}
        if len(vals) > 1 and physical:
            raise LayoutError(
                f"the convs {', '.join(u.convs)} of {info.id} share their output channels ({u.name}) and need one "
                f"ratio, got {', '.join(fmt_ratio(v) for v in sorted(vals))} (count a mask-based layout with the "
                "outputs-only convention)")
        ratios[u.name] = conv_ratios[u.convs[0]]
    if physical:
        for c, r in conv_ratios.items():
            if r and c not in owner:
                raise LayoutError(
                    f"conv {c} of {info.id} is not pruned by surgery (its channels feed a parameter-free shortcut or "
                    f"no unit holds it), got ratio {fmt_ratio(r)} (count a mask-based layout with the outputs-only "
                    "convention)")


# ---------------------------------------------------------------------- MAC tables
def side_after(side: int, chain: Sequence[Sequence[Any]]) -> int:
    """The square side after the spatial ops of ``chain`` on an input of ``side`` pixels:
    ``["conv", k, s, p, d]``: ``floor((x + 2p - d(k-1) - 1)/s) + 1`` (PyTorch's Conv2d);
    ``["pool", k, s, p, d, ceil_mode]``: the same with ``ceil`` when ``ceil_mode``;
    ``["adaptive", out]``: ``out``."""
    for op in chain:
        if op[0] == "adaptive":
            side = int(op[1])
            continue
        k, s, p, d = (int(x) for x in op[1:5])
        num = side + 2 * p - d * (k - 1) - 1
        ceil = op[0] == "pool" and len(op) > 5 and bool(op[5])
        out = (-(-num // s) if ceil else num // s) + 1
        if ceil and (out - 1) * s >= side + p:  # PyTorch: the last window must start inside the input
            out -= 1
        side = out
        if side < 1:
            raise LayoutError(f"the input is too small for this network (a layer's output would be {side} pixels)")
    return side


def has_table(network: str) -> bool:
    """True when a MAC table ships for ``network`` (every catalog network the engine builds)."""
    return resources.files("audit").joinpath(f"data/mac-tables/{network}.json").is_file()


@cache
def _read_table(network: str) -> str:
    return resources.files("audit").joinpath(f"data/mac-tables/{network}.json").read_text(encoding="utf-8")


def load_table(network: str) -> dict[str, Any]:
    """The MAC table of ``network`` as data; :class:`UnknownName` for a network without one."""
    if not has_table(network):
        known = sorted(n for n in catalog.NETWORKS if has_table(n))
        raise UnknownName(f"no MAC table for network {network!r}.{did_you_mean(network, known)} "
                          f"(known: {', '.join(known)})")
    data = json.loads(_read_table(network))
    if data.get("format") != TABLE_FORMAT:
        raise LayoutError(f"the MAC table of {network} has format {data.get('format')!r}, not {TABLE_FORMAT}")
    return data


def _units(table: Mapping[str, Any]) -> list[Unit]:
    return [Unit(u["name"], u["stage"], u["block"], u["label"], u["channels"], u["kind"], tuple(u["convs"]))
            for u in table["units"]]


@dataclass(frozen=True)
class MacCount:
    """Dense and pruned MACs (in the chosen convention: MACs, 2xMACs, ...) and parameters, per image."""

    dense_macs: int
    pruned_macs: int
    dense_params: int
    pruned_params: int

    @property
    def speedup(self) -> float:
        """Dense MACs / pruned MACs (>= 1 for a pruning)."""
        return self.dense_macs / self.pruned_macs

    @property
    def flops_reduction_pct(self) -> float:
        """MACs removed, percent of the dense MACs."""
        return 100.0 * (1 - self.pruned_macs / self.dense_macs)

    @property
    def params_reduction_pct(self) -> float:
        """Parameters removed, percent of the dense parameters."""
        return 100.0 * (1 - self.pruned_params / self.dense_params)


def _channels(dense: int, unit: str | None, kept: Mapping[str, int], classes: int, is_classes: bool) -> int:
    if is_classes:
        return classes
    return kept[unit] if unit is not None else dense


def _tally(table: Mapping[str, Any], kept: Mapping[str, int], conv_kept: Mapping[str, int] | None,
           convention: str, size: int, classes: int) -> tuple[int, int, int]:
    """(MACs in the convention, params, params without BN) of the network at ``kept`` filters per unit."""
    macs = params = bn_params = 0
    chains = table["chains"]
    for row in table["layers"]:
        row = {**row, "spatial_in": chains[row["spatial_in"]], "spatial_out": chains[row["spatial_out"]]}
        kind = row["kind"]
        cin = _channels(row["in"], row.get("in_unit"), kept, classes, False)
        cout = _channels(row["out"], row.get("out_unit"), kept, classes, bool(row.get("classes")))
        if kind == "conv":
            hw = side_after(size, row["spatial_out"]) ** 2
            k, g = row["k"], row["groups"]
            if convention == "outputs-only":
                own = conv_kept[row["name"]] if conv_kept is not None else cout
                macs += hw * own * (row["in"] // g) * k
            elif not (convention == "no-projection" and row.get("role") == "projection"):
                macs += hw * cout * (cin // g) * k
                if convention == "ptflops" and row["bias"]:
                    macs += hw * cout
            if row["first"]:
                params += cout * (cin // g) * k + (cout if row["bias"] else 0)
        elif kind == "linear":
            m_in = row["in"] if convention == "outputs-only" else cin  # HRank's counting never shrinks inputs
            macs += m_in * cout + (cout if convention in ("ptflops", "outputs-only") and row["bias"] else 0)
            if row["first"]:
                params += cin * cout + (cout if row["bias"] else 0)
        elif kind == "bn":
            if convention == "ptflops":
                macs += cout * side_after(size, row["spatial_out"]) ** 2 * (2 if row["affine"] else 1)
            if row["first"] and row["affine"]:
                params += 2 * cout
                bn_params += 2 * cout
        elif kind == "relu":
            if convention == "ptflops":
                macs += cout * side_after(size, row["spatial_out"]) ** 2
        elif kind == "pool":
            if convention == "ptflops":
                macs += cin * side_after(size, row["spatial_in"]) ** 2
        else:  # pragma: no cover - the generator writes only these kinds
            raise LayoutError(f"MAC table row of unknown kind {kind!r}")
    if convention == "2xMACs":
        macs *= 2
    return macs, params, params - bn_params


def _check_options(rounding: str, convention: str) -> None:
    if rounding not in ROUNDINGS:
        raise LayoutError(f"unknown rounding rule {rounding!r} (known: {', '.join(ROUNDINGS)})")
    if convention not in CONVENTIONS:
        raise LayoutError(f"unknown counting convention {convention!r} (known: {', '.join(CONVENTIONS)})")


def flops_json(network: str, ratios: Any, *, overrides: Mapping[Any, Any] | None = None, skip: Sequence[str] = (),
               rounding: str = "ceil-pruned", convention: str = "MACs", input_size: int | None = None,
               classes: int | None = None) -> dict[str, Any]:
    """The ``rerun flops --json`` report of ``network`` at ``ratios`` from its MAC table (no torch):
    dense/pruned MACs in ``convention`` (``dense_2x_macs`` doubles them), speedup, reduction percents,
    parameters with and without BN, and per unit its ratio, channels and kept filters.  The engine's
    ``audit.rerun.flops.flops_report(...).to_json()`` gives the same dict (pinned by a test).
    Errors: :class:`UnknownName` (no table), :class:`LayoutError` (ratios, rounding, convention)."""
    _check_options(rounding, convention)
    table = load_table(network)
    info = catalog.network(network)
    size = info.input_size if input_size is None else int(input_size)
    n_classes = info.classes if classes is None else int(classes)
    if n_classes < 1:
        raise LayoutError(f"the class count must be positive, not {n_classes}")
    units = _units(table)
    res = resolve(info, units, ratios, overrides, skip, table["convs"], physical=convention != "outputs-only")
    kept = {u.name: kept_count(u.channels, res.units[u.name], rounding) for u in units}
    dense_kept = {u.name: u.channels for u in units}
    conv_out = {row["name"]: row["out"] for row in table["layers"] if row["kind"] == "conv"}
    conv_kept = {c: kept_count(conv_out[c], r, rounding) for c, r in res.convs.items()}
    d_macs, d_params, d_nobn = _tally(table, dense_kept, None, convention, size, n_classes)
    p_macs, p_params, p_nobn = _tally(table, kept, conv_kept, convention, size, n_classes)
    shown = [u for u in units if u.kind == "conv" or res.units[u.name]]
    return report(network, n_classes, size, convention, rounding, shown, res.units, kept,
                   (d_macs, d_params, d_nobn), (p_macs, p_params, p_nobn))


def report(network: str, classes: int, size: int, convention: str, rounding: str, units: Sequence[UnitLike],
            ratios: Mapping[str, Fraction], kept: Mapping[str, int], dense: tuple[int, int, int],
            pruned: tuple[int, int, int]) -> dict[str, Any]:
    """The ``rerun flops --json`` dict, shared by :func:`flops_json` and the engine's ``FlopsReport.to_json``:
    ``dense``/``pruned`` are (MACs in ``convention``, params, params without BN); ``units`` the rows shown."""
    factor = 1 if convention == "2xMACs" else 2
    return {
        "network": network, "num_classes": classes, "input_size": size,
        "convention": CONVENTIONS[convention], "convention_name": convention, "rounding": rounding,
        "dense_macs": dense[0], "pruned_macs": pruned[0],
        "dense_2x_macs": factor * dense[0], "pruned_2x_macs": factor * pruned[0],
        "speedup": dense[0] / pruned[0],
        "flops_reduction_pct": 100.0 * (1 - pruned[0] / dense[0]),
        "dense_params": dense[1], "pruned_params": pruned[1],
        "dense_params_no_bn": dense[2], "pruned_params_no_bn": pruned[2],
        "params_reduction_pct": 100.0 * (1 - pruned[1] / dense[1]),
        "layers": [{"layer": u.label, "stage": u.stage, "ratio": fmt_ratio(ratios[u.name]),
                    "channels": u.channels, "kept": kept[u.name]} for u in units],
    }


def count_macs(network: str, ratios: float | Sequence[float] | Mapping[str, float] | str, *, skip: Sequence[str] = (),
               rounding: str = "ceil-pruned", convention: str = "MACs", input_size: int | None = None,
               classes: int | None = None, overrides: Mapping[str, float] | None = None) -> MacCount:
    """Dense and pruned MACs and parameters of catalog network ``network`` at ``ratios``, torch-free.

    ``ratios``: a uniform ratio, a stage-wise list following the catalog's ``ratio_layout``, a per-conv
    list, or a mapping of keys to ratios (see :func:`resolve`); ``skip`` lists blocks/layers left
    unpruned; ``rounding`` one of :data:`ROUNDINGS`; ``convention`` one of :data:`CONVENTIONS`
    (the counts are in that convention); ``input_size`` (pixels, square) and ``classes`` default to the
    catalog's.  Raises :class:`UnknownName` for a network without a MAC table and :class:`LayoutError`
    for a layout that does not fit (a wrong list length names the layout)."""
    d = flops_json(network, ratios, overrides=overrides, skip=skip, rounding=rounding, convention=convention,
                   input_size=input_size, classes=classes)
    return MacCount(d["dense_macs"], d["pruned_macs"], d["dense_params"], d["pruned_params"])
