"""The engine's one training loop (:func:`train_epoch`), its evaluation pass and SGD helpers.

Every stage that trains -- pretraining, a method's pruning stage (GReg's growing penalty),
finetuning, scratch training, the grids' shared dense runs and the benchmark -- runs
:func:`train_epoch`, so each gets mixed precision, channels_last and DDP alike.  Method-specific
steps plug in as a :class:`TrainHook`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TrainHook", "amp_dtype", "evaluate", "make_optimizer", "set_lr", "train_epoch"]


class TrainHook:
    """Method-specific steps inside :func:`train_epoch` (this base class changes nothing).

    ``after_backward`` runs once the gradients of a batch are complete (all-reduced under DDP,
    unscaled under a GradScaler) and before the optimizer step, e.g. to add a penalty's gradient;
    ``after_step`` runs after the step with the number of steps taken so far (counted from the
    ``first_iteration`` given to :func:`train_epoch`) and returns True to end the epoch there.
    """

    def after_backward(self, model: nn.Module) -> None:
        """Adjust the gradients of ``model`` (the module being trained, possibly DDP-wrapped)."""

    def after_step(self, iteration: int) -> bool:
        """Called after optimizer step number ``iteration``; True stops the epoch after this batch."""
        return False


def make_optimizer(model: nn.Module, lr: float, momentum: float, weight_decay: float,
                   nesterov: bool) -> torch.optim.SGD:
    """SGD over all parameters (weight decay on all of them, as in the seed's PyTorch example)."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                           nesterov=nesterov)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def amp_dtype(device: torch.device) -> torch.dtype:
    """Mixed precision's compute type: float16 on CUDA (with a GradScaler), bfloat16 on CPU (float32's
    exponent range, so no loss scaling is needed)."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def _autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    if amp:
        return torch.autocast(device.type, dtype=amp_dtype(device))
    return contextlib.nullcontext()


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Iterable[tuple[Any, ...]],
                device: torch.device, amp: bool = False, channels_last: bool = False,
                scaler: torch.amp.GradScaler | None = None, on_batch: Callable[[int], None] | None = None,
                hook: TrainHook | None = None, first_iteration: int = 0) -> dict[str, float]:
    """Train over ``batches``; running loss and accuracy over the epoch.

    A batch is ``(x, y)`` or, from :func:`audit.rerun.dist.shard` under DDP, ``(x, y, loss_scale)``:
    the loss that is back-propagated is then multiplied by ``loss_scale`` when it is not 1 (unequal
    shards), while the loss and accuracy reported stay the plain per-image means.  ``amp``
    autocasts to :func:`amp_dtype` (with ``scaler``, a GradScaler, on CUDA); ``channels_last``
    converts the inputs.  ``hook`` (:class:`TrainHook`) adds method-specific steps; when its
    ``after_step`` returns True the epoch ends after that batch.

    Returns ``train_loss`` (mean cross-entropy per image), ``train_acc`` (percent), ``seconds``,
    ``images_per_s``, ``images`` (images seen) and ``steps`` (optimizer steps taken).
    """
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = steps = 0
    start = time.perf_counter()
    for batch in batches:
        x, y = batch[0], batch[1]
        loss_scale = float(batch[2]) if len(batch) > 2 else 1.0
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with _autocast(device, amp):
            out = model(x)
            loss = F.cross_entropy(out, y)
        optimizer.zero_grad(set_to_none=True)
        objective = loss if loss_scale == 1.0 else loss * loss_scale
        if scaler is not None:
            scaler.scale(objective).backward()
            if hook is not None:
                scaler.unscale_(optimizer)  # the hook sees (and adds to) the true gradients
                hook.after_backward(model)
            scaler.step(optimizer)
            scaler.update()
        else:
            objective.backward()
            if hook is not None:
                hook.after_backward(model)
            optimizer.step()
        steps += 1
        n = y.shape[0]
        loss_sum += loss.detach().double() * n
        correct += (out.detach().argmax(1) == y).sum()
        seen += n
        if on_batch is not None:
            on_batch(n)
        if hook is not None and hook.after_step(first_iteration + steps):
            break
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return {
        "train_loss": float(loss_sum) / max(seen, 1),
        "train_acc": 100.0 * int(correct) / max(seen, 1),
        "seconds": seconds,
        "images_per_s": seen / seconds if seconds > 0 else 0.0,
        "images": seen,
        "steps": steps,
    }


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device, amp: bool = False,
             channels_last: bool = False) -> dict[str, float]:
    """Test loss, top-1 and top-5 accuracy (percent) over ``batches``."""
    model.eval()
    loss_sum, top1, top5, seen = 0.0, 0, 0, 0
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with _autocast(device, amp):
            out = model(x)
        out = out.float()
        loss_sum += float(F.cross_entropy(out, y, reduction="sum"))
        k = min(5, out.shape[1])
        pred = out.topk(k, dim=1).indices
        hit = pred == y.unsqueeze(1)
        top1 += int(hit[:, 0].sum())
        top5 += int(hit.any(1).sum())
        seen += y.shape[0]
    return {"test_loss": loss_sum / max(seen, 1), "top1": 100.0 * top1 / max(seen, 1),
            "top5": 100.0 * top5 / max(seen, 1)}
