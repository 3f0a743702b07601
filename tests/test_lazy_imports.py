"""The audit side never imports torch; heavy libraries load only in the commands that need them."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _imported(code: str) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_audit_is_light():
    mods = _imported("import audit")
    for heavy in ("torch", "torchvision", "pandas", "scipy", "pydantic", "yaml", "rich", "typer"):
        assert heavy not in mods, heavy


def test_cli_import_does_not_load_models_or_data_libraries():
    mods = _imported("import audit.cli")
    for heavy in ("torch", "torchvision", "pandas", "scipy", "pydantic", "yaml"):
        assert heavy not in mods, heavy


def test_registry_validate_subprocess_never_imports_torch():
    code = ("import sys\nfrom audit.cli import main\nrc = main(['registry', 'validate'])\n"
            "assert rc == 0, rc\n")
    mods = _imported(code)
    assert "audit.registry.store" in mods and "pydantic" in mods
    for heavy in ("torch", "torchvision", "pandas", "scipy"):
        assert heavy not in mods, heavy


def test_console_entry_point_validate_does_not_import_torch():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "audit", "registry", "validate"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok: ")
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "torch" not in imported and "pandas" not in imported



def _run_quietly(*argvs: list[str]) -> str:
    """Code that runs ``prune-audit`` on each argv in-process (output discarded), asserting exit 0."""
    return ("import contextlib, io\nfrom audit.cli import main\n"
            f"for argv in {list(argvs)!r}:\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        assert main(argv) == 0, argv\n")


def test_help_pages_import_no_heavy_library():
    mods = _imported(_run_quietly(["--help"], ["registry", "--help"], ["recipe", "--help"], ["rerun", "--help"],
                                  ["compare", "--help"], ["audit", "--help"], ["report", "--help"],
                                  ["rerun", "run", "--help"], ["rerun", "flops", "--help"]))
    assert "audit.cli.rerun" in mods and "audit.cli.report" in mods
    for heavy in ("torch", "torchvision", "pandas", "scipy", "matplotlib", "yaml", "audit.registry.store",
                  "audit.rerun.runs"):
        assert heavy not in mods, heavy


def test_audit_commands_never_import_torch_pandas_or_matplotlib():
    mods = _imported(_run_quietly(["audit"], ["compare", "GReg-2", "L1-norm"],
                                  ["registry", "list", "--network", "resnet50"]))
    assert "audit.core.classify" in mods
    for heavy in ("torch", "torchvision", "pandas", "matplotlib"):
        assert heavy not in mods, heavy
