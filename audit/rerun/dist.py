"""One run on several processes/GPUs: DistributedDataParallel started with torchrun.

    torchrun --standalone --nproc_per_node=N -m audit rerun run RECIPE.yaml [--device cuda]

(``python -m torch.distributed.run`` is the same launcher.)  Every rank runs the same recipe, and
a run on N processes computes the single-process run on the same global batches (up to the order
of floating-point reductions; ``tests/rerun/test_ddp.py`` checks it):

* the process group is initialised from torchrun's environment (``WORLD_SIZE`` > 1): NCCL with
  ``--device cuda`` (each rank on ``cuda:LOCAL_RANK``), gloo on CPU;
* sampling is a distributed sampler over the engine's seeded order: every rank draws the same
  (seed, stage, epoch) permutation and augmentation, and each global batch of ``batch_size``
  images is split into ``WORLD_SIZE`` contiguous shards, rank ``r`` training on shard ``r``.  A
  rank's loss is scaled by ``WORLD_SIZE * shard / batch`` (1 for equal shards), so DDP's gradient
  averaging gives the gradient of the mean loss over the global batch even for unequal shards.
  A global batch smaller than ``WORLD_SIZE`` (a tiny last batch) is skipped by every rank;
* BatchNorm is synchronized (:func:`wrap`): in training, batch statistics are those of the
  global batch, and the running statistics are updated from them exactly as ``nn.BatchNorm2d``
  would on the whole batch (unbiased variance over the global batch).  On CUDA this is PyTorch's
  ``nn.SyncBatchNorm``; PyTorch's has no CPU path, so on CPU it is :class:`SyncBatchNorm2d` here.
  The synchronized layers exist only while a stage trains: :func:`unwrap` turns them back into
  ``nn.BatchNorm2d`` (the same tensors) before pruning, and checkpoints have the state-dict keys
  of the plain model either way;
* training loss/accuracy are reduced over ranks (weighted by shard size); evaluation runs on every
  rank (identical models);
* only rank 0 writes (recipe, checkpoints, metrics, prune.json, result.json).  A pruning-stage
  procedure (GReg) runs unsharded, on the plain model, and identically on every rank.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

__all__ = ["SyncBatchNorm2d", "active", "init_from_env", "is_main", "reduce_mean", "shard", "unwrap", "wrap"]


def active() -> bool:
    """Whether this process is one rank of an initialised process group of more than one."""
    return torch.distributed.is_available() and torch.distributed.is_initialized() and \
        torch.distributed.get_world_size() > 1


def is_main() -> bool:
    """Rank 0 of a distributed run, or any single-process run: the process that writes."""
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


def shard(batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[tuple[Any, ...]]:
    """This rank's contiguous shard of every global batch (all ranks see the same global order).

    Single-process: the batches unchanged.  Distributed: ``(x, y, loss_scale)`` with
    ``loss_scale = WORLD_SIZE * len(shard) / len(batch)`` (exactly 1.0 for equal shards), the factor
    that makes DDP's average of the ranks' gradients the gradient of the global batch's mean loss
    (see :func:`audit.rerun.train.train_epoch`).
    """
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
        yield x[lo:hi], y[lo:hi], world * (hi - lo) / n


# --------------------------------------------------------------------------- synchronized BatchNorm

class _SyncBNFunction(torch.autograd.Function):
    """Batch normalisation of this rank's shard with the global batch's mean and inverse std.

    ``mean`` and ``invstd`` come in as constants (computed under no_grad from the all-reduced sums,
    see :meth:`SyncBatchNorm2d.forward`); the backward accounts for their dependence on every rank's
    input: with ``xhat = (x - mean) * invstd`` and ``g`` the incoming gradient,

        dx = weight * invstd * (g - sum(g) / N - xhat * sum(g * xhat) / N)

    where the sums run over the *global* batch (one all_reduce of 2C values) and N is its size per
    channel.  Under DDP each rank's ``g`` is ``WORLD_SIZE`` times its part of the global loss's
    gradient (every rank's loss is a mean over its shard, scaled as in :func:`shard`), so the
    all-reduced sums carry the same factor and ``dx`` is consistent with it; ``dweight``/``dbias``
    are this rank's partial sums, which DDP then averages over ranks into the global gradient.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, invstd, total, group):
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = invstd if weight is None else invstd * weight
        y = (x - mean.view(shape)) * scale.view(shape)
        if bias is not None:
            y = y + bias.view(shape)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.total, ctx.group = total, group
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, invstd = ctx.saved_tensors
        shape = (1, -1) + (1,) * (x.dim() - 2)
        dims = [0] + list(range(2, x.dim()))
        xhat = (x - mean.view(shape)) * invstd.view(shape)
        sum_g = g.sum(dims, dtype=torch.float64)
        sum_gx = (g * xhat).sum(dims, dtype=torch.float64)
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            sums = torch.cat([sum_g, sum_gx])
            torch.distributed.all_reduce(sums, group=ctx.group)
            c = x.shape[1]
            mg, mgx = (sums[:c] / ctx.total).to(g.dtype), (sums[c:] / ctx.total).to(g.dtype)
            scale = invstd if weight is None else invstd * weight
            dx = (g - mg.view(shape) - xhat * mgx.view(shape)) * scale.view(shape)
        if weight is not None and ctx.needs_input_grad[1]:
            dw = sum_gx.to(weight.dtype)
        if ctx.needs_input_grad[2]:
            db = sum_g.to(g.dtype)
        return dx, dw, db, None, None, None, None


class SyncBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training-mode statistics are those of the global batch (any device).

    Outside training, or outside a distributed run, it *is* ``nn.BatchNorm2d``.  In training under
    an initialised process group of more than one rank, every rank all-reduces the per-channel
    sum, sum of squares (in float64) and count of its shard, normalises with the global mean and
    biased variance, and updates the running statistics as ``nn.BatchNorm2d`` would on the whole
    global batch (momentum, or the cumulative average with ``momentum=None``; the unbiased variance
    over all ranks' images).  Gradients: :class:`_SyncBNFunction`.  Every rank must call it the
    same number of times with non-empty shards (:func:`shard` guarantees it).  Same parameters,
    buffers and state-dict keys as ``nn.BatchNorm2d``.
    """

    process_group: Any = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and active()):
            return super().forward(x)
        self._check_input_dim(x)
        group = self.process_group
        dims = [0] + list(range(2, x.dim()))
        c = x.shape[1]
        with torch.no_grad():
            x64 = x.detach().to(torch.float64)
            count = torch.tensor([x.numel() // max(c, 1)], dtype=torch.float64, device=x.device)
            stats = torch.cat([x64.sum(dims), x64.square().sum(dims), count])
            del x64
            torch.distributed.all_reduce(stats, group=group)
            total = float(stats[-1])
            if total <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got {int(total)}")
            mean = stats[:c] / total
            var = (stats[c:2 * c] / total - mean.square()).clamp_min(0.0)  # biased, for normalising
            invstd = torch.rsqrt(var + self.eps)
            tracked = self.num_batches_tracked
            if self.track_running_stats and self.running_mean is not None and self.running_var is not None \
                    and tracked is not None:
                tracked.add_(1)
                f = 1.0 / float(tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - f).add_(mean.to(self.running_mean.dtype), alpha=f)
                self.running_var.mul_(1 - f).add_((var * (total / (total - 1))).to(self.running_var.dtype), alpha=f)
        return _SyncBNFunction.apply(x, self.weight, self.bias, mean.to(x.dtype), invstd.to(x.dtype), total, group)


def _rebuild(bn: nn.Module, cls: type) -> nn.Module:
    """A ``cls`` batch-norm layer holding ``bn``'s very parameters and buffers (no copies)."""
    new = cls(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
              track_running_stats=bn.track_running_stats)
    new._parameters = dict(bn._parameters)
    new._buffers = dict(bn._buffers)
    new._non_persistent_buffers_set = set(bn._non_persistent_buffers_set)
    new.train(bn.training)
    return new


def _swap(module: nn.Module, convert: Callable[[nn.Module], nn.Module | None]) -> nn.Module:
    """Replace, in place, every submodule for which ``convert`` returns a module (not the root)."""
    for name, child in list(module.named_children()):
        new = convert(child)
        if new is not None:
            module.add_module(name, new)
        else:
            _swap(child, convert)
    return module


def _sync_bn_class(device: torch.device) -> type:
    return nn.SyncBatchNorm if device.type == "cuda" else SyncBatchNorm2d


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """The module to train: ``model`` itself single-process; under DDP, ``model`` with its
    ``nn.BatchNorm2d`` layers replaced *in place* by synchronized ones sharing their tensors
    (PyTorch's ``nn.SyncBatchNorm`` on CUDA, :class:`SyncBatchNorm2d` elsewhere), wrapped in
    ``DistributedDataParallel``.  Undo with :func:`unwrap` before pruning the model.
    """
    if not active():
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    cls = _sync_bn_class(device)
    _swap(model, lambda m: _rebuild(m, cls) if type(m) is nn.BatchNorm2d else None)
    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def unwrap(train_model: torch.nn.Module) -> torch.nn.Module:
    """The plain model of a :func:`wrap`-ped one: DDP's ``.module`` with its synchronized
    BatchNorm layers turned back, in place, into ``nn.BatchNorm2d`` holding the same tensors (what
    the pruning surgery and a single-process resume expect).  A plain model comes back as it is.
    """
    from torch.nn.parallel import DistributedDataParallel as DDP

    model = train_model.module if isinstance(train_model, DDP) else train_model
    return _swap(model, lambda m: _rebuild(m, nn.BatchNorm2d)
                 if isinstance(m, (nn.SyncBatchNorm, SyncBatchNorm2d)) else None)


def reduce_mean(stats: dict[str, Any], keys: tuple[str, ...] = ("train_loss", "train_acc")) -> dict[str, Any]:
    """Average ``keys`` over ranks, weighted by each rank's ``images`` (its shards' size), so a
    per-image mean (loss, accuracy) comes out as the mean over the global batches."""
    if not active():
        return stats
    w = float(stats.get("images", 1))
    t = torch.tensor([float(stats[k]) * w for k in keys] + [w], dtype=torch.float64)
    torch.distributed.all_reduce(t)
    out = dict(stats)
    out.update({k: float(v) / max(float(t[-1]), 1.0) for k, v in zip(keys, t[:-1].tolist())})
    return out
