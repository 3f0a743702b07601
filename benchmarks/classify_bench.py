"""Benchmark of the setup classifier and of ``prune-audit compare`` (a script, not a test).

1. Generates 10 000 synthetic results over 20 (dataset, network) groups (500 per group, drawn
   from realistic recipes: derived Appendix-A schedules, fixed LRs, partly reported step decays,
   inferred base models, unknown values) and times classifying all pairs within the groups
   (about 2.5 million pairs) with :func:`audit.core.classify.classify_all` -- feature extraction once
   per result, then vectorized per group.  It also times the explaining :func:`classify` on a
   sample of pairs, for scale.
2. Times ``prune-audit compare GReg-2 L1-norm`` cold (a fresh subprocess, best of N) against
   ``python -c "import audit"``, and checks in a subprocess which heavy modules each imports
   (torch must never be; pandas/scipy only when needed).

Targets (the issue): all pairs in < 2 s on the 2-core dev machine; compare cold < 0.5 s.

    .venv/bin/python benchmarks/classify_bench.py [--results 10000] [--groups 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit.core import classify as C  # noqa: E402
from audit.core.rules import derive  # noqa: E402
from audit.core.schedule import fixed, parse_schedule  # noqa: E402
from audit.registry.schema import Result  # noqa: E402

DATASETS = ["imagenet-1k", "imagenet-100", "cifar-10", "cifar-100"]
NETWORKS = ["resnet50", "resnet34", "resnet56", "vgg19", "resnet18"]


def synthetic(n: int, groups: int, seed: int = 0) -> list[Result]:
    rng = random.Random(seed)
    pairs = [(d, n_) for d in DATASETS for n_ in NETWORKS][:groups]
    if len(pairs) < groups:
        raise SystemExit(f"at most {len(DATASETS) * len(NETWORKS)} groups")
    ft_pool = [derive(e, lr) for e in (30, 60, 90, 120, 180) for lr in (0.1, 0.01, 0.001)]
    ft_pool += [fixed(1e-3, 20), fixed(1e-2, 30), parse_schedule("0.01, step decay (10/20)", 30),
                parse_schedule("0.01, cosine annealing", 180), parse_schedule("0.01", 90)]
    bases = [None, "torchvision/{n}/IMAGENET1K_V1", "own training", "timm/{n}", "Caffe {n}"]
    speeds = [1.5, 1.72, 2.0, 2.31, 2.37, 2.56, 3.06, 4.0, 5.0, 8.0]
    out: list[Result] = []
    for i in range(n):
        ds, nw = pairs[i % groups]
        base = rng.choice(bases)
        ft = rng.choice(ft_pool + [None])
        inferred = {}
        if base is not None and rng.random() < 0.2:
            inferred["base.identity"] = "presumed from the released code"
        prune = rng.choice([None, {"epochs": 0}, {"epochs": 5}, {"epochs": 5, "lr_schedule": "0:1e-3"},
                            {"lr_schedule": "0.001"}])
        std = round(rng.uniform(0.05, 0.4), 2) if rng.random() < 0.4 else None
        data = {
            "id": f"r{i}", "method": f"M{rng.randrange(60)}", "dataset": ds, "network": nw,
            "top1": {"mean": round(rng.uniform(60, 95), 2), "std": std, "runs": 3 if std is not None else None},
            "base": {"identity": None if base is None else base.format(n=nw),
                     "top1": rng.choice([None, 76.13, 76.15])},
            "compression": {"speedup": rng.choice(speeds)} if rng.random() < 0.95 else {},
            "pretrain": rng.choice([None, {"epochs": 90}, {"epochs": 120}]),
            "prune": prune,
            "finetune": None if ft is None else {"epochs": ft.total_epochs, "lr_schedule": ft},
            "inferred": inferred,
            "sources": [{"where": "Tab. 1"}],
        }
        out.append(Result.model_validate(data))
    return out


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cold(cmd: list[str], repeat: int) -> tuple[float, int]:
    best, rc = float("inf"), 0
    env = {**os.environ, "COLUMNS": "150"}
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env)
        best = min(best, time.perf_counter() - t0)
        rc = p.returncode
    return best, rc


IMPORT_PROBE = r"""
import sys, io, contextlib
argv = sys.argv[1:]
if argv:
    from audit.cli import main
    with contextlib.redirect_stdout(io.StringIO()):
        main(argv)
else:
    import audit
print("MODULES:" + ",".join(m for m in ("torch", "pandas", "scipy", "numpy", "pydantic", "yaml", "rich")
                           if m in sys.modules))
"""


def imported(args: list[str]) -> str:
    p = subprocess.run([sys.executable, "-c", IMPORT_PROBE, *args], cwd=ROOT, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("MODULES:"):
            return line[len("MODULES:"):]
    return f"(failed: {p.stderr.strip()[-200:]})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    results = synthetic(args.results, args.groups)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    feats = [C.features(r, key=r.id, paper=f"p{i % 40}") for i, r in enumerate(results)]
    t_feat = time.perf_counter() - t0
    t0 = time.perf_counter()
    import numpy  # noqa: F401  (classify_all imports it lazily; timed separately)

    t_numpy = time.perf_counter() - t0
    table = None

    def run_all():
        nonlocal table
        table = C.classify_all(feats, 0.05)

    C._SAME_AS_CACHE.clear()
    t0 = time.perf_counter()
    run_all()
    t_first = time.perf_counter() - t0
    t_best = best_of(run_all, args.repeat)
    assert table is not None
    n_pairs = len(table)
    import numpy as np

    counts = np.bincount(table.rank, minlength=8)
    names = ["not comparable", "below S1"] + list(C.CHAIN)
    sample = list(zip(table.i[:20000].tolist(), table.j[:20000].tolist()))
    t0 = time.perf_counter()
    for i, j in sample:
        C.classify(feats[i], feats[j])
    t_explain = (time.perf_counter() - t0) / len(sample)

    print(f"synthetic results: {len(results)} in {args.groups} groups (generated + validated in {t_gen:.2f} s)")
    print(f"feature extraction (once per result): {t_feat:.3f} s; numpy import: {t_numpy:.3f} s")
    print(f"all pairs within groups: {n_pairs} pairs")
    print(f"  classify_all, first run (cold same_as cache): {t_first:.3f} s")
    print(f"  classify_all, best of {args.repeat}: {t_best:.3f} s  -> {'OK' if t_best < 2 else 'SLOW'} (target < 2 s)")
    print(f"  features + classify_all, first run: {t_feat + t_first:.3f} s")
    print("  levels: " + ", ".join(f"{names[k]} {int(c)}" for k, c in enumerate(counts) if c))
    print(f"  explained classify(): {t_explain * 1e6:.1f} µs/pair on a sample of {len(sample)} "
          f"(all pairs this way: ~{t_explain * n_pairs:.1f} s)")

    exe = [sys.executable]
    t_imp, rc_imp = cold(exe + ["-c", "import audit"], args.repeat)
    t_cmp, rc_cmp = cold(exe + ["-m", "audit", "compare", "GReg-2", "L1-norm"], args.repeat)
    t_json, rc_json = cold(exe + ["-m", "audit", "compare", "GReg-2", "L1-norm", "--json"], args.repeat)
    print(f"cold python -c 'import audit': {t_imp:.3f} s (rc {rc_imp})")
    print(f"cold prune-audit compare GReg-2 L1-norm: {t_cmp:.3f} s (rc {rc_cmp}) "
          f"-> {'OK' if t_cmp < 0.5 else 'SLOW'} (target < 0.5 s); over import: {t_cmp - t_imp:.3f} s")
    print(f"cold prune-audit compare GReg-2 L1-norm --json: {t_json:.3f} s (rc {rc_json})")
    print(f"modules after 'import audit': {imported([]) or '(none of the heavy ones)'}")
    print(f"modules after compare GReg-2 L1-norm: {imported(['compare', 'GReg-2', 'L1-norm'])}")
    mods = imported(["compare", "GReg-2", "L1-norm"])
    print(f"torch imported: {'YES' if 'torch' in mods.split(',') else 'no'}; "
          f"pandas: {'yes' if 'pandas' in mods.split(',') else 'no'}; "
          f"scipy: {'yes' if 'scipy' in mods.split(',') else 'no'} (scipy only when both sides have std and runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
