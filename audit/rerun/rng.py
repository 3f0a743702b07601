"""The engine's random streams: the per-(seed, stage, epoch) batch generator and the process RNG state.

Every epoch's batch order and augmentation come from :func:`epoch_generator`, seeded by (seed,
stage, epoch) alone, so an epoch gives the same batches whether the run was interrupted before
it or not.  :func:`rng_state` / :func:`set_rng_state` carry the global torch, Python and NumPy
generators through a checkpoint (plain tensors and numbers only, so it loads with
``weights_only=True``).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import numpy as np
import torch

__all__ = ["epoch_generator", "rng_state", "set_rng_state"]


def epoch_generator(seed: int, stage: str, epoch: int) -> torch.Generator:
    """A CPU generator seeded by the first 63 bits of SHA-256 of ``"{seed}/{stage}/{epoch}"``."""
    digest = hashlib.sha256(f"{seed}/{stage}/{epoch}".encode()).digest()
    g = torch.Generator()
    g.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
    return g


def rng_state() -> dict[str, Any]:
    """The torch (and, where initialised, CUDA), Python and NumPy global RNG states as tensors and numbers."""
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    py = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [py[0], list(py[1]), py[2]],
        "numpy": {"kind": kind, "keys": torch.from_numpy(np.asarray(keys).astype("int64")), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the global RNGs from :func:`rng_state`'s output (CUDA only where CUDA is available)."""
    torch.set_rng_state(state["torch"])
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype("uint32"), n["pos"], n["has_gauss"], n["cached"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
