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

import functools
from dataclasses import dataclass
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
from audit.core.catalog import DatasetId, Granularity, Network
from audit.io.loader import StrictModel

__all__ = [
    "FLOPS_CONVENTIONS", "MAX_EPOCHS", "RESULT_ID", "Alternative", "BaseModelInfo", "Change", "Compression", "Epochs",
    "Derived", "FlopsCount", "MethodDecl", "Metric", "OneLine", "Paper", "PaperFile", "ParamsCount", "Percent", "Result",
    "ScheduleField", "Source", "Stage", "Verification", "json_schema", "networks_json_schema", "schedule_value", "stage_schedule",
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


class Verification(StrictModel):
    """A second reader's re-check of a paper file against its sources (the registry's data-honesty rule:
    a file counts as verified only when someone who did not write it re-read every number)."""

    status: Literal["verified", "differences"]
    """``verified``: every number matches its source; ``differences``: the reader found differences
    (listed in ``differences``), and the file counts as unverified until they are resolved."""
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    """When the file was re-read (``YYYY-MM-DD``, quoted in YAML)."""
    by: OneLine = Field(min_length=1)
    """Who re-read it (a name or a role such as ``second reader``), never the file's author."""
    against: OneLine = Field(min_length=1)
    """What was re-read: the documents and where (``seed PDF Tab. 4-7; lmbxmu/HRank README``)."""
    differences: list[OneLine] = []
    """Each difference found (field, file value, source value)."""


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
    verification: Verification | None = None
    """The second reader's re-check of this file; ``null`` = not re-checked yet (unverified files are
    listed as such and kept out of the calibrated leaderboards)."""

    @property
    def verified(self) -> bool:
        """True when a second reader found every number of the file in its source."""
        return self.verification is not None and self.verification.status == "verified"


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
    """An accuracy as printed: the accuracy (``mean``) or the error rate (``error``), with the
    statistic it is (mean over runs, best of n, one run), its spread and its run count."""

    mean: Percent | None = None
    """Accuracy in percent as printed (the mean over runs unless ``statistic`` says otherwise);
    ``null`` when the source prints only the error rate."""
    error: Percent | None = None
    """Error rate in percent as printed (ShrinkBench's ``Err1``); the accuracy is ``100 - error``
    (derived).  When both are printed, ``registry check`` checks that they add up to 100."""
    std: Annotated[float, Field(ge=0)] | None = None
    """Standard deviation over runs in percentage points; ``null`` = not reported."""
    runs: Annotated[int, Field(ge=1, le=10_000, strict=True)] | None = None
    """Number of runs the value is over; ``null`` = not reported."""
    runs_bound: Literal["exact", "at-least"] = "exact"
    """``at-least``: the source gives ``runs`` as a lower bound ("at least three random runs")."""
    statistic: Literal["mean", "median", "best-of-n", "single-run"] | None = None
    """What the number is: the mean (or median) over ``runs`` runs, the best of ``runs`` runs, or one
    run; ``null`` = not stated (a mean when ``runs`` > 1 is the usual reading, never assumed)."""
    epoch: Literal["best", "last"] | None = None
    """Whether the accuracy is that of the best epoch or of the last one, when the source says."""

    @model_validator(mode="after")
    def _one_value(self) -> Metric:
        if self.mean is None and self.error is None:
            raise ValueError("an accuracy needs its value: mean (accuracy %) or error (error rate %)")
        if self.statistic == "single-run" and self.runs not in (None, 1):
            raise ValueError(f"a single-run value cannot be over {self.runs} runs")
        return self

    @property
    def value(self) -> float:
        """The accuracy in percent: ``mean`` as printed, else ``100 - error`` (derived)."""
        if self.mean is not None:
            return self.mean
        assert self.error is not None
        return round(100.0 - self.error, 10)

    @property
    def derived(self) -> bool:
        """True when :attr:`value` is computed from the printed error rate."""
        return self.mean is None


class Change(StrictModel):
    """An accuracy known as a change from the base model, in percentage points, as printed."""

    value: float = Field(ge=-100, le=100)
    """The printed number, in percentage points, in the direction ``sign`` names."""
    sign: Literal["gain", "drop"]
    """What the column means: ``gain`` = pruned - base (a "Δ Acc" column, negative when accuracy is
    lost), ``drop`` = base - pruned (an "Acc. drop" column, positive when accuracy is lost)."""
    std: Annotated[float, Field(ge=0)] | None = None
    """Standard deviation in percentage points, when printed."""

    @property
    def gain(self) -> float:
        """The change as pruned - base, in percentage points."""
        return self.value if self.sign == "gain" else -self.value


class BaseModelInfo(StrictModel):
    """The dense model the pipeline starts from."""

    identity: OneLine | None = None
    """Which weights: e.g. ``torchvision/resnet50/IMAGENET1K_V1``, or ``own training`` (describe it in
    ``description``); ``null`` = not reported."""
    description: str | None = None
    """How the base model was obtained, in the paper's words."""
    top1: Percent | None = None
    """Base top-1 accuracy in percent as the paper reports it; ``null`` = not reported.  When only
    ``top1_error`` is printed, this is ``100 - top1_error`` (derived on loading, never written)."""
    top5: Percent | None = None
    """Base top-5 accuracy in percent as the paper reports it; ``null`` = not reported (derived from
    ``top5_error`` like ``top1``)."""
    top1_error: Percent | None = None
    """Base top-1 error rate in percent, for a paper that prints its base as an error rate (DCP Tab. 5's
    '0% (baseline)' row, ShrinkBench's ``OrigErr1``).  Both printed: ``registry check`` tests that they
    add up to 100."""
    top5_error: Percent | None = None
    """Base top-5 error rate in percent (as ``top1_error``)."""

    @model_validator(mode="before")
    @classmethod
    def _accuracy_from_error(cls, data: Any) -> Any:
        """``top1``/``top5`` = 100 - the printed error rate when the accuracy itself is not printed (a
        malformed error value is left for the field's own validation to report)."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name in ("top1", "top5"):
            err = out.get(f"{name}_error")
            if out.get(name) is None and isinstance(err, (int, float)) and not isinstance(err, bool) \
                    and 0 <= err <= 100:
                out[name] = round(100.0 - float(err), 10)
        return out


FLOPS_CONVENTIONS = ("MACs", "2xMACs", "MACs+elementwise", "MACs-no-projection", "unstated")
"""What a printed FLOP count counts: ``MACs`` = conv + linear multiply-accumulates; ``2xMACs`` = two
operations per multiply-accumulate (the seed's Tab. 6/7, Pruning Filter in Filter); ``MACs+elementwise``
= MACs plus BN, ReLU, pooling and bias operations (the counters ptflops/thop and Torch-Pruning's print
126.6 M for ResNet-56); ``MACs-no-projection`` = MACs without the 1x1 projection shortcuts (Li et al.'s
ResNet-34); ``unstated`` = the source prints "FLOPs" without saying which."""

_SCALES = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


class FlopsCount(StrictModel):
    """Absolute FLOP counts as printed, with their unit and convention."""

    dense: Annotated[float, Field(gt=0)] | None = None
    """FLOPs of the dense model, in ``scale`` units."""
    pruned: Annotated[float, Field(gt=0)] | None = None
    """FLOPs of the pruned model, in ``scale`` units."""
    scale: Literal["K", "M", "G", "T"] = "G"
    """Unit prefix of ``dense``/``pruned`` (10^3, 10^6, 10^9, 10^12)."""
    convention: Literal["MACs", "2xMACs", "MACs+elementwise", "MACs-no-projection", "unstated"] | None = None
    """What one "FLOP" counts (see :data:`FLOPS_CONVENTIONS`); ``null`` or ``unstated`` = the source
    does not say (``registry check`` infers it from the dense count when it can)."""

    @model_validator(mode="after")
    def _order(self) -> FlopsCount:
        if self.dense is not None and self.pruned is not None and self.pruned > self.dense:
            raise ValueError(f"pruned FLOPs {self.pruned} exceed dense FLOPs {self.dense}")
        return self

    def absolute(self, value: float | None) -> float | None:
        """``value`` (``dense`` or ``pruned``) in FLOPs (units, not ``scale`` units)."""
        return None if value is None else value * _SCALES[self.scale]


class ParamsCount(StrictModel):
    """Absolute parameter counts as printed."""

    dense: Annotated[float, Field(gt=0)] | None = None
    """Parameters of the dense model, in ``scale`` units."""
    pruned: Annotated[float, Field(gt=0)] | None = None
    """Parameters of the pruned model, in ``scale`` units."""
    scale: Literal["K", "M", "G"] = "M"
    """Unit prefix of ``dense``/``pruned`` (10^3, 10^6, 10^9)."""

    @model_validator(mode="after")
    def _order(self) -> ParamsCount:
        if self.dense is not None and self.pruned is not None and self.pruned > self.dense:
            raise ValueError(f"pruned parameters {self.pruned} exceed dense parameters {self.dense}")
        return self

    def absolute(self, value: float | None) -> float | None:
        """``value`` (``dense`` or ``pruned``) as a parameter count."""
        return None if value is None else value * _SCALES[self.scale]


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
    params: ParamsCount | None = None
    """Absolute parameter counts, when printed."""
    pruning_ratio: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Uniform per-layer filter pruning ratio (fraction of filters removed in each pruned layer)."""
    layerwise_ratios: list[Annotated[float, Field(ge=0, lt=1)]] | None = None
    """Published layer-wise (stage-wise) ratios, e.g. ``[0, 0.60, 0.60, 0.60, 0.21, 0]``."""
    ratio_layout: OneLine | None = None
    """What the entries of ``layerwise_ratios`` index, e.g. ``[stem, layer1, layer2, layer3, layer4, fc]``."""
    skip: list[Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-\[\]]+$")]] | None = None
    """Layers (or blocks) left unpruned although their stage has a ratio, by module name as the source
    gives them, e.g. GReg's ResNet-34 ``[layer1.0, layer2.0, layer3.0, layer4.0]``."""
    conv_ratios: list[Annotated[float, Field(ge=0, lt=1)]] | None = None
    """One ratio per convolution, when the source prints a per-conv list (HRank's ``--compress_rate``,
    55 entries for ResNet-56 with the stem first)."""
    conv_ratio_layout: OneLine | None = None
    """What the entries of ``conv_ratios`` index, in the source's words."""
    rounding: Literal["ceil-pruned", "floor-pruned", "floor-kept"] | None = None
    """How a ratio becomes a filter count, when the source says: pruned = ceil(r*C) (the seed, GReg),
    pruned = floor(r*C) (Distiller), kept = floor((1-r)*C) (rethinking-network-pruning)."""

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
        if self.conv_ratios is not None and not self.conv_ratio_layout:
            raise ValueError("conv_ratios needs conv_ratio_layout (what each entry indexes)")
        return self

    def effective_speedup(self) -> float | None:
        """The speedup (dense/pruned FLOPs): ``speedup`` as printed, else derived from the FLOPs
        reduction (``1 / (1 - pct/100)``), else from the absolute counts (``dense / pruned``)."""
        return self.speedup if self.speedup is not None else self.derived_speedup()

    def derived_speedup(self) -> float | None:
        """The speedup derived from the FLOPs reduction or the absolute counts (``None`` when neither
        is printed), whether or not a speedup is printed too."""
        if self.flops_reduction_pct is not None and self.flops_reduction_pct < 100:
            return 1.0 / (1.0 - self.flops_reduction_pct / 100.0)
        if self.flops is not None and self.flops.dense and self.flops.pruned:
            return self.flops.dense / self.flops.pruned
        return None

    def effective_flops_reduction_pct(self) -> float | None:
        """FLOPs removed in percent: printed, else derived from the speedup or absolute counts."""
        if self.flops_reduction_pct is not None:
            return self.flops_reduction_pct
        s = self.effective_speedup()
        return None if s is None else 100.0 * (1.0 - 1.0 / s)

    def effective_params_reduction_pct(self) -> float | None:
        """Parameters removed in percent: printed, else derived from the absolute counts."""
        if self.params_reduction_pct is not None:
            return self.params_reduction_pct
        if self.params is not None and self.params.dense and self.params.pruned:
            return 100.0 * (1.0 - self.params.pruned / self.params.dense)
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
    repeats: Annotated[int, Field(ge=1, le=10_000, strict=True)] | Literal["per-layer", "per-block", "per-stage"] | None = None
    """How often the stage runs: a count (pruning rounds of an iterative method, each followed by this
    stage), or once after each pruned layer/block/stage (HRank finetunes after every pruned layer:
    lmbxmu/HRank issue #15); ``null`` = once.  A symbolic repeat makes the total budget unknown unless
    the number of pruned layers is stated."""
    notes: str | None = None
    """Caveats about this stage."""

    @property
    def total_epochs(self) -> int | None:
        """Epochs of the stage over all its repeats: ``epochs * repeats``; ``None`` when the epochs are
        not reported or the repeat count is symbolic (``per-layer``)."""
        if self.epochs is None:
            return None
        if self.repeats is None:
            return self.epochs
        return self.epochs * self.repeats if isinstance(self.repeats, int) else None

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
             "scale", "convention", "nesterov", "alternatives", "reproduces", "conv_ratio_layout",
             "runs_bound", "statistic", "epoch", "sign", "rounding"}


_DATA_FIELDS: dict[type, tuple[str, ...]] = {}


def _data_fields(model: type[BaseModel]) -> tuple[str, ...]:
    fields = _DATA_FIELDS.get(model)
    if fields is None:
        fields = _DATA_FIELDS[model] = tuple(n for n in model.model_fields if n not in _NOT_DATA)
    return fields


@functools.lru_cache(maxsize=4096)
def _ratio_speedup(network: str, ratios: Any, skip: tuple[str, ...], rounding: str, dataset: str) -> float | None:
    from audit.core import catalog, macs
    from audit.errors import AuditError

    if not macs.has_table(network):
        return None
    ds = catalog.DATASETS.get(dataset)
    try:
        count = macs.count_macs(network, list(ratios) if isinstance(ratios, tuple) else ratios, skip=skip,
                                rounding=rounding, input_size=None if ds is None or dataset == "digits" else ds.input_size,
                                classes=None if ds is None else ds.classes)
    except (AuditError, ValueError):
        return None
    return count.speedup


def json_schema() -> dict[str, Any]:
    """JSON Schema of a paper file (draft 2020-12), every property described by its field docstring."""
    schema = PaperFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "prune-audit paper file"
    return schema


def networks_json_schema() -> dict[str, Any]:
    """JSON Schema of the network catalog ``registry/networks.yaml`` (draft 2020-12)."""
    from audit.core.catalog import NetworkFile

    schema = NetworkFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "prune-audit network catalog"
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


@dataclass(frozen=True)
class Derived:
    """A value computed from printed ones (see :meth:`Result.derived_values`)."""

    path: str
    """Dotted path of the value it stands for (``compression.speedup``, ``top1``)."""
    value: float
    """The value, in the field's unit (percent, x, epochs)."""
    rule: str
    """How it was computed, for people (``1 / (1 - FLOPs reduction)``)."""


class Alternative(StrictModel):
    """Another value of one field of a result, with its own source."""

    field: Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=100)]
    """Dotted path of the field (``compression.flops.pruned``, ``top1.mean``)."""
    value: float | OneLine
    """The other value, in the field's units."""
    status: Literal["superseded", "conflicting"]
    """``superseded``: replaced by the current value (an erratum, a later version of the table);
    ``conflicting``: another source prints it and neither is known to be wrong."""
    where: OneLine = Field(min_length=1)
    """Table, section or file where the value is printed."""
    paper: OneLine | None = None
    """Registry id or citation of the document; ``null`` = this file's paper."""
    secondary: bool = False
    """True when that document only transcribes the number."""
    note: str | None = None
    """Why it is superseded or how the sources differ."""


class Result(StrictModel):
    """One published number: a method's accuracy at one operating point on one dataset and network."""

    id: str = Field(pattern=RESULT_ID)
    """Unique within the file (e.g. ``resnet50-2.31x``)."""
    method: OneLine = Field(min_length=1)
    """Method name or alias; must resolve to a method declared somewhere in the registry."""
    variant: OneLine | None = None
    """Variant or operating-point label used by the paper (e.g. ``P30F90, 1e-1``)."""
    granularity: Granularity | None = None
    """Sparsity granularity (one of :data:`audit.core.catalog.GRANULARITIES`: ``filter``, ``channel``,
    ``stripe``, ``kernel``, ``block``, ``layer``, ``pattern``, ``unstructured``, ``n:m``); ``null`` = the
    file does not state it (a transcribed table row rarely does: unknown stays unknown, never presumed
    ``filter``)."""
    pipeline: Literal["pruning", "scratch", "scratch-e", "scratch-b"] = "pruning"
    """A pruning pipeline, or scratch training of the pruned architecture (plain, Scratch-E or Scratch-B)."""
    reimplementation_of: OneLine | None = None
    """Paper id of the method's original paper when this file's paper reports its own reimplementation."""
    reproduces: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._+-]*$")] | None = None
    """Key ``paper-id/result-id`` of the published result this one reproduces (someone else's rerun of
    that result: a reimplementation in a paper, a reproduction reported in an issue thread); reports
    print the reproducibility gap between the two."""
    dataset: DatasetId
    """Canonical dataset id (``imagenet-1k``, ``imagenet-100``, ``cifar-10``, ``cifar-100``, ...)."""
    network: Annotated[OneLine, Field(min_length=1, max_length=64)]
    """Canonical network id of the catalog (``registry/networks.yaml``: ``resnet50``, ``resnet56``,
    ``vgg19``, ...) or of a network declared under ``networks:`` by a paper file of the registry."""
    top1: Metric | None = None
    """Top-1 accuracy (or error) of the final (pruned) model; ``null`` when the source prints only a
    change (``top1_change``) or only top-5."""
    top5: Metric | None = None
    """Top-5 accuracy (or error), when given."""
    top1_change: Change | None = None
    """The top-1 change from the base model as printed (a "Δ" or "drop" column), with its sign convention."""
    top5_change: Change | None = None
    """The top-5 change from the base model as printed."""
    trainability_acc: Percent | None = None
    """Trainability accuracy (the seed's Eq. 1: the mean *training* accuracy over the first LR stage of
    retraining, seed PDF Eq. 1 and Tab. 5), when reported."""
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
    alternatives: list[Alternative] = []
    """Other values of fields of this result, each with its source: superseded ones (an erratum, an
    earlier version of a table) and conflicting ones (two sources that disagree).  The field itself
    holds the current value; these are shown beside it."""
    notes: str | None = None
    """Free-text caveats."""

    @model_validator(mode="after")
    def _consistency(self) -> Result:
        if self.top1 is None and self.top5 is None and self.top1_change is None and self.top5_change is None:
            raise ValueError("a result needs an accuracy: top1, top5, top1_change or top5_change")
        for alt in self.alternatives:
            if self.get_path(alt.field) is None:
                raise ValueError(f"alternatives: {alt.field!r} names no value of this result "
                                 "(the current value goes in the field itself)")
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
                if value is None or values.get(f"{name}_error") is not None:
                    continue  # absent, or a base accuracy that comes with (or from) its printed error rate
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
        """Effective FLOPs speedup: printed, else derived from the FLOPs reduction or counts (see
        :meth:`Compression.effective_speedup`), else from the printed pruning ratios on a catalog network
        (:meth:`ratio_speedup`)."""
        s = self.compression.effective_speedup()
        return s if s is not None else self.ratio_speedup()

    def ratio_speedup(self) -> float | None:
        """The speedup the printed pruning ratios (uniform, stage-wise, per-conv, with the skip list and
        rounding rule when given) give on the result's network at its dataset's input size, from the
        torch-free MAC tables (:mod:`audit.core.macs`, conv + linear MACs); ``None`` when no ratio is
        printed or no table covers the network or layout."""
        c = self.compression
        ratios: Any = c.conv_ratios or c.layerwise_ratios or c.pruning_ratio
        if ratios is None:
            return None
        return _ratio_speedup(self.network, tuple(ratios) if isinstance(ratios, list) else ratios,
                              tuple(c.skip or ()), c.rounding or "ceil-pruned", self.dataset)

    @property
    def top1_value(self) -> float | None:
        """Top-1 accuracy in percent: printed (or ``100 - error``), else base top-1 + the printed
        change; ``None`` when neither gives it (a change from an unreported base)."""
        if self.top1 is not None:
            return self.top1.value
        if self.top1_change is not None and self.base.top1 is not None:
            return round(self.base.top1 + self.top1_change.gain, 10)
        return None

    @property
    def top1_gain(self) -> float | None:
        """Top-1 change pruned - base in percentage points: printed, else computed from the printed
        top-1 and base top-1; ``None`` when neither gives it."""
        if self.top1_change is not None:
            return self.top1_change.gain
        if self.top1 is not None and self.base.top1 is not None:
            return round(self.top1.value - self.base.top1, 10)
        return None

    def derived_values(self) -> list[Derived]:
        """Every value of this result that is computed from printed ones rather than printed, with
        the rule that gives it; ``show``, ``list``, ``compare`` and reports mark these alike."""
        out: list[Derived] = []
        if self.top1 is not None and self.top1.derived:
            out.append(Derived("top1", self.top1.value, f"100 - printed error {self.top1.error:g}"))
        if self.top5 is not None and self.top5.derived:
            out.append(Derived("top5", self.top5.value, f"100 - printed error {self.top5.error:g}"))
        if self.top1 is None and self.top1_value is not None and self.top1_change is not None:
            out.append(Derived("top1", self.top1_value,
                               f"base {self.base.top1:g} {self.top1_change.gain:+g} (printed change)"))
        if self.top1_change is None and self.top1_gain is not None:
            out.append(Derived("top1_change", self.top1_gain, "pruned - base top-1"))
        c = self.compression
        if c.speedup is None and c.derived_speedup() is None and self.ratio_speedup() is not None:
            out.append(Derived("compression.speedup", self.ratio_speedup(), "from the pruning ratios "  # type: ignore[arg-type]
                               "(MAC tables, conv + linear)" + ("" if self.compression.layerwise_ratios
                                                                 or self.compression.conv_ratios else
                                                                 "; the seed's layout: first conv of each block")))
        if c.speedup is None and c.derived_speedup() is not None:
            how = ("1 / (1 - FLOPs reduction)" if c.flops_reduction_pct is not None and c.flops_reduction_pct < 100
                   else "dense / pruned FLOPs")
            out.append(Derived("compression.speedup", c.derived_speedup(), how))  # type: ignore[arg-type]
        if c.flops_reduction_pct is None and c.effective_flops_reduction_pct() is not None:
            out.append(Derived("compression.flops_reduction_pct", c.effective_flops_reduction_pct(),  # type: ignore[arg-type]
                               "100 * (1 - 1 / speedup)" if c.speedup is not None else "1 - pruned / dense FLOPs"))
        if c.params_reduction_pct is None and c.effective_params_reduction_pct() is not None:
            out.append(Derived("compression.params_reduction_pct", c.effective_params_reduction_pct(),  # type: ignore[arg-type]
                               "1 - pruned / dense parameters"))
        for name in ("finetune", "prune"):
            stage = getattr(self, name)
            if stage is not None and isinstance(stage.repeats, int) and stage.epochs is not None:
                out.append(Derived(f"{name}.total_epochs", float(stage.total_epochs),
                                   f"{stage.epochs} epochs x {stage.repeats} repeats"))
        return out


class PaperFile(StrictModel):
    """The content of one ``registry/<paper-id>.yaml`` file."""

    paper: Paper
    """The paper."""
    networks: list[Network] = []
    """Networks this paper's results use that the catalog (``registry/networks.yaml``) lacks."""
    methods: list[MethodDecl] = []
    """Methods this paper introduces."""
    results: list[Result] = []
    """Results this paper reports (its own and its reimplementations of others')."""
