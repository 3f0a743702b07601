"""The rerun engine: L1-norm filter pruning as physical surgery, FLOPs counting and a resumable
training pipeline (pretrain -> prune -> finetune, or scratch training of a pruned architecture).

Everything that needs torch lives in this package and is imported lazily, so that importing
``audit.rerun`` (and ``audit.rerun.cli``) works without the ``rerun`` extra installed.
"""

from __future__ import annotations
