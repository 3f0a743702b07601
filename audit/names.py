"""Canonical names and name resolution ("Did you mean ...?").

Method names resolve case-insensitively and through Unicode compatibility folding, so that
``L1-norm``, ``l1 norm`` and ``ℓ1-norm`` are one key.  The datasets and networks themselves are
declared in :mod:`audit.core.catalog`.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

__all__ = ["close_names", "did_you_mean", "name_key", "unknown_name"]


def name_key(name: str) -> str:
    """The comparison key of a name: NFKC-folded, case-folded, only letters and digits."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _stem(key: str) -> str:
    return "".join(ch for ch in key if not ch.isdigit())


def _same_family(name: str, candidate: str) -> bool:
    """For a name of letters and digits (``densenet40``, ``GReg-2``), a candidate is close only when
    its letters are (difflib ratio >= 0.8): ``densenet40`` is not a misspelt ``resnet50``."""
    key = name_key(name)
    stem = _stem(key)
    if stem == key or not stem:
        return True
    return difflib.SequenceMatcher(None, stem, _stem(name_key(candidate))).ratio() >= 0.8


def close_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``name`` (at most ``n``, best first), compared by :func:`name_key`
    first and literally when no key is close; empty when none is close (difflib ratio >= 0.5).  A name
    with digits only matches names of the same letters (see :func:`_same_family`)."""
    known = sorted(k for k in set(known) if _same_family(name, k))
    by_key: dict[str, str] = {}
    for k in known:
        by_key.setdefault(name_key(k), k)
    close = difflib.get_close_matches(name_key(name), list(by_key), n=n, cutoff=0.5)
    if close:
        return [by_key[c] for c in close]
    return difflib.get_close_matches(name, known, n=n, cutoff=0.5)


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """`` Did you mean 'a', 'b'?`` with the closest known names, or an empty string."""
    names = close_names(name, known, n)
    if not names:
        return ""
    return " Did you mean " + ", ".join(repr(x) for x in names) + "?"


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """The one message for a name that is not known: ``unknown KIND 'name'. Did you mean ...?``."""
    return f"unknown {kind} {name!r}.{did_you_mean(name, known)}"
