"""One run on several processes/GPUs: DistributedDataParallel started with torchrun.

    torchrun --standalone --nproc_per_node=N -m audit rerun run RECIPE.yaml [--device cuda]

(``python -m torch.distributed.run`` is the same launcher.)  Every rank runs the same recipe:

* the process group is initialised from torchrun's environment (``WORLD_SIZE`` > 1): NCCL with
  ``--device cuda`` (each rank on ``cuda:LOCAL_RANK``), gloo on CPU;
* sampling is a distributed sampler over the engine's seeded order: every rank draws the same
  (seed, stage, epoch) permutation and augmentation, and each global batch of ``batch_size``
  images is split into ``WORLD_SIZE`` contiguous shards, rank ``r`` training on shard ``r``.  With
  DDP's gradient averaging this is the single-process step on the same global batch (BatchNorm
  statistics are per rank, as with plain DDP, so results agree within a tolerance, not bitwise);
* training loss/accuracy are averaged over ranks; evaluation runs on every rank (identical models);
* only rank 0 writes (recipe, checkpoints, metrics, prune.json, result.json).  A pruning-stage
  procedure (GReg) runs unsharded and identically on every rank.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Iterator

import torch

__all__ = ["active", "init_from_env", "is_main", "reduce_mean", "shard", "wrap"]


def active() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized() and \
        torch.distributed.get_world_size() > 1


def is_main() -> bool:
    return not active() or torch.distributed.get_rank() == 0


def init_from_env(device: str = "cpu") -> bool:
    """Initialise the process group when started by torchrun with more than one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not torch.distributed.is_available():
        return False
    if torch.distributed.is_initialized():
        return True
    cuda = device in ("cuda", "auto") and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    torch.distributed.init_process_group("nccl" if cuda else "gloo")
    return True


def shard(batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """This rank's contiguous shard of every global batch (all ranks see the same global order)."""
    if not active():
        yield from batches
        return
    world, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
    for x, y in batches:
        n = y.shape[0]
        if n < world:  # every rank skips it alike (a shard may not be empty)
            continue
        bounds = [n * k // world for k in range(world + 1)]
        lo, hi = bounds[rank], bounds[rank + 1]
        if hi > lo:
            yield x[lo:hi], y[lo:hi]


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    if not active():
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def reduce_mean(stats: dict[str, Any], keys: tuple[str, ...] = ("train_loss", "train_acc")) -> dict[str, Any]:
    """Average ``keys`` over ranks (the shards are equal up to one image)."""
    if not active():
        return stats
    t = torch.tensor([float(stats[k]) for k in keys], dtype=torch.float64)
    torch.distributed.all_reduce(t)
    t /= torch.distributed.get_world_size()
    out = dict(stats)
    out.update({k: float(v) for k, v in zip(keys, t.tolist())})
    return out
