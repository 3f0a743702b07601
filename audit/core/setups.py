"""The setup vocabulary of the seed's Tab. 2: criterion outcomes and setup levels, each with its label and style.

Every module that names an outcome or a level (the classifier, compare/audit, the terminal renderers, the
reports) uses these enums; the enum value is the text the JSON output and the reports show, the ``style`` the
colour the terminal renderers give it.  Pure Python, no I/O.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["CHAIN", "TIE", "Level", "Outcome", "Reading", "pareto_dominance"]

TIE = 0.005
"""Top-1 differences (percentage points) below this are a tie."""


class _Text(str, Enum):
    """A str-valued enum that prints as its value on every Python version (``str``, f-strings, ``format``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    def __hash__(self) -> int:  # equal to its text, so it hashes like it (dict and set lookups by text work)
        return hash(self.value)


class Outcome(_Text):
    """The outcome of one criterion of one pair (the classifier's module docstring explains each)."""

    SAME = "same"
    SAME_INFERRED = "same (inferred)"
    DIFFERS = "differs"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """The text shown for the outcome (the enum value)."""
        return self.value

    @property
    def ok(self) -> bool:
        """``same`` or ``same (inferred)``: the criterion is met (``unknown`` never is)."""
        return self in (Outcome.SAME, Outcome.SAME_INFERRED)

    @property
    def code(self) -> int:
        """0..3 in declaration order: the outcome codes of the vectorised classifier's arrays."""
        return _OUTCOME_CODES[self]

    @property
    def style(self) -> str:
        """Terminal colour: green when met, red when the values differ, yellow when unknown."""
        return {"same": "green", "same (inferred)": "green", "differs": "red", "unknown": "yellow"}[self.value]


_OUTCOME_CODES = {o: i for i, o in enumerate(Outcome)}


class Reading(_Text):
    """How far a comparison at a level can be trusted: the one verdict rule of the compare output and the reports."""

    FAIR = "fair"
    """S3.2 or stronger: same base model and the same finetuning LR schedule (the seed's Sec. 6)."""
    NOT_CONCLUSIVE = "not conclusive"
    """S2 or S3.1: the finetuning is not shown to be the same, and it alone can explain a gap."""
    WEAK = "weak"
    """S1 only: the base models are not shown to be the same."""
    NONE = "no fair reading"
    """Below S1 or not comparable."""


class Level(_Text):
    """A setup level: the S-chain S1..S4.2 (Tab. 2), the SX flags beside it, and the three readings below S1."""

    NOT_COMPARABLE = "not comparable"
    """Different dataset or network."""
    NOT_AT_RATE = "not comparable at this rate"
    """The speedups differ beyond the tolerance and neither side Pareto-dominates."""
    RATE_UNKNOWN = "S1 not established (speedup not reported)"
    S1 = "S1"
    S2 = "S2"
    S3_1 = "S3.1"
    S3_2 = "S3.2"
    S4_1 = "S4.1"
    S4_2 = "S4.2"
    SX_A = "SX-A"
    SX_B = "SX-B"

    @property
    def label(self) -> str:
        """The text shown for the level (the enum value)."""
        return self.value

    @property
    def rank(self) -> int:
        """0 not comparable, 1 below S1, 2..7 = S1..S4.2; the SX flags are not on the chain (-1)."""
        if self in _CHAIN_RANK:
            return _CHAIN_RANK[self]
        if self in (Level.SX_A, Level.SX_B):
            return -1
        return 0 if self is Level.NOT_COMPARABLE else 1

    @property
    def fair(self) -> bool:
        """S3.2 or stronger: the same base model and the same finetuning LR schedule (the seed's Sec. 6)."""
        return self.rank >= _CHAIN_RANK[Level.S3_2]

    @property
    def reading(self) -> Reading:
        """How far a comparison at this level can be trusted (see :class:`Reading`)."""
        if self.fair:
            return Reading.FAIR
        if self.rank >= _CHAIN_RANK[Level.S2] or self in (Level.SX_A, Level.SX_B):
            return Reading.NOT_CONCLUSIVE  # SX: the budget matches, the LR schedule does not (seed Sec. 4)
        return Reading.WEAK if self is Level.S1 else Reading.NONE

    @property
    def style(self) -> str:
        """Terminal colour: green from S3.2 on, yellow for S1..S3.1, red below S1, dim when not comparable."""
        if self.fair:
            return "green"
        if self.rank >= 2 or self.rank < 0:
            return "yellow"
        return "dim" if self is Level.NOT_COMPARABLE else "red"

    @classmethod
    def of_rank(cls, rank: int) -> Level:
        """The level of a chain rank (2..7 = S1..S4.2; 1 = not comparable at this rate; <= 0 not comparable)."""
        if rank <= 0:
            return cls.NOT_COMPARABLE
        if rank == 1:
            return cls.NOT_AT_RATE
        return CHAIN[rank - 2]


CHAIN = (Level.S1, Level.S2, Level.S3_1, Level.S3_2, Level.S4_1, Level.S4_2)
"""The linear S-chain: each level adds one criterion to the one below it."""
_CHAIN_RANK = {lvl: i + 2 for i, lvl in enumerate(CHAIN)}


def pareto_dominance(speedup_a: Any, top1_a: Any, speedup_b: Any, top1_b: Any) -> Any:
    """The one Pareto-dominance rule: 1 when A has the strictly higher speedup and at least B's top-1, 2 when B
    has, else 0.

    Works on floats and, elementwise, on numpy arrays alike (the explaining and the vectorised classifier
    share it); a speedup that is not reported is NaN and decides nothing.
    """
    return ((speedup_a > speedup_b) & (top1_a >= top1_b)) * 1 + ((speedup_b > speedup_a) & (top1_b >= top1_a)) * 2
