"""``prune-audit report``: build a report, render it, write it atomically.

Exit codes (also in the command help): 0 written; 1 invalid submission (every problem as
``file:line: field.path: message``), a submission with no comparisons, an output directory that
cannot be written, or bad options (e.g. --compare with --dataset of a method that has no result
there); 2 an unknown method, dataset or network name in ``--compare``, or a usage error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AuditError

if TYPE_CHECKING:
    from .doc import Doc
    from .evidence import Evidence

__all__ = [
    "EXAMPLES", "EXAMPLES_DIR", "FORMATS", "build_compare", "build_submission", "regenerate_examples", "render",
    "run", "synced_submission", "write_report",
]

FORMATS = ("md", "html", "both")

#: The shipped examples: (output stem, kind, arguments).  A submission example names the registry
#: paper file its ``paper``/``methods``/``results`` are copied from (kept in sync on regeneration).
EXAMPLES = (
    ("GReg-2-vs-L1-norm", "compare", ("GReg-2", "L1-norm")),
    ("wang2021-greg-review", "submission", ("submissions/wang2021-greg-review.yaml", "wang2021-greg.yaml")),
)


EXAMPLES_DIR = Path("reports")
"""Where the shipped examples live, relative to the working directory (a checkout's root; an installed wheel
has no examples)."""


def _stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-") or "report"


def render(doc: Doc, fmt: str, stem: str) -> dict[str, str]:
    """``{file name: text}`` for the requested format(s)."""
    from .doc import render_html, render_markdown

    out: dict[str, str] = {}
    if fmt in ("md", "both"):
        out[f"{stem}.md"] = render_markdown(doc, html_name=f"{stem}.html" if fmt == "both" else None)
    if fmt in ("html", "both"):
        out[f"{stem}.html"] = render_html(doc)
    return out


def write_report(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write the report's files as one unit (:func:`audit.io.atomic.atomic_write_group`); every failure
    is one :class:`AuditError` line and leaves the previous files as they were."""

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise AuditError(f"{out_dir}: cannot write the report: not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"{out_dir}: cannot write the report: {exc.strerror or exc}") from None
    from audit.io.atomic import atomic_write_group

    targets = {out_dir / name: text.encode("utf-8") for name, text in files.items()}
    try:
        atomic_write_group(targets)  # the .md and the .html are replaced together, or neither is
    except IsADirectoryError as exc:
        raise AuditError(f"{exc.filename}: cannot write the report: a directory of that name exists") from None
    except OSError as exc:
        raise AuditError(f"{out_dir}: cannot write the report: {exc.strerror or exc}") from None
    return list(targets)


def _evidence(reruns_dir: Path | None) -> Evidence:
    """The evidence of ``reruns_dir`` (default :data:`~audit.report.evidence.DEFAULT_RERUNS` when it exists);
    each file left out is a warning on stderr.  :class:`AuditError` when a given directory does not exist."""
    from .evidence import DEFAULT_RERUNS, load_evidence

    if reruns_dir is not None and not Path(reruns_dir).is_dir():
        raise AuditError(f"{reruns_dir}: reruns directory does not exist")
    ev = load_evidence(reruns_dir if reruns_dir is not None else DEFAULT_RERUNS)
    for w in ev.warnings:
        print(f"prune-audit: warning: {w}", file=sys.stderr)
    return ev


def build_submission(path: Path, registry=None, reruns_dir: Path | None = None, tolerance: float = 0.05,
                     accept_base_accuracy: bool = False):
    from audit.core.compare import check_tolerance

    from .build import submission_report
    from .submission import load_submission

    tolerance = check_tolerance(tolerance)
    loaded = load_submission(path, registry)
    ev = _evidence(reruns_dir)
    return submission_report(loaded, ev.reruns, tolerance, accept_base_accuracy, ev.crossvals)


def build_compare(a: str, b: str, registry=None, reruns_dir: Path | None = None, tolerance: float = 0.05,
                  accept_base_accuracy: bool = False, dataset: str | None = None, network: str | None = None):
    from audit.core.compare import check_filters, check_tolerance
    from audit.registry.store import load_registry

    from .build import compare_report

    tolerance = check_tolerance(tolerance)
    check_filters(dataset, network)
    reg = load_registry(registry)
    canonical = (reg.resolve_method(a), reg.resolve_method(b))
    ev = _evidence(reruns_dir)
    doc = compare_report(reg, a, b, ev.reruns, tolerance, accept_base_accuracy, dataset, network, ev.crossvals)
    stem = f"{_stem(canonical[0])}-vs-{_stem(canonical[1])}"
    for part in (dataset, network):
        if part:
            stem += f"-{_stem(part)}"
    return doc, stem


def regenerate_examples(out_dir: Path | None = None, registry=None, reruns_dir: Path | None = None,
                        examples: Path = EXAMPLES_DIR) -> list[Path]:
    """Regenerate the shipped example reports in ``examples`` (default ``reports/`` of the working directory)
    -- or write them to ``out_dir``.  :class:`AuditError` when ``examples/submissions`` is not there (run it
    from a source checkout's root)."""
    src = Path(examples)
    if not (src / "submissions").is_dir():
        raise AuditError(f"{src}/submissions: not found; --regenerate-examples runs in a source checkout's root")
    target = Path(out_dir) if out_dir is not None else src
    from audit.registry.store import registry_dir

    written: list[Path] = []
    for stem, kind, args in EXAMPLES:
        if kind == "compare":
            doc, _ = build_compare(args[0], args[1], registry, reruns_dir)
        else:
            sub = src / args[0]
            text = synced_submission(sub.read_text(encoding="utf-8"),
                                     (registry_dir(registry) / args[1]).read_text(encoding="utf-8"))
            if out_dir is None:
                if text != sub.read_text(encoding="utf-8"):
                    written += write_report({sub.name: text}, sub.parent)
                doc = build_submission(sub, registry, reruns_dir)
            else:
                staged = target / "submissions"
                written += write_report({sub.name: text}, staged)
                doc = build_submission(staged / sub.name, registry, reruns_dir)
        written += write_report(render(doc, "both", stem), target)
    return written


def synced_submission(submission: str, registry_file: str) -> str:
    """The submission text with its ``paper``/``methods``/``results`` replaced by the registry file's.

    The submission's leading comment and its ``comparisons:`` block (from the line ``comparisons:``
    on) are kept; everything of the registry file from its ``paper:`` line on is copied between them.
    """
    lines = submission.splitlines(keepends=True)
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("paper:"))
        comp = next(i for i, ln in enumerate(lines) if ln.startswith("comparisons:"))
        body = registry_file[registry_file.index("\npaper:") + 1:]
    except (StopIteration, ValueError):
        raise AuditError("cannot sync the example submission: it needs top-level 'paper:' and 'comparisons:' "
                         "and the registry file a top-level 'paper:'") from None
    if not body.endswith("\n"):
        body += "\n"
    return "".join(lines[:start]) + body + "".join(lines[comp:])


def run(*, submission: Path | None, compare: Sequence[str] | None, out: Path | None, fmt: str,
        registry=None, reruns: Path | None = None, tolerance: float = 0.05, accept_base_accuracy: bool = False,
        regenerate: bool = False, dataset: str | None = None, network: str | None = None) -> None:
    """``prune-audit report``: write the report files (``fmt`` one of :data:`FORMATS`) and print their
    paths; every failure is an :class:`AuditError`."""
    if regenerate:
        if submission is not None or compare:
            raise AuditError("--regenerate-examples takes no submission and no --compare")
        for p in regenerate_examples(out, registry, reruns):
            print(f"wrote {p}")
        return
    if compare and submission is not None:
        raise AuditError("give either a SUBMISSION.yaml or --compare A B, not both")
    if (dataset or network) and not compare:
        raise AuditError("--dataset and --network filter --compare A B; a submission names its own dataset/network")
    if compare:
        if len(compare) != 2:
            raise AuditError(f"--compare needs two methods, A and B (got {len(compare)})")
        doc, stem = build_compare(compare[0], compare[1], registry, reruns, tolerance, accept_base_accuracy,
                                  dataset, network)
    elif submission is not None:
        doc = build_submission(submission, registry, reruns, tolerance, accept_base_accuracy)
        stem = _stem(Path(submission).name.rsplit(".", 1)[0] if Path(submission).suffix in (".yaml", ".yml")
                     else Path(submission).name)
    else:
        raise AuditError("nothing to report: give a SUBMISSION.yaml or --compare A B "
                         "(see prune-audit report --help)")
    out_dir = out if out is not None else Path("reports")
    for p in write_report(render(doc, fmt, stem), out_dir):
        print(f"wrote {p}")


