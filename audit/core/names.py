"""Canonical names and name resolution ("Did you mean ...?").

Method names resolve case-insensitively and through Unicode compatibility folding, so that
``L1-norm``, ``l1 norm`` and ``ℓ1-norm`` are one key.  Dataset and network ids are canonical
(lower-case, as below); anything else is rejected with the closest known ids.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

#: Canonical dataset ids.
DATASETS: dict[str, str] = {
    "imagenet-1k": "ImageNet-1K (ILSVRC-2012), 1000 classes",
    "imagenet-100": "ImageNet-100: a 100-class subset of ImageNet-1K",
    "cifar-10": "CIFAR-10",
    "cifar-100": "CIFAR-100",
    "digits": "scikit-learn's bundled 8x8 handwritten digits (the rerun engine's embedded default)",
}

#: Canonical network ids.
NETWORKS: dict[str, str] = {
    "resnet18": "ResNet-18 (torchvision layout)",
    "resnet34": "ResNet-34 (torchvision layout)",
    "resnet50": "ResNet-50 (torchvision layout, bottleneck blocks)",
    "resnet101": "ResNet-101 (torchvision layout)",
    "resnet20": "CIFAR ResNet-20 (He et al., option A shortcuts)",
    "resnet32": "CIFAR ResNet-32",
    "resnet44": "CIFAR ResNet-44",
    "resnet56": "CIFAR ResNet-56",
    "resnet110": "CIFAR ResNet-110",
    "vgg16": "VGG-16",
    "vgg19": "VGG-19 with BatchNorm (CIFAR variant: 16 convs, one Linear)",
    "mobilenetv2": "MobileNetV2",
}


def name_key(name: str) -> str:
    """The comparison key of a name: NFKC-folded, case-folded, only letters and digits."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """`` Did you mean 'a', 'b'?`` with the closest known names, or an empty string."""
    known = sorted(set(known))
    by_key: dict[str, str] = {}
    for k in known:
        by_key.setdefault(name_key(k), k)
    close = difflib.get_close_matches(name_key(name), list(by_key), n=n, cutoff=0.5)
    if not close:
        close_raw = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
        names = close_raw
    else:
        names = [by_key[c] for c in close]
    if not names:
        return ""
    return " Did you mean " + ", ".join(repr(x) for x in names) + "?"


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """The one message for a name that is not known: ``unknown KIND 'name'. Did you mean ...?``."""
    return f"unknown {kind} {name!r}.{did_you_mean(name, known)}"
