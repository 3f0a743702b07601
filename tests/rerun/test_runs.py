"""The training pipeline: recipes, content-addressed runs, determinism, resume, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import yaml  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from audit.cli import app  # noqa: E402
from audit.errors import AuditError  # noqa: E402
from audit.registry.schema import Result  # noqa: E402
from audit.rerun.config import load_recipe, recipe_from_data  # noqa: E402
from audit.rerun.curve import METRIC_FIELDS  # noqa: E402
from audit.rerun.errors import CheckpointError, DatasetMissing, RecipeError  # noqa: E402
from audit.rerun.runs import run_recipe, trainability_accuracy  # noqa: E402
from audit.rerun.stages import Interrupted  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "name": "tiny",
    "model": {"network": "resnet20"},
    "dataset": {"name": "digits", "image_size": 8, "train_limit": 192, "test_limit": 96},
    "pretrain": {"epochs": 2, "lr_schedule": "0:1e-1,1:1e-2"},
    "pruning": {"method": "l1", "ratio": 0.5},
    "finetune": {"epochs": 3, "lr_schedule": "0:1e-2,2:1e-3"},
    "optimizer": {"momentum": 0.9, "weight_decay": 5e-4},
    "batch_size": 32,
    "seed": 1,
}


def _write(tmp: Path, data: dict, name: str = "r.yaml") -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _metrics(history):
    return [{k: r[k] for k in METRIC_FIELDS} for r in history]


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def test_tiny_run_result_and_skip(tmp_path):
    recipe = recipe_from_data(TINY)
    out = run_recipe(recipe, tmp_path / "runs")
    assert out.status == "ran"
    files = _files(out.run_dir)
    assert {"recipe.yaml", "checkpoint.pt", "metrics.csv", "prune.json", "result.json"} <= set(files)
    assert not [f for f in files if ".tmp" in f]
    res = Result.model_validate_json((out.run_dir / "result.json").read_text())
    assert res.network == "resnet20" and res.dataset == "digits" and res.pipeline == "pruning"
    assert res.compression.pruning_ratio == 0.5 and res.compression.speedup > 1.9
    assert out.recipe_hash in res.sources[0].note and "git" in res.sources[0].note
    assert len(out.history) == 5 and [r["stage"] for r in out.history] == ["pretrain"] * 2 + ["finetune"] * 3
    # trainability accuracy: mean TRAIN accuracy over the first LR stage (2 epochs) of finetuning
    ft = [r for r in out.history if r["stage"] == "finetune"]
    assert res.trainability_acc == pytest.approx((ft[0]["train_acc"] + ft[1]["train_acc"]) / 2)
    assert trainability_accuracy(out.history, "finetune", 2) == res.trainability_acc
    stored = yaml.safe_load((out.run_dir / "recipe.yaml").read_text())
    assert stored["finetune"]["lr_schedule"] == "0:1e-2,2:1e-3; total=3"
    mtime = (out.run_dir / "result.json").stat().st_mtime_ns
    again = run_recipe(recipe, tmp_path / "runs")
    assert again.status == "complete" and again.result == res
    assert (out.run_dir / "result.json").stat().st_mtime_ns == mtime
    assert _metrics(again.history) == _metrics(out.history)  # the CSV round-trips floats exactly


def test_deterministic_and_resume_equals_uninterrupted(tmp_path):
    recipe = recipe_from_data(TINY)
    a = run_recipe(recipe, tmp_path / "a")
    b = run_recipe(recipe, tmp_path / "b")
    assert _metrics(a.history) == _metrics(b.history)  # identical, not approximately
    for stop in (1, 2, 3):  # in pretrain, at the pruning boundary, in finetuning
        d = tmp_path / f"c{stop}"
        with pytest.raises(Interrupted):
            run_recipe(recipe, d, stop_after=stop)
        assert not (d / a.run_dir.name / "result.json").exists()
        c = run_recipe(recipe, d)
        assert c.status == "resumed"
        assert _metrics(c.history) == _metrics(a.history)
        assert c.result.top1 == a.result.top1 and c.result.trainability_acc == a.result.trainability_acc


def test_different_recipe_different_run(tmp_path):
    a = run_recipe(recipe_from_data(TINY), tmp_path)
    other = dict(TINY, seed=2)
    b_recipe = recipe_from_data(other)
    with pytest.raises(Interrupted):
        run_recipe(b_recipe, tmp_path, stop_after=1)
    dirs = sorted(p.name for p in tmp_path.iterdir())
    assert len(dirs) == 2 and a.run_dir.name in dirs


def test_scratch_and_random_pipelines(tmp_path):
    scratch = {k: v for k, v in TINY.items() if k not in ("pretrain", "finetune")}
    scratch.update(pipeline="scratch", scratch={"epochs": 2, "lr_schedule": "0:1e-1,1:1e-2"},
                   pruning={"ratio": [0, 0.5, 0.5, 0.5, 0]})
    out = run_recipe(recipe_from_data(scratch), tmp_path)
    assert out.result.pipeline == "scratch" and out.result.compression.layerwise_ratios == [0, 0.5, 0.5, 0.5, 0]
    rnd = dict(TINY, pruning={"method": "random", "ratio": 0.5})
    r = run_recipe(recipe_from_data(rnd), tmp_path)
    assert r.result.method == "random filter pruning"
    kept = json.loads((r.run_dir / "prune.json").read_text())
    assert kept["method"] == "random"


def test_base_checkpoint(tmp_path):
    from audit.rerun.models import build_model

    torch.manual_seed(0)
    ck = tmp_path / "base.pt"
    torch.save(build_model("resnet20", 10).state_dict(), ck)
    data = {k: v for k, v in TINY.items() if k != "pretrain"}
    data["base"] = {"checkpoint": str(ck)}
    out = run_recipe(recipe_from_data(data), tmp_path / "runs")
    assert out.result.base.identity.startswith("local checkpoint sha256:")
    assert [r["stage"] for r in out.history] == ["finetune"] * 3
    # a base checkpoint of another network: one clear line, nothing written
    torch.save(build_model("resnet32", 10).state_dict(), ck)
    with pytest.raises(CheckpointError, match="does not fit resnet20"):
        run_recipe(recipe_from_data(data), tmp_path / "runs2")
    assert not (tmp_path / "runs2").exists()  # nothing written
    ck.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt or not a plain weights file"):
        run_recipe(recipe_from_data(data), tmp_path / "runs3")
    assert not (tmp_path / "runs3").exists()  # nothing written


def test_base_checkpoint_is_addressed_by_content_not_path(tmp_path):
    """The same weights at two paths (another clone, another machine) give one run address;
    other weights at the same path give another; the result record names the path as written."""
    from audit.rerun.config import recipe_hash, resolved
    from audit.rerun.models import build_model

    torch.manual_seed(0)
    a, b = tmp_path / "a" / "base.pt", tmp_path / "b" / "c" / "base.pt"
    for p in (a, b):
        p.parent.mkdir(parents=True)
    torch.save(build_model("resnet20", 10).state_dict(), a)
    b.write_bytes(a.read_bytes())
    data = {k: v for k, v in TINY.items() if k != "pretrain"}
    rec_a = recipe_from_data(dict(data, base={"checkpoint": "base.pt"}))
    rec_b = recipe_from_data(dict(data, base={"checkpoint": "c/base.pt"}))
    res_a, res_b = resolved(rec_a, a.parent), resolved(rec_b, tmp_path / "b")
    assert res_a["base"]["checkpoint"] != res_b["base"]["checkpoint"]  # the resolved recipe keeps its path
    assert recipe_hash(res_a) == recipe_hash(res_b)
    torch.manual_seed(1)
    torch.save(build_model("resnet20", 10).state_dict(), b)
    assert recipe_hash(resolved(rec_b, tmp_path / "b")) != recipe_hash(res_a)
    out = run_recipe(rec_a, tmp_path / "runs", recipe_dir=a.parent)
    assert out.result.base.description == "loaded from base.pt"
    assert str(tmp_path) not in out.result.model_dump_json()


def test_corrupt_and_foreign_checkpoints(tmp_path):
    recipe = recipe_from_data(TINY)
    with pytest.raises(Interrupted):
        run_recipe(recipe, tmp_path, stop_after=1)
    (run_dir,) = list(tmp_path.iterdir())
    ck = run_dir / "checkpoint.pt"
    good = ck.read_bytes()
    ck.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(CheckpointError, match=r"checkpoint .*checkpoint\.pt is corrupt"):
        run_recipe(recipe, tmp_path)
    ck.write_bytes(good)
    # a checkpoint of another recipe copied in
    other = recipe_from_data(dict(TINY, seed=7))
    with pytest.raises(Interrupted):
        run_recipe(other, tmp_path / "o", stop_after=1)
    (odir,) = list((tmp_path / "o").iterdir())
    ck.write_bytes((odir / "checkpoint.pt").read_bytes())
    with pytest.raises(CheckpointError, match="belongs to recipe .* refusing to resume a foreign run"):
        run_recipe(recipe, tmp_path)
    # a pickle that is not plain weights is refused by weights_only loading
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    ck.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="corrupt or not a plain weights file"):
        run_recipe(recipe, tmp_path)


def test_missing_dataset_folder(tmp_path):
    data = dict(TINY, dataset={"name": "cifar-10", "root": str(tmp_path / "nope")})
    with pytest.raises(DatasetMissing) as exc:
        run_recipe(recipe_from_data(data), tmp_path / "runs")
    msg = str(exc.value)
    assert "cifar-10" in msg and "cifar-10-batches-py" in msg and "nothing is downloaded" in msg and "\n" not in msg
    assert not (tmp_path / "runs").exists()  # nothing written
    (tmp_path / "empty").mkdir()
    data = dict(TINY, dataset={"name": "cifar-100", "root": str(tmp_path / "empty")})
    with pytest.raises(DatasetMissing, match="cifar-100-python"):
        run_recipe(recipe_from_data(data), tmp_path / "runs")
    data = dict(TINY, dataset={"name": "imagenet-100", "root": str(tmp_path / "empty")})
    with pytest.raises(DatasetMissing, match="train/<class>"):
        run_recipe(recipe_from_data(data), tmp_path / "runs")
    assert not (tmp_path / "runs").exists()  # nothing written


def _recipe_text(**replace) -> str:
    data = dict(TINY)
    data.update(replace)
    return yaml.safe_dump(data, sort_keys=False)


def test_recipe_problems_have_file_line_field(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("model:\n  network: resnet20\n  widht: 3\ndataset: {name: digits}\npruning: {ratio: 0.5}\n"
                 "pretrain: {epochs: 2, lr_schedule: '0:1e-1'}\nfinetune: {epochs: 2, lr_schedule: '0:1e-2'}\n"
                 "optimiser: {}\n")
    with pytest.raises(RecipeError) as exc:
        load_recipe(p)
    lines = str(exc.value).splitlines()
    assert lines[0].endswith("r.yaml:3: model.widht: unknown field (allowed: network, num_classes)")
    assert lines[1].endswith("r.yaml:8: optimiser: unknown field (did you mean 'optimizer'?)")
    p.write_text(_recipe_text(pruning={"ratio": 1.0}))
    with pytest.raises(RecipeError, match=r"r\.yaml:\d+: pruning\.ratio: pruning ratio 1 for resnet20 is outside "
                                          r"\[0, 1\)$"):
        load_recipe(p)
    p.write_text(_recipe_text(pruning={"ratio": [0, 0.5, 0.5, 0]}))
    with pytest.raises(RecipeError, match=r"pruning\.ratio: a ratio list for resnet20 has 5 entries \[stem, layer1, "
                                          r"layer2, layer3, fc\], got 4 \(or 19: one per conv, in module order\)$"):
        load_recipe(p)
    p.write_text(_recipe_text(model={"network": "resnet2O"}))
    with pytest.raises(RecipeError, match=r"model\.network: unknown network 'resnet2O'\. Did you mean"):
        load_recipe(p)
    p.write_text(_recipe_text(finetune={"epochs": 2, "lr_schedule": "0:1e-2,5:1e-3"}))
    with pytest.raises(RecipeError, match=r"finetune\.lr_schedule: stage starting at epoch 5 does not fit in a total "
                                          r"of 2 epochs"):
        load_recipe(p)
    p.write_text("model: [unclosed\n")
    with pytest.raises(RecipeError, match=r"r\.yaml:\d+: YAML syntax error"):
        load_recipe(p)
    p.write_text(_recipe_text(dataset={"name": "cifar-10"}))
    with pytest.raises(RecipeError, match="dataset cifar-10 needs 'root'"):
        load_recipe(p)


def test_cli_run_and_errors(tmp_path):
    runner = CliRunner()
    rp = _write(tmp_path, TINY)
    res = runner.invoke(app, ["rerun", "run", str(rp), "--runs-dir", str(tmp_path / "runs"), "--results-dir",
                              str(tmp_path / "results"), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["status"] == "ran" and Result.model_validate(d["result"]).network == "resnet20"
    assert Path(d["collected"]).exists() and Path(d["collected"]).with_suffix(".csv").exists()
    res = runner.invoke(app, ["rerun", "run", str(rp), "--runs-dir", str(tmp_path / "runs"), "--no-results-dir"])
    assert res.exit_code == 0 and "complete" in res.stdout
    bad = _write(tmp_path, dict(TINY, extra_field=1), "bad.yaml")
    res = runner.invoke(app, ["rerun", "run", str(bad), "--runs-dir", str(tmp_path / "runs2"), "--no-results-dir"])
    assert res.exit_code != 0 and isinstance(res.exception, AuditError)
    assert "bad.yaml:" in str(res.exception) and "extra_field: unknown field" in str(res.exception)
    assert not (tmp_path / "runs2").exists()


def test_command_line_does_not_import_torch():
    code = "import sys, audit.cli, audit.rerun.config; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _launch(recipe: Path, runs: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "audit", "rerun", "run", str(recipe), "--runs-dir", str(runs),
                             "--no-results-dir", "--json"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill9_and_resume(tmp_path):
    data = dict(TINY, dataset=dict(TINY["dataset"], train_limit=384),
                pretrain={"epochs": 3, "lr_schedule": "0:1e-1,2:1e-2"},
                finetune={"epochs": 3, "lr_schedule": "0:1e-2,2:1e-3"})
    rp = _write(tmp_path, data)
    ref = run_recipe(load_recipe(rp), tmp_path / "ref")
    runs = tmp_path / "runs"
    proc = _launch(rp, runs)
    metrics = runs / ref.run_dir.name / "metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:  # header + 2 epochs
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed (rc {proc.returncode})"
    assert not (runs / ref.run_dir.name / "result.json").exists()
    resumed = run_recipe(load_recipe(rp), runs)
    assert resumed.status == "resumed"
    assert _metrics(resumed.history) == _metrics(ref.history)
    assert resumed.result.top1 == ref.result.top1


@pytest.mark.slow
def test_shipped_digits_recipe_kill9_resume(tmp_path):
    """The shipped recipe, killed in the middle of finetuning and resumed, ends as an uninterrupted run."""
    rp = ROOT / "reruns" / "recipes" / "digits-resnet20-l1-50.yaml"
    ref = run_recipe(load_recipe(rp), tmp_path / "ref")
    runs = tmp_path / "runs"
    proc = _launch(rp, runs)
    metrics = runs / ref.run_dir.name / "metrics.csv"
    while proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 16:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed (rc {proc.returncode})"
    assert not (runs / ref.run_dir.name / "result.json").exists()
    resumed = run_recipe(load_recipe(rp), runs)
    assert resumed.status == "resumed"
    assert _metrics(resumed.history) == _metrics(ref.history)


def test_imagefolder_dataset(tmp_path):
    """The ImageNet-style path on a tiny generated ImageFolder (2 classes, 16x16 PNGs)."""
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    for split, n in (("train", 6), ("val", 3)):
        for c in ("a", "b"):
            d = tmp_path / "inet" / split / c
            d.mkdir(parents=True)
            for i in range(n):
                arr = (torch.rand(20, 20, 3, generator=g) * 255).to(torch.uint8).numpy()
                Image.fromarray(arr).save(d / f"{i}.png")
    data = {k: v for k, v in TINY.items()}
    data.update(model={"network": "resnet18"},
                dataset={"name": "imagenet-100", "root": str(tmp_path / "inet"), "image_size": 16},
                pretrain={"epochs": 1, "lr_schedule": "0:1e-2"}, finetune={"epochs": 1, "lr_schedule": "0:1e-3"},
                batch_size=4)
    a = run_recipe(recipe_from_data(data), tmp_path / "a")
    b = run_recipe(recipe_from_data(data), tmp_path / "b")
    assert a.result.network == "resnet18" and a.result.dataset == "imagenet-100"
    assert _metrics(a.history) == _metrics(b.history)
    assert a.result.compression.flops.scale == "M"


def test_overall_schedule_cut_at_pruning_epoch():
    """S4.2 PxFy: one overall schedule; pretraining is its head, finetuning its tail after P (audit.core.schedule)."""
    base = {k: v for k, v in TINY.items() if k not in ("pretrain", "finetune")}
    r = recipe_from_data(dict(base, overall={"epochs": 120, "lr_schedule": "0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5",
                                             "prune_epoch": 30}))
    assert r.pretrain.epochs == 30 and str(r.pretrain.lr_schedule) == "0:1e-1; total=30"
    assert str(r.finetune.lr_schedule) == "0:1e-2,30:1e-3,60:1e-4,75:1e-5; total=90"  # the seed's P30F90 tail
    expanded = recipe_from_data(dict(base, pretrain={"epochs": 30, "lr_schedule": "0:1e-1"},
                                     finetune={"epochs": 90, "lr_schedule": "0:1e-2,30:1e-3,60:1e-4,75:1e-5"}))
    from audit.rerun.config import recipe_hash, resolved

    assert recipe_hash(resolved(r)) == recipe_hash(resolved(expanded))
    with pytest.raises(RecipeError, match="overall: prune_epoch 120 leaves no finetuning"):
        recipe_from_data(dict(base, overall={"epochs": 120, "lr_schedule": "0:1e-1", "prune_epoch": 120}))
    with pytest.raises(RecipeError, match="'overall' replaces 'pretrain' and 'finetune'"):
        recipe_from_data(dict(TINY, overall={"epochs": 4, "lr_schedule": "0:1e-1", "prune_epoch": 2}))


@pytest.mark.parametrize("path", sorted((ROOT / "reruns" / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_recipes_validate(path):
    recipe = load_recipe(path)
    assert recipe.pipeline in ("pruning", "scratch")


def test_amp_and_channels_last_run_on_cpu(tmp_path):
    """`amp` (bfloat16 autocast on CPU) and `channels_last` are real on CPU: the convs see channels_last
    inputs and compute in bfloat16, the pruned model is converted too, and the run stays deterministic."""
    from audit.rerun.models import build_model
    from audit.rerun.train import evaluate, make_optimizer, train_epoch

    seen = []
    model = build_model("resnet20", 10).to(memory_format=torch.channels_last)
    model.conv1.register_forward_hook(
        lambda m, i, o: seen.append((i[0].is_contiguous(memory_format=torch.channels_last), o.dtype)))
    x, y = torch.randn(8, 3, 8, 8), torch.arange(8) % 10
    opt = make_optimizer(model, 0.1, 0.9, 0.0, False)
    stats = train_epoch(model, opt, [(x, y)], torch.device("cpu"), amp=True, channels_last=True)
    assert seen == [(True, torch.bfloat16)] and stats["train_loss"] == stats["train_loss"]
    assert model.conv1.weight.dtype == torch.float32  # autocast: the weights stay float32
    evaluate(model, [(x, y)], torch.device("cpu"), amp=False, channels_last=False)
    assert seen[-1] == (False, torch.float32)

    data = dict(TINY, amp=True, channels_last=True)
    a = run_recipe(recipe_from_data(data), tmp_path / "a")
    b = run_recipe(recipe_from_data(data), tmp_path / "b")
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]
    assert a.result.top1.mean == b.result.top1.mean and a.result.top1.mean > 10
    ck = torch.load(a.run_dir / "checkpoint.pt", weights_only=True)
    w = ck["model"]["layer1.0.conv1.weight"]
    assert w.shape[0] == 8 and w.is_contiguous(memory_format=torch.channels_last)  # pruned, then converted
    plain = run_recipe(recipe_from_data(TINY), tmp_path / "plain")
    assert plain.run_dir.name != a.run_dir.name  # amp/channels_last are part of the recipe's address
    assert [r["train_loss"] for r in plain.history] != [r["train_loss"] for r in a.history]
