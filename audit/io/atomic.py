"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

A reader sees the old file or the new one, never half of one; a failure leaves no temporary file
behind.  The file gets the usual umask permissions (``mkstemp`` alone would give 0600).  Used by
every writer of the project (registry files, reports, rerun checkpoints and records, grid tables).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"
"""Temporary files are ``.<name>.<random>.tmp`` beside their target (hidden, ignored by git)."""

__all__ = ["TEMP_SUFFIX", "atomic_write_bytes", "atomic_write_group", "atomic_write_text", "remove_stale_temps"]


def _write_temps(files: dict[Path, bytes]) -> list[tuple[str, Path]]:
    """Write each file's bytes to a fsynced temporary file beside it (umask permissions; ``mkstemp``
    alone would give 0600); on any failure remove the temporaries already written and re-raise."""
    temps: list[tuple[str, Path]] = []
    umask = os.umask(0)
    os.umask(umask)
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~umask)
    except BaseException:
        _unlink(temps)
        raise
    return temps


def _unlink(temps: list[tuple[str, Path]]) -> None:
    for tmp, _ in temps:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (fsynced temporary file, then ``os.replace``)."""
    atomic_write_group({Path(path): data})


def atomic_write_group(files: dict[Path, bytes]) -> None:
    """Replace several files as one unit as far as a file system allows: every target is checked and
    every temporary file written (and fsynced) first, then they are renamed over their targets back to
    back, so a failure before the renames changes nothing and only a kill between two renames can leave
    a mix.  Raises :class:`IsADirectoryError` for a target that is a directory, :class:`OSError` otherwise."""
    for path in files:
        if path.is_dir():
            raise IsADirectoryError(21, "a directory of that name exists", str(path))
    temps = _write_temps(files)
    try:
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        _unlink(temps)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8 (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temps(directory: str | Path) -> list[Path]:
    """Remove the temporary files a killed writer left in ``directory`` (call it only while holding
    the lock that serialises that directory's writers); returns what was removed."""
    removed = []
    for p in Path(directory).glob(f".*{TEMP_SUFFIX}"):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed
