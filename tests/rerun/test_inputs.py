"""Real checkpoints and dataset folders: each problem is one clear line, common layouts are mapped."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")

from audit.rerun.checkpoint import load_weights  # noqa: E402
from audit.rerun.data import load_data  # noqa: E402
from audit.rerun.errors import CheckpointError, DatasetMissing  # noqa: E402
from audit.rerun.models import build_model  # noqa: E402


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "\x1b" not in text, text
    return text


def test_pickled_model_says_what_it_is_and_how_to_convert(tmp_path):
    m = build_model("resnet20", 10)
    for name, obj in (("whole.pt", m), ("keyed.pt", {"model": m, "epoch": 1})):
        torch.save(obj, tmp_path / name)
        with pytest.raises(CheckpointError) as info:
            load_weights(build_model("resnet20", 10), tmp_path / name, "resnet20")
        msg = _one_line(info.value)
        assert "holds a pickled model object (audit.rerun.models.CifarResNet), not weights" in msg
        assert "torch.save(model.state_dict(), path)" in msg and "corrupt" not in msg


def test_linear_head_and_net_key_are_mapped(tmp_path):
    torch.manual_seed(0)
    src = build_model("resnet20", 10)
    sd = src.state_dict()
    linear = {"module." + ("linear." + k[3:] if k.startswith("fc.") else k): v for k, v in sd.items()}
    torch.save({"state_dict": linear, "best_prec1": 91.0}, tmp_path / "linear.pt")
    torch.save({"net": sd, "acc": 93.0, "epoch": 200}, tmp_path / "net.pt")
    for name in ("linear.pt", "net.pt"):
        dst = build_model("resnet20", 10)
        load_weights(dst, tmp_path / name, "resnet20")
        assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values()))


def test_no_weights_lists_the_keys_found(tmp_path):
    torch.save({"acc": 93.0, "epoch": 200, "optimizer": {"lr": 0.1}}, tmp_path / "meta.pt")
    with pytest.raises(CheckpointError) as info:
        load_weights(build_model("resnet20", 10), tmp_path / "meta.pt", "resnet20")
    assert "(top-level keys: 'acc', 'epoch', 'optimizer'; expected a bare state_dict or one under state_dict" in \
        _one_line(info.value)


def test_cifar_folder_messages(tmp_path):
    pytest.importorskip("torchvision")
    inner = tmp_path / "bad" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    with pytest.raises(DatasetMissing) as info:  # empty archive folder, root given as the folder itself
        load_data("cifar-10", str(inner))
    msg = _one_line(info.value)
    assert f"{inner / 'data_batch_1'} is missing" in msg and "root is the folder that contains" in msg
    assert "download=True" not in msg and "cifar-10-batches-py/cifar-10-batches-py" not in msg
    for f in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
              "batches.meta"):
        (inner / f).write_bytes(b"x\n")
    with pytest.raises(DatasetMissing) as info:
        load_data("cifar-10", str(tmp_path / "bad"))
    msg = _one_line(info.value)
    assert "data_batch_1 fails its MD5 checksum (not the official archive, or corrupt)" in msg
    assert "download=True" not in msg
