"""JSON text the project writes: strict JSON, never ``NaN`` or ``Infinity``.

Python's :mod:`json` writes non-finite floats as the non-standard tokens ``NaN``/``Infinity`` that
other JSON readers reject; here they are written as ``null`` (a value that is not a number is not
reported), so every ``--json`` output and every JSON file the project writes parses anywhere.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps", "finite"]


def finite(data: Any) -> Any:
    """``data`` with every non-finite float (NaN, ±inf) replaced by ``None``, in nested dicts, lists and tuples."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(v) for v in data]
    return data


def dumps(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of ``data`` (UTF-8 characters kept, non-finite floats as ``null``), with a final newline."""
    return json.dumps(finite(data), indent=indent, ensure_ascii=False, sort_keys=sort_keys, allow_nan=False) + "\n"
