"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def cli(capsys):
    """Run ``prune-audit`` in-process: returns (exit code, stdout, stderr)."""
    from audit.cli import main

    def run(*args: str):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or write the user's parse cache."""
    import os

    old = os.environ.get("PRUNE_AUDIT_CACHE_DIR")
    os.environ["PRUNE_AUDIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("parse-cache"))
    yield
    if old is None:
        os.environ.pop("PRUNE_AUDIT_CACHE_DIR", None)
    else:
        os.environ["PRUNE_AUDIT_CACHE_DIR"] = old
