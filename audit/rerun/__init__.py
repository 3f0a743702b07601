"""The rerun engine: L1-norm filter pruning as physical surgery, FLOPs counting and a resumable
training pipeline (pretrain -> prune -> finetune, or scratch training of a pruned architecture).

Everything that needs torch lives in this package and is imported lazily, so that importing
``audit.rerun`` (and the ``prune-audit rerun`` commands of ``audit.cli.rerun``) work without the ``rerun`` extra installed.

Modules: ``config`` (rerun recipes: models, loading, resolution, hash), ``runs`` (one
content-addressed, resumable run: a loop over ``stages``), ``stages`` (pretrain/prune/finetune/
scratch as stage objects), ``train`` (the one training loop, with hooks), ``methods`` (pruning
methods; GReg's penalty as a training hook), ``prune`` (filter selection and surgery),
``checkpoint`` (the one checkpoint format, weights files), ``rng`` (seeded batch order, RNG
state), ``curve`` (learning-curve records, metrics.csv), ``grid`` (grid configs, expansion, dry
run, dispatch), ``dense`` (shared dense runs), ``aggregate`` (grid tables and results),
``crossval`` (cross-validation of finetuning recipes), ``executor`` (local pool, SLURM), ``dist``
(DDP, synchronized BatchNorm), ``data``, ``models``, ``flops``, ``mactables`` (writes the torch-free
MAC tables of :mod:`audit.core.macs`), ``anycnn`` (any torchvision CNN: own selection, Torch-Pruning's
surgery), ``errors``.
"""

from __future__ import annotations
