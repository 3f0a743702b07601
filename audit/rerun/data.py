"""Datasets of the rerun engine, with deterministic batching and augmentation.

* ``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download), split once
  and for all into 1437 training and 360 test images by a fixed permutation, scaled from 8x8 to
  ``image_size`` (bilinear), replicated to 3 channels and standardised with the training mean/std.
* ``cifar-10`` / ``cifar-100``: the standard python-format folders read by torchvision with
  ``download=False``.
* ``imagenet-1k`` / ``imagenet-100``: an ImageFolder root with ``train/`` and ``val/``.

In-memory datasets (digits, CIFAR) are batched here, not by a DataLoader: the order and the
augmentation of an epoch come from a generator seeded by (seed, stage, epoch), so an interrupted
run resumes with exactly the batches it would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .errors import DatasetMissing

__all__ = ["CIFAR_MEAN", "CIFAR_STD", "Data", "FolderSplit", "TensorSplit", "augment_batch", "load_data"]

CIFAR_MEAN = {"cifar-10": (0.4914, 0.4822, 0.4465), "cifar-100": (0.5071, 0.4865, 0.4409)}
CIFAR_STD = {"cifar-10": (0.2470, 0.2435, 0.2616), "cifar-100": (0.2673, 0.2564, 0.2762)}
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class TensorSplit:
    """An in-memory split: ``x`` (N, 3, H, W) float32 standardised, ``y`` (N,) int64."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, pad: int = 0, flip: bool = False):
        self.x, self.y, self.pad, self.flip = x.contiguous(), y.contiguous(), pad, flip

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)

    def batches(self, batch_size: int, generator: torch.Generator | None = None,
                augment: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches in a generator-shuffled order (sequential without a generator)."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if generator is not None else None
        for start in range(0, n, batch_size):
            if order is None:
                xb, yb = self.x[start:start + batch_size], self.y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                xb, yb = self.x.index_select(0, idx), self.y.index_select(0, idx)
            if augment and generator is not None:
                xb = augment_batch(xb, self.pad, self.flip, generator)
            yield xb, yb


def augment_batch(x: torch.Tensor, pad: int, flip: bool, g: torch.Generator) -> torch.Tensor:
    """Random crop after zero padding by ``pad`` and random horizontal flip, per image."""
    n, c, h, w = x.shape
    if pad:
        xp = F.pad(x, (pad, pad, pad, pad))
        offs = torch.randint(0, 2 * pad + 1, (n, 2), generator=g)
        rows = (offs[:, 0:1] + torch.arange(h)).view(n, 1, h, 1)
        cols = (offs[:, 1:2] + torch.arange(w)).view(n, 1, 1, w)
        x = xp[torch.arange(n).view(n, 1, 1, 1), torch.arange(c).view(1, c, 1, 1), rows, cols]
    if flip:
        mask = (torch.rand(n, generator=g) < 0.5).view(n, 1, 1, 1)
        x = torch.where(mask, x.flip(3), x)
    return x


class FolderSplit:
    """An ImageFolder split batched by a DataLoader whose sampler is seeded per epoch."""

    def __init__(self, dataset, workers: int):
        self.dataset, self.workers = dataset, workers

    def __len__(self) -> int:
        return len(self.dataset)

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)

    def batches(self, batch_size: int, generator: torch.Generator | None = None,
                augment: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        from torch.utils.data import DataLoader

        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator)) if generator is not None else 0

        def init(worker_id: int) -> None:
            import random

            torch.manual_seed(seed + worker_id)
            random.seed(seed + worker_id)

        loader = DataLoader(self.dataset, batch_size=batch_size, shuffle=generator is not None, generator=generator,
                            num_workers=self.workers, worker_init_fn=init, drop_last=False)
        if self.workers == 0:
            torch.manual_seed(seed)  # the transforms draw from the global RNG (restored by checkpoints)
        yield from loader


@dataclass
class Data:
    name: str
    train: TensorSplit | FolderSplit
    test: TensorSplit | FolderSplit
    num_classes: int
    image_size: int


def _limit(split: TensorSplit, n: int | None) -> TensorSplit:
    if n is None or n >= len(split):
        return split
    return TensorSplit(split.x[:n], split.y[:n], split.pad, split.flip)


def load_data(name: str, root: str | None = None, image_size: int | None = None, augment: bool = True,
              train_limit: int | None = None, test_limit: int | None = None, workers: int = 0) -> Data:
    """Load a dataset (see the module docstring); a missing folder is a :class:`DatasetMissing`."""
    if name == "digits":
        data = _digits(image_size or 16, augment)
    elif name in ("cifar-10", "cifar-100"):
        data = _cifar(name, root, image_size or 32, augment)
    elif name in ("imagenet-1k", "imagenet-100"):
        data = _imagefolder(name, root, image_size or 224, augment, workers)
    else:
        raise DatasetMissing(f"unknown dataset {name!r}")
    if isinstance(data.train, TensorSplit):
        data.train = _limit(data.train, train_limit)
    if isinstance(data.test, TensorSplit):
        data.test = _limit(data.test, test_limit)
    return data


def _standardise(train: torch.Tensor, test: torch.Tensor, mean=None, std=None):
    if mean is None:
        mean = train.mean(dim=(0, 2, 3), keepdim=True)
        std = train.std(dim=(0, 2, 3), keepdim=True)
    else:
        mean = torch.tensor(mean).view(1, -1, 1, 1)
        std = torch.tensor(std).view(1, -1, 1, 1)
    return (train - mean) / std, (test - mean) / std


def _digits(size: int, augment: bool) -> Data:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetMissing("the digits dataset needs scikit-learn (install the 'rerun' extra)") from None
    import numpy as np

    d = load_digits()
    images = torch.tensor(d.images, dtype=torch.float32) / 16.0  # (1797, 8, 8)
    labels = torch.tensor(d.target, dtype=torch.long)
    order = torch.from_numpy(np.random.RandomState(0).permutation(len(labels)))
    images, labels = images[order], labels[order]
    x = images.unsqueeze(1)
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = x.expand(-1, 3, -1, -1).contiguous()
    n_train = 1437
    xtr, xte = _standardise(x[:n_train], x[n_train:])
    pad = max(1, size // 8) if augment else 0
    return Data("digits", TensorSplit(xtr, labels[:n_train], pad, False), TensorSplit(xte, labels[n_train:]), 10, size)


def _cifar(name: str, root: str | None, size: int, augment: bool) -> Data:
    import torchvision

    folder = "cifar-10-batches-py" if name == "cifar-10" else "cifar-100-python"
    if root is not None and Path(root).name == folder and Path(root).is_dir():
        root = str(Path(root).parent)  # root names the archive folder itself: the folder that contains it is meant
    hint = (f"root is the folder that contains {folder}/ (the python-format archive extracted: "
            f"{'data_batch_1..5, test_batch' if name == 'cifar-10' else 'train, test'}, meta); nothing is downloaded")
    if root is None or not Path(root).is_dir():
        raise DatasetMissing(f"{name}: dataset folder {root!r} does not exist: {hint}")
    cls = torchvision.datasets.CIFAR10 if name == "cifar-10" else torchvision.datasets.CIFAR100
    problem = _cifar_problem(cls, Path(root) / folder)
    if problem:
        raise DatasetMissing(f"{name}: {problem}: {hint}")
    try:
        tr, te = cls(root, train=True, download=False), cls(root, train=False, download=False)
    except Exception as exc:  # a file that passes the checksum but does not unpickle
        raise DatasetMissing(f"{name}: cannot read {Path(root) / folder} ({type(exc).__name__}): {hint}") from None

    def tensors(ds) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).float() / 255.0
        if size != 32:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        return x, torch.tensor(ds.targets, dtype=torch.long)

    (xtr, ytr), (xte, yte) = tensors(tr), tensors(te)
    xtr, xte = _standardise(xtr, xte, CIFAR_MEAN[name], CIFAR_STD[name])
    classes = 10 if name == "cifar-10" else 100
    return Data(name, TensorSplit(xtr, ytr, 4 if augment else 0, augment), TensorSplit(xte, yte), classes, size)


def _cifar_problem(cls: Any, folder: Path) -> str | None:
    """What is wrong with a CIFAR folder, by torchvision's own file list and MD5 sums: a missing folder,
    the first missing file, or the first file whose checksum fails (only the official archive passes)."""
    import hashlib

    if not folder.is_dir():
        return f"{folder} does not exist"
    for fname, md5 in list(cls.train_list) + list(cls.test_list) + [(cls.meta["filename"], cls.meta["md5"])]:
        f = folder / fname
        if not f.is_file():
            return f"{f} is missing"
        if hashlib.md5(f.read_bytes()).hexdigest() != md5:
            return f"{f} fails its MD5 checksum (not the official archive, or corrupt)"
    return None


def _imagefolder(name: str, root: str | None, size: int, augment: bool, workers: int) -> Data:
    import torchvision.transforms as T
    from torchvision.datasets import ImageFolder

    hint = "expected an ImageFolder root with train/<class>/*.JPEG and val/<class>/*.JPEG; nothing is downloaded"
    if root is None or not Path(root).is_dir():
        raise DatasetMissing(f"{name}: dataset folder {root!r} does not exist: {hint}")
    for sub in ("train", "val"):
        if not (Path(root) / sub).is_dir():
            raise DatasetMissing(f"{name}: {Path(root) / sub} does not exist: {hint}")
    norm = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    resize = int(round(size * 256 / 224))
    train_tf = (T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(), T.ToTensor(), norm]) if augment
                else T.Compose([T.Resize(resize), T.CenterCrop(size), T.ToTensor(), norm]))
    test_tf = T.Compose([T.Resize(resize), T.CenterCrop(size), T.ToTensor(), norm])
    try:
        tr = ImageFolder(str(Path(root) / "train"), transform=train_tf)
        te = ImageFolder(str(Path(root) / "val"), transform=test_tf)
    except (FileNotFoundError, RuntimeError) as exc:
        raise DatasetMissing(f"{name}: cannot read {root}: {exc}") from None
    if tr.classes != te.classes:
        raise DatasetMissing(f"{name}: train/ and val/ under {root} have different classes")
    return Data(name, FolderSplit(tr, workers), FolderSplit(te, workers), len(tr.classes), size)
