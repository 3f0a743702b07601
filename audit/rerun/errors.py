"""User-facing errors of the rerun engine (each prints as one line)."""

from __future__ import annotations

from audit.core import rules
from audit.errors import AuditError, ValidationFailed

__all__ = ["CheckpointError", "DatasetMissing", "RatioError", "RecipeError", "RecipeProblems", "RerunError",
           "TorchMissing", "require_torch"]


class RerunError(AuditError):
    """Any problem the rerun engine reports to the user."""


class RatioError(RerunError):
    """A pruning ratio (or ratio list) that does not fit the network; ``field`` locates it in a
    recipe's ``pruning`` block (``("ratio",)``, ``("overrides", key)``, ``("skip", index)``)."""

    def __init__(self, message: str, field: tuple[str | int, ...] = ("ratio",)):
        super().__init__(message)
        self.field = field


class DatasetMissing(RerunError):
    """A dataset that is not where the recipe says."""


class CheckpointError(RerunError):
    """A corrupt, foreign or unfitting checkpoint."""


class RecipeError(RerunError, rules.RecipeError):
    """A recipe that cannot be run (problems printed as ``file:line: field: message``).  Also a
    :class:`audit.core.rules.RecipeError`, the rules' own rejection of an impossible schedule, so one
    ``except audit.core.rules.RecipeError`` catches a recipe refused by either layer."""


class RecipeProblems(RecipeError, ValidationFailed):
    """Validation problems of a recipe or grid file: every :class:`audit.errors.Problem`, one
    ``file:line: field: message`` a line (printed as is)."""


class TorchMissing(RerunError):
    """The ``rerun`` extra (torch, torchvision, scikit-learn) is not installed."""


def require_torch() -> None:
    """Raise :class:`TorchMissing` with the install hint when torch cannot be imported."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise TorchMissing(
            "the rerun engine needs torch: install the 'rerun' extra (pip install 'prune-audit[rerun]')"
        ) from None
