"""Grids: the Tab. 4 dry run, bad input, a tiny grid end to end, aggregation, resubmission."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("pandas")
pytest.importorskip("scipy")

import yaml  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from audit.cli import app  # noqa: E402
from audit.registry.schema import Result  # noqa: E402
from audit.rerun.aggregate import write_outputs  # noqa: E402
from audit.rerun.errors import RerunError  # noqa: E402
from audit.rerun.grid import GridError, expand, grid_from_data, load_grid, run_grid  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TAB4 = ROOT / "reruns" / "grids" / "tab4-resnet34-imagenet100.yaml"

TINY = {
    "name": "tiny",
    "base": {"model": {"network": "resnet20"},
             "dataset": {"name": "digits", "image_size": 8, "train_limit": 64, "test_limit": 32},
             "pruning": {"method": "l1"}, "optimizer": {"momentum": 0.9, "weight_decay": 5e-4}, "batch_size": 32},
    "overall": {"epochs": 3, "lr_schedule": "0:1e-1,1:1e-2,2:1e-3"},
    "final_lr": 1e-3, "max_stage": None,
    "ratios": [0.5],
    "seeds": 2,
    "rows": [{"setup": "scratch"}, {"setup": "S4.2", "prune_epoch": 1}],
}


def _runner_out(args):
    res = CliRunner().invoke(app, ["rerun", *args])
    return res.exit_code, res.output + (str(res.exception) if res.exception and not isinstance(res.exception, SystemExit) else "")


def test_tab4_dry_run_lists_the_seeds_rows():
    code, out = _runner_out(["grid", str(TAB4), "--dry-run"])
    assert code == 0, out
    heads = [line for line in out.splitlines() if line.startswith("[")]
    assert heads == [
        "[Scratch-E] Scratch",
        "[S4.2] P15F105, 1e-1", "[S4.2] P30F90, 1e-2", "[S4.2] P45F75, 1e-2",
        "[S4.2] P60F60, 1e-3", "[S4.2] P75F45, 1e-3", "[S4.2] P90F30, 1e-4",
        "[SX-A] P30F90, 1e-1", "[SX-A] P60F60, 1e-2", "[SX-A] P90F30, 1e-2",
        "[SX-B] P30/F90, 1e-1", "[SX-B] P30/F90, 1e-2",
    ]
    assert "speedup (MACs): 0.1: 1.11x, 0.3: 1.41x, 0.5: 1.93x, 0.7: 3.09x, 0.9: 7.68x, 0.95: 12.06x" in out
    assert "scratch 120 epochs: 0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5" in out
    # Appendix A schedules of the seed
    assert "pretrain P=30 (0:1e-1) -> prune -> finetune 90: 0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5" in out
    assert "finetune 60: 0:1e-2,30:1e-3,45:1e-4,53:1e-5" in out
    # S4.2 tails
    assert "finetune 90: 0:1e-2,30:1e-3,60:1e-4,75:1e-5" in out
    assert "finetune 30: 0:1e-4,15:1e-5" in out
    # SX-B: P squeezed to 30/speedup (30/1.11 = 27)
    assert "r=0.1   pretrain P=27 (0:1e-1)" in out
    assert "r=0.95  pretrain P=2 (0:1e-1)" in out
    for r in ("0.1", "0.3", "0.5", "0.7", "0.9", "0.95"):
        assert sum(1 for line in out.splitlines() if line.startswith(f"  r={r} ")) == 12
    assert "12 rows x 6 ratios x 3 seeds = 216 cells" in out
    assert "total over 3 seed(s): 25320 epochs without sharing, 16200 with sharing (saves 9120 epochs, 36.0%)" in out


def _bad(data, tmp_path, match):
    p = tmp_path / "g.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(GridError, match=match):
        load_grid(p)
    code, out = _runner_out(["grid", str(p), "--dry-run"])
    assert code != 0
    return out


def test_bad_grids(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("# nothing\n")
    with pytest.raises(GridError, match=r"empty.yaml:1: empty file"):
        load_grid(p)
    _bad({**TINY, "ratios": []}, tmp_path, r"g.yaml:\d+: ratios: empty grid: no pruning ratios")
    _bad({**TINY, "rows": []}, tmp_path, r"g.yaml:\d+: rows: empty grid: no rows")
    _bad({**TINY, "ratios": [0.5, "0.50"]}, tmp_path,
         r"g.yaml:\d+: ratios\[1\]: ratio 0.50 is ratios\[0\] again: every cell would run twice")
    _bad({**TINY, "rows": [{"setup": "S4.2", "prune_epoch": 1}, {"setup": "S4.2", "prune_epoch": 1}]}, tmp_path,
         r"row 'P1F2, 1e-2' is rows\[0\] again")
    _bad({**TINY, "rows": [{"setup": "S4.2", "prune_epoch": 5}]}, tmp_path,
         r"g.yaml:\d+: rows\[0\].prune_epoch: P=5 is not before the end of the 3 pretraining epochs")
    _bad({**TINY, "rows": [{"setup": "SX-A", "prune_epoch": 1}]}, tmp_path, r"needs 'lr'")
    _bad({**TINY, "rows": [{"setup": "nope"}]}, tmp_path, r"unknown setup 'nope'")


def test_tiny_grid_runs_aggregates_and_resubmits(tmp_path):
    g = grid_from_data(TINY)
    cells = expand(g)
    assert len(cells) == 4
    run = run_grid(g, tmp_path / "runs", log=lambda m: None)
    assert run.ran == 4 and run.complete == 0
    dense = list((tmp_path / "runs").glob("dense-*/epoch-1.pt"))
    assert len(dense) == 2  # one shared dense run per seed, snapshot at P=1
    out = write_outputs(g, run, tmp_path / "out", "prune-audit rerun grid tiny.yaml", tmp_path / "results")
    table = (out / "table.csv").read_text()
    assert "Scratch-E" in table and "P1F2, 1e-2" in table and "±" in table
    md = (out / "table.md").read_text()
    assert "| setup | row | 50% |" in md
    curves = (out / "curves.csv").read_text().splitlines()
    assert curves[0].startswith("row,setup,ratio,seed,stage,epoch")
    assert len(curves) == 1 + 2 * 3 + 2 * 2  # scratch 3 epochs, finetune 2 epochs, 2 seeds each
    results = sorted((tmp_path / "results").glob("*.json"))
    assert len(results) == 2
    recs = [Result.model_validate_json(p.read_text()) for p in results]
    pr = next(r for r in recs if r.pipeline == "pruning")
    assert pr.top1.runs == 2 and pr.pretrain is not None and pr.pretrain.epochs == 1
    curve = (tmp_path / "results" / f"{pr.id}.csv").read_text().splitlines()
    assert curve[0].startswith("stage,epoch,lr,train_loss,train_acc") and len(curve) == 1 + 2
    # resubmission: only what is missing runs
    victim = Path(run.outputs[1]["run_dir"]) / "result.json"
    victim.unlink()
    again = run_grid(g, tmp_path / "runs", log=lambda m: None)
    assert again.ran == 1 and again.complete == 3
    assert [o["result"]["top1"] for o in again.outputs] == [o["result"]["top1"] for o in run.outputs]


def test_slurm_without_submitit(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "submitit", None)
    from audit.rerun.executor import make_executor

    with pytest.raises(RerunError, match=r"^--executor slurm needs submitit, which is not installed"):
        make_executor("slurm")
    p = tmp_path / "g.yaml"
    p.write_text(yaml.safe_dump(TINY))
    code, out = _runner_out(["grid", str(p), "--executor", "slurm", "--runs-dir", str(tmp_path / "r")])
    assert code != 0 and "needs submitit" in out


def test_scratch_b_and_sx_b_use_the_mac_speedup():
    g = grid_from_data({**TINY, "overall": {"epochs": 20, "lr_schedule": "0:1e-1,10:1e-2,15:1e-3"},
                        "ratios": [0.5, 0.9], "seeds": 1,
                        "rows": [{"setup": "scratch-b", "prune_epoch": 10}, {"setup": "SX-B", "prune_epoch": 10,
                                                                             "lr": 1e-1}]})
    cells = expand(g)
    sb = [c for c in cells if c.setup == "Scratch-B"]
    sx = [c for c in cells if c.setup == "SX-B"]
    for c in sb:  # Scratch-B (seed Sec. 2.2): K1 * speedup + K2 epochs of the pruned model
        assert c.pipeline == "scratch" and c.finetune_epochs == round(10 * c.speedup) + 10
        assert c.schedule.initial_lr == 0.1 and c.schedule.final_lr == 1e-3
    for c in sx:  # SX-B: pruning epoch squeezed to P / speedup
        assert c.prune_epoch == max(1, round(10 / c.speedup)) and c.finetune_epochs == 10
    assert [c.prune_epoch for c in sx] == [5, 1]


def test_missing_dataset_is_one_line_and_writes_nothing(tmp_path):
    code, out = _runner_out(["grid", str(TAB4), "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "o")])
    assert code != 0 and "dataset folder '/path/to/imagenet-100' does not exist" in out
    assert not (tmp_path / "runs").exists() and not (tmp_path / "o").exists()  # nothing written



def test_dense_run_resumes_from_its_checkpoint_and_refuses_a_foreign_one(tmp_path, monkeypatch):
    """A dense run interrupted after its first epoch resumes from its checkpoint to the very weights of an
    uninterrupted run; another dense run's checkpoint in its folder is one CheckpointError line."""
    import audit.rerun.dense as dense
    from audit.rerun.errors import CheckpointError
    from audit.rerun.grid import dense_spec

    g = grid_from_data({**TINY, "rows": [{"setup": "S4.2", "prune_epoch": 2}]})
    spec = dense_spec(g, 0, [2])
    ref = dense.run_dense(spec, [1, 2], str(tmp_path / "ref"))
    real_train_epoch = dense.train_epoch
    calls = []

    def crash_in_second_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real_train_epoch(*args, **kwargs)

    monkeypatch.setattr(dense, "train_epoch", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        dense.run_dense(spec, [1, 2], str(tmp_path / "runs"))
    out_dir = dense.dense_dir(tmp_path / "runs", spec)
    assert (out_dir / "epoch-1.pt").exists() and not (out_dir / "epoch-2.pt").exists()
    monkeypatch.setattr(dense, "train_epoch", real_train_epoch)
    resumed = dense.run_dense(spec, [1, 2], str(tmp_path / "runs"))
    for p in (1, 2):
        assert Path(resumed[p]).read_bytes() == Path(ref[p]).read_bytes()
    ref_dir = dense.dense_dir(tmp_path / "ref", spec)
    assert (out_dir / "snapshots.csv").read_text() == (ref_dir / "snapshots.csv").read_text()
    assert len((out_dir / "snapshots.csv").read_text().splitlines()) == 2

    other = dense_spec(g, 1, [2])
    foreign = dense.dense_dir(tmp_path / "runs", other)
    foreign.mkdir()
    (foreign / "checkpoint.pt").write_bytes((out_dir / "checkpoint.pt").read_bytes())
    with pytest.raises(CheckpointError, match=r"belongs to recipe .* refusing to resume a foreign run"):
        dense.run_dense(other, [1, 2], str(tmp_path / "runs"))
