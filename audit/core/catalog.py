"""The catalog: every dataset, network and rerun-engine method the project knows, declared once.

The registry's validators, the rerun engine (which builds only the networks marked ``engine``)
and the command line all read these tables; nothing else lists them.  Torch-free.

Units: ``input_size`` is the side in pixels of the square input images; ``classes`` is the number
of output classes.  For a network, ``input_size`` and ``classes`` are the customary ones used to
count its FLOPs when nothing else is given (CIFAR networks at 32x32; torchvision networks at
224x224 with 1000 classes; the CIFAR VGG-19 of Liu et al.'s "rethinking" code with 100 classes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator

from audit.errors import UnknownName
from audit.names import name_key, unknown_name

__all__ = [
    "DATASETS",
    "ENGINE_METHODS",
    "NETWORKS",
    "Dataset",
    "EngineMethod",
    "Network",
    "DatasetId",
    "EngineMethodId",
    "EngineNetworkId",
    "NetworkId",
    "dataset",
    "engine_method",
    "engine_networks",
    "network",
]


@dataclass(frozen=True)
class Dataset:
    """A dataset results are reported on."""

    id: str
    """Canonical id, lower case (``imagenet-1k``)."""
    label: str
    """What it is, for people."""
    classes: int
    """Number of classes."""
    input_size: int
    """Customary input side in pixels (ImageNet 224, CIFAR 32; the bundled digits are 8x8 images
    upsampled to 16x16 by the rerun engine)."""


@dataclass(frozen=True)
class Network:
    """A network architecture results are reported on."""

    id: str
    """Canonical id, lower case (``resnet56``)."""
    label: str
    """What it is, for people."""
    family: Literal["cifar-resnet", "tv-resnet", "vgg", "mobilenet"]
    """Layout family: He et al.'s CIFAR ResNets (3 stages, option-A shortcuts), torchvision ResNets,
    VGG, MobileNet."""
    input_size: int
    """Customary input side in pixels (for FLOPs)."""
    classes: int
    """Customary number of classes (for FLOPs)."""
    depth: int
    """Depth in the network's name (ResNet-56: 56)."""
    ratio_layout: tuple[str, ...] = ()
    """What each entry of a stage-wise ratio list indexes (the seed's Tab. 1 lists for ResNet-50:
    ``stem, layer1 .. layer4, fc``); empty where the rerun engine has no ratio list for it."""
    engine: bool = False
    """True when the rerun engine builds, prunes and counts this network."""
    shortcut: Literal["A", "B"] | None = None
    """CIFAR ResNets: the shortcut where the shape changes, ``A`` (zero padding, He et al.'s CIFAR
    default) or ``B`` (1x1 conv + BN projection); ``None`` = the family's own (A for CIFAR ResNets)."""
    bottleneck: bool = False
    """CIFAR ResNets: bottleneck blocks (1x1-3x3-1x1, depth 9n+2) instead of basic blocks."""
    fc_hidden: tuple[int, ...] = ()
    """CIFAR VGGs: widths of the hidden Linear+BN+ReLU layers before the classifier (Li et al.'s
    VGG-16: ``(512,)``); empty = one Linear."""


@dataclass(frozen=True)
class EngineMethod:
    """A pruning method the rerun engine runs (see ``audit.rerun.methods``)."""

    id: str
    """Engine id used in rerun recipes (``l1``)."""
    label: str
    """The method's name in the registry (``L1-norm``): results of the engine carry it."""
    ranking: Literal["l1", "random"]
    """Filter-ranking criterion that picks the kept filters."""
    stage: Literal["greg-selected", "greg-uniform"] | None = None
    """The pruning-stage procedure before the surgery: GReg-1's penalty on the filters picked at the
    start (Wang et al. ICLR'21, Alg. 1), GReg-2's uniform penalty (Alg. 2); ``None`` = one-shot."""
    aliases: tuple[str, ...] = ()
    """Other spellings accepted in recipes (compared by :func:`audit.names.name_key`)."""


_CIFAR_LAYOUT = ("stem", "layer1", "layer2", "layer3", "fc")
_TV_LAYOUT = ("stem", "layer1", "layer2", "layer3", "layer4", "fc")


_T = TypeVar("_T", Dataset, Network, EngineMethod)


def _index(*items: _T) -> dict[str, _T]:
    return {item.id: item for item in items}


DATASETS: Mapping[str, Dataset] = _index(
    Dataset("imagenet-1k", "ImageNet-1K (ILSVRC-2012), 1000 classes", 1000, 224),
    Dataset("imagenet-100", "ImageNet-100: a 100-class subset of ImageNet-1K", 100, 224),
    Dataset("cifar-10", "CIFAR-10", 10, 32),
    Dataset("cifar-100", "CIFAR-100", 100, 32),
    Dataset("digits", "scikit-learn's bundled 8x8 handwritten digits (the rerun engine's embedded default)", 10, 16),
)
"""Datasets by canonical id."""

NETWORKS: Mapping[str, Network] = _index(
    Network("resnet18", "ResNet-18 (torchvision layout)", "tv-resnet", 224, 1000, 18, _TV_LAYOUT, engine=True),
    Network("resnet34", "ResNet-34 (torchvision layout)", "tv-resnet", 224, 1000, 34, _TV_LAYOUT, engine=True),
    Network("resnet50", "ResNet-50 (torchvision layout, bottleneck blocks)", "tv-resnet", 224, 1000, 50, _TV_LAYOUT,
            engine=True),
    Network("resnet101", "ResNet-101 (torchvision layout)", "tv-resnet", 224, 1000, 101),
    Network("resnet20", "CIFAR ResNet-20 (He et al., option A shortcuts)", "cifar-resnet", 32, 10, 20, _CIFAR_LAYOUT,
            engine=True),
    Network("resnet32", "CIFAR ResNet-32", "cifar-resnet", 32, 10, 32, _CIFAR_LAYOUT, engine=True),
    Network("resnet44", "CIFAR ResNet-44", "cifar-resnet", 32, 10, 44, _CIFAR_LAYOUT, engine=True),
    Network("resnet56", "CIFAR ResNet-56", "cifar-resnet", 32, 10, 56, _CIFAR_LAYOUT, engine=True),
    Network("resnet110", "CIFAR ResNet-110", "cifar-resnet", 32, 10, 110, _CIFAR_LAYOUT, engine=True),
    Network("resnet56-optb", "CIFAR ResNet-56 with 1x1 projection shortcuts (option B)", "cifar-resnet", 32, 10, 56,
            _CIFAR_LAYOUT, engine=True, shortcut="B"),
    Network("resnet110-optb", "CIFAR ResNet-110 with 1x1 projection shortcuts (option B)", "cifar-resnet", 32, 10,
            110, _CIFAR_LAYOUT, engine=True, shortcut="B"),
    Network("resnet164", "CIFAR ResNet-164 (bottleneck blocks, option-B projections)", "cifar-resnet", 32, 10, 164,
            _CIFAR_LAYOUT, engine=True, shortcut="B", bottleneck=True),
    Network("vgg16", "VGG-16", "vgg", 32, 10, 16),
    Network("vgg16-2fc", "VGG-16 with BatchNorm for CIFAR, head Linear(512, 512)+BN+ReLU+Linear (Li et al. Tab. 2)",
            "vgg", 32, 10, 16, tuple(f"conv{i}" for i in range(13)) + ("fc",), engine=True, fc_hidden=(512,)),
    Network("vgg16-1fc", "VGG-16 with BatchNorm for CIFAR, one Linear(512, classes) (GReg, HRank)", "vgg", 32, 10,
            16, tuple(f"conv{i}" for i in range(13)) + ("fc",), engine=True),
    Network("vgg19", "VGG-19 with BatchNorm (CIFAR variant: 16 convs, one Linear)", "vgg", 32, 100, 19,
            tuple(f"conv{i}" for i in range(16)) + ("fc",), engine=True),
    Network("mobilenetv2", "MobileNetV2", "mobilenet", 224, 1000, 53),
)
"""Networks by canonical id."""

ENGINE_METHODS: Mapping[str, EngineMethod] = _index(
    EngineMethod("l1", "L1-norm", "l1", aliases=("l1-norm", "l1norm")),
    EngineMethod("random", "random filter pruning", "random", aliases=("random filter pruning", "random-filter")),
    EngineMethod("greg1", "GReg-1", "l1", "greg-selected", aliases=("greg-1",)),
    EngineMethod("greg2", "GReg-2", "l1", "greg-uniform", aliases=("greg-2",)),
)
"""Methods of the rerun engine by engine id."""


def dataset(name: str) -> Dataset:
    """The dataset ``name``; :class:`UnknownName` (with "Did you mean") otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownName.of("dataset", name, DATASETS) from None


def network(name: str) -> Network:
    """The network ``name``; :class:`UnknownName` (with "Did you mean") otherwise."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise UnknownName.of("network", name, NETWORKS) from None


def engine_networks() -> list[str]:
    """Ids of the networks the rerun engine builds, in catalog order."""
    return [n.id for n in NETWORKS.values() if n.engine]


def engine_method(name: str) -> EngineMethod:
    """The engine method named by its id, label or an alias (any case and punctuation);
    :class:`UnknownName` otherwise."""
    key = name_key(name)
    for m in ENGINE_METHODS.values():
        if key in {name_key(x) for x in (m.id, m.label, *m.aliases)}:
            return m
    raise UnknownName.of("rerun method", name, ENGINE_METHODS)


# ---------------------------------------------------------------------- field types for file models
def _known(kind: str, names: Iterable[str]) -> Callable[[str], str]:
    known = list(names)

    def check(value: str) -> str:
        if value not in known:
            raise ValueError(unknown_name(kind, value, known))
        return value

    return check


DatasetId = Annotated[str, AfterValidator(_known("dataset", DATASETS))]
"""A canonical dataset id of the catalog (a field of a file model; an unknown one gets "Did you mean")."""
NetworkId = Annotated[str, AfterValidator(_known("network", NETWORKS))]
"""A canonical network id of the catalog."""
EngineNetworkId = Annotated[str, AfterValidator(_known("network", engine_networks()))]
"""A network the rerun engine builds."""
EngineMethodId = Annotated[str, AfterValidator(_known("rerun method", ENGINE_METHODS))]
"""The engine id of a rerun-engine method (``l1``, ``random``, ``greg1``, ``greg2``)."""
