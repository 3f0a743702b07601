"""Executors: how grid jobs (a picklable function + its arguments) are dispatched.

* :class:`LocalExecutor` (default): in-process for one worker, else a pool of worker processes
  (spawned; each gets ``cpu_count // workers`` torch threads).
* :class:`SlurmExecutor`: one SLURM job per grid job through submitit (``cluster="local"`` uses
  submitit's local executor, which the tests run).

Jobs are idempotent (content-addressed runs and dense snapshots), so a resubmitted grid only runs
what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import RerunError

__all__ = ["Executor", "Job", "LocalExecutor", "SlurmExecutor", "make_executor"]

Job = tuple[Callable[..., Any], tuple]


def _call(fn: Callable[..., Any], args: tuple, threads: int | None) -> Any:
    if threads:
        import torch

        torch.set_num_threads(threads)
    return fn(*args)


class Executor:
    """Run a batch of jobs; results in job order."""

    def map(self, jobs: Sequence[Job]) -> list[Any]:  # pragma: no cover - interface
        raise NotImplementedError


class LocalExecutor(Executor):
    def __init__(self, workers: int = 1):
        if workers < 1:
            raise RerunError(f"--workers must be at least 1, not {workers}")
        self.workers = workers

    def map(self, jobs: Sequence[Job]) -> list[Any]:
        if self.workers == 1 or len(jobs) <= 1:
            return [fn(*args) for fn, args in jobs]
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        threads = max(1, (os.cpu_count() or 1) // self.workers)
        with ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn")) as pool:
            futs = [pool.submit(_call, fn, args, threads) for fn, args in jobs]
            return [f.result() for f in futs]


class SlurmExecutor(Executor):
    """submitit: ``cluster=None`` auto-detects SLURM; ``"local"`` runs jobs as local processes."""

    def __init__(self, folder: str | Path = "reruns/submitit", cluster: str | None = None, **params: Any):
        try:
            import submitit
        except ImportError:
            raise RerunError("--executor slurm needs submitit, which is not installed "
                             "(pip install submitit, or use --executor local)") from None
        self.folder = Path(folder)
        self.ex: submitit.Executor
        if cluster == "local":
            self.ex = submitit.LocalExecutor(folder=str(self.folder))
        else:
            self.ex = submitit.AutoExecutor(folder=str(self.folder), cluster=cluster)
        defaults = {"timeout_min": 60 * 24}
        defaults.update(params)
        self.ex.update_parameters(**defaults)

    def map(self, jobs: Sequence[Job]) -> list[Any]:
        submitted = [self.ex.submit(_call, fn, args, None) for fn, args in jobs]
        return [j.result() for j in submitted]


def make_executor(kind: str, workers: int = 1, folder: str | Path = "reruns/submitit", **params: Any) -> Executor:
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "slurm":
        return SlurmExecutor(folder, **params)
    raise RerunError(f"--executor must be local or slurm, not {kind!r}")
