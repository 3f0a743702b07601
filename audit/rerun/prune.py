"""L1-norm filter pruning (Li et al., ICLR'17) as physical surgery, with the seed's conventions.

* ResNet basic blocks (resnet18/34, CIFAR ResNets): the first conv of each block is pruned; its
  BN and the second conv's input channels follow.
* Bottlenecks (ResNet-50, ResNet-164): conv1 and conv2 of each block, with the stage's ratio.
* Residual streams (:func:`residual_groups`, only when named: ``layerN.residual`` or ``stem``; ResNets
  with projection shortcuts): the second/third convs, the projection and the stem that write one
  chain of additions lose the same channels, their readers' inputs follow (Li et al.'s
  ResNet-34-pruned-C).  Option-A CIFAR ResNets have none; the classifier is never pruned.
* VGG (19: ``conv0`` .. ``conv15``; 16: ``conv0`` .. ``conv12``): any conv by index or range; the
  uniform shorthand prunes every conv but the first; the last conv's consumer is the classifier.

The ratio forms (uniform, stage-wise, per-conv, mapping, overrides, skip) and the rounding rules are
:mod:`audit.core.macs`'s, shared with the torch-free MAC tables.

Ratios are exact fractions of their decimal text: by default a layer of ``C`` filters at ratio ``r``
loses ``min(ceil(r * C), C - 1)`` filters (0.7 of 10 is 7, never 8).  Filters are ranked by their L1
norm (computed in float64); ties keep the lower index.  The random-filter baseline shares all of
this except the ranking.  The result is a small-dense network of new Conv/BN/Linear modules.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from audit.core import macs
from audit.names import unknown_name

from .errors import RatioError
from .models import build_model, init_weights, network_info

__all__ = [
    "RANKINGS",
    "PruneGroup",
    "PruneReport",
    "conv_at",
    "kept_count",
    "l1_norms",
    "masked_copy",
    "conv_names",
    "prune_groups",
    "prune_units",
    "plan_from_ratios",
    "prune_kept",
    "prune_model",
    "pruned_architecture",
    "residual_groups",
    "resolve_ratios",
    "select_filters",
    "slice_bn",
    "slice_conv",
    "slice_linear",
    "to_ratio",
]

RANKINGS = ("l1", "random")
"""Filter-ranking criteria of :func:`select_filters` (the engine's methods: ``audit.rerun.methods``)."""


@dataclass(frozen=True)
class PruneGroup:
    """One prunable conv: its BN and the modules that consume its output channels."""

    name: str  # module path of the conv, e.g. "layer1.0.conv1" or "features.3"
    bn: str
    consumers: tuple[str, ...]
    stage: str  # the ratio-list entry it belongs to ("layer1", ..., or "conv3" for VGG)
    block: str | None  # "layer1.0" for ResNets
    label: str  # display name ("layer1.0.conv1", "conv1")
    channels: int
    kind: str = "conv"  # "conv": one conv's filters; "residual": the channels of a residual stream
    extra: tuple[tuple[str, str], ...] = ()  # further (conv, bn) pairs writing the same channels (residual)

    @property
    def members(self) -> tuple[tuple[str, str], ...]:
        """(conv, bn) pairs whose outputs the group prunes, lead (the conv that ranks the filters) first."""
        return ((self.name, self.bn),) + self.extra if self.kind == "conv" else self.extra

    @property
    def convs(self) -> tuple[str, ...]:
        """Module paths of the convs whose output filters this group removes, lead first."""
        return tuple(c for c, _ in self.members)


@dataclass
class PruneReport:
    """What a pruning did: per group, the ratio, the channels before and the kept filter indices."""

    network: str
    method: str
    ratios: dict[str, Fraction]
    kept: dict[str, list[int]] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)

    def plan(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.kept.items()}


# ---------------------------------------------------------------------- ratios
def to_ratio(value: Any, where: str) -> Fraction:
    """An exact pruning ratio in [0, 1) from a number or its decimal text (:func:`audit.core.macs.to_ratio`);
    :class:`RatioError` otherwise."""
    return macs.to_ratio(value, where, RatioError)


_fmt = macs.fmt_ratio


def kept_count(channels: int, ratio: Fraction, rounding: str = "ceil-pruned") -> int:
    """Filters kept of ``channels`` at ``ratio`` (:func:`audit.core.macs.kept_count`; default
    ``C - min(ceil(r*C), C-1)``, exact arithmetic)."""
    try:
        return macs.kept_count(channels, ratio, rounding)
    except macs.LayoutError as exc:
        raise RatioError(str(exc)) from None


def _get(model: nn.Module, path: str) -> nn.Module:
    return model.get_submodule(path)


def conv_at(model: nn.Module, path: str) -> nn.Conv2d:
    """The ``nn.Conv2d`` at module path ``path`` of ``model`` (a prune group's conv)."""
    conv = model.get_submodule(path)
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"{path} is a {type(conv).__name__}, not a Conv2d")
    return conv


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def prune_groups(model: nn.Module, network: str) -> list[PruneGroup]:
    """The prunable convs of ``model`` under the conventions above, in forward order (``conv`` groups;
    the residual streams are :func:`residual_groups`)."""
    info = network_info(network)
    groups: list[PruneGroup] = []
    if info.family == "vgg":
        convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
        mods = dict(model.named_modules())
        head = "classifier" if isinstance(mods["classifier"], nn.Linear) else "classifier.0"
        for k, (name, conv) in enumerate(convs):
            prefix, _, idx = name.rpartition(".")
            bn = f"{prefix}.{int(idx) + 1}"
            assert isinstance(mods[bn], nn.BatchNorm2d)
            consumer = convs[k + 1][0] if k + 1 < len(convs) else head
            groups.append(PruneGroup(name, bn, (consumer,), f"conv{k}", None, f"conv{k}", conv.out_channels))
        return groups
    stages = [s for s in info.ratio_layout if s.startswith("layer")]
    for stage in stages:
        layer = _get(model, stage)
        assert isinstance(layer, nn.Sequential)
        for b, block in enumerate(layer):
            path = f"{stage}.{b}"
            if hasattr(block, "conv3"):  # bottleneck
                groups.append(PruneGroup(f"{path}.conv1", f"{path}.bn1", (f"{path}.conv2",), stage, path,
                                         f"{path}.conv1", conv_at(model, f"{path}.conv1").out_channels))
                groups.append(PruneGroup(f"{path}.conv2", f"{path}.bn2", (f"{path}.conv3",), stage, path,
                                         f"{path}.conv2", conv_at(model, f"{path}.conv2").out_channels))
            else:
                groups.append(PruneGroup(f"{path}.conv1", f"{path}.bn1", (f"{path}.conv2",), stage, path,
                                         f"{path}.conv1", conv_at(model, f"{path}.conv1").out_channels))
    return groups


def _projection_of(block: nn.Module) -> str | None:
    """The attribute holding a block's 1x1 conv + BN projection shortcut (``downsample`` in
    torchvision, ``shortcut`` in the CIFAR option-B blocks), or None for an identity/option-A one."""
    for attr in ("downsample", "shortcut"):
        sub = getattr(block, attr, None)
        if isinstance(sub, nn.Sequential) and len(sub) == 2 and isinstance(sub[0], nn.Conv2d):
            return attr
    return None


def residual_groups(model: nn.Module, network: str) -> list[PruneGroup]:
    """The residual streams of a ResNet with projection shortcuts (torchvision ResNets, CIFAR option B).

    A stream is the channel set that the convs writing into one chain of residual additions share:
    the stem (up to the first projection), each stage's projection shortcut and the last conv of each
    of its blocks (conv2 of a basic block, conv3 of a bottleneck).  Pruning it removes the same
    indices from every writer (conv filters and BN) and from every reader's inputs (the next blocks'
    conv1, the next stage's conv1 and projection, the classifier).  Named ``stem`` when it holds only
    the stem, else ``layerN.residual`` (N = the last stage it spans); its ``stage`` is ``stem`` when it
    holds the stem.  Filters are ranked by the lead writer: the projection that opens the stream, or
    the stem.  Option-A CIFAR ResNets have none (the zero-padding shortcut fixes the channel count)."""
    info = network_info(network)
    if info.family == "vgg" or (info.family == "cifar-resnet" and (info.shortcut or "A") == "A"):
        return []
    stages = [s for s in info.ratio_layout if s.startswith("layer")]
    streams: list[dict[str, Any]] = []
    cur: dict[str, Any] = {"writers": [("conv1", "bn1")], "readers": [], "name": "stem", "stage": "stem"}
    for stage in stages:
        layer = _get(model, stage)
        assert isinstance(layer, nn.Sequential)
        for b, block in enumerate(layer):
            path = f"{stage}.{b}"
            proj = _projection_of(block)
            last = "3" if hasattr(block, "conv3") else "2"
            cur["readers"].append(f"{path}.conv1")
            if proj is not None:
                if b:
                    raise RatioError(f"{network}: a projection shortcut inside stage {stage} (block {b}) is not a "
                                     "layout the engine knows")
                cur["readers"].append(f"{path}.{proj}.0")
                streams.append(cur)
                cur = {"writers": [(f"{path}.{proj}.0", f"{path}.{proj}.1")], "readers": [],
                       "name": f"{stage}.residual", "stage": stage}
            elif b == 0:
                cur["name"] = f"{stage}.residual"  # an identity shortcut: the stream runs on
            cur["writers"].append((f"{path}.conv{last}", f"{path}.bn{last}"))
    cur["readers"].append("fc")
    streams.append(cur)
    out = []
    for st in streams:
        lead = conv_at(model, st["writers"][0][0])
        out.append(PruneGroup(st["name"], "", tuple(st["readers"]), st["stage"], None, st["name"], lead.out_channels,
                              "residual", tuple(st["writers"])))
    return out


def prune_units(model: nn.Module, network: str) -> list[PruneGroup]:
    """Every prune unit of ``model``: the conv groups (:func:`prune_groups`), then the residual
    streams (:func:`residual_groups`)."""
    return prune_groups(model, network) + residual_groups(model, network)


def conv_names(model: nn.Module) -> list[str]:
    """Module paths of every Conv2d of ``model`` in module order (the order of a per-conv ratio list)."""
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _meta_model(network: str) -> nn.Module:
    with torch.device("meta"):
        return build_model(network, network_info(network).classes)


def resolve_ratios(
    network: str,
    spec: Any,
    groups: list[PruneGroup] | None = None,
    overrides: Mapping[Any, Any] | None = None,
    skip: Iterable[str] = (),
    model: nn.Module | None = None,
) -> dict[str, Fraction]:
    """Per-group ratios from a uniform ratio, a stage-wise list, a per-conv list or a mapping of keys
    to ratios (:func:`audit.core.macs.resolve`, the one implementation of these forms).

    ``spec`` forms: ``0.5`` (uniform; VGG: every conv but the first), ``"0,0.6,0.6,0.6,0.21,0"`` or a
    list (one entry per item of the network's ratio layout, or one per conv), ``{"layer1": 0.6,
    "layer4.2": 0, "layer3.residual": 0.2}`` or for VGG ``{"1-15": 0.5}``.  ``overrides`` (same key
    forms) apply after; ``skip`` lists blocks or layers left unpruned (Li et al.'s ResNet-34
    "pruned-B").  The result names every conv group, and a residual stream only when it is pruned.
    Errors: :class:`RatioError` (one line; ``.field`` locates it in a recipe), UnknownName."""
    info = network_info(network)
    if model is None:
        model = _meta_model(network)
    units = (groups if groups is not None else prune_groups(model, network)) + residual_groups(model, network)
    try:
        res = macs.resolve(info, units, spec, overrides, tuple(skip), conv_names(model))
    except macs.LayoutError as exc:
        raise RatioError(str(exc), exc.field) from None
    return {u.name: r for u, r in ((u, res.units[u.name]) for u in units) if u.kind == "conv" or r}


# ---------------------------------------------------------------------- selection and surgery
def l1_norms(weight: torch.Tensor) -> list[float]:
    """L1 norm of each output filter, in float64."""
    return weight.detach().to("cpu", torch.float64).abs().flatten(1).sum(1).tolist()


def select_filters(weight: torch.Tensor, n_keep: int, method: str = "l1",
                   generator: torch.Generator | None = None) -> list[int]:
    """Indices (ascending) of the ``n_keep`` filters to keep: largest L1 norm, ties to the lower index."""
    c = weight.shape[0]
    if not 1 <= n_keep <= c:
        raise ValueError(f"cannot keep {n_keep} of {c} filters")
    if method == "l1":
        norms = l1_norms(weight)
        order = sorted(range(c), key=lambda i: (-norms[i], i))
    elif method == "random":
        order = torch.randperm(c, generator=generator).tolist()
    else:
        raise ValueError(f"unknown filter-ranking method {method!r} (known: {', '.join(RANKINGS)})")
    return sorted(order[:n_keep])


def _idx(indices: list[int], device: torch.device) -> torch.Tensor:
    return torch.tensor(indices, dtype=torch.long, device=device)


def slice_conv(conv: nn.Conv2d, out_idx: list[int] | None = None, in_idx: list[int] | None = None) -> nn.Conv2d:
    """A new Conv2d holding the kept output filters / input channels of ``conv``."""
    if conv.groups != 1:
        raise ValueError("grouped convolutions are not supported")
    w = conv.weight.detach()
    if out_idx is not None:
        w = w.index_select(0, _idx(out_idx, w.device))
    if in_idx is not None:
        w = w.index_select(1, _idx(in_idx, w.device))
    new = nn.Conv2d(w.shape[1], w.shape[0], conv.kernel_size, conv.stride, conv.padding, conv.dilation,  # type: ignore[arg-type]
                    bias=conv.bias is not None, padding_mode=conv.padding_mode, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        new.weight.copy_(w)
        if conv.bias is not None:
            b = conv.bias.detach()
            new.bias.copy_(b.index_select(0, _idx(out_idx, b.device)) if out_idx is not None else b)  # type: ignore[union-attr]
    return new


def slice_bn(bn: nn.BatchNorm2d, idx: list[int]) -> nn.BatchNorm2d:
    new = nn.BatchNorm2d(len(idx), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                         track_running_stats=bn.track_running_stats, device=bn.weight.device, dtype=bn.weight.dtype)
    i = _idx(idx, bn.weight.device)
    with torch.no_grad():
        if bn.affine:
            new.weight.copy_(bn.weight.detach().index_select(0, i))
            new.bias.copy_(bn.bias.detach().index_select(0, i))
        if bn.track_running_stats:
            assert bn.running_mean is not None and bn.running_var is not None and bn.num_batches_tracked is not None
            assert new.running_mean is not None and new.running_var is not None and new.num_batches_tracked is not None
            new.running_mean.copy_(bn.running_mean.index_select(0, i))
            new.running_var.copy_(bn.running_var.index_select(0, i))
            new.num_batches_tracked.copy_(bn.num_batches_tracked)
    return new


def slice_linear(lin: nn.Linear, in_idx: list[int]) -> nn.Linear:
    w = lin.weight.detach().index_select(1, _idx(in_idx, lin.weight.device))
    new = nn.Linear(w.shape[1], w.shape[0], bias=lin.bias is not None, device=w.device, dtype=w.dtype)
    with torch.no_grad():
        new.weight.copy_(w)
        if lin.bias is not None:
            new.bias.copy_(lin.bias.detach())
    return new


def _apply_kept(model: nn.Module, groups: list[PruneGroup], kept: Mapping[str, list[int]]) -> None:
    for g in groups:
        idx = kept[g.name]
        if len(idx) == g.channels:
            continue
        for conv_name, bn_name in g.members:
            conv = _get(model, conv_name)
            assert isinstance(conv, nn.Conv2d)
            _set(model, conv_name, slice_conv(conv, out_idx=idx))
            bn = _get(model, bn_name)
            assert isinstance(bn, nn.BatchNorm2d)
            _set(model, bn_name, slice_bn(bn, idx))
        for c in g.consumers:
            mod = _get(model, c)
            if isinstance(mod, nn.Conv2d):
                _set(model, c, slice_conv(mod, in_idx=idx))
            elif isinstance(mod, nn.Linear):
                _set(model, c, slice_linear(mod, idx))
            else:  # pragma: no cover - the conventions name only convs and linears
                raise TypeError(f"cannot slice the input of {type(mod).__name__} {c}")


def _generator(seed: int, name: str) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(((seed & 0xFFFFFFFF) << 32) | zlib.crc32(name.encode()))
    return g


def _groups_named(model: nn.Module, network: str, names: Mapping[str, Any], what: str) -> list[PruneGroup]:
    """The groups in play: every conv group of ``model``, then the residual streams that ``names`` name;
    :class:`RatioError` when ``names`` (the keys of the ratios or of a plan; ``what`` says which, e.g.
    "ratios name") name a layer that ``network`` does not prune."""
    groups = prune_groups(model, network)
    residual = [g for g in residual_groups(model, network) if g.name in names]
    unknown = set(names) - {g.name for g in groups + residual}
    if unknown:
        raise RatioError(f"{what} layers that {network} does not prune: {', '.join(sorted(unknown))}")
    return groups + residual


def prune_model(
    model: nn.Module,
    network: str,
    ratios: Mapping[str, Fraction],
    method: str = "l1",
    seed: int = 0,
    rounding: str = "ceil-pruned",
) -> tuple[nn.Module, PruneReport]:
    """A small-dense copy of ``model`` with the selected filters physically removed.

    ``ratios`` maps group names (see :func:`prune_groups`, :func:`residual_groups`) to ratios
    (:func:`resolve_ratios`); ``rounding`` is a rule of :data:`audit.core.macs.ROUNDINGS`.
    ``method`` is ``l1`` or ``random`` (seeded by ``seed`` and the layer name); a group's filters are
    ranked on its lead conv.  ``model`` is not modified.
    """
    if method not in RANKINGS:
        raise RatioError(unknown_name("filter-ranking method", method, RANKINGS))
    groups = _groups_named(model, network, ratios, "ratios name")
    kept = {}
    for g in groups:
        n_keep = kept_count(g.channels, Fraction(ratios.get(g.name, 0)), rounding)
        kept[g.name] = select_filters(conv_at(model, g.convs[0]).weight, n_keep, method,
                                      _generator(seed, g.name) if method == "random" else None)
    return prune_kept(model, network, ratios, method, kept)


def prune_kept(model: nn.Module, network: str, ratios: Mapping[str, Fraction], method: str,
               kept: Mapping[str, list[int]]) -> tuple[nn.Module, PruneReport]:
    """A small-dense copy of ``model`` keeping the filters ``kept[group]`` (chosen by ``method``,
    e.g. a pruning stage); a group missing from ``kept`` keeps all its filters.  ``model`` is not
    modified."""
    groups = _groups_named(model, network, {**ratios, **kept}, "ratios name")
    report = PruneReport(network, method, {g.name: Fraction(ratios.get(g.name, 0)) for g in groups})
    for g in groups:
        report.channels[g.name] = g.channels
        report.kept[g.name] = list(kept.get(g.name, range(g.channels)))
    pruned = copy.deepcopy(model)
    _apply_kept(pruned, groups, report.kept)
    return pruned, report


def pruned_architecture(network: str, num_classes: int, plan: Mapping[str, int]) -> nn.Module:
    """A freshly initialised small-dense network with ``plan[name]`` filters kept in each group.

    This is what scratch training of a pruned architecture starts from (the family's own
    initialisation applied to the small shapes), and the skeleton a pruned checkpoint loads into.
    """
    model = build_model(network, num_classes)
    groups = _groups_named(model, network, plan, "plan names")
    kept = {}
    for g in groups:
        n = int(plan.get(g.name, g.channels))
        if not 1 <= n <= g.channels:
            raise RatioError(f"cannot keep {n} of {g.channels} filters of {g.name}")
        kept[g.name] = list(range(n))
    _apply_kept(model, groups, kept)
    init_weights(model, network_info(network).family)
    return model


def plan_from_ratios(model: nn.Module, network: str, ratios: Mapping[str, Fraction],
                     rounding: str = "ceil-pruned") -> dict[str, int]:
    """Kept filters per group for ``ratios`` (no weights needed)."""
    return {g.name: kept_count(g.channels, Fraction(ratios.get(g.name, 0)), rounding)
            for g in _groups_named(model, network, ratios, "ratios name")}


def masked_copy(model: nn.Module, report: PruneReport) -> nn.Module:
    """The large model with the pruned filters zeroed (conv filter, BN weight and bias of every writer).

    In eval mode it computes the same function as the small-dense model of ``report``: a zeroed
    channel leaves BN as 0, ReLU as 0, and contributes nothing to its consumer (a residual stream's
    channel is 0 in every writer, so its sums stay 0).
    """
    masked = copy.deepcopy(model)
    for g in _groups_named(masked, report.network, report.kept, "the report names"):
        keep = set(report.kept[g.name])
        drop = [i for i in range(g.channels) if i not in keep]
        if not drop:
            continue
        i = torch.tensor(drop, dtype=torch.long)
        for conv_name, bn_name in g.members:
            conv, bn = conv_at(masked, conv_name), _get(masked, bn_name)
            assert isinstance(bn, nn.BatchNorm2d)
            with torch.no_grad():
                conv.weight[i] = 0
                if conv.bias is not None:
                    conv.bias[i] = 0
                bn.weight[i] = 0
                bn.bias[i] = 0
    return masked
