"""The parse cache returns exactly what a fresh parse returns, and never hides a problem."""

from __future__ import annotations

import pytest

from audit.io import yamlio

TEXT = """a:
  points: {0: 0.01, 30: 1e-3}
  flag: true
  items: [1, 2.5, null, "x"]
"""


def test_cached_load_equals_fresh_load(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_AUDIT_CACHE_DIR", str(tmp_path / "c"))
    fresh = yamlio.load(TEXT, "f.yaml")
    first = yamlio.load_cached(TEXT, "f.yaml")
    assert len(list((tmp_path / "c").glob("yaml-*.json"))) == 1
    second = yamlio.load_cached(TEXT, "f.yaml")
    assert first == fresh and second == fresh
    assert list(second[0]["a"]["points"]) == [0, 30]  # integer keys survive the JSON cache


def test_corrupt_cache_entry_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_AUDIT_CACHE_DIR", str(tmp_path))
    yamlio.load_cached(TEXT, "f.yaml")
    for p in tmp_path.glob("yaml-*.json"):
        p.write_text("{not json", encoding="utf-8")
    assert yamlio.load_cached(TEXT, "f.yaml") == yamlio.load(TEXT, "f.yaml")


def test_problems_are_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_AUDIT_CACHE_DIR", str(tmp_path / "c"))
    bad = "a: [1, 2\n"
    for _ in range(2):
        with pytest.raises(yamlio.YamlProblems):
            yamlio.load_cached(bad, "f.yaml")
    assert not list((tmp_path / "c").glob("yaml-*.json"))


def test_cache_can_be_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNE_AUDIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PRUNE_AUDIT_NO_CACHE", "1")
    yamlio.load_cached(TEXT, "f.yaml")
    assert not list(tmp_path.iterdir())


def test_unwritable_cache_dir_falls_back(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("PRUNE_AUDIT_CACHE_DIR", str(blocker / "sub"))
    assert yamlio.load_cached(TEXT, "f.yaml") == yamlio.load(TEXT, "f.yaml")
