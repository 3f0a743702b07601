"""The engine's pruning results on the configurations it supported before the layout work (golden data).

``python -m tests.rerun.golden`` (from the repository root) rewrites ``tests/rerun/fixtures/golden-prune.json``;
``tests/rerun/test_golden.py`` asserts that the engine still produces exactly these kept indices, MACs,
parameter counts and pruned weights (SHA-256 of every tensor's bytes): bit-identical surgery.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden-prune.json"

CONFIGS: list[tuple[str, Any, dict[str, Any], tuple[str, ...], str]] = [
    # network, ratios, overrides, skip, method
    ("resnet20", 0.5, {}, (), "l1"),
    ("resnet20", 0.95, {}, (), "l1"),
    ("resnet32", "0,0.3,0.5,0.7,0", {}, (), "random"),
    ("resnet44", 0.3, {"layer2": 0.6}, ("layer3.0",), "l1"),
    ("resnet56", [0, 0.3, 0.5, 0.7, 0], {}, (), "l1"),
    ("resnet56", "0,0.6,0.3,0.1,0", {}, ("layer1.7", "layer1.8", "layer2.0", "layer2.7", "layer3.0", "layer3.8"), "l1"),
    ("resnet110", 0.5, {}, (), "random"),
    ("resnet18", 0.6, {}, (), "l1"),
    ("resnet34", "0,0.5,0.6,0.4,0,0", {}, ("layer1.0", "layer2.0", "layer2.3", "layer3.0", "layer3.5"), "l1"),
    ("resnet50", [0, 0.6, 0.6, 0.6, 0.21, 0], {}, (), "l1"),
    ("vgg19", {"1-15": 0.5}, {}, (), "l1"),
    ("vgg19", 0.7, {"conv15": 0.25}, (), "random"),
]


def digest(state: dict[str, Any]) -> str:
    """SHA-256 over the names, shapes, dtypes and bytes of a state_dict's tensors, in order."""
    h = hashlib.sha256()
    for k, v in state.items():
        t = v.detach().cpu().contiguous()
        h.update(f"{k}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def compute(config: tuple[str, Any, dict[str, Any], tuple[str, ...], str]) -> dict[str, Any]:
    """The record of one configuration: kept indices per group, MACs, params and the pruned weights' digest."""
    import torch

    from audit.rerun.flops import count
    from audit.rerun.models import build_model
    from audit.rerun.prune import prune_model, resolve_ratios

    net, ratios, overrides, skip, method = config
    torch.manual_seed(7)
    classes = 10
    dense = build_model(net, classes)
    r = resolve_ratios(net, ratios, overrides=overrides, skip=skip)
    pruned, report = prune_model(dense, net, r, method, seed=3)
    size = 32
    c = count(pruned, size)
    return {"network": net, "ratios": ratios if not isinstance(ratios, tuple) else list(ratios),
            "overrides": overrides, "skip": list(skip), "method": method,
            "plan": report.plan(), "kept_sha256": hashlib.sha256(json.dumps(report.kept, sort_keys=True).encode()).hexdigest(),
            "macs": c.macs, "params": c.params, "weights_sha256": digest(pruned.state_dict())}


def main() -> None:
    data = [compute(c) for c in CONFIGS]
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN} ({len(data)} configurations)")


if __name__ == "__main__":
    main()
