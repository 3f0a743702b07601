"""Every file type goes through the one loader: adversarial YAML (aliases, deep nesting, control
characters, console markup, huge numbers) gives problems, never an exception, in bounded time."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.errors import Problem
from audit.io.loader import load_model

ATOMS = st.sampled_from([
    "paper", "results", "methods", "comparisons", "id", "top1", "mean", "epochs", "lr_schedule", "model",
    "network", "dataset", "pruning", "ratio", "&a", "*a", "&b [*a, *a, *a, *a]", "<<: *a", "[", "]", "{", "}",
    ": ", "- ", "\n", "\n  ", "\n    ", '"\\e[31m"', '"\\x9b"', "[/bold]", "[red]x[/red]", "1e999", "-1e999",
    ".nan", ".inf", "99999999999999999999999", "1:30", "yes", "2021-01-01", "!!python/object:os.system",
    "'", '"', "#", "|", ">", "~", "null", "0", "-5", "0.5", "resnet56", "cifar-10", "L1-norm", "x" * 200,
])
DOCUMENT = st.lists(ATOMS, max_size=60).map("".join)


def _models():
    from audit.registry.schema import PaperFile
    from audit.report.submission import Submission
    from audit.rerun.config import Recipe
    from audit.rerun.grid import Grid

    return [(PaperFile, "a paper file"), (Submission, "a submission"), (Recipe, "a rerun recipe"),
            (Grid, "a rerun grid")]


COMMANDS = [
    ["registry", "validate", "{f}"],
    ["registry", "add", "{f}", "--registry", "{reg}"],
    ["report", "{f}", "--out", "{out}", "--format", "md"],
    ["rerun", "grid", "{f}", "--dry-run"],
    ["rerun", "run", "{f}", "--runs-dir", "{out}", "--no-results-dir"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@given(text=DOCUMENT)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_command_reading_a_file_fails_in_one_located_way(tmp_path_factory, capsys, command, text):
    """Through the command line: exit status 1 (or 2 for an unknown name), every stderr line about the
    file, no traceback, and bounded time."""
    import shutil

    from conftest import BASE

    from audit.cli import main

    d = tmp_path_factory.mktemp("cmd")
    f = d / "x.yaml"
    f.write_text(text, encoding="utf-8")
    reg = d / "reg"
    shutil.copytree(BASE, reg)
    argv = [a.format(f=f, reg=reg, out=d / "out") for a in command]
    start = time.perf_counter()
    code = main(argv)
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 10
    assert code in (1, 2), err
    assert "Traceback" not in err
    assert all(line.startswith((str(f), "prune-audit: error: ")) for line in err.splitlines()), err


def _bomb(depth: int, width: int) -> str:
    lines = ["l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    for d in range(1, depth):
        lines.append(f"l{d}: &l{d} [" + ", ".join([f"*l{d - 1}"] * width) + "]")
    return "\n".join(lines) + f"\npaper: *l{depth - 1}\n"


@pytest.mark.parametrize("model, noun", _models())
@given(text=DOCUMENT)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_adversarial_documents_give_problems_only(tmp_path_factory, model, noun, text):
    p = tmp_path_factory.mktemp("fz") / "x.yaml"
    p.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    loaded = load_model(p, model, noun=noun, display="x.yaml")
    assert time.perf_counter() - start < 5
    assert all(isinstance(x, Problem) and x.file == "x.yaml" for x in loaded.problems)
    assert (loaded.model is None) == bool(loaded.problems)


@pytest.mark.parametrize("model, noun", _models())
@pytest.mark.parametrize("depth, width", [(9, 9), (6, 30), (20, 2)])
def test_alias_bombs_of_every_shape(tmp_path, model, noun, depth, width):
    p = tmp_path / "x.yaml"
    p.write_text(_bomb(depth, width), encoding="utf-8")
    start = time.perf_counter()
    loaded = load_model(p, model, noun=noun, display="x.yaml")
    assert time.perf_counter() - start < 5
    assert loaded.model is None and len(loaded.problems) >= 1
