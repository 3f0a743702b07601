"""Paper files and submissions are untrusted: reading them is bounded, their text cannot act on a
terminal or break a table, and a paper cannot take over another paper's method."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import PAPER_HEADER, write

from audit.errors import ValidationFailed
from audit.io import yamlio
from audit.registry.store import check_file, load_registry

HEADER = PAPER_HEADER.replace("{year}", "2026")
_write = write


def _problems(path: Path) -> list[str]:
    return [str(p) for p in check_file(path, path.name).problems]


def test_alias_bomb_stops_fast_with_one_line(tmp_path):
    levels = ["a: &a [" + ", ".join(['"x"'] * 9) + "]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    p = _write(tmp_path, "bomb.yaml", "\n".join(levels) + "\npaper: *i\n")
    start = time.perf_counter()
    got = _problems(p)
    elapsed = time.perf_counter() - start
    assert got == [f"bomb.yaml:1: more than {yamlio.MAX_VALUES:,} values after alias expansion (an alias bomb?)"]
    assert elapsed < 5  # generous bound for a loaded machine; unbounded expansion takes minutes


def test_file_size_limit(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_bytes(b"# x\n" * (yamlio.MAX_FILE_BYTES // 4 + 1))
    assert _problems(p) == ["big.yaml: file is larger than the limit of 2 MiB (split it: one file per paper)"]


def test_nesting_depth_limit(tmp_path):
    p = _write(tmp_path, "deep.yaml", "a: " + "[" * 80 + "]" * 80 + "\n")
    got = _problems(p)
    assert got[0].startswith("deep.yaml:1: a") and got[0].endswith(
        f"nesting deeper than {yamlio.MAX_DEPTH} levels (recursive alias?)")


@pytest.mark.parametrize("escaped, code", [("\\e[31m", "001B"), ("\\x9b", "009B"), ("\\x07", "0007"),
                                           ("\\x7f", "007F")])
def test_control_characters_are_rejected_with_their_line(tmp_path, escaped, code):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x").replace("title: T", f'title: "T{escaped}x"')
               + "results: []\n")
    assert _problems(p) == [f"x.yaml:3: paper.title: control character U+{code} is not allowed in text"]


def test_tab_and_newline_stay_allowed_in_free_text(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + 'methods:\n- {name: M, description: "a\\tb\\nc"}\n'
               "results: []\n")
    assert _problems(p) == []


@pytest.mark.parametrize("field, line", [("title", 3), ("venue", 5)])
def test_line_breaks_in_one_line_fields(tmp_path, field, line):
    text = HEADER.format(id="x").replace(f"{field}: {'T' if field == 'title' else 'arXiv'}", f'{field}: "a\\n# b"')
    p = _write(tmp_path, "x.yaml", text + "results: []\n")
    assert _problems(p) == [f"x.yaml:{line}: paper.{field}: must be one line (a line break here would break "
                            "tables and Markdown)"]


def test_method_name_with_a_line_break(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + 'methods:\n- {name: "M\\n| x |"}\nresults: []\n')
    assert _problems(p) == ["x.yaml:8: methods[0].name: must be one line (a line break here would break tables "
                            "and Markdown)"]


@pytest.mark.parametrize("value, message", [
    ("1:30", "'1:30' reads as a base-60 number in YAML 1.1; quote it"),
    ("yes", "'yes' reads as a boolean in YAML 1.1; write true/false, or quote it to keep it as text"),
    ("2021-05-04", "'2021-05-04' reads as a date in YAML; quote it to keep it as text"),
])
def test_yaml_11_surprises_say_quote_it(tmp_path, value, message):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + f"methods:\n- {{name: M, description: {value}}}\n"
               "results: []\n")
    assert _problems(p) == [f"x.yaml:8: methods[0].description: {message}"]


def test_quoted_values_are_text(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + 'methods:\n- {name: M, description: "1:30 yes"}\n'
               "results: []\n")
    assert _problems(p) == []


def test_a_second_declaration_of_a_method_names_both_files(tmp_path, base_registry):
    reg = base_registry
    _write(reg, "aaa2026-hijack.yaml", HEADER.format(id="aaa2026-hijack") + "methods:\n- {name: L1-norm}\n"
           "results: []\n")
    with pytest.raises(ValidationFailed) as info:
        load_registry(reg)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 1
    assert "methods[0].name: method 'L1-norm' is also declared by" in lines[0]
    assert "aaa2026-hijack.yaml" in lines[0] and "li2017-l1-norm.yaml" in lines[0]


def test_two_new_papers_declaring_one_name(tmp_path, base_registry):
    reg = base_registry
    _write(reg, "dd2026-a.yaml", HEADER.format(id="dd2026-a") + "methods:\n- {name: Twin, aliases: [twin-a]}\n"
           "results: []\n")
    _write(reg, "dd2026-b.yaml", HEADER.format(id="dd2026-b") + "methods:\n- {name: Twin, aliases: [twin-b]}\n"
           "results: []\n")
    with pytest.raises(ValidationFailed) as info:
        load_registry(reg)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 1
    assert "dd2026-b.yaml:8: methods[0].name: method 'Twin' is also declared by" in lines[0]
    assert lines[0].endswith("dd2026-a.yaml: a method is declared by exactly one paper (cite it in results instead)")


def test_an_alias_cannot_take_another_methods_name(tmp_path, base_registry):
    reg = base_registry
    _write(reg, "zz2026-x.yaml", HEADER.format(id="zz2026-x") + "methods:\n- {name: X, aliases: [L1]}\n"
           "results: []\n")
    with pytest.raises(ValidationFailed) as info:
        load_registry(reg)
    (line,) = [str(p) for p in info.value.problems]
    assert "zz2026-x.yaml:8: methods[0].aliases[0]: 'L1' is already a name of method 'L1-norm' (" in line


CONFLICT = HEADER + "methods:\n- {{name: {name}, aliases: [shared-name]}}\nresults: []\n"
_ADD = ("import sys\nfrom pathlib import Path\nfrom audit.errors import AuditError\n"
        "from audit.registry.store import add_paper\n"
        "try:\n    add_paper(Path(sys.argv[1]), sys.argv[2])\nexcept AuditError as exc:\n"
        "    print(exc, file=sys.stderr)\n    sys.exit(exc.exit_code)\n")


def _parallel_adds(files: list[Path], reg: Path) -> list[tuple[int, str]]:
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", _ADD, str(f), str(reg)], stderr=subprocess.PIPE, text=True)
             for f in files]
    return [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]


def test_parallel_adds_of_conflicting_papers_leave_a_valid_registry(tmp_path, base_registry):
    files = [_write(tmp_path, f"cc2026-{k}.yaml", CONFLICT.format(id=f"cc2026-{k}", name=f"M{k}"))
             for k in "abcd"]
    reg = base_registry
    outcomes = _parallel_adds(files, reg)
    assert sorted(rc for rc, _ in outcomes) == [0, 1, 1, 1], outcomes
    assert all("'shared-name' is already a name of method" in err for rc, err in outcomes if rc)
    load_registry(reg)  # valid
    added = [p.name for p in reg.glob("cc2026-*.yaml")]
    assert len(added) == 1
    assert not list(reg.glob(".*.tmp"))


def test_two_adds_of_one_paper(tmp_path, base_registry):
    a = tmp_path / "one"
    b = tmp_path / "two"
    a.mkdir()
    b.mkdir()
    text = CONFLICT.format(id="same2026-x", name="Same")
    files = [_write(a, "same2026-x.yaml", text), _write(b, "same2026-x.yaml", text)]
    reg = base_registry
    outcomes = _parallel_adds(files, reg)
    assert sorted(rc for rc, _ in outcomes) == [0, 1], outcomes
    (err,) = [e for rc, e in outcomes if rc]
    assert "paper 'same2026-x' is already in the registry" in err
    load_registry(reg)


def test_stale_temp_files_are_removed_under_the_lock(tmp_path, base_registry):
    from audit.registry.store import add_paper

    reg = base_registry
    stale = reg / ".x.yaml.abc123.tmp"
    stale.write_text("half a file")
    f = _write(tmp_path, "tt2026-x.yaml", CONFLICT.format(id="tt2026-x", name="T"))
    added = add_paper(f, reg)
    assert added.paper_id == "tt2026-x" and added.target == reg / "tt2026-x.yaml"
    assert not stale.exists()


def test_an_empty_registry_says_so(tmp_path):
    from audit.errors import AuditError

    (tmp_path / "empty").mkdir()
    with pytest.raises(AuditError, match="holds no paper files"):
        load_registry(tmp_path / "empty")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinities_are_not_numbers(tmp_path, value):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + "methods: [{name: M}]\nresults:\n- id: r\n  method: M\n"
               "  dataset: cifar-10\n  network: resnet56\n  top1: {mean: 93.0, std: " + value + "}\n"
               "  sources: [{where: Tab. 1}]\n")
    (line,) = _problems(p)
    assert line == "x.yaml:13: results[0].top1.std: must be a finite number"


def test_epochs_have_a_sane_upper_bound(tmp_path):
    p = _write(tmp_path, "x.yaml", HEADER.format(id="x") + "methods: [{name: M}]\nresults:\n- id: r\n  method: M\n"
               "  dataset: cifar-10\n  network: resnet56\n  top1: {mean: 93.0}\n  finetune: {epochs: 1000000}\n"
               "  sources: [{where: Tab. 1}]\n")
    assert _problems(p) == ["x.yaml:14: results[0].finetune.epochs: must be less than or equal to 10000 (got 1000000)"]


MARKUP = """paper:
  id: mk2026-markup
  title: "[bold red]BIG[/] [/bold] [link=file:///etc/x]click[/link]"
  authors: ["[red]A"]
  venue: arXiv
  year: 2026
methods:
- name: "[/bold]Evil[red]"
results:
- id: resnet34-x
  method: "[/bold]Evil[red]"
  variant: "[dim]v"
  dataset: imagenet-1k
  network: resnet34
  top1: {mean: 72.0}
  compression: {speedup: 1.32}
  finetune: {epochs: 20, lr_schedule: "0:1e-3"}
  sources: [{where: "Tab. [1]"}]
"""


@pytest.mark.parametrize("argv, literal", [
    (["registry", "list"], "[/bold]Evil[red]"),
    (["registry", "show", "mk2026-markup"], "[bold red]BIG[/] [/bold] [link=file:///etc/x]click[/link]"),
    (["registry", "show", "[/bold]Evil[red]"], "Tab. [1]"),
    (["compare", "[/bold]Evil[red]", "L1-norm"], "A = [/bold]Evil[red]"),
    (["audit"], "[/bold]Evil[red]"),
])
def test_registry_text_is_never_console_markup(cli, base_registry, argv, literal):
    write(base_registry, "mk2026-markup.yaml", MARKUP)
    code, out, err = cli(*argv, "--registry", str(base_registry))
    assert (code, err) == (0, "")
    assert literal in out
