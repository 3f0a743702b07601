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

from pydantic import AfterValidator, Field

from audit.errors import UnknownName
from audit.io.loader import StrictModel, load_model
from audit.io.paths import default_registry_dir
from audit.names import name_key, unknown_name

__all__ = [
    "DATASETS", "ENGINE_METHODS", "Checkpoint", "checkpoint", "GRANULARITIES", "NETWORKS", "NETWORKS_FILE", "NETWORK_FAMILIES", "Dataset",
    "DatasetId", "EngineMethod", "EngineMethodId", "EngineNetworkId", "Granularity", "Network", "NetworkFile",
    "NetworkId", "dataset", "engine_method", "engine_networks", "network",
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


NETWORK_FAMILIES = ("cifar-resnet", "tv-resnet", "vgg", "mobilenet", "densenet", "googlenet", "other")
"""Layout families: He et al.'s CIFAR ResNets (3 stages, option-A shortcuts), torchvision ResNets, VGG,
MobileNet, DenseNet, GoogLeNet, anything else."""


class Checkpoint(StrictModel):
    """Published weights of a network and the accuracy their publisher states for them."""

    identity: str = Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")
    """How paper files name them in ``base.identity`` (``torchvision/resnet50/IMAGENET1K_V1``)."""
    dataset: str = Field(min_length=1, max_length=64)
    """The dataset the accuracy is on (``imagenet-1k``)."""
    top1: float = Field(ge=0, le=100)
    """Top-1 in percent as the publisher states it."""
    top5: float | None = Field(default=None, ge=0, le=100)
    """Top-5 in percent, when stated."""
    source: str = Field(min_length=1, max_length=300)
    """Where the accuracy is stated (package, version and field)."""


class Network(StrictModel):
    """A network architecture results are reported on: an entry of ``registry/networks.yaml`` or of a
    paper file's ``networks:`` list."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)
    """Canonical id, lower case (``resnet56``)."""
    label: str = Field(min_length=1, max_length=200, pattern=r"^[^\n\r]*$")
    """What it is, for people (one line)."""
    aliases: tuple[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\n\r]*$")], ...] = ()
    """Other spellings that name it (``ResNet-56``); matched by :func:`audit.names.name_key`."""
    family: Literal["cifar-resnet", "tv-resnet", "vgg", "mobilenet", "densenet", "googlenet", "other"]
    """Layout family (see :data:`NETWORK_FAMILIES`)."""
    depth: int = Field(ge=1, le=10_000)
    """Depth: the number in the network's name (ResNet-56: 56), else its weighted-layer count."""
    input_size: int = Field(ge=1, le=100_000)
    """Customary input side in pixels used to count its FLOPs when nothing else is given."""
    classes: int = Field(ge=1, le=10_000_000)
    """Customary number of classes (for FLOPs)."""
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
    dense_macs: int | None = Field(default=None, ge=1)
    """Dense multiply-accumulates of conv and linear layers (no BN, ReLU, pooling, bias) at
    ``input_size`` and ``classes``; ``null`` = not measured."""
    dense_params: int | None = Field(default=None, ge=1)
    """Dense parameter count (BN included); ``null`` = not measured."""
    measured_by: str | None = Field(default=None, max_length=300)
    """The command (or counter) that measured ``dense_macs``/``dense_params``."""
    checkpoints: tuple[Checkpoint, ...] = ()
    """Published weights of this network with their stated accuracy, so a base top-1 that does not
    belong to the weights a paper names is flagged (``registry check``)."""


class NetworkFile(StrictModel):
    """The content of ``registry/networks.yaml``."""

    networks: list[Network] = Field(min_length=1)
    """Every network of the catalog."""


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


_T = TypeVar("_T", Dataset, EngineMethod)


def _index(*items: _T) -> dict[str, _T]:
    return {item.id: item for item in items}


DATASETS: Mapping[str, Dataset] = _index(
    Dataset("imagenet-1k", "ImageNet-1K (ILSVRC-2012), 1000 classes", 1000, 224),
    Dataset("imagenet-100", "ImageNet-100: a 100-class subset of ImageNet-1K", 100, 224),
    Dataset("cifar-10", "CIFAR-10", 10, 32),
    Dataset("cifar-100", "CIFAR-100", 100, 32),
    Dataset("mnist", "MNIST handwritten digits (28x28 grey images)", 10, 28),
    Dataset("svhn", "SVHN (Street View House Numbers, cropped digits)", 10, 32),
    Dataset("tiny-imagenet", "Tiny ImageNet: 200 ImageNet classes at 64x64", 200, 64),
    Dataset("cub-200-2011", "Caltech-UCSD Birds-200-2011 (fine-grained, 200 classes)", 200, 224),
    Dataset("digits", "scikit-learn's bundled 8x8 handwritten digits (the rerun engine's embedded default)", 10, 16),
)
"""Datasets by canonical id."""

NETWORKS_FILE = "networks.yaml"
"""The catalog file's name in the shipped registry directory (it is not a paper file)."""


def _load_networks() -> dict[str, Network]:
    path = default_registry_dir() / NETWORKS_FILE
    loaded = load_model(path, NetworkFile, noun="the network catalog")
    model = loaded.require()
    return {n.id: n for n in model.networks}


NETWORKS: Mapping[str, Network] = _load_networks()
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


def checkpoint(identity: str) -> tuple[Network, Checkpoint] | None:
    """The catalog network and checkpoint a base identity names (case-insensitive), else ``None``."""
    key = identity.strip().casefold()
    for net in NETWORKS.values():
        for ck in net.checkpoints:
            if ck.identity.casefold() == key:
                return net, ck
    return None


def network(name: str, extra: Mapping[str, Network] | None = None) -> Network:
    """The network ``name`` (its id or an alias, compared by :func:`audit.names.name_key`), looked up
    in the catalog and then in ``extra`` (networks declared by paper files); :class:`UnknownName` (with
    "Did you mean" among names of the same family of letters) otherwise."""
    pool = {**NETWORKS, **(extra or {})}
    if name in pool:
        return pool[name]
    key = name_key(name)
    for net in pool.values():
        if key in {name_key(net.id), *(name_key(a) for a in net.aliases)}:
            return net
    raise UnknownName.of("network", name, pool) from None


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


GRANULARITIES = ("filter", "channel", "stripe", "kernel", "block", "layer", "pattern", "unstructured", "n:m")
"""Sparsity granularities a result may state: whole filters (output channels), input channels,
stripes (1x1 slices of a filter: Pruning Filter in Filter), kernels, blocks, whole layers, kernel
patterns, single weights, N:M groups.  Extend this tuple to admit another."""

Granularity = Annotated[str, AfterValidator(_known("granularity", GRANULARITIES))]
"""One of :data:`GRANULARITIES`."""

DatasetId = Annotated[str, AfterValidator(_known("dataset", DATASETS))]
"""A canonical dataset id of the catalog (a field of a file model; an unknown one gets "Did you mean")."""
NetworkId = Annotated[str, AfterValidator(_known("network", NETWORKS))]
"""A canonical network id of the catalog."""
EngineNetworkId = Annotated[str, AfterValidator(_known("network", engine_networks()))]
"""A network the rerun engine builds."""
EngineMethodId = Annotated[str, AfterValidator(_known("rerun method", ENGINE_METHODS))]
"""The engine id of a rerun-engine method (``l1``, ``random``, ``greg1``, ``greg2``)."""
