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
    "DEFAULT_OUT", "EXAMPLES", "EXAMPLES_DIR", "FORMATS", "PairState", "build_compare", "build_submission",
    "check", "check_pairs", "pair_state", "read_generation", "regenerate_examples", "render", "run", "synced_submission",
    "write_report",
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

DEFAULT_OUT = Path("review")
"""Where ``prune-audit report`` writes when no ``--out`` is given, relative to the working directory (not
``reports/``, which holds the committed examples)."""


def _stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-") or "report"


def render(doc: Doc, fmt: str, stem: str) -> dict[str, str]:
    """``{file name: text}`` for the requested format(s), the ``.md`` first (it is replaced first).

    Both files carry the same generation stamp (:func:`audit.report.doc.stamp`: a hash of the two texts
    without it, so equal inputs still give equal bytes); :func:`pair_state` compares them.
    """
    from .doc import GENERATION_SLOT, render_html, render_markdown, stamp

    out: dict[str, str] = {}
    if fmt in ("md", "both"):
        out[f"{stem}.md"] = render_markdown(doc, html_name=f"{stem}.html" if fmt == "both" else None)
    if fmt in ("html", "both"):
        out[f"{stem}.html"] = render_html(doc, md_name=f"{stem}.md" if fmt == "both" else None)
    generation = stamp(out.values())
    return {name: text.replace(GENERATION_SLOT, generation) for name, text in out.items()}


_GENERATION = re.compile(r"prune-audit-generation: ([0-9a-f]{12})\b")


def read_generation(path: Path) -> str | None:
    """The generation stamp of a report file (``None``: no stamp, e.g. a file of an older version).

    The stamp is in the file's first 4 KiB: an HTML comment on the Markdown's second line, a ``<meta>``
    element in the HTML head.  Raises :class:`OSError` when the file cannot be read."""
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="replace")
    m = _GENERATION.search(head)
    return m.group(1) if m else None


class PairState:
    """The state of a report pair ``STEM.md`` + ``STEM.html`` in a directory (see :func:`pair_state`)."""

    def __init__(self, md: Path, html: Path, ok: bool, message: str) -> None:
        self.md, self.html, self.ok, self.message = md, html, ok, message


def pair_state(out_dir: Path, stem: str) -> PairState:
    """Whether ``STEM.md`` and ``STEM.html`` in ``out_dir`` belong together (the same generation stamp).

    A single file, or none, is consistent.  When the stamps differ (a run was killed between the two
    renames, or only one format was rewritten with ``--format``), the message names the stale file: the one
    modified earlier (a run replaces the ``.md`` first, then the ``.html``)."""
    md, html = Path(out_dir) / f"{stem}.md", Path(out_dir) / f"{stem}.html"
    try:
        both = md.is_file() and html.is_file()
    except OSError:  # a path the system refuses (too long): the write that follows says so
        both = False
    if not both:
        return PairState(md, html, True, "")
    try:
        gm, gh = read_generation(md), read_generation(html)
        tm, th = md.stat().st_mtime_ns, html.stat().st_mtime_ns
    except OSError as exc:
        return PairState(md, html, False, f"{exc.filename}: cannot read: {exc.strerror or exc}")
    if gm is not None and gm == gh:
        return PairState(md, html, True, "")
    stale, fresh = (html, md) if th < tm else (md, html) if tm < th else (None, None)
    which = (f"{stale} is stale ({fresh} was written after it)" if stale is not None
             else "one of them is stale")
    return PairState(md, html, False, f"{md} (generation {gm or 'none'}) and {html} (generation {gh or 'none'}) "
                                      f"are not one report: {which}; rerun the report to replace both")


def check_pairs(out_dir: Path) -> list[PairState]:
    """:func:`pair_state` of every ``*.md`` with a ``*.html`` beside it in ``out_dir``, sorted by name."""
    stems = sorted(p.name[:-3] for p in Path(out_dir).glob("*.md") if (Path(out_dir) / f"{p.name[:-3]}.html").is_file())
    return [pair_state(out_dir, s) for s in stems]


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
    out_dir = out if out is not None else DEFAULT_OUT
    before = pair_state(out_dir, stem)
    if not before.ok:
        print(f"prune-audit: warning: {before.message}", file=sys.stderr)
    for p in write_report(render(doc, fmt, stem), out_dir):
        print(f"wrote {p}")
    after = pair_state(out_dir, stem)
    if not after.ok:  # --format md|html beside a file of another run
        print(f"prune-audit: warning: {after.message}", file=sys.stderr)


def check(out_dir: Path) -> None:
    """``prune-audit report --check DIR``: print each report pair's state; :class:`AuditError` (exit 1) naming
    every mixed pair (a ``.md`` and ``.html`` of different generations)."""
    if not Path(out_dir).is_dir():
        raise AuditError(f"{out_dir}: not a directory")
    states = check_pairs(out_dir)
    bad = [s for s in states if not s.ok]
    for s in states:
        if s.ok:
            print(f"ok: {s.md.name} and {s.html.name} are one report (generation {read_generation(s.md)})")
    for s in bad:
        print(f"prune-audit: stale: {s.message}", file=sys.stderr)
    if bad:
        raise AuditError(f"{out_dir}: {len(bad)} of {len(states)} report pair(s) mix two runs (listed above)")
    if not states:
        print(f"{out_dir}: no report pair (.md with .html)")


