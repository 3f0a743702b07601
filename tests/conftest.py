"""Shared fixtures and builders of the test suite (the only conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = FIXTURES / "base"
"""A one-paper registry (Li et al.'s L1-norm) that test registries start from."""
SHIPPED = ROOT / "registry"

PAPER_HEADER = "paper:\n  id: {id}\n  title: T\n  authors: [A]\n  venue: arXiv\n  year: {year}\n"
"""The ``paper:`` block of a paper file, as text (``.format(id=..., year=...)``)."""
FT90 = "0:1e-2,30:1e-3,60:1e-4,75:1e-5"
TV = "torchvision/resnet50/IMAGENET1K_V1"


@pytest.fixture
def cli(capsys):
    """Run ``prune-audit`` in-process: returns (exit code, stdout, stderr)."""
    from audit.cli import main

    def run(*args: str):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def base_registry(tmp_path: Path) -> Path:
    """A writable copy of the one-paper test registry."""
    d = tmp_path / "registry"
    shutil.copytree(BASE, d)
    return d


@pytest.fixture(scope="session")
def shipped():
    """The shipped registry, loaded (a registry that does not validate fails the tests that use it)."""
    from audit.registry.store import load_registry

    return load_registry(SHIPPED)


def write(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``directory/name`` (UTF-8) and return the path."""
    p = directory / name
    p.write_text(text, encoding="utf-8")
    return p


def paper(pid: str, methods: list[dict], results: list[dict], *, verified: bool = True) -> dict:
    """A paper file as data (marked as re-checked by a second reader unless ``verified`` is false, so
    its results count on the calibrated leaderboard)."""
    p = {"id": pid, "title": pid, "authors": ["X"], "venue": "arXiv", "year": 2020}
    if verified:
        p["verification"] = {"status": "verified", "date": "2026-01-01", "by": "test", "against": "test data"}
    return {"paper": p, "methods": methods, "results": results}


def res(rid: str, method: str, top1: float, speedup: float | None, *, ft=(90, FT90), base=TV, prune=None,
        dataset="imagenet-1k", network="resnet50", **extra) -> dict:
    """A result as data: ImageNet ResNet-50, finetuned 90 epochs on the seed's schedule unless told."""
    r = {"id": rid, "method": method, "dataset": dataset, "network": network, "top1": {"mean": top1},
         "base": {"identity": base} if base else {}, "compression": {"speedup": speedup} if speedup else {},
         "sources": [{"where": "Tab. 1"}]}
    if ft is not None:
        r["finetune"] = {"epochs": ft[0], "lr_schedule": ft[1]}
    if prune is not None:
        r["prune"] = prune
    r.update(extra)
    return r
