"""The registry ships inside the wheel: a wheel install works without the source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheels = list(out.glob("prune_audit-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_the_registry(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "registry").glob("*.yaml"))
    assert shipped
    for name in shipped:
        assert f"audit/_registry/{name}" in names


def test_wheel_install_loads_the_packaged_registry(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    code = ("import audit, audit.registry.store as r; reg = r.load_registry(); "
            "print(audit.__file__); print(r.default_registry_dir()); print(len(reg.entries))")
    env = {k: v for k, v in os.environ.items() if k != "PRUNE_AUDIT_REGISTRY"}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    module_file, registry_dir, count = run.stdout.split()
    assert module_file.startswith(str(target))
    assert registry_dir == str(target / "audit" / "_registry")
    assert int(count) > 0
