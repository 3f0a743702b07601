"""The typed schema of the registry: one :class:`PaperFile` per YAML file under ``registry/``.

Conventions that hold for every field:

* ``null`` (or an absent optional field) means **not reported** by the source; it is never a
  default guess.  A value that the source implies but does not state is entered as a value and
  listed in the result's ``inferred`` map with the justification, so *stated*, *inferred* and
  *not reported* stay distinguishable all the way to the setup classifier.
* Accuracies are percentages in [0, 100].  A speedup is ``dense FLOPs / pruned FLOPs`` (>= 1);
  a reduction is the fraction removed, in percent.  FLOP counts name their convention: ``MACs``
  (multiply-accumulates) or ``2xMACs`` (the seed prints MACs in Tab. 4 and 2xMACs in Tab. 6/7).
* Every result names the table/figure and paper each of its numbers comes from (``sources``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from audit.core import schedule as _sched
from audit.core.catalog import DatasetId, NetworkId
from audit.io.loader import StrictModel

__all__ = [
    "MAX_EPOCHS", "RESULT_ID", "BaseModelInfo", "Compression", "Epochs", "FlopsCount", "MethodDecl", "Metric",
    "OneLine", "Paper", "PaperFile", "Percent", "Result", "ScheduleField", "Source", "Stage", "json_schema",
    "schedule_value", "stage_schedule",
]


def schedule_value(value: Any, epochs: int | None = None) -> _sched.Schedule:
    """A schedule field's value (any form :func:`audit.core.schedule.schedule_from_data` reads), of
    ``epochs`` epochs when given; raises ValueError (a pydantic validator's error) otherwise."""
    if isinstance(value, _sched.Schedule) and epochs is None:
        return value
    try:
        return _sched.schedule_from_data(value, epochs)
    except _sched.ScheduleError as exc:
        raise ValueError(str(exc)) from None


def stage_schedule(value: Any, epochs: int | None) -> Any:
    """The body of a schedule field's *before* validator in a stage of ``epochs`` epochs: ``None`` and
    schedule values pass through, anything else is read by :func:`schedule_value`."""
    return value if value is None or isinstance(value, _sched.Schedule) else schedule_value(value, epochs)


def _to_schedule(value: Any) -> Any:
    return schedule_value(value)


ScheduleField = Annotated[
    _sched.Schedule,
    PlainValidator(_to_schedule),
    PlainSerializer(lambda s: _sched.format_schedule(s), return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "description": "the seed's notation '0:1e-2,30:1e-3,60:1e-4,75:1e-5', the canonical form "
                    "'0:1e-2,30:1e-3; total=60', or a Tab. 3 phrase '0.01, step decay (30/60/75)'",
                },
                {
                    "type": "object",
                    "description": "{type: step|fixed|cosine|piecewise|initial-only, lr, milestones, gamma, min_lr, "
                    "points, total, warmup_epochs, warmup_start_lr}",
                },
            ]
        }
    ),
]
"""An LR schedule: the seed's notation, the canonical form, a Tab. 3 phrase or a mapping (see audit.core.schedule)."""


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be one line (a line break here would break tables and Markdown)")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
"""Text printed inside one table cell or heading (titles, names, ids): no line breaks."""

Percent = Annotated[float, Field(ge=0, le=100)]
MAX_EPOCHS = 10_000
"""Upper bound of any epoch count (a sanity bound: no published stage is near it)."""
Epochs = Annotated[int, Field(ge=0, le=MAX_EPOCHS, strict=True)]


class Paper(StrictModel):
    """Bibliographic identity of the paper a file describes."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """Registry id; must equal the file name without ``.yaml`` (e.g. ``wang2021-greg``)."""
    title: OneLine
    """Full title."""
    authors: list[OneLine] = Field(min_length=1)
    """Author names in publication order."""
    venue: OneLine
    """Venue as commonly cited (e.g. ``ICLR``, ``NeurIPS``, ``arXiv``)."""
    year: int = Field(ge=1980, le=2100)
    """Publication year."""
    url: OneLine | None = None
    """Where the paper can be read; ``null`` = not recorded."""
    code_url: OneLine | None = None
    """Official code repository; ``null`` = none known."""
    notes: str | None = None
    """Free-text caveats about the paper as a source."""


class MethodDecl(StrictModel):
    """A pruning method (or training baseline) introduced by this paper."""

    name: OneLine = Field(min_length=1)
    """Display name, unique in the registry (e.g. ``GReg-2``)."""
    aliases: list[OneLine] = []
    """Other spellings that resolve to this method (matching ignores case, spaces, punctuation, and folds ``ℓ`` to ``l``)."""
    description: str | None = None
    """One line on what the method does."""
    runnable: OneLine | None = None
    """Name of the rerun-engine implementation, when the engine can run this method."""


class Metric(StrictModel):
    """An accuracy as reported: mean, optional std and number of runs."""

    mean: Percent
    """Mean accuracy in percent."""
    std: Annotated[float, Field(ge=0)] | None = None
    """Standard deviation over runs in percentage points; ``null`` = not reported."""
    runs: Annotated[int, Field(ge=1, le=10_000, strict=True)] | None = None
    """Number of runs the mean is over; ``null`` = not reported."""


class BaseModelInfo(StrictModel):
    """The dense model the pipeline starts from."""

    identity: OneLine | None = None
    """Which weights: e.g. ``torchvision/resnet50/IMAGENET1K_V1``, or ``own training`` (describe it in
    ``description``); ``null`` = not reported."""
    description: str | None = None
    """How the base model was obtained, in the paper's words."""
    top1: Percent | None = None
    """Base top-1 accuracy as the paper reports it; ``null`` = not reported."""
    top5: Percent | None = None
    """Base top-5 accuracy as the paper reports it; ``null`` = not reported."""


class FlopsCount(StrictModel):
    """Absolute FLOP counts with their convention."""

    dense: Annotated[float, Field(gt=0)] | None = None
    """FLOPs of the dense model, in ``scale`` units."""
    pruned: Annotated[float, Field(gt=0)] | None = None
    """FLOPs of the pruned model, in ``scale`` units."""
    scale: Literal["G", "M"] = "G"
    """Unit prefix of ``dense``/``pruned`` (10^9 or 10^6)."""
    convention: Literal["MACs", "2xMACs"] | None = None
    """What one "FLOP" counts: a multiply-accumulate (``MACs``) or two operations (``2xMACs``); ``null`` = not stated."""

    @model_validator(mode="after")
    def _order(self) -> FlopsCount:
        if self.dense is not None and self.pruned is not None and self.pruned > self.dense:
            raise ValueError(f"pruned FLOPs {self.pruned} exceed dense FLOPs {self.dense}")
        return self


class Compression(StrictModel):
    """How much was removed. Each quantity has one direction and unit; ``null`` = not reported."""

    speedup: float | None = None
    """Theoretical FLOPs speedup = dense FLOPs / pruned FLOPs (>= 1)."""
    flops_reduction_pct: Percent | None = None
    """FLOPs removed, percent of the dense FLOPs (speedup = 1 / (1 - pct/100))."""
    params_reduction_pct: Percent | None = None
    """Parameters removed, percent of the dense parameters."""
    flops: FlopsCount | None = None
    """Absolute FLOP counts, when printed."""
    pruning_ratio: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Uniform per-layer filter pruning ratio (fraction of filters removed in each pruned layer)."""
    layerwise_ratios: list[Annotated[float, Field(ge=0, lt=1)]] | None = None
    """Published layer-wise (stage-wise) ratios, e.g. ``[0, 0.60, 0.60, 0.60, 0.21, 0]``."""
    ratio_layout: OneLine | None = None
    """What the entries of ``layerwise_ratios`` index, e.g. ``[stem, layer1, layer2, layer3, layer4, fc]``."""

    @field_validator("speedup")
    @classmethod
    def _speedup(cls, v: float | None) -> float | None:
        if v is not None and not v >= 1:
            raise ValueError(
                f"speedup {v:g} is below 1: a speedup is dense/pruned FLOPs (>= 1); "
                "put a fraction of FLOPs saved in flops_reduction_pct (percent)"
            )
        return v

    @model_validator(mode="after")
    def _layout(self) -> Compression:
        if self.layerwise_ratios is not None and not self.ratio_layout:
            raise ValueError("layerwise_ratios needs ratio_layout (what each entry indexes)")
        return self

    def effective_speedup(self) -> float | None:
        """The speedup, from ``speedup``, else from the FLOPs reduction or absolute counts."""
        if self.speedup is not None:
            return self.speedup
        if self.flops_reduction_pct is not None and self.flops_reduction_pct < 100:
            return 1.0 / (1.0 - self.flops_reduction_pct / 100.0)
        if self.flops is not None and self.flops.dense and self.flops.pruned:
            return self.flops.dense / self.flops.pruned
        return None


class Stage(StrictModel):
    """One stage of the pipeline (pretraining, pruning, finetuning or scratch training)."""

    epochs: Epochs | None = None
    """Epochs of this stage; for the pruning stage, 0 = one-shot. ``null`` = not reported."""
    lr_schedule: ScheduleField | None = None
    """The full LR schedule of the stage; its length is the stage's ``epochs``. ``null`` = not reported."""
    iterations: Annotated[int, Field(ge=0, le=10**9, strict=True)] | None = None
    """Optimizer steps of the stage, for stages a paper counts in iterations rather than whole epochs
    (e.g. a regularization stage of about 90k iterations); ``null`` = not reported."""
    optimizer: OneLine | None = None
    """Optimizer, e.g. ``sgd``."""
    batch_size: Annotated[int, Field(ge=1, le=10**7, strict=True)] | None = None
    """Total batch size."""
    weight_decay: Annotated[float, Field(ge=0)] | None = None
    """Weight decay."""
    momentum: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Momentum."""
    nesterov: bool | None = None
    """Nesterov momentum."""
    notes: str | None = None
    """Caveats about this stage."""

    @model_validator(mode="before")
    @classmethod
    def _epochs_from_schedule(cls, data: Any) -> Any:
        """A schedule that states its own total (``...; total=90``) supplies unreported epochs."""
        if isinstance(data, dict) and data.get("epochs") is None and data.get("lr_schedule") is not None:
            try:
                sched = _sched.schedule_from_data(data["lr_schedule"])
            except (_sched.ScheduleError, TypeError):
                return data  # reported by the field validator
            if sched.total_epochs is not None:
                data = {**data, "epochs": sched.total_epochs}
        return data

    @field_validator("lr_schedule", mode="after")
    @classmethod
    def _schedule_length(cls, value: _sched.Schedule | None, info: ValidationInfo) -> _sched.Schedule | None:
        epochs = info.data.get("epochs")
        if value is None or epochs is None:
            return value
        if epochs == 0:
            raise ValueError("a stage of 0 epochs has no LR schedule")
        return schedule_value(value, epochs)


RESULT_ID = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"
_NOT_DATA = {"sources", "inferred", "notes", "id", "method", "variant", "granularity", "pipeline", "dataset",
             "network", "reimplementation_of", "setup_tag", "description", "optimizer", "ratio_layout",
             "scale", "convention", "nesterov"}


_DATA_FIELDS: dict[type, tuple[str, ...]] = {}


def _data_fields(model: type[BaseModel]) -> tuple[str, ...]:
    fields = _DATA_FIELDS.get(model)
    if fields is None:
        fields = _DATA_FIELDS[model] = tuple(n for n in model.model_fields if n not in _NOT_DATA)
    return fields


def json_schema() -> dict[str, Any]:
    """JSON Schema of a paper file (draft 2020-12), every property described by its field docstring."""
    schema = PaperFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "prune-audit paper file"
    return schema


def _is_schema_path(model: type[BaseModel], pattern: str) -> bool:
    """True when ``pattern`` (``*``, ``a.b``, ``a.*``) names a field (or subtree) of ``model``."""
    if pattern == "*":
        return True
    parts = pattern.split(".")
    current: Any = model
    for i, part in enumerate(parts):
        if part == "*" and i == len(parts) - 1:
            return isinstance(current, type) and issubclass(current, BaseModel)
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return False
        annotation = current.model_fields[part].annotation
        current = next((a for a in (annotation, *get_args(annotation))
                        if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return True


class Source(StrictModel):
    """Where numbers of a result come from."""

    where: OneLine = Field(min_length=1)
    """Table, figure, section or file, e.g. ``Tab. 1``, ``Appendix A``, ``README``."""
    paper: OneLine | None = None
    """Registry id (or citation) of the document; ``null`` = the paper of this file."""
    fields: list[OneLine] = ["*"]
    """Dotted paths of the fields this source backs (``*`` = all, ``base.*`` = a subtree)."""
    secondary: bool = False
    """True when the number is transcribed by a later document rather than read in the original."""
    note: str | None = None
    """Qualifiers: derivations, conflicts between sources, caveats."""

    def covers(self, path: str) -> bool:
        """True when this source backs the value at ``path``."""
        for pattern in self.fields:
            if pattern == "*" or pattern == path:
                return True
            if pattern.endswith(".*") and path.startswith(pattern[:-1]):
                return True
            if path.startswith(pattern + "."):
                return True
        return False


class Result(StrictModel):
    """One published number: a method's accuracy at one operating point on one dataset and network."""

    id: str = Field(pattern=RESULT_ID)
    """Unique within the file (e.g. ``resnet50-2.31x``)."""
    method: OneLine = Field(min_length=1)
    """Method name or alias; must resolve to a method declared somewhere in the registry."""
    variant: OneLine | None = None
    """Variant or operating-point label used by the paper (e.g. ``P30F90, 1e-1``)."""
    granularity: Literal["filter", "unstructured", "n:m"] = "filter"
    """Sparsity granularity."""
    pipeline: Literal["pruning", "scratch", "scratch-e", "scratch-b"] = "pruning"
    """A pruning pipeline, or scratch training of the pruned architecture (plain, Scratch-E or Scratch-B)."""
    reimplementation_of: OneLine | None = None
    """Paper id of the method's original paper when this file's paper reports its own reimplementation."""
    dataset: DatasetId
    """Canonical dataset id (``imagenet-1k``, ``imagenet-100``, ``cifar-10``, ``cifar-100``, ...)."""
    network: NetworkId
    """Canonical network id (``resnet50``, ``resnet34``, ``resnet56``, ``vgg19``, ...)."""
    top1: Metric
    """Top-1 accuracy of the final (pruned) model."""
    top5: Metric | None = None
    """Top-5 accuracy, when given."""
    trainability_acc: Percent | None = None
    """Trainability accuracy (the seed's Eq. 1), when reported."""
    base: BaseModelInfo = BaseModelInfo()
    """The base (dense) model."""
    compression: Compression = Compression()
    """Speedup / FLOPs / parameter reduction and layer-wise ratios."""
    pretrain: Stage | None = None
    """Dense training before pruning (for a public checkpoint, its training recipe)."""
    prune: Stage | None = None
    """The pruning method's own stage (0 epochs = one-shot)."""
    finetune: Stage | None = None
    """Retraining of the pruned model."""
    scratch: Stage | None = None
    """Scratch training of the pruned architecture (pipelines ``scratch*`` only)."""
    setup_tag: Literal["S1", "S2", "S3.1", "S3.2", "S4.1", "S4.2", "SX-A", "SX-B"] | None = None
    """The comparison setup the paper itself assigns to this row (the seed's Tab. 4 legend)."""
    inferred: dict[str, str] = {}
    """Dotted field paths whose values are inferred, not stated, mapped to the justification."""
    sources: list[Source] = Field(min_length=1)
    """Provenance of the numbers."""
    notes: str | None = None
    """Free-text caveats."""

    @model_validator(mode="after")
    def _consistency(self) -> Result:
        if self.pipeline == "pruning" and self.scratch is not None:
            raise ValueError("a pruning pipeline has no 'scratch' stage (use pipeline: scratch)")
        if self.pipeline != "pruning" and (self.prune is not None or self.finetune is not None):
            raise ValueError(f"a {self.pipeline} result has no prune/finetune stage")
        for path in self.inferred:
            if self.get_path(path) is None:
                raise ValueError(f"inferred path {path!r} names no value of this result")
        for source in self.sources:
            for pattern in source.fields:
                if not _is_schema_path(Result, pattern):
                    raise ValueError(f"source field {pattern!r} is not a field of a result")
        uncovered = [p for p in self.reported_paths()
                     if not self.is_inferred(p) and not any(s.covers(p) for s in self.sources)]
        if uncovered:
            raise ValueError(f"no source given for {', '.join(uncovered)}")
        return self

    def reported_paths(self) -> list[str]:
        """Dotted paths of every reported (non-null) number, schedule and identity of this result."""
        out: list[str] = []

        def walk(obj: BaseModel, prefix: str) -> None:
            values = obj.__dict__
            for name in _data_fields(type(obj)):
                value = values[name]
                if value is None:
                    continue
                if isinstance(value, BaseModel):
                    walk(value, f"{prefix}{name}.")
                elif name == "identity" or (isinstance(value, (int, float, _sched.Schedule, list))
                                            and not isinstance(value, bool)):
                    out.append(f"{prefix}{name}")

        walk(self, "")
        return out

    def get_path(self, path: str) -> Any:
        """The value at a dotted path (``base.identity``, ``finetune.lr_schedule``), ``None`` if absent."""
        obj: Any = self
        for part in path.split("."):
            if obj is None:
                return None
            if isinstance(obj, BaseModel):
                if part not in type(obj).model_fields:
                    return None
                obj = getattr(obj, part)
            else:
                return None
        return obj

    def is_inferred(self, path: str) -> str | None:
        """The justification when the value at ``path`` (or a parent of it) is inferred."""
        parts = path.split(".")
        for i in range(len(parts), 0, -1):
            key = ".".join(parts[:i])
            if key in self.inferred:
                return self.inferred[key]
        return None

    @property
    def speedup(self) -> float | None:
        """Effective FLOPs speedup."""
        return self.compression.effective_speedup()


class PaperFile(StrictModel):
    """The content of one ``registry/<paper-id>.yaml`` file."""

    paper: Paper
    """The paper."""
    methods: list[MethodDecl] = []
    """Methods this paper introduces."""
    results: list[Result] = []
    """Results this paper reports (its own and its reimplementations of others')."""
