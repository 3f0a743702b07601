"""The command line as a whole: exit statuses, failure only by raising, choices, help pages, console."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import typer
from conftest import FIXTURES, ROOT

import audit.cli as cli_pkg
from audit.cli import registry as registry_cli
from audit.cli.console import PIPED_WIDTH, make_console


def _command_paths() -> list[list[str]]:
    """Every command of ``prune-audit`` as its argv prefix (groups and leaves)."""
    root = typer.main.get_command(cli_pkg.app)
    paths: list[list[str]] = []

    def walk(cmd, prefix: list[str]) -> None:
        paths.append(prefix)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


# ---------------------------------------------------------------------- failure only by raising
def test_a_command_returning_a_value_fails_on_the_root_app(cli, monkeypatch):
    """Typer ignores a return value; the apps turn one into a failure, so `return 1` cannot exit 0."""
    monkeypatch.setattr(cli_pkg.app, "registered_commands", list(cli_pkg.app.registered_commands))

    @cli_pkg.app.command("returns-one")
    def returns_one() -> int:
        return 1

    code, out, err = cli("returns-one")
    assert (code, out) == (1, "")
    assert err == "prune-audit: error: internal error: a command returned 1 instead of raising on failure\n"


def test_a_command_returning_a_value_fails_in_a_group(cli, monkeypatch):
    monkeypatch.setattr(registry_cli.app, "registered_commands", list(registry_cli.app.registered_commands))

    @registry_cli.app.command("returns-zero")
    def returns_zero() -> int:
        return 0

    code, _, err = cli("registry", "returns-zero")
    assert code == 1 and "a command returned 0 instead of raising" in err


def test_failed_command_exits_1_with_one_line(cli, tmp_path):
    code, out, err = cli("registry", "add", str(tmp_path / "missing.yaml"), "--registry", str(FIXTURES / "base"))
    assert (code, out, err) == (1, "", f"prune-audit: error: {tmp_path / 'missing.yaml'}: no such file\n")


def test_unknown_name_exits_2(cli):
    code, out, err = cli("registry", "list", "--registry", str(FIXTURES / "base"), "--dataset", "imagenet")
    assert code == 2 and out == ""
    assert err.startswith("prune-audit: error: unknown dataset 'imagenet'. Did you mean ") and err.count("\n") == 1


def test_located_problems_print_as_they_are(cli, tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("paper: {id: x}\nresults: []\nextra: 1\n")
    code, out, err = cli("registry", "validate", str(bad))
    assert code == 1 and out == ""
    assert err and all(line.startswith(f"{bad}:") for line in err.splitlines())


# ---------------------------------------------------------------------- choices are enums
@pytest.mark.parametrize("argv,option,choices", [
    (["report", "--format", "pdf"], "--format", "'md', 'html', 'both'"),
    (["rerun", "run", "r.yaml", "--device", "tpu"], "--device", "'cpu', 'cuda', 'auto'"),
    (["rerun", "grid", "g.yaml", "--device", "gpu"], "--device", "'cpu', 'cuda', 'auto'"),
    (["rerun", "grid", "g.yaml", "--executor", "k8s"], "--executor", "'local', 'slurm'"),
    (["rerun", "crossval", "l1", "random", "--recipe-a", "a.yaml", "--recipe-b", "b.yaml", "--executor", "ssh"],
     "--executor", "'local', 'slurm'"),
])
def test_a_value_outside_the_choices_is_a_usage_error(cli, argv, option, choices):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert err.splitlines()[-1].startswith(f"Error: Invalid value for '{option}'")
    assert err.splitlines()[-1].endswith(f"is not one of {choices}.")


@pytest.mark.parametrize("argv", [["rerun", "grid", "g.yaml", "--workers", "0"],
                                  ["rerun", "crossval", "l1", "random", "--recipe-a", "a", "--recipe-b", "b",
                                   "--seeds", "0"],
                                  ["compare", "l1", "random", "--seeds", "0"]])
def test_counts_below_one_are_usage_errors(cli, argv):
    code, _, err = cli(*argv)
    assert code == 2 and err.splitlines()[-1].endswith("Input should be greater than or equal to 1")


def test_help_lists_the_choices(cli):
    code, out, _ = cli("rerun", "grid", "--help")
    assert code == 0
    assert "--device <cpu|cuda|auto>" in out and "--executor <local|slurm>" in out
    code, out, _ = cli("report", "--help")
    assert "--format <md|html|both>" in out


# ---------------------------------------------------------------------- help pages
@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "prune-audit")
def test_help_pages_have_no_bool_values_and_plain_usage(cli, path):
    code, out, err = cli(*path, "--help")
    assert code == 0 and err == ""
    usage = out.splitlines()[0]
    assert usage.startswith("Usage: prune-audit" + "".join(f" {w}" for w in path)), usage
    assert "{" not in usage and "<" not in usage, usage
    options = out.split("Options:")[1]
    arguments = out.split("Arguments:")[1].split("Options:")[0] if "Arguments:" in out else ""
    for bogus in ("<bool>", "<str>", "<int>", "<float>", "<list[str]>", "<path>", "<list[Path]>", "<Path>"):
        assert bogus not in options, (bogus, options)
        assert bogus not in arguments, (bogus, arguments)


def test_usage_names_arguments_by_their_placeholder(cli):
    _, out, _ = cli("rerun", "grid", "--help")
    assert out.splitlines()[0] == "Usage: prune-audit rerun grid [OPTIONS] GRID.yaml"
    _, out, _ = cli("registry", "validate", "--help")
    assert out.splitlines()[0] == "Usage: prune-audit registry validate [OPTIONS] [PATH]..."
    _, out, _ = cli("compare", "--help")
    assert out.splitlines()[0] == "Usage: prune-audit compare [OPTIONS] A B"


def test_root_help_lists_every_group():
    proc = subprocess.run([sys.executable, "-m", "audit", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {"registry", "compare", "audit", "recipe", "report", "rerun", "site"}


def test_no_arguments_prints_help_and_is_a_usage_error(cli):
    code, out, err = cli()
    assert (code, out) == (2, "") and err.startswith("Usage: prune-audit [OPTIONS] COMMAND [ARGS]...")


# ---------------------------------------------------------------------- the console
def test_piped_console_has_a_fixed_width(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    console = make_console()
    assert not console.is_terminal and console.width == PIPED_WIDTH


def test_console_honours_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "77")
    assert make_console().width == 77 and make_console(stderr=True).width == 77


def test_console_prints_registry_strings_verbatim(cli, tmp_path):
    """Square brackets and colons in registry text are text, not rich markup or emoji codes."""
    d = tmp_path / "registry"
    shutil.copytree(FIXTURES / "base", d)
    (d / "wang2021-greg.yaml").write_text("""paper:
  id: wang2021-greg
  title: "Growing [bold]Regularization[/bold] :thumbs_up:"
  authors: [Huan Wang]
  venue: ICLR
  year: 2021
methods:
  - name: GReg-2
results:
  - id: resnet50-2.31x
    method: GReg-2
    dataset: imagenet-1k
    network: resnet50
    top1: {mean: 75.36}
    base: {identity: "[red]torchvision[/red]", top1: 76.13}
    compression: {speedup: 2.31}
    finetune: {epochs: 90, lr_schedule: "0:1e-2,30:1e-3,60:1e-4,75:1e-5"}
    sources: [{where: "Tab. 3 [top1] :smile:"}]
    notes: "[link=http://x]see[/link] [i]"
""")
    code, out, err = cli("registry", "show", "wang2021-greg", "--registry", str(d))
    assert code == 0, err
    assert "Growing [bold]Regularization[/bold] :thumbs_up:" in out
    assert "[red]torchvision[/red]" in out
    assert "Tab. 3 [top1] :smile:" in out
    assert "[link=http://x]see[/link] [i]" in out


def test_a_path_the_system_refuses_is_one_line(cli, tmp_path):
    long = "A" * 300
    code, out, err = cli("report", f"{long}.yaml")
    assert (code, err) == (1, f"prune-audit: error: {long}.yaml: file name too long\n")
    code, out, err = cli("report", "--compare", "GReg-2", "L1-norm", "--out", str(tmp_path / long))
    assert (code, err) == (1, f"prune-audit: error: {tmp_path / long}: file name too long\n")


@pytest.mark.parametrize("argv, option", [
    (["recipe", "budget", "--pretrain-epochs", "90", "--finetune-epochs", "90", "--speedup", "2", "--cap", "nan"],
     "--cap"),
    (["recipe", "derive", "--epochs", "90", "--lr", "inf"], "--lr"),
    (["compare", "GReg-2", "L1-norm", "--tolerance", "-inf"], "--tolerance"),
])
def test_nan_and_infinities_are_usage_errors(cli, argv, option):
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert f"Invalid value for '{option}'" in err and "is not a finite number" in err


def test_derive_says_when_rule_3_yields_to_rule_1(cli):
    code, out, err = cli("recipe", "derive", "--epochs", "300", "--lr", "0.1")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "0:1e-1,30:1e-2,60:1e-3,90:1e-4,120:1e-5"
    assert out.splitlines()[-1].endswith("max 30 epochs per stage except the last, which takes the remaining 180: "
                                         "5 stages of at most 30 epochs cannot fill 300 (Rule 3 yields to Rule 1)")


def test_json_is_strict_json():
    import json

    from audit.io import jsontext

    text = jsontext.dumps({"std": float("nan"), "runs": [1.0, float("inf")], "name": "ℓ1"})
    assert text == '{\n  "std": null,\n  "runs": [\n    1.0,\n    null\n  ],\n  "name": "ℓ1"\n}\n'
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON token {c}"))


def test_registry_show_prints_each_justification_once(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, err = cli("registry", "show", "wang2021-greg/resnet50-greg2-2.31x")
    assert code == 0, err
    flat = " ".join(out.split())
    assert flat.count("Not stated by GReg. The torchvision IMAGENET1K_V1") == 1
    assert "90 ep, 0:1e-1,30:1e-2,60:1e-3 (inferred [1])" in flat
    assert "inferred [1] │ pretrain: Not stated by GReg." in flat


def test_registry_show_gives_a_derived_speedup(cli, tmp_path):
    import yaml
    from conftest import paper, res

    r = res("r50-flops", "Alpha", 75.0, None)
    r["compression"] = {"flops_reduction_pct": 50.0}
    (tmp_path / "alpha2020-a.yaml").write_text(yaml.safe_dump(paper("alpha2020-a", [{"name": "Alpha"}], [r])),
                                               encoding="utf-8")
    code, out, err = cli("registry", "show", "alpha2020-a/r50-flops", "--registry", str(tmp_path))
    assert code == 0, err
    assert "speedup 2.00×† (derived from the FLOPs reduction; not printed by the source)" in " ".join(out.split())
