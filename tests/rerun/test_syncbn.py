"""The CPU synchronized BatchNorm of ``audit.rerun.dist`` on 2 gloo processes equals plain
``nn.BatchNorm2d`` on the concatenated batch: outputs, gradients, running statistics, and a few
DDP training steps on unequal shards (with :func:`audit.rerun.dist.shard`'s loss scale).

The workers run in float64, so "equal" is to 1e-10 (observed ~1e-15), not a float32 tolerance.
"""

from __future__ import annotations

import copy

import pytest

pytestmark = pytest.mark.rerun

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

WORLD = 2
BATCH = 11  # shards of 5 and 6 images


def _tiny(momentum: float | None) -> nn.Module:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4, momentum=momentum), nn.ReLU(),
                      nn.Sequential(nn.Conv2d(4, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5, momentum=momentum)),
                      nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 3))
    return m.double()


def _close(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    err = float((a - b).abs().max()) if a.numel() else 0.0
    assert err <= 1e-10 * max(1.0, float(b.abs().max())), f"{what}: max |diff| {err:.3g}"


def _check_module(rank: int) -> None:
    """SyncBatchNorm2d alone: forward, input/weight/bias gradients, running stats, eval mode."""
    from audit.rerun.dist import SyncBatchNorm2d

    g = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH, 4, 3, 3, generator=g, dtype=torch.float64) * 3 + 2
    r = torch.randn(BATCH, 4, 3, 3, generator=g, dtype=torch.float64)
    lo, hi = [0, 5, BATCH][rank], [0, 5, BATCH][rank + 1]
    for momentum in (0.1, None):
        ref = nn.BatchNorm2d(4, momentum=momentum).double()
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5, generator=g)
            ref.bias.uniform_(-0.5, 0.5, generator=g)
        sync = SyncBatchNorm2d(4, momentum=momentum).double()
        sync.load_state_dict(ref.state_dict())
        assert list(sync.state_dict()) == list(ref.state_dict())
        xr, xs = x.clone().requires_grad_(), x[lo:hi].clone().requires_grad_()
        for _ in range(2):  # twice: the running statistics' update compounds
            yr, ys = ref(xr), sync(xs)
        _close(ys, yr[lo:hi], "forward")
        # global loss sum(y * r): each rank back-propagates its own part
        (yr * r).sum().backward()
        (ys * r[lo:hi]).sum().backward()
        _close(xs.grad, xr.grad[lo:hi], "input gradient")
        for name in ("weight", "bias"):  # per-rank partial sums; their sum is the global gradient
            gs = getattr(sync, name).grad.clone()
            torch.distributed.all_reduce(gs)
            _close(gs, getattr(ref, name).grad, f"{name} gradient")
        for name in ("running_mean", "running_var"):
            _close(getattr(sync, name), getattr(ref, name), name)
        assert int(sync.num_batches_tracked) == int(ref.num_batches_tracked) == 2
        sync.eval(), ref.eval()
        _close(sync(x[lo:hi]), ref(x)[lo:hi], "eval forward")


def _check_ddp(rank: int) -> None:
    """wrap() + shard() + DDP: SGD steps on unequal shards equal single-process steps; unwrap()."""
    import torch.nn.functional as F

    from audit.rerun import dist

    for momentum in (0.1, None):
        model = _tiny(momentum)
        ref = copy.deepcopy(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        opt_ref = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        train = dist.wrap(model, torch.device("cpu"))
        assert sum(isinstance(m, dist.SyncBatchNorm2d) for m in model.modules()) == 2
        g = torch.Generator().manual_seed(2)
        for _ in range(3):
            x = torch.randn(BATCH, 3, 6, 6, generator=g, dtype=torch.float64)
            y = torch.randint(0, 3, (BATCH,), generator=g)
            opt_ref.zero_grad()
            F.cross_entropy(ref(x), y).backward()
            opt_ref.step()
            (xs, ys, scale), = dist.shard([(x, y)])
            assert xs.shape[0] == [5, 6][rank] and scale == pytest.approx(WORLD * xs.shape[0] / BATCH)
            opt.zero_grad()
            (F.cross_entropy(train(xs), ys) * scale).backward()
            opt.step()
        params = {id(p) for p in model.parameters()}
        plain = dist.unwrap(train)
        assert plain is model
        assert all(type(m) is nn.BatchNorm2d for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))
        assert {id(p) for p in model.parameters()} == params  # the optimizer's tensors, not copies
        assert list(model.state_dict()) == list(ref.state_dict())
        for (k, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
            _close(a.double(), b.double(), k)


def _worker(rank: int, init: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=init, rank=rank, world_size=WORLD)
    try:
        _check_module(rank)
        _check_ddp(rank)
    finally:
        torch.distributed.destroy_process_group()


def test_sync_batchnorm_on_two_gloo_processes_equals_batchnorm_on_the_whole_batch(tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    import torch.multiprocessing as mp

    mp.spawn(_worker, args=(f"file://{tmp_path / 'rendezvous'}",), nprocs=WORLD, join=True)


def test_single_process_wrap_is_the_identity():
    from audit.rerun import dist

    model = _tiny(0.1)
    assert dist.wrap(model, torch.device("cpu")) is model
    assert dist.unwrap(model) is model
    assert all(type(m) is not dist.SyncBatchNorm2d for m in model.modules())
    batches = [(torch.zeros(3, 1), torch.zeros(3))]
    assert list(dist.shard(batches)) == batches
