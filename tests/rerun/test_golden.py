"""The surgery is bit-identical to the engine's before the layout work (kept indices, MACs, params, weights)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.rerun

pytest.importorskip("torch")

from .golden import CONFIGS, GOLDEN, compute  # noqa: E402

_RECORDS = json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=[f"{c[0]}-{c[4]}-{k}" for k, c in enumerate(CONFIGS)])
def test_pruning_is_unchanged(i):
    assert compute(CONFIGS[i]) == _RECORDS[i]
