"""The networks the rerun engine trains and prunes.

* CIFAR ResNets of He et al. (``resnet20/32/44/56/110``): 3 stages of basic blocks with 16/32/64
  channels and the parameter-free identity shortcut with zero padding ("option A");
  ``resnet56-optb`` / ``resnet110-optb`` replace it by a 1x1 conv + BN projection where the shape
  changes ("option B", He et al. CVPR'16 Sec. 3.3); ``resnet164``: 18 bottleneck blocks per stage
  (1x1-3x3-1x1, 16/32/64 inner and 64/128/256 output channels, option B; He et al. ECCV'16,
  post-activation form -- the MACs do not depend on where BN and ReLU sit).
* VGG-19 with BatchNorm for CIFAR (the variant of Liu et al.'s "rethinking" code): 16 convs, no
  bias, four max-pools, global average pooling and a single ``Linear(512, classes)``; VGG-16 the
  same with 13 convs, either with that one-Linear head (``vgg16-1fc``: GReg, HRank) or with
  ``Linear(512, 512) + BatchNorm1d + ReLU + Linear(512, classes)`` (``vgg16-2fc``: Li et al.'s
  Tab. 2 and rethinking's ``cifar/l1-norm-pruning`` VGG-16).
* torchvision's ``resnet18/34/50`` with any number of classes.

Each network is described by its catalog entry (:class:`audit.core.catalog.Network`: family, default
input size, the layout of its stage-wise ratio list).  ``init_weights`` is the family's own initialisation; it is also what
gives a pruned architecture trained from scratch its fresh weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from audit.core import catalog
from audit.core.catalog import Network
from audit.names import did_you_mean

from ..errors import UnknownName

__all__ = ["NETWORKS", "VGG16_CFG", "VGG19_CFG", "CifarBasicBlock", "CifarBottleneck", "CifarResNet", "CifarVGG",
           "ShortcutA", "build_model", "init_weights", "network_info", "projection"]


VGG19_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512,
)

VGG16_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
)

NETWORKS: dict[str, Network] = {n: catalog.network(n) for n in catalog.engine_networks()}
"""The catalog's networks that the engine builds (see :mod:`audit.core.catalog`)."""


def network_info(name: str) -> Network:
    """The catalog entry of an engine network; an unknown name is an error with "Did you mean"."""
    if name not in NETWORKS:
        raise UnknownName(f"unknown network {name!r} for the rerun engine.{did_you_mean(name, NETWORKS)}"
                          f" (known: {', '.join(NETWORKS)})")
    return NETWORKS[name]


# ---------------------------------------------------------------------- CIFAR ResNets
class ShortcutA(nn.Module):
    """Option A: subsample spatially and zero-pad the new channels (no parameters)."""

    def __init__(self, stride: int, in_planes: int, planes: int):
        super().__init__()
        self.stride = stride
        self.pad_lo = (planes - in_planes) // 2
        self.pad_hi = planes - in_planes - self.pad_lo

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_lo, self.pad_hi))


def projection(in_planes: int, planes: int, stride: int) -> nn.Sequential:
    """Option B: a 1x1 conv (stride ``stride``, no bias) and BN where the shape changes."""
    return nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))


class CifarBasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int = 1, shortcut: str = "A"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = ShortcutA(stride, in_planes, planes) if shortcut == "A" else projection(
                in_planes, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarBottleneck(nn.Module):
    """1x1 (``planes``) - 3x3 (``planes``, stride) - 1x1 (``4 * planes``), option-B projection."""

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != out:
            self.shortcut = projection(in_planes, out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet: depth 6n+2 (basic blocks) or 9n+2 (``bottleneck``), shortcut option A or B."""

    def __init__(self, depth: int, num_classes: int = 10, shortcut: str = "A", bottleneck: bool = False):
        super().__init__()
        per = 9 if bottleneck else 6
        if (depth - 2) % per:
            raise ValueError(f"a CIFAR ResNet with {'bottleneck' if bottleneck else 'basic'} blocks has depth "
                             f"{per}n+2, not {depth}")
        n = (depth - 2) // per
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        in_planes = 16
        for i, (planes, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
            blocks: list[nn.Module] = []
            for b in range(n):
                s = stride if b == 0 else 1
                if bottleneck:
                    blocks.append(CifarBottleneck(in_planes, planes, s))
                    in_planes = planes * CifarBottleneck.expansion
                else:
                    blocks.append(CifarBasicBlock(in_planes, planes, s, shortcut))
                    in_planes = planes
            setattr(self, f"layer{i}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        for layer in ("layer1", "layer2", "layer3"):  # set by name in __init__
            x = getattr(self, layer)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---------------------------------------------------------------------- VGG-19 (CIFAR)
class CifarVGG(nn.Module):
    """CIFAR VGG with BN: ``features`` from ``cfg``, global average pooling, and a classifier that is
    one ``Linear`` (``hidden`` empty) or ``Linear, BatchNorm1d, ReLU`` per hidden width, then ``Linear``."""

    def __init__(self, cfg: tuple[int | str, ...] = VGG19_CFG, num_classes: int = 100, hidden: tuple[int, ...] = ()):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                assert isinstance(v, int)
                layers += [nn.Conv2d(in_ch, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                in_ch = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier: nn.Module = nn.Linear(in_ch, num_classes)
        if hidden:
            head: list[nn.Module] = []
            for width in hidden:
                head += [nn.Linear(in_ch, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
                in_ch = width
            self.classifier = nn.Sequential(*head, nn.Linear(in_ch, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ---------------------------------------------------------------------- building
def init_weights(model: nn.Module, family: str) -> None:
    """The family's own initialisation, applied in module order (deterministic under a seed)."""
    for m in model.modules():
        if family == "cifar-resnet":
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
                if m.bias is not None:
                    bound = 1 / (m.weight.shape[1] ** 0.5)
                    nn.init.uniform_(m.bias, -bound, bound)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        elif family == "vgg":  # Liu et al.'s CIFAR VGG
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, (2.0 / n) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(0.5)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.data.normal_(0, 0.01)
                m.bias.data.zero_()
        else:  # torchvision's ResNet initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                m.reset_parameters()
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()


def build_model(name: str, num_classes: int | None = None) -> nn.Module:
    """A freshly initialised dense network (seed the global RNG first for determinism)."""
    info = network_info(name)
    classes = info.classes if num_classes is None else int(num_classes)
    if classes < 1:
        raise ValueError(f"num_classes must be positive (got {classes})")
    if info.family == "cifar-resnet":
        model: nn.Module = CifarResNet(info.depth, classes, info.shortcut or "A", info.bottleneck)
    elif info.family == "vgg":
        model = CifarVGG(VGG16_CFG if info.depth == 16 else VGG19_CFG, classes, info.fc_hidden)
    else:
        import torchvision.models as tvm

        model = getattr(tvm, name)(weights=None, num_classes=classes)
    init_weights(model, info.family)
    return model
