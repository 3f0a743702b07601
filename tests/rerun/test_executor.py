"""Executors: the local pool and submitit's local executor run grid jobs; results in job order."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from audit.rerun.executor import LocalExecutor, SlurmExecutor  # noqa: E402
from audit.rerun.grid import grid_from_data, run_grid  # noqa: E402

from .test_grid import TINY  # noqa: E402


def test_local_pool():
    assert LocalExecutor(2).map([(pow, (i, 2)) for i in range(5)]) == [0, 1, 4, 9, 16]
    assert LocalExecutor(1).map([(pow, (3, 2))]) == [9]


def test_submitit_local_executor_runs_a_grid(tmp_path):
    pytest.importorskip("submitit")
    ex = SlurmExecutor(tmp_path / "submitit", cluster="local", timeout_min=10)
    assert ex.map([(pow, (i, 2)) for i in range(3)]) == [0, 1, 4]
    g = grid_from_data({**TINY, "seeds": 1, "rows": [{"setup": "S4.2", "prune_epoch": 1}]})
    run = run_grid(g, tmp_path / "runs", ex, log=lambda m: None)
    assert run.ran == 1
    # resubmitted: nothing is missing, nothing runs
    again = run_grid(g, tmp_path / "runs", ex, log=lambda m: None)
    assert again.ran == 0 and again.complete == 1
    assert again.outputs[0]["result"]["top1"] == run.outputs[0]["result"]["top1"]
