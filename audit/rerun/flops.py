"""Counting multiply-accumulates and parameters.

MACs count convolutions and linear layers only (no BN, ReLU, pooling, bias, residual additions):
a conv contributes ``H_out * W_out * C_out * (C_in / groups) * k_h * k_w`` and a linear layer
``in_features * out_features``.  ``2 x MACs`` is the alternative "FLOPs" convention (the seed
prints MACs in Tab. 4 and 2xMACs in Tab. 6/7).  Speedup = dense MACs / pruned MACs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from .models import build_model, network_info
from .prune import _fmt, kept_count, prune_groups, pruned_architecture, resolve_ratios

__all__ = ["Count", "FlopsReport", "count", "flops_report"]


@dataclass(frozen=True)
class Count:
    macs: int
    params: int
    params_no_bn: int
    per_layer: dict[str, int]


def count(model: nn.Module, input_size: int, channels: int = 3) -> Count:
    """MACs of one forward pass of a ``channels x input_size x input_size`` image, and parameters."""
    per_layer: dict[str, int] = {}
    hooks = []

    def hook(name: str):
        def fn(mod: nn.Module, inp: Any, out: torch.Tensor) -> None:
            if isinstance(mod, nn.Conv2d):
                k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
                macs = out[0].numel() * k  # per image (batch of 1)
            else:
                assert isinstance(mod, nn.Linear)
                macs = (out[0].numel() // mod.out_features) * mod.in_features * mod.out_features
            per_layer[name] = per_layer.get(name, 0) + int(macs)
        return fn

    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
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
    return Count(sum(per_layer.values()), params, params - bn, per_layer)


@dataclass(frozen=True)
class FlopsReport:
    network: str
    num_classes: int
    input_size: int
    ratios: dict[str, Fraction]
    dense: Count
    pruned: Count
    layers: list[dict[str, Any]]  # name, stage, ratio, channels, kept

    @property
    def speedup(self) -> float:
        return self.dense.macs / self.pruned.macs

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "num_classes": self.num_classes,
            "input_size": self.input_size,
            "convention": "MACs (conv + linear multiply-accumulates; no BN, ReLU, pooling, bias)",
            "dense_macs": self.dense.macs,
            "pruned_macs": self.pruned.macs,
            "dense_2x_macs": 2 * self.dense.macs,
            "pruned_2x_macs": 2 * self.pruned.macs,
            "speedup": self.speedup,
            "flops_reduction_pct": 100.0 * (1 - self.pruned.macs / self.dense.macs),
            "dense_params": self.dense.params,
            "pruned_params": self.pruned.params,
            "dense_params_no_bn": self.dense.params_no_bn,
            "pruned_params_no_bn": self.pruned.params_no_bn,
            "params_reduction_pct": 100.0 * (1 - self.pruned.params / self.dense.params),
            "layers": [{**row, "ratio": _fmt(row["ratio"])} for row in self.layers],
        }


def flops_report(network: str, ratios: Any, num_classes: int | None = None, input_size: int | None = None,
                 overrides: Mapping[Any, Any] | None = None, skip: tuple[str, ...] = ()) -> FlopsReport:
    """Dense vs pruned MACs and parameters of ``network`` at ``ratios`` (see ``resolve_ratios``)."""
    info = network_info(network)
    classes = info.classes if num_classes is None else num_classes
    size = info.input_size if input_size is None else input_size
    with torch.device("meta"):  # shapes only: no weights are materialised or initialised
        dense_model = build_model(network, classes)
        groups = prune_groups(dense_model, network)
        r = resolve_ratios(network, ratios, groups, overrides, skip)
        plan = {g.name: kept_count(g.channels, r[g.name]) for g in groups}
        pruned_model = pruned_architecture(network, classes, plan)
    layers = [
        {"layer": g.label, "stage": g.stage, "ratio": r[g.name], "channels": g.channels, "kept": plan[g.name]}
        for g in groups
    ]
    with torch.device("meta"):
        return FlopsReport(network, classes, size, r, count(dense_model, size), count(pruned_model, size), layers)
