"""Where the shipped data lives: the registry directory of a source checkout or of an installed wheel."""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_registry_dir"]


def default_registry_dir() -> Path:
    """The shipped registry: packaged inside the wheel (``audit/_registry``), or ``registry/`` of a
    source checkout."""
    package = Path(__file__).resolve().parent.parent  # the ``audit`` package
    packaged = package / "_registry"
    if packaged.is_dir():
        return packaged
    return package.parent / "registry"
