"""One run on 2 processes (torchrun, gloo on CPU) equals the single-process run within tolerance."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import yaml  # noqa: E402

from audit.rerun.recipe import recipe_from_data  # noqa: E402
from audit.rerun.runs import run_recipe  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RECIPE = {
    "name": "tiny-ddp",
    "model": {"network": "resnet20"},
    "dataset": {"name": "digits", "image_size": 8, "train_limit": 256, "test_limit": 128, "augment": False},
    "pretrain": {"epochs": 2, "lr_schedule": "0:5e-2"},
    "pruning": {"method": "l1", "ratio": 0.5},
    "finetune": {"epochs": 2, "lr_schedule": "0:1e-2"},
    "batch_size": 64,
    "seed": 3,
}


def test_two_process_gloo_matches_single_process(tmp_path):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    single = run_recipe(recipe_from_data(RECIPE), tmp_path / "single")
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump(RECIPE))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "audit",
           "rerun", "run", str(p), "--runs-dir", str(tmp_path / "ddp"), "--no-results-dir", "--json"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    run_dirs = list((tmp_path / "ddp").iterdir())
    assert len(run_dirs) == 1 and run_dirs[0].name == single.run_dir.name  # same recipe, same address
    res = json.loads((run_dirs[0] / "result.json").read_text())
    rows = list(csv.DictReader((run_dirs[0] / "metrics.csv").read_text().splitlines()))
    assert len(rows) == len(single.history) == 4
    # the first step is the same global batch: the first epoch's loss agrees closely
    assert float(rows[0]["train_loss"]) == pytest.approx(single.history[0]["train_loss"], rel=0.05)
    for r, s in zip(rows, single.history):
        assert abs(float(r["train_acc"]) - s["train_acc"]) < 15
    assert abs(res["top1"]["mean"] - single.result.top1.mean) < 15
    assert res["compression"]["speedup"] == single.result.compression.speedup
