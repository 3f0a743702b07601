"""Counting multiply-accumulates and parameters on the engine's models (the reference the MAC tables follow).

MACs count convolutions and linear layers only (no BN, ReLU, pooling, bias, residual additions):
a conv contributes ``H_out * W_out * C_out * (C_in / groups) * k_h * k_w`` and a linear layer
``in_features * out_features``.  ``2 x MACs`` is the alternative "FLOPs" convention (the seed
prints MACs in Tab. 4 and 2xMACs in Tab. 6/7).  Speedup = dense MACs / pruned MACs.  The other
named conventions (``ptflops``, ``no-projection``, ``outputs-only``) and the rounding rules are
defined, with their sources, in :mod:`audit.core.macs`; :func:`count_in` counts a model under any
of them with forward hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from audit.core import macs

from .errors import RatioError
from .models import build_model, network_info
from .prune import PruneGroup, conv_names, kept_count, prune_units, pruned_architecture

__all__ = ["Count", "FlopsReport", "count", "count_in", "flops_report", "projection_convs"]

_RELUS = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


@dataclass(frozen=True)
class Count:
    """MACs (in the convention counted) of one image, parameters (all, and without BN) and MACs per module."""

    macs: int
    params: int
    params_no_bn: int
    per_layer: dict[str, int]


def projection_convs(model: nn.Module) -> set[str]:
    """Module paths of the 1x1 projection-shortcut convs (``downsample.0`` / ``shortcut.0``) of ``model``."""
    return {n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
            and (n.endswith("downsample.0") or n.endswith("shortcut.0"))}


def count(model: nn.Module, input_size: int, channels: int = 3) -> Count:
    """MACs of one forward pass of a ``channels x input_size x input_size`` image, and parameters."""
    return count_in(model, input_size, "MACs", channels=channels)


def count_in(model: nn.Module, input_size: int, convention: str = "MACs", conv_kept: Mapping[str, int] | None = None,
             channels: int = 3) -> Count:
    """The count of one forward pass under ``convention`` (:data:`audit.core.macs.CONVENTIONS`), and parameters.

    ``outputs-only`` (HRank's counting) is meant for the dense model: each conv counts ``conv_kept[name]``
    output filters (its own width when absent) against its dense inputs; linear layers add their bias
    (HRank's ``get_flops.py``)."""
    if convention not in macs.CONVENTIONS:
        raise RatioError(f"unknown counting convention {convention!r} (known: {', '.join(macs.CONVENTIONS)})")
    per_layer: dict[str, int] = {}
    hooks = []
    skip = projection_convs(model) if convention == "no-projection" else set()
    pt = convention == "ptflops"
    if convention == "outputs-only" and conv_kept is None:
        conv_kept = {}

    def hook(name: str):
        def fn(mod: nn.Module, inp: Any, out: torch.Tensor) -> None:
            if isinstance(mod, nn.Conv2d):
                k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
                hw = out.shape[2] * out.shape[3]
                own = mod.out_channels if conv_kept is None else conv_kept.get(name, mod.out_channels)
                n = 0 if name in skip else hw * own * k + (hw * mod.out_channels if pt and mod.bias is not None else 0)
            elif isinstance(mod, nn.Linear):
                n = (out[0].numel() // mod.out_features) * mod.in_features * mod.out_features
                n += mod.out_features if (pt or conv_kept is not None) and mod.bias is not None else 0
            elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
                n = inp[0][0].numel() * (2 if mod.affine else 1)
            elif isinstance(mod, _RELUS):
                n = out[0].numel()
            else:
                n = inp[0][0].numel()  # pooling: one per input element
            per_layer[name] = per_layer.get(name, 0) + int(n)
        return fn

    kinds: tuple[type, ...] = (nn.Conv2d, nn.Linear)
    if pt:
        kinds += (nn.modules.batchnorm._BatchNorm, *_RELUS, *_POOLS)
    for name, mod in model.named_modules():
        if isinstance(mod, kinds):
            assert isinstance(mod, nn.Module)
            hooks.append(mod.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, channels, input_size, input_size, device=param.device, dtype=param.dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    bn = sum(p.numel() for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             for p in m.parameters(recurse=False))
    total = sum(per_layer.values()) * (2 if convention == "2xMACs" else 1)
    return Count(total, params, params - bn, per_layer)


@dataclass(frozen=True)
class FlopsReport:
    """Dense and pruned counts of a network at resolved ratios (``layers``: the units shown, with their
    ratio, channels and kept filters); MACs in ``convention``."""

    network: str
    num_classes: int
    input_size: int
    ratios: dict[str, Fraction]
    dense: Count
    pruned: Count
    layers: list[dict[str, Any]]  # name, stage, ratio, channels, kept
    convention: str = "MACs"
    rounding: str = "ceil-pruned"
    units: list[PruneGroup] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        return self.dense.macs / self.pruned.macs

    def to_json(self) -> dict[str, Any]:
        """The ``rerun flops --json`` dict (:func:`audit.core.macs.report`: the MAC tables give the same)."""
        kept = {row["name"]: row["kept"] for row in self.layers}
        return macs.report(self.network, self.num_classes, self.input_size, self.convention, self.rounding,
                           self.units, self.ratios, kept,
                           (self.dense.macs, self.dense.params, self.dense.params_no_bn),
                           (self.pruned.macs, self.pruned.params, self.pruned.params_no_bn))


def flops_report(network: str, ratios: Any, num_classes: int | None = None, input_size: int | None = None,
                 overrides: Mapping[Any, Any] | None = None, skip: tuple[str, ...] = (),
                 rounding: str = "ceil-pruned", convention: str = "MACs") -> FlopsReport:
    """Dense vs pruned MACs (in ``convention``) and parameters of ``network`` at ``ratios`` (see
    ``resolve_ratios``), keeping filters by ``rounding``; shapes only (meta device).  Errors:
    :class:`RatioError` (one line), UnknownName."""
    info = network_info(network)
    classes = info.classes if num_classes is None else num_classes
    size = info.input_size if input_size is None else input_size
    if rounding not in macs.ROUNDINGS:
        raise RatioError(f"unknown rounding rule {rounding!r} (known: {', '.join(macs.ROUNDINGS)})")
    if convention not in macs.CONVENTIONS:
        raise RatioError(f"unknown counting convention {convention!r} (known: {', '.join(macs.CONVENTIONS)})")
    with torch.device("meta"):  # shapes only: no weights are materialised or initialised
        dense_model = build_model(network, classes)
        units = prune_units(dense_model, network)
        try:
            res = macs.resolve(info, units, ratios, overrides, tuple(skip), conv_names(dense_model),
                               physical=convention != "outputs-only")
        except macs.LayoutError as exc:
            raise RatioError(str(exc), exc.field) from None
        shown = [g for g in units if g.kind == "conv" or res.units[g.name]]
        plan = {g.name: kept_count(g.channels, res.units[g.name], rounding) for g in shown}
        layers = [{"name": g.name, "layer": g.label, "stage": g.stage, "ratio": res.units[g.name],
                   "channels": g.channels, "kept": plan[g.name]} for g in shown]
        dense = count_in(dense_model, size, convention)
        if convention == "outputs-only":
            outs = {n: m.out_channels for n, m in dense_model.named_modules() if isinstance(m, nn.Conv2d)}
            conv_kept = {c: kept_count(outs[c], r, rounding) for c, r in res.convs.items()}
            pruned = count_in(dense_model, size, convention, conv_kept)
            params = count_in(pruned_architecture(network, classes, plan), size)
            pruned = Count(pruned.macs, params.params, params.params_no_bn, pruned.per_layer)
        else:
            pruned = count_in(pruned_architecture(network, classes, plan), size, convention)
    return FlopsReport(network, classes, size, {g.name: res.units[g.name] for g in shown}, dense, pruned, layers,
                       convention, rounding, shown)
