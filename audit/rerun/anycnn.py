"""Filter pruning of any torchvision CNN: the project's selection, Torch-Pruning's dependency graph for the surgery.

The project decides *which* filters go: for each prunable conv, ``kept_count(C, r, rounding)``
filters are kept (:func:`audit.core.macs.kept_count`: ``ceil(r*C)`` removed and at most ``C - 1`` by
default, so a layer always keeps one filter), ranked by :func:`audit.rerun.prune.select_filters` (L1
norm in float64, ties to the lower index, or the seeded random baseline).  Torch-Pruning
(``torch_pruning.DependencyGraph``, Fang et al. CVPR'23) only carries out the removal of exactly those
indices through every coupled layer (BN, depthwise convs, concatenations, the classifier); its own
ratio rounding (``int(C * (1 - r))``, which leaves a 16-channel layer at r >= 0.94 *unpruned*) is
never used.

Prunable convs: every ``Conv2d`` (groups 1) whose output-channel group couples no other conv's
outputs -- residual streams and concatenated branch outputs that several convs write are left
whole, like the seed's conventions leave the second convs of residual blocks.  The seed's own
networks keep the engine's own surgery (:mod:`audit.rerun.prune`): Torch-Pruning gives bit-identical
weights on them (pinned by ``tests/rerun/test_anycnn.py``), and the own surgery needs no tracing, works
on the meta device (the FLOPs counter) and without the optional library.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from .errors import RatioError, RerunError
from .prune import kept_count, select_filters, to_ratio

__all__ = ["AnyPruneReport", "prunable_convs", "prune_with_graph", "torchvision_model"]


@dataclass
class AnyPruneReport:
    """Per pruned conv (module path): its filters before, its ratio and the kept filter indices."""

    channels: dict[str, int] = field(default_factory=dict)
    ratios: dict[str, Fraction] = field(default_factory=dict)
    kept: dict[str, list[int]] = field(default_factory=dict)


def _tp() -> Any:
    try:
        import torch_pruning as tp
    except ImportError:
        raise RerunError("pruning this network needs torch-pruning: install the 'rerun' extra "
                         "(pip install 'prune-audit[rerun]')") from None
    return tp


def torchvision_model(name: str, num_classes: int = 1000) -> nn.Module:
    """A freshly initialised torchvision classification model ``name`` (``mobilenet_v2``, ``vgg16_bn``,
    ``densenet121``, ``googlenet``, ...); UnknownName-style :class:`RerunError` otherwise."""
    import torchvision.models as tvm

    from audit.names import did_you_mean

    known = tvm.list_models(module=tvm)
    if name not in known:
        raise RerunError(f"unknown torchvision model {name!r}.{did_you_mean(name, known)}")
    kwargs: dict[str, Any] = {"weights": None, "num_classes": num_classes}
    if name == "googlenet" or name.startswith("inception"):
        kwargs.update(aux_logits=False, init_weights=True)
    return tvm.get_model(name, **kwargs)


def _graph(model: nn.Module, example: torch.Tensor) -> Any:
    tp = _tp()
    was = model.training
    model.eval()
    try:
        return tp.DependencyGraph().build_dependency(model, example_inputs=example)
    finally:
        model.train(was)


def _out_convs(group: Any, tp: Any) -> list[nn.Module]:
    return [dep.target.module for dep, _ in group
            if dep.handler == tp.prune_conv_out_channels and isinstance(dep.target.module, nn.Conv2d)
            and dep.target.module.groups == 1]


def prunable_convs(model: nn.Module, example: torch.Tensor) -> list[str]:
    """Module paths of the convs this module prunes (see the module docstring), in module order."""
    tp = _tp()
    dg = _graph(model, example)
    names = {m: n for n, m in model.named_modules()}
    out = []
    for name, m in model.named_modules():
        if not isinstance(m, nn.Conv2d) or m.groups != 1 or m.out_channels < 2:
            continue
        group = dg.get_pruning_group(m, tp.prune_conv_out_channels, idxs=[0])
        if [names[c] for c in _out_convs(group, tp)] == [name]:
            out.append(name)
    return out


def _generator(seed: int, name: str) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(((seed & 0xFFFFFFFF) << 32) | zlib.crc32(name.encode()))
    return g


def prune_with_graph(model: nn.Module, ratios: Any, example: torch.Tensor, method: str = "l1", seed: int = 0,
                     rounding: str = "ceil-pruned") -> tuple[nn.Module, AnyPruneReport]:
    """A pruned copy of ``model``: ``ratios`` is one ratio for every prunable conv, or a mapping of conv
    module paths to ratios (others unpruned); ``example`` an input of the model's shape (for the graph).
    Raises :class:`RatioError` for a ratio outside [0, 1) or a path that is not a prunable conv."""
    tp = _tp()
    pruned = copy.deepcopy(model)
    targets = prunable_convs(pruned, example)
    if isinstance(ratios, Mapping):
        unknown = sorted(set(map(str, ratios)) - set(targets))
        if unknown:
            raise RatioError(f"not prunable convs of this model: {', '.join(unknown)} "
                             f"(prunable: {', '.join(targets[:6])}{', ...' if len(targets) > 6 else ''})")
        per = {str(k): to_ratio(v, str(k)) for k, v in ratios.items()}
    else:
        r = to_ratio(ratios, "the model")
        per = {t: r for t in targets}
    report = AnyPruneReport()
    mods = dict(pruned.named_modules())
    choice = {}
    for name, r in per.items():  # select on the dense weights first, then cut
        conv = mods[name]
        assert isinstance(conv, nn.Conv2d)
        n_keep = kept_count(conv.out_channels, r, rounding)
        choice[name] = (conv.out_channels, r, select_filters(conv.weight, n_keep, method,
                                                             _generator(seed, name) if method == "random" else None))
    dg = _graph(pruned, example)
    for name, (channels, r, keep) in choice.items():
        report.channels[name], report.ratios[name], report.kept[name] = channels, r, keep
        drop = [i for i in range(channels) if i not in set(keep)]
        if not drop:
            continue
        group = dg.get_pruning_group(mods[name], tp.prune_conv_out_channels, idxs=drop)
        group.prune()
        if mods[name].out_channels != len(keep):  # pragma: no cover - the library's own checks
            raise RerunError(f"surgery of {name} kept {mods[name].out_channels} filters, not {len(keep)}")
    return pruned, report
