"""The typed results of ``prune-audit compare`` and ``prune-audit audit`` (pydantic models).

:func:`audit.core.compare.compare_methods` returns a :class:`CompareReport` and
:func:`audit.core.compare.audit_matrix` an :class:`AuditReport`; the terminal renderers and the Markdown/HTML
reports read them, and ``--json`` prints ``model_dump(mode="json")``.  Values are kept exact in the models and
rounded only when serialized (speedups to 4 decimals, mismatches and deltas to 6).
``docs/compare.schema.json`` and ``docs/audit.schema.json`` are generated from these models by
:func:`write_schemas` (``python -m audit.core.views``); a test keeps the committed files current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer

from audit.core.classify import CRITERIA, Criterion, Significance
from audit.core.rules import Rule1
from audit.core.setups import CHAIN, Level, Outcome

__all__ = [
    "AuditGroup",
    "AuditReport",
    "CalibratedRow",
    "CompareGroup",
    "CompareReport",
    "CrossRun",
    "CrossValidation",
    "Delta",
    "Filters",
    "MethodPair",
    "Missing",
    "NaiveRow",
    "ValueGroup",
    "ValueRow",
    "OperatingPoint",
    "Pair",
    "Recommendation",
    "Reproduction",
    "Role",
    "Rule1Pair",
    "SCHEMAS",
    "Side",
    "schema_text",
    "write_schemas",
]


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Filters(_Model):
    """The ``--dataset`` / ``--network`` filters (``None``: all)."""

    dataset: str | None
    network: str | None


class Side(_Model):
    """One side of a pair: a registry result as the comparison reads it."""

    key: str = Field(description="registry key paper-id/result-id")
    method: str
    label: str = Field(description="method name, '(reimpl.)' for a reimplementation")
    top1: float | None = Field(description="top-1 in percent (printed, from an error rate, or base + printed "
                                           "change); null when only a change from an unreported base is known")
    gain: float | None = Field(default=None, description="top-1 change pruned - base in percentage points "
                                                          "(printed, or from top-1 and base top-1)")
    std: float | None
    runs: int | None
    speedup: float | None = Field(description="effective speedup (dense FLOPs / pruned FLOPs)")
    speedup_derived: bool = Field(default=False, description="true when the speedup is not printed but derived "
                                                              "(from the FLOPs reduction, counts or pruning ratios)")
    base: str | None = Field(description="base-model identity as reported")
    base_top1: float | None
    finetune: str = Field(description="finetuning recipe as text: '90 epochs, 0:1e-2,30:1e-3,...'")
    reimplementation_of: str | None
    setup_tag: str | None
    source: str
    pipeline: str = Field(exclude=True)
    """``pruning`` or ``scratch``."""
    final_lr: float | None = Field(exclude=True)
    """Final LR of the finetuning schedule (``None``: not reported)."""
    first_source: str = Field(exclude=True)
    """The first source (``paper where``; empty when the result names none)."""
    finetune_epochs: int | None = Field(exclude=True)
    finetune_schedule: str | None = Field(exclude=True)
    """The finetuning LR schedule in the seed's notation, without the total (``None``: not reported)."""

    def finetune_short(self) -> str:
        """:attr:`finetune` in a narrow column: ``90 ep 0:1e-2,30:1e-3,...``, ``90 ep LR schedule n/r``."""
        if self.finetune_epochs is None:
            return self.finetune
        return f"{self.finetune_epochs} ep {self.finetune_schedule or 'LR schedule n/r'}"

    @field_serializer("speedup")
    def _speedup(self, v: float | None) -> float | None:
        return _round(v, 4)


class Delta(_Model):
    """Top-1 differences A − B (percentage points)."""

    top1: float | None = Field(description="A's top-1 - B's top-1; null when a side has only a top-1 change")
    drop: float | None = Field(description="(A's drop from its base) − (B's drop from its base); null when the "
                                           "bases are the same or a side's change is not known")

    @field_serializer("top1")
    def _top1(self, v: float | None) -> float | None:
        return _round(v, 6)

    @field_serializer("drop")
    def _drop(self, v: float | None) -> float | None:
        return _round(v, 6)


Role = Literal["calibrated", "naive", "other-rate", "claimed"]
"""How a pair is used: an operating point's strongest pair, another pair at that rate, a pair across rates, or a
comparison a submission claims."""


class Pair(_Model):
    """One classified pair of results with its setup (the seed's Tab. 2) and everything the readers show."""

    role: Role
    a: Side
    b: Side
    setup: Level
    setup_label: str = Field(description="the setup with its qualifiers, e.g. 'S3.2, base model inferred'")
    rank: int = Field(description="0 not comparable, 1 below S1, 2..7 = S1..S4.2")
    inferred: list[str] = Field(description="criteria of the reached level met only through an inferred value")
    criteria: list[Criterion]
    failed: dict[str, list[str]] = Field(description="for each stronger level, the criteria it needs that fail")
    sx: dict[str, Criterion]
    dominance: Literal["A", "B"] | None = Field(description="the side that Pareto-dominates when speedups differ")
    speedup_mismatch: float | None
    delta: Delta
    significant: bool | None
    significance: Significance
    rule1: Rule1 | None = Field(description="App. A Rule 1 warning when the finetuning stops at different final LRs")
    failed_text: list[str] = Field(description="one line per stronger level, in chain order (the level's own "
                                               "criterion, or 'needs' a lower one)")

    @field_serializer("speedup_mismatch")
    def _mismatch(self, v: float | None) -> float | None:
        return _round(v, 6)

    @field_serializer("rule1")
    def _rule1(self, v: Rule1 | None) -> str | None:
        return None if v is None else v.text()

    def criterion(self, name: str) -> Criterion:
        """The chain criterion or SX flag called ``name`` (:class:`KeyError` when there is none)."""
        for c in self.criteria:
            if c.name == name:
                return c
        return self.sx[name]

    def own_failures(self) -> list[str]:
        """The lines of :attr:`failed_text` whose level's own criterion fails (not those that only 'need' a lower
        one): :attr:`failed` and :attr:`failed_text` are both in chain order, one entry per stronger level."""
        out = []
        for level, line in zip(self.failed, self.failed_text):
            if CRITERIA[CHAIN.index(Level(level))] in self.failed[level]:
                out.append(line)
        return out


class CrossRun(_Model):
    """One run of the seed's Sec. 5 cross-validation: a method finetuned with the other method's recipe."""

    method: str
    recipe_of: str = Field(description="the method whose recipe is used")
    recipe_from: str = Field(description="registry key the recipe is read from")
    recipe_where: str = Field(description="dataset/network of that result")
    finetune_epochs: int | None
    schedule: str | None = Field(description="LR schedule in the seed's notation, without the total")
    recipe: str
    already_in_registry: str | None = Field(description="key of a registry result already finetuned this way")


class CrossValidation(_Model):
    """The seed's Sec. 5 plan: A with B's finetuning recipe and B with A's."""

    runs: list[CrossRun]
    note: str


class OperatingPoint(_Model):
    """Speedups within the tolerance of each other, with the calibrated pair and the naive ones."""

    speedup: float | None = Field(description="lowest speedup of the point; null for results without one")
    speedup_text: str
    a_results: list[str]
    b_results: list[str]
    calibrated: Pair | None = Field(description="the pair at the strongest setup; null when one side is absent")
    naive: list[Pair]
    verdict: str
    next_setup: str | None
    cross_validation: CrossValidation | None
    only: str | None = Field(description="the method that alone has results at this point")

    @field_serializer("speedup")
    def _speedup(self, v: float | None) -> float | None:
        return _round(v, 4)


class CompareGroup(_Model):
    """One dataset/network both methods have results on."""

    dataset: str
    network: str
    operating_points: list[OperatingPoint]
    other_rate_pairs: list[Pair] = Field(description="pairs across operating points (informative only with a "
                                                     "Pareto dominance)")


class Missing(_Model):
    """A dataset/network where one method has results and the other none."""

    method: str
    dataset: str
    network: str
    other: str
    other_results: int


class Reproduction(_Model):
    """A reproduction (``reproduces``) next to the published result it reproduces."""

    key: str = Field(description="registry key of the reproduction")
    reproduces: str = Field(description="registry key of the published result")
    top1: float | None
    published_top1: float | None
    gap: float | None = Field(description="reproduction top-1 - published top-1, percentage points")
    rate: Outcome = Field(description="same operating point (ratios or speedup)?")
    recipe: Outcome = Field(description="same finetuning epochs and LR schedule?")
    text: str = Field(description="the reproducibility-gap line as printed")


class Recommendation(_Model):
    """What to cite and how to compare fairly."""

    setup: Level
    text: str
    per_operating_point: list[str]


class CompareReport(_Model):
    """Output of ``prune-audit compare A B``: for each dataset/network both methods cover, the operating points
    (speedups within the tolerance) with the calibrated pair (strongest setup) and the naive pairs, verdicts,
    the recommendation and the cross-validation plan.  Setups follow the seed paper's Tab. 2 (S1..S4.2,
    SX-A/SX-B)."""

    a: str = Field(description="canonical name of method A")
    b: str
    tolerance: float = Field(gt=0, lt=1)
    accept_base_accuracy: bool
    filters: Filters
    groups: list[CompareGroup]
    missing: list[Missing]
    verdicts: list[str]
    recommendation: Recommendation
    reproductions: list[Reproduction] = Field(default_factory=list, description="reproductions among the "
                                                                                 "compared results, with their gap")


# ---------------------------------------------------------------------- audit
class AuditGroup(_Model):
    """The methods with results on one dataset/network."""

    dataset: str
    network: str
    methods: list[str]


class MethodPair(_Model):
    """The strongest setup any pair of results of two methods reaches on one dataset/network."""

    dataset: str
    network: str
    a: str
    b: str
    setup: Level
    inferred: bool = Field(description="the setup is reached only through an inferred value")
    label: str = Field(description="the setup, '*' when inferred")
    pairs: int = Field(description="result pairs of the two methods on this dataset/network")


class CalibratedRow(_Model):
    """A method on the calibrated leaderboard: wins, losses and ties over pairs at S3.2 or stronger."""

    method: str
    wins: int
    losses: int
    ties: int
    mean_delta: float
    opponents: list[str]
    rank: int


class NaiveRow(_Model):
    """A result on the naive leaderboard (raw top-1)."""

    method: str
    key: str
    top1: float
    speedup: float | None
    dataset: str
    network: str
    rank: int

    @field_serializer("speedup")
    def _speedup(self, v: float | None) -> float | None:
        return _round(v, 4)


class Rule1Pair(_Model):
    """A pair at S2 or stronger whose finetuning schedules stop at different final LRs (App. A Rule 1)."""

    stops_higher: str = Field(description="key of the result that stops at the larger final LR")
    final_lr: float
    partner: str
    partner_final_lr: float
    setup: Level


class ValueRow(_Model):
    """One pruning result against scratch training of its pruned architecture (the seed's Mystery 2)."""

    ratio: str = Field(description="the pruned architecture: 'ratio 0.5' or the layer-wise list")
    speedup: float | None
    pruning: str = Field(description="registry key of the pruning result")
    pruning_label: str = Field(description="method and variant of the pruning result")
    scratch: str = Field(description="registry key of the scratch-training result")
    scratch_label: str
    setup: Level = Field(description="S4.2 (one overall LR schedule), SX-A (same total epochs), SX-B (same "
                                     "total cost) or S1 (same architecture only)")
    pruning_top1: float
    scratch_top1: float
    delta_top1: float = Field(description="pruning top-1 - scratch top-1, percentage points")
    significance: Significance

    @field_serializer("speedup")
    def _speedup(self, v: float | None) -> float | None:
        return _round(v, 4)


class ValueGroup(_Model):
    """The value of pruning on one dataset/network: every pruning result with a scratch counterpart."""

    dataset: str
    network: str
    rows: list[ValueRow]


class AuditReport(_Model):
    """Output of ``prune-audit audit``: the strongest setup per method pair, the calibrated leaderboard (S3.2+
    pairs only), the naive one (raw top-1) and the Rule 1 flags."""

    filters: Filters
    tolerance: float = Field(gt=0, lt=1)
    accept_base_accuracy: bool
    methods: list[str]
    groups: list[AuditGroup]
    pairs: list[MethodPair]
    calibrated_leaderboard: list[CalibratedRow]
    unranked: list[str] = Field(description="methods without a comparison at S3.2 or stronger")
    naive_leaderboard: list[NaiveRow]
    rule1: list[Rule1Pair]
    unverified: list[str] = Field(default_factory=list, description="papers whose file no second reader has "
                                                                    "verified: their results are kept out of the "
                                                                    "calibrated leaderboard")
    value_of_pruning: list[ValueGroup] = Field(default_factory=list, description="pruning vs scratch training "
                                                                                   "per ratio, under each setup")
    results: int
    classified_pairs: int
    _pair_index: dict[tuple[str, str, str, str], MethodPair] | None = PrivateAttr(default=None)

    def pair_of(self, dataset: str, network: str, a: str, b: str) -> MethodPair | None:
        """The :class:`MethodPair` of methods ``a`` and ``b`` (either order) on ``dataset``/``network``;
        ``None`` when the two have no result pair there (or ``a == b``).  The one lookup the terminal
        matrix, its per-method lines and the site's matrix share."""
        if a == b:
            return None
        index = self._pair_index
        if index is None:
            index = self._pair_index = {(p.dataset, p.network, p.a, p.b): p for p in self.pairs}
        return index.get((dataset, network, a, b)) or index.get((dataset, network, b, a))


# ---------------------------------------------------------------------- schemas
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "compare.schema.json": (CompareReport, "prune-audit compare --json"),
    "audit.schema.json": (AuditReport, "prune-audit audit --json"),
}
"""File name under ``docs/`` -> (model, title) of each generated JSON schema."""


def schema_text(name: str) -> str:
    """The JSON schema text of ``SCHEMAS[name]`` (draft 2020-12, the serialized form, sorted keys, final newline).

    Raises :class:`KeyError` for a name that is not in :data:`SCHEMAS`.
    """
    model, title = SCHEMAS[name]
    schema = model.model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"https://prune-audit.example/{name}", **schema, "title": title}
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(docs_dir: Path) -> list[Path]:
    """Write every schema of :data:`SCHEMAS` into ``docs_dir`` (atomically); returns the paths written."""
    from audit.io.atomic import atomic_write_text

    written = []
    for name in SCHEMAS:
        path = Path(docs_dir) / name
        atomic_write_text(path, schema_text(name))
        written.append(path)
    return written


if __name__ == "__main__":  # python -m audit.core.views [DOCS_DIR]: regenerate the committed schemas
    import sys

    for p in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(f"wrote {p}")
