"""A reviewer's description of a submission: the registry's paper schema plus the comparisons it claims.

A submission file is a registry paper file (``paper``, ``methods``, ``results``; see
:mod:`audit.registry.schema`) with one more list, ``comparisons``: each names one of the submission's own
result ids and the competitor it is claimed against -- a method name or alias of the registry, or a
registry result key ``paper-id/result-id``::

    comparisons:
    - {result: resnet50-greg2-2.31x, against: he2018-sfp/resnet50-1.72x}
    - {result: resnet50-greg2-2.31x, against: HRank, claim: "better at a higher speedup"}

It is validated like the registry: every problem of the file is collected and printed as
``file:line: field.path: message``; the submission is then checked in the context of the registry
(its methods must resolve; a registry file with the same paper id is replaced by the submission, so a
paper already in the registry can be reviewed as submitted).  A competitor that the registry does not
hold is *not* an error: the report lists it as "not in registry".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from audit.errors import AuditError, Problem
from audit.io.loader import Lines, Loaded, StrictModel, display_path, load_model
from audit.names import did_you_mean
from audit.registry.schema import OneLine, PaperFile
from audit.registry.store import Registry, build, check_file, duplicate_result_ids, registry_dir, registry_files

__all__ = ["ClaimedComparison", "LoadedSubmission", "Submission", "load_submission"]


class ClaimedComparison(StrictModel):
    """One comparison the submission makes: its own result against a cited competitor."""

    result: str = Field(min_length=1)
    """Id of one of the submission's own results (``results[].id``)."""
    against: OneLine = Field(min_length=1)
    """The competitor: a method name or alias, or a registry result key ``paper-id/result-id``."""
    claim: OneLine | None = None
    """What the submission claims about this comparison, in its words (optional)."""


class Submission(PaperFile):
    """A paper file plus the comparisons the paper makes."""

    comparisons: list[ClaimedComparison] = []
    """The claimed comparisons, in the order of the paper's table."""


@dataclass
class LoadedSubmission:
    """A validated submission, the registry it is read against, and where it came from."""

    submission: Submission
    registry: Registry
    name: str
    """The file name (shown in reports; no directories, so reports do not depend on the checkout path)."""
    display: str
    lines: Lines
    replaces: str | None = None
    """The name of the registry file with the same paper id, which the submission is read in place of
    (``None``: none)."""


def _submission_rules(loaded: Loaded[Submission]) -> list[Problem]:
    """Rules of a submission beyond its schema: unique result ids, at least one comparison, and every
    comparison naming one of the submission's own results."""
    data = loaded.data
    problems = duplicate_result_ids(loaded)
    results = data.get("results")
    own_ids = [r["id"] for r in results if isinstance(r, dict) and isinstance(r.get("id"), str)] \
        if isinstance(results, list) else []
    comparisons = data.get("comparisons")
    if comparisons is None or comparisons == []:
        where = loaded.line("comparisons") if "comparisons" in data else 1
        problems.append(Problem(loaded.display, where, "comparisons",
                                "the submission lists no comparisons; add "
                                "'comparisons: [{result: <own result id>, against: <method or paper-id/result-id>}]'"))
    elif isinstance(comparisons, list):
        for i, c in enumerate(comparisons):
            if isinstance(c, dict) and isinstance(c.get("result"), str) and c["result"] not in own_ids:
                hint = did_you_mean(c["result"], own_ids)
                problems.append(loaded.problem(("comparisons", i, "result"),
                                               f"{c['result']!r} is not a result id of this submission.{hint}"))
    return problems


def load_submission(path: str | os.PathLike[str], registry: str | os.PathLike[str] | None = None) -> LoadedSubmission:
    """Validate a submission file and read it against the registry (see the module docstring).

    Raises :class:`ValidationFailed` with every problem found, or :class:`AuditError` when the file
    does not exist.
    """
    path = Path(path)
    display = display_path(path)
    if not path.exists():
        raise AuditError(f"{display}: no such file")
    if path.is_dir():
        raise AuditError(f"{display}: is a directory, not a submission file")
    root = registry_dir(registry)
    loaded = load_model(path, Submission, noun="a submission", display=display, checks=[_submission_rules])
    model = loaded.require()
    own = Loaded(display=display, path=path, data=loaded.data, lines=loaded.lines, texts=loaded.texts,
                 model=PaperFile(paper=model.paper, networks=model.networks, methods=model.methods,
                                 results=model.results))
    checks = []
    replaces = None
    for f in registry_files(root):
        fc = check_file(f)
        if (fc.model is not None and fc.model.paper.id == model.paper.id) or f.stem == model.paper.id:
            replaces = f.name  # reported as replaced in the report's first table, never silently
        else:
            checks.append(fc)
    reg = build(checks + [own], root)
    return LoadedSubmission(submission=model, registry=reg, name=path.name, display=display, lines=loaded.lines,
                            replaces=replaces)
