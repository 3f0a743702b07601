"""The engine's one checkpoint format, and reading plain weights files.

:class:`Checkpoint` is the training state of a run between two epochs: model weights, optimizer
and GradScaler state, stage and epoch (the scheduler position), the pruning plan and kept filters,
every RNG state, the learning curve so far and the run's extra records.  It names its owner (a
recipe hash for a run, the spec hash for a grid's shared dense run), is written atomically
(:mod:`audit.io.atomic`) and read with ``torch.load(..., weights_only=True)``: a truncated,
corrupt, unpickling-unsafe or foreign checkpoint is one :class:`CheckpointError` line.  Single
runs (``audit.rerun.runs``), the shared dense runs (``audit.rerun.dense``) and, through them,
cross-validation use it.

:func:`save_weights` / :func:`load_weights` handle the plain ``state_dict`` files a recipe's
``base.checkpoint`` names (the dense runs' snapshots are such files: their SHA-256 addresses the
runs built on them, so their bytes are the bare state_dict).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from audit.io.atomic import atomic_write_bytes

from .curve import EpochRecord
from .errors import CheckpointError
from .rng import rng_state

__all__ = ["CKPT_FORMAT", "Checkpoint", "load_weights", "read_torch_file", "save_weights"]

CKPT_FORMAT = "prune-audit-rerun-checkpoint/1"


def read_torch_file(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; any failure is one :class:`CheckpointError` line
    naming ``what`` and ``path`` (missing, truncated, not a torch file, or holding non-weights objects)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{what} {path}: no such file") from None
    except Exception as exc:  # pickle errors, zip errors, truncated files, disallowed globals
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # torch colours its advice even into files
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found and _is_module_class(found[1]):
            raise CheckpointError(
                f"{what} {path} holds a pickled model object ({found[1]}), not weights: save model.state_dict() "
                f"(torch.save(model.state_dict(), path)) and point the recipe at that file") from None
        if found:
            raise CheckpointError(f"{what} {path} is corrupt or not a plain weights file (it pickles {found[1]}, "
                                  "which weights-only loading refuses)") from None
        detail = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        detail = detail.split(". ")[0].rstrip(".")  # torch's first sentence, not its advice
        raise CheckpointError(f"{what} {path} is corrupt or not a plain weights file ({detail[:160]})") from None


def _is_module_class(qualname: str) -> bool:
    """True when ``qualname`` (``torchvision.models.resnet.ResNet``) names an ``nn.Module`` subclass that
    can be imported without running anything beyond its module's import."""
    import importlib

    mod_name, _, cls_name = qualname.rpartition(".")
    if mod_name.split(".")[0] not in ("torch", "torchvision", "audit"):
        return cls_name[:1].isupper()  # a user's class: do not import user code; a class name is a model/object
    try:
        obj = getattr(importlib.import_module(mod_name), cls_name)
    except Exception:
        return False
    return isinstance(obj, type) and issubclass(obj, nn.Module)


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def save_weights(path: Path, model: nn.Module) -> None:
    """Write ``model``'s state_dict (CPU tensors, nothing else) to ``path`` atomically."""
    atomic_write_bytes(path, _torch_bytes(_cpu_state(model)))


_WEIGHT_KEYS = ("state_dict", "model", "net", "model_state_dict", "weights")
"""Keys under which checkpoints commonly keep the state_dict (the PyTorch ImageNet example and
Regularization-Pruning: ``state_dict``; pytorch-cifar: ``net``)."""


def load_weights(model: nn.Module, path: Path, network: str) -> None:
    """Load a dense state_dict (bare, or under one of :data:`_WEIGHT_KEYS`; keys optionally prefixed
    ``module.``) into ``model``.  A CIFAR ResNet's classifier named ``linear`` (akamaster's and
    Regularization-Pruning's CIFAR ResNets, HRank's) is mapped to ``fc``.  A file that is not such a
    state_dict (the message lists the top-level keys found), or does not fit ``network``, is a
    :class:`CheckpointError`."""
    data = read_torch_file(path, "base checkpoint")
    if isinstance(data, dict) and not any(isinstance(v, torch.Tensor) for v in data.values()):
        for key in _WEIGHT_KEYS:
            if isinstance(data.get(key), dict):
                data = data[key]
                break
        else:
            keys = ", ".join(repr(k) for k in list(data)[:12]) if data else "none"
            raise CheckpointError(f"base checkpoint {path} holds no state_dict of tensors (top-level keys: {keys}; "
                                  f"expected a bare state_dict or one under {', '.join(_WEIGHT_KEYS)})")
    if not isinstance(data, dict) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointError(f"base checkpoint {path} holds no state_dict of tensors")
    data = {re.sub(r"^module\.", "", k): v for k, v in data.items()}
    if any(k.startswith("linear.") for k in data) and not any(k.startswith("fc.") for k in data) \
            and "fc.weight" in model.state_dict():
        data = {("fc." + k[len("linear."):] if k.startswith("linear.") else k): v for k, v in data.items()}
    try:
        model.load_state_dict(data, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(x.strip() for x in first[1:3])[:200] if len(first) > 1 else first[0][:200]
        raise CheckpointError(f"base checkpoint {path} does not fit {network}: {detail}") from None


@dataclass
class Checkpoint:
    """The state of a run after ``epoch`` epochs of ``stage`` (see the module docstring).

    ``model`` holds CPU tensors; ``optimizer``/``scaler`` are the ``state_dict()`` of the stage's SGD
    optimizer and GradScaler (``None`` when there is none); ``rng`` is
    :func:`audit.rerun.rng.rng_state`; ``plan`` maps each pruned conv to its kept filter count and
    ``kept`` to the kept filter indices (both ``None`` before pruning).
    """

    owner: str
    stage: str
    epoch: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None = None
    scaler: dict[str, Any] | None = None
    rng: dict[str, Any] = field(default_factory=rng_state)
    plan: dict[str, int] | None = None
    kept: dict[str, list[int]] | None = None
    history: list[EpochRecord] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, owner: str, stage: str, epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
           scaler: torch.amp.GradScaler | None = None, **fields: Any) -> Checkpoint:
        """The checkpoint of a live ``model`` (copied to the CPU), its optimizer and scaler, and the
        current RNG state; ``fields`` fill ``plan``, ``kept``, ``history`` and ``extra``."""
        return cls(owner, stage, epoch, _cpu_state(model),
                   optimizer.state_dict() if optimizer is not None else None,
                   scaler.state_dict() if scaler is not None else None, rng_state(), **fields)

    def save(self, path: Path) -> None:
        """Write the checkpoint to ``path`` atomically (temp file + ``os.replace``)."""
        payload = {
            "format": CKPT_FORMAT, "recipe_hash": self.owner, "stage": self.stage, "epoch": self.epoch,
            "plan": self.plan, "kept": self.kept, "model": self.model, "optimizer": self.optimizer,
            "scaler": self.scaler, "rng": self.rng, "history": self.history, "extra": self.extra,
        }
        atomic_write_bytes(path, _torch_bytes(payload))

    @classmethod
    def load(cls, path: Path, owner: str) -> Checkpoint:
        """Read the checkpoint at ``path`` and check that ``owner`` wrote it.

        Raises :class:`CheckpointError` (one line) for a missing, corrupt or unsafe file, a file that
        is not an engine checkpoint, or one that belongs to another owner.
        """
        data = read_torch_file(path, "checkpoint")
        if not isinstance(data, dict) or data.get("format") != CKPT_FORMAT:
            raise CheckpointError(f"checkpoint {path} is not a prune-audit rerun checkpoint")
        if data.get("recipe_hash") != owner:
            raise CheckpointError(
                f"checkpoint {path} belongs to recipe {str(data.get('recipe_hash'))[:16]}, not {owner[:16]}: "
                "refusing to resume a foreign run"
            )
        try:
            return cls(owner, str(data["stage"]), int(data["epoch"]), dict(data["model"]), data.get("optimizer"),
                       data.get("scaler"), dict(data["rng"]), data.get("plan"), data.get("kept"),
                       cast(list[EpochRecord], list(data.get("history", []))), dict(data.get("extra", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {path} lacks its {exc} record: it is incomplete") from None

    def restore(self, model: nn.Module, path: Path) -> None:
        """Load the weights into ``model`` (built for ``plan``); a misfit is a :class:`CheckpointError`."""
        try:
            model.load_state_dict(self.model)
        except RuntimeError as exc:
            raise CheckpointError(f"checkpoint {path} does not fit its recipe's model ({str(exc)[:120]})") from None
