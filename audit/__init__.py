"""prune-audit: audit and calibrate published neural-network pruning results.

The package is light to import: the registry, the classifier and the CLI load their
dependencies on first use, and only ``audit.rerun`` ever imports torch.
"""

__version__ = "0.1.0"
