"""The YAML loader and the file checker never raise anything but the project's own problems."""

from __future__ import annotations

import copy

import yaml
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.errors import Problem
from audit.io.yamlio import YamlProblems, load
from audit.registry.store import check_file

VALID = yaml.safe_load((FIXTURES / "base" / "li2017-l1-norm.yaml").read_text(encoding="utf-8"))

YAMLISH = st.sampled_from(list("abcdeipr:-[]{},&*!|>'\"#%@` \n\t0123456789.e?") + ["!!python/object:os.system", "<<",
                                                                                      "\ufeff", "\x00", "---", "..."])


def _check_text(tmp_path_factory, text: str | bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "li2017-l1-norm.yaml"
    if isinstance(text, str):
        p.write_text(text, encoding="utf-8", errors="surrogatepass") if not any(0xD800 <= ord(c) <= 0xDFFF for c in text) \
            else p.write_bytes(text.encode("utf-8", "replace"))
    else:
        p.write_bytes(text)
    fc = check_file(p, "f.yaml")
    assert all(isinstance(x, Problem) for x in fc.problems)
    assert (fc.model is None) == bool(fc.problems)


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_text(tmp_path_factory, text):
    _check_text(tmp_path_factory, text)


@given(st.lists(YAMLISH, max_size=80).map("".join))
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_yaml_like_text(tmp_path_factory, text):
    try:
        load(text, "f.yaml")
    except YamlProblems as exc:
        assert exc.problems and all(isinstance(x, Problem) for x in exc.problems)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes(tmp_path_factory, data):
    _check_text(tmp_path_factory, data)


LEAF = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(), st.text(max_size=12),
                 st.just("0:1e-2,30:1e-3"), st.just("1e-4"), st.lists(st.floats(-1, 2), max_size=6))


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID) if p]


@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), LEAF, st.sampled_from(["set", "del", "extra"])),
                min_size=1, max_size=4))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_valid_file(tmp_path_factory, mutations):
    data = copy.deepcopy(VALID)
    for path, value, op in mutations:
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            if op == "set":
                parent[key] = value
            elif op == "del":
                del parent[key]
            elif isinstance(parent, dict):
                parent[f"{key}_x"] = value
        except (KeyError, IndexError, TypeError):
            continue
    _check_text(tmp_path_factory, yaml.safe_dump(data, allow_unicode=True))
