"""Rerun configs: the recipe YAML that says what to train, prune and finetune.

A recipe is validated like the registry (unknown fields are errors; every problem is reported as
``recipe.yaml:LINE: field.path: message``).  Its *resolved* form -- every default filled in, every
schedule in the canonical string form with its total, the base checkpoint's SHA-256 -- is what a
run is addressed by: ``recipe_hash`` is the SHA-256 of its canonical JSON.  The base checkpoint
enters the hash by its content (SHA-256), not by its path, so the same recipe on the same weights
has the same address in any clone, directory or machine.

Example (``reruns/recipes/digits-resnet20-l1-50.yaml``)::

    name: digits-resnet20-l1-50
    model: {network: resnet20}
    dataset: {name: digits}
    pretrain: {epochs: 12, lr_schedule: "0:1e-1,6:1e-2,9:1e-3"}
    pruning: {method: l1, ratio: 0.5}
    finetune: {epochs: 8, lr_schedule: "0:1e-2,4:1e-3"}
    optimizer: {momentum: 0.9, weight_decay: 5e-4}
    batch_size: 64
    seed: 0

This module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from audit.core import schedule as _sched
from audit.core.catalog import ENGINE_METHODS, DatasetId, EngineMethodId, EngineNetworkId
from audit.errors import Problem
from audit.io.loader import Lines, Loaded, StrictModel, load_model, validate_data
from audit.registry.schema import ScheduleField, stage_schedule

from .errors import RecipeError, RecipeProblems

__all__ = [
    "BaseCfg",
    "DatasetCfg",
    "ModelCfg",
    "OptimizerCfg",
    "OverallCfg",
    "PruneStageCfg",
    "PruningCfg",
    "RatioValue",
    "Recipe",
    "StageCfg",
    "load_recipe",
    "read_recipe",
    "recipe_from_data",
    "recipe_hash",
    "resolved",
]

RatioValue = Union[float, int, str]


class ModelCfg(StrictModel):
    network: EngineNetworkId
    """Network id: resnet20/32/44/56/110 (CIFAR), resnet18/34/50 (torchvision), vgg19 (CIFAR, BN)."""
    num_classes: Annotated[int, Field(ge=1, strict=True)] | None = None
    """Number of classes; ``null`` = the dataset's."""


class DatasetCfg(StrictModel):
    name: DatasetId
    """``digits`` (scikit-learn's bundled digits, no download), ``cifar-10``, ``cifar-100`` (local
    python-format folder), ``imagenet-1k`` / ``imagenet-100`` (ImageFolder root with train/ and val/)."""
    root: str | None = None
    """Folder holding the dataset (not used by ``digits``)."""
    image_size: Annotated[int, Field(ge=4, le=1024, strict=True)] | None = None
    """Input resolution; ``null`` = 16 for digits (8x8 upsampled), 32 for CIFAR, 224 for ImageNet."""
    augment: bool = True
    """Standard training augmentation (digits: random shift; CIFAR: pad-4 crop + flip; ImageNet: RRC + flip)."""
    train_limit: Annotated[int, Field(ge=1, strict=True)] | None = None
    """Use only the first N training images (of a fixed order), for quick runs."""
    test_limit: Annotated[int, Field(ge=1, strict=True)] | None = None
    """Use only the first N test images."""
    workers: Annotated[int, Field(ge=0, strict=True)] = 0
    """Data-loading worker processes (ImageFolder datasets only)."""

    @model_validator(mode="after")
    def _root(self) -> DatasetCfg:
        if self.name != "digits" and not self.root:
            raise ValueError(f"dataset {self.name} needs 'root': the local folder that holds it (nothing is downloaded)")
        return self


class BaseCfg(StrictModel):
    checkpoint: str | None = None
    """Local path of the dense model's weights (a state_dict saved with torch.save); ``null`` = the
    engine trains the base model itself (the ``pretrain`` stage)."""
    checkpoint_sha256: str | None = None
    """Filled in on resolution: the checkpoint's SHA-256 (a changed file is a different run)."""


class PruneStageCfg(StrictModel):
    """The pruning stage of a method that has one (GReg-1/GReg-2, see ``audit.rerun.methods``)."""

    epochs: Annotated[int, Field(ge=1, strict=True)] = 5
    """At most this many epochs (the stage ends once the penalty ceiling + ``stabilize`` are reached)."""
    lr: Annotated[float, Field(gt=0)] = 1e-2
    """Fixed LR of the stage."""
    reg_step: Annotated[float, Field(gt=0)] = 1e-2
    """Penalty growth per ``reg_interval`` iterations (GReg paper, ImageNet: 1e-4)."""
    reg_interval: Annotated[int, Field(ge=1, strict=True)] = 1
    """Iterations between two penalty steps (GReg paper: 10)."""
    reg_ceiling: Annotated[float, Field(gt=0)] = 1.0
    """Largest penalty coefficient (GReg paper: 1)."""
    stabilize: Annotated[int, Field(ge=0, strict=True)] = 20
    """Iterations at the ceiling before the filters are removed (GReg paper: 10000)."""


class PruningCfg(StrictModel):
    method: EngineMethodId = "l1"
    """Filter ranking: ``l1`` (Li et al.), ``random`` (the random-filter baseline), ``greg1`` / ``greg2``
    (growing regularisation, Wang et al. ICLR'21; see ``audit.rerun.methods``)."""
    stage: PruneStageCfg | None = None
    """The pruning stage of greg1/greg2 (its own epochs and LR); ``null`` = defaults for GReg, none for l1/random."""
    ratio: RatioValue | list[RatioValue] | dict[str, RatioValue]
    """Uniform ratio, stage-wise list (``[stem, layer1, ..., fc]``), or mapping (``{"1-15": 0.5}``, ``{layer2: 0.3}``)."""
    overrides: dict[str, RatioValue] = {}
    """Per-layer/block/stage ratios applied after ``ratio``."""
    skip: list[str] = []
    """Blocks or layers left unpruned (e.g. ``layer2.0``)."""

    @model_validator(mode="after")
    def _stage_method(self) -> PruningCfg:
        if self.stage is not None and ENGINE_METHODS[self.method].stage is None:
            raise ValueError(f"'stage' is the pruning stage of greg1/greg2; {self.method} prunes in one shot")
        return self

    @field_validator("ratio", "overrides", mode="before")
    @classmethod
    def _no_bool(cls, v: Any) -> Any:
        vals = v.values() if isinstance(v, dict) else v if isinstance(v, list) else [v]
        for x in vals:
            if isinstance(x, bool) or x is None:
                raise ValueError(f"a ratio must be a number in [0, 1), not {x!r}")
        return v


class StageCfg(StrictModel):
    epochs: Annotated[int, Field(ge=1, strict=True)]
    """Epochs of the stage."""
    lr_schedule: ScheduleField
    """LR schedule over the stage (audit.core.schedule notation: ``0:1e-2,30:1e-3``, ``cosine 1e-2->0``, ...)."""

    @field_validator("lr_schedule", mode="before")
    @classmethod
    def _length(cls, v: Any, info: ValidationInfo) -> Any:
        return stage_schedule(v, info.data.get("epochs"))

    @field_validator("lr_schedule")
    @classmethod
    def _complete(cls, v: _sched.Schedule) -> _sched.Schedule:
        if not v.is_complete:
            raise ValueError(f"schedule {_sched.format_schedule(v)!r} does not give the LR of every epoch")
        return v


class OverallCfg(StrictModel):
    """One schedule over pretraining and finetuning, cut at the pruning epoch (the seed's S4.2 ``PxFy``)."""

    epochs: Annotated[int, Field(ge=2, strict=True)]
    """Total epochs of pretraining + finetuning."""
    lr_schedule: ScheduleField
    """The overall (piecewise) LR schedule."""
    prune_epoch: Annotated[int, Field(ge=1, strict=True)]
    """Pruning epoch P: pretraining is the schedule's first P epochs, finetuning its tail after P."""

    @field_validator("lr_schedule", mode="before")
    @classmethod
    def _length(cls, v: Any, info: ValidationInfo) -> Any:
        return StageCfg._length(v, info)

    @model_validator(mode="after")
    def _cut(self) -> OverallCfg:
        if self.prune_epoch >= self.epochs:
            raise ValueError(f"prune_epoch {self.prune_epoch} leaves no finetuning in {self.epochs} epochs")
        if self.lr_schedule.kind != "piecewise" or self.lr_schedule.warmup_epochs:
            raise ValueError("an overall schedule cut at the pruning epoch must be piecewise, without warmup")
        return self

    def stages(self) -> tuple[StageCfg, StageCfg]:
        s = self.lr_schedule
        head = s.head(self.prune_epoch)
        tail = s.tail(self.prune_epoch)
        return (StageCfg(epochs=self.prune_epoch, lr_schedule=head),
                StageCfg(epochs=self.epochs - self.prune_epoch, lr_schedule=tail))


class OptimizerCfg(StrictModel):
    name: Literal["sgd"] = "sgd"
    """Only SGD."""
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9
    weight_decay: Annotated[float, Field(ge=0)] = 1e-4
    nesterov: bool = False

    @model_validator(mode="after")
    def _nesterov(self) -> OptimizerCfg:
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs a positive momentum")
        return self


class Recipe(StrictModel):
    name: str | None = None
    """A label for the recipe (it is part of the resolved recipe)."""
    pipeline: Literal["pruning", "scratch"] = "pruning"
    """``pruning``: (pretrain or base checkpoint) -> prune -> finetune; ``scratch``: train the pruned
    architecture from a fresh initialisation."""
    model: ModelCfg
    dataset: DatasetCfg
    base: BaseCfg = BaseCfg()
    overall: OverallCfg | None = None
    """Alternative to ``pretrain`` + ``finetune``: one schedule cut at the pruning epoch (resolved into both)."""
    pretrain: StageCfg | None = None
    """Dense training up to the pruning epoch P = ``pretrain.epochs``."""
    pruning: PruningCfg
    finetune: StageCfg | None = None
    scratch: StageCfg | None = None
    optimizer: OptimizerCfg = OptimizerCfg()
    batch_size: Annotated[int, Field(ge=1, strict=True)] = 128
    eval_batch_size: Annotated[int, Field(ge=1, strict=True)] = 500
    seed: Annotated[int, Field(ge=0, lt=2**31, strict=True)] = 0
    amp: bool = False
    """Mixed precision: autocast to float16 with a GradScaler on CUDA, to bfloat16 on CPU."""
    channels_last: bool = False
    """channels_last memory format for the model and its inputs (CUDA and CPU; oneDNN's native layout)."""

    @model_validator(mode="after")
    def _stages(self) -> Recipe:
        if self.overall is not None:
            if self.pretrain is not None or self.finetune is not None or self.base.checkpoint is not None:
                raise ValueError("'overall' replaces 'pretrain' and 'finetune' (and a base checkpoint): give one")
            if self.pipeline != "pruning":
                raise ValueError("'overall' belongs to a pruning pipeline")
            pre, fine = self.overall.stages()
            object.__setattr__(self, "pretrain", pre)
            object.__setattr__(self, "finetune", fine)
            object.__setattr__(self, "overall", None)
        if self.pipeline == "pruning":
            if self.finetune is None:
                raise ValueError("a pruning pipeline needs a 'finetune' stage")
            if self.scratch is not None:
                raise ValueError("a pruning pipeline has no 'scratch' stage (use pipeline: scratch)")
            if self.pretrain is None and self.base.checkpoint is None:
                raise ValueError("a pruning pipeline needs a 'pretrain' stage or base.checkpoint")
            if self.pretrain is not None and self.base.checkpoint is not None:
                raise ValueError("give either a 'pretrain' stage or base.checkpoint, not both")
        else:
            if self.scratch is None:
                raise ValueError("a scratch pipeline needs a 'scratch' stage")
            for s in ("pretrain", "finetune"):
                if getattr(self, s) is not None:
                    raise ValueError(f"a scratch pipeline has no {s!r} stage")
        return self

    def stages(self) -> list[tuple[str, StageCfg]]:
        out = [(n, getattr(self, n)) for n in ("pretrain", "finetune", "scratch")]
        return [(n, s) for n, s in out if s is not None]


# ---------------------------------------------------------------------- loading
_NOUN = "a rerun recipe"


def _ratio_rule(loaded: Loaded[Recipe]) -> list[Problem]:
    """The ratios must fit the network (needs torch to build it; nothing to say without torch)."""
    if loaded.model is None:
        return []
    try:
        import torch  # noqa: F401
    except ImportError:
        return []
    from .errors import RatioError
    from .prune import resolve_ratios

    p = loaded.model.pruning
    try:
        ratios = resolve_ratios(loaded.model.model.network, p.ratio, overrides=p.overrides, skip=p.skip)
    except RatioError as exc:
        return [loaded.problem(("pruning", *exc.field), str(exc))]
    streams = sorted(k for k in ratios if k == "stem" or k.endswith(".residual"))
    if streams and ENGINE_METHODS[p.method].stage is not None:
        return [loaded.problem(("pruning", "method"), f"{p.method}'s penalty covers the conv groups only; it cannot "
                                                      f"prune the residual streams {', '.join(streams)}")]
    return []


def recipe_from_data(data: Any, display: str = "<recipe>", lines: Lines | None = None) -> Recipe:
    """Validate recipe data; :class:`RecipeProblems` with every problem (``file:line: field: message``)."""
    loaded = validate_data(data, Recipe, noun=_NOUN, display=display, lines=lines, checks=[_ratio_rule])
    if loaded.model is None:
        raise RecipeProblems(loaded.problems)
    return loaded.model


def read_recipe(path: str | Path) -> Loaded[Recipe]:
    """Read and validate a recipe file, keeping its raw data (to derive other recipes from it);
    :class:`RecipeProblems` with every problem of the file."""
    loaded = load_model(path, Recipe, noun=_NOUN, display=str(path), checks=[_ratio_rule])
    if loaded.model is None:
        raise RecipeProblems(loaded.problems)
    return loaded


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; :class:`RecipeProblems` with every problem of the file."""
    return read_recipe(path).require()


def resolved(recipe: Recipe, base_dir: Path | None = None) -> dict[str, Any]:
    """The resolved recipe: defaults filled in, schedules canonical, base checkpoint hashed."""
    data = recipe.model_dump(mode="json")
    if data["pruning"].get("stage") is None:  # recipes without a pruning stage keep their hash
        data["pruning"].pop("stage", None)
    ck = recipe.base.checkpoint
    if ck is not None:
        path = Path(ck)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise RecipeError(f"base.checkpoint: {ck}: no such file")
        data["base"]["checkpoint"] = str(path.resolve())
        data["base"]["checkpoint_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return data


def recipe_hash(resolved_data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a resolved recipe.

    A base checkpoint counts by its content: where ``base.checkpoint_sha256`` is known, the
    checkpoint's path (absolute after resolution, so machine-specific) is left out of the hash.
    """
    base = resolved_data.get("base")
    if isinstance(base, dict) and base.get("checkpoint_sha256"):
        resolved_data = {**resolved_data, "base": {k: v for k, v in base.items() if k != "checkpoint"}}
    text = json.dumps(resolved_data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
