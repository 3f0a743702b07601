"""Writing the static site as one unit.

Every file is written into a fresh temporary directory beside the target (``.NAME.<random>.tmp``), which
then takes the target's name: the previous site is first renamed aside and removed after the swap, so a
reader sees the old site or the new one, and a failure before the swap leaves the old site untouched.  A
directory is replaced only when it is empty or holds :data:`MARKER` (a site this command wrote), so
``--out`` can never wipe an unrelated folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from audit.errors import AuditError
from audit.io.atomic import TEMP_SUFFIX

__all__ = ["MARKER", "check_target", "write_site"]

MARKER = ".prune-audit-site"
"""File at the root of every site written here; its presence allows a rerun to replace the directory."""


def check_target(out: Path) -> None:
    """:class:`AuditError` unless ``out`` may take the site: absent, empty, or a site written here."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AuditError(f"{out}: cannot write the site: not a directory")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise AuditError(f"{out}: cannot write the site: the directory is not empty and holds no site written by "
                         f"prune-audit site ({MARKER}); choose another --out or empty it")


def write_site(files: dict[str, bytes], out: Path) -> list[Path]:
    """Write ``files`` (relative POSIX path -> bytes) as the directory ``out``, replacing a previous site.

    Raises :class:`AuditError` (one line) when ``out`` is a file, a non-empty directory that is not a site,
    or cannot be written; returns the paths written, sorted."""
    out = Path(out)
    check_target(out)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=TEMP_SUFFIX, dir=parent))
    except OSError as exc:
        raise AuditError(f"{out}: cannot write the site: {exc.strerror or exc}") from None
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o777 & ~umask)
        for rel, data in sorted({**files, MARKER: b"written by prune-audit site\n"}.items()):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(path, 0o666 & ~umask)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AuditError(f"{out}: cannot write the site: {exc.strerror or exc}") from None
    old = None
    try:
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", suffix=TEMP_SUFFIX, dir=parent))
            os.rmdir(old)
            os.replace(out, old)
        os.replace(tmp, out)
    except OSError as exc:
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)  # put the previous site back
        shutil.rmtree(tmp, ignore_errors=True)
        raise AuditError(f"{out}: cannot write the site: {exc.strerror or exc}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return sorted(out / rel for rel in files)
