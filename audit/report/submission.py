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
from typing import Any

from pydantic import Field, ValidationError

from audit.core.names import did_you_mean
from audit.io import yamlio
from audit.registry.schema import PaperFile, Strict
from audit.registry.store import (
    FileCheck,
    Registry,
    build,
    check_file,
    problems_from_validation,
    registry_dir,
    registry_files,
)

from ..errors import AuditError, Problem, ValidationFailed

__all__ = ["ClaimedComparison", "LoadedSubmission", "Submission", "load_submission"]


class ClaimedComparison(Strict):
    """One comparison the submission makes: its own result against a cited competitor."""

    result: str = Field(min_length=1)
    """Id of one of the submission's own results (``results[].id``)."""
    against: str = Field(min_length=1)
    """The competitor: a method name or alias, or a registry result key ``paper-id/result-id``."""
    claim: str | None = None
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
    lines: dict[tuple, int]


def _parse(path: Path, display: str) -> tuple[Any, dict[tuple, int], Submission | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        text = yamlio.read_text(path, display)
        data, lines = yamlio.load(text, display)
    except yamlio.YamlProblems as exc:
        return None, {}, None, list(exc.problems)
    if not isinstance(data, dict):
        kind = type(data).__name__ if not isinstance(data, list) else "a list"
        return data, lines, None, [Problem(display, 1, "", f"a submission must be a mapping with 'paper', 'results' "
                                                           f"and 'comparisons', not {kind}")]
    model: Submission | None = None
    try:
        model = Submission.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, display, lines, root=Submission))
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:  # defensive: never a traceback
        problems.append(Problem(display, 1, "", f"invalid content: {exc}"))
    results = data.get("results")
    own_ids: list[str] = []
    if isinstance(results, list):
        seen: dict[str, int] = {}
        for i, r in enumerate(results):
            if isinstance(r, dict) and isinstance(r.get("id"), str):
                rid = r["id"]
                own_ids.append(rid)
                if rid in seen:
                    problems.append(Problem(display, yamlio.line_of(lines, ("results", i, "id")), f"results[{i}].id",
                                            f"duplicate result id {rid!r} (first at results[{seen[rid]}])"))
                else:
                    seen[rid] = i
    comparisons = data.get("comparisons")
    if comparisons is None or comparisons == []:
        where = yamlio.line_of(lines, ("comparisons",)) if "comparisons" in data else 1
        problems.append(Problem(display, where, "comparisons",
                                "the submission lists no comparisons; add "
                                "'comparisons: [{result: <own result id>, against: <method or paper-id/result-id>}]'"))
    elif isinstance(comparisons, list):
        for i, c in enumerate(comparisons):
            if isinstance(c, dict) and isinstance(c.get("result"), str) and c["result"] not in own_ids:
                hint = did_you_mean(c["result"], own_ids)
                problems.append(Problem(display, yamlio.line_of(lines, ("comparisons", i, "result")),
                                        f"comparisons[{i}].result",
                                        f"{c['result']!r} is not a result id of this submission.{hint}"))
    return data, lines, model, problems


def load_submission(path: str | os.PathLike[str], registry: str | os.PathLike[str] | None = None) -> LoadedSubmission:
    """Validate a submission file and read it against the registry (see the module docstring).

    Raises :class:`ValidationFailed` with every problem found, or :class:`AuditError` when the file
    does not exist.
    """
    from audit.registry.store import display_path

    path = Path(path)
    display = display_path(path)
    if not path.exists():
        raise AuditError(f"{display}: no such file")
    if path.is_dir():
        raise AuditError(f"{display}: is a directory, not a submission file")
    root = registry_dir(registry)
    data, lines, model, problems = _parse(path, display)
    if problems or model is None:
        raise ValidationFailed(problems)
    own = FileCheck(path=path, display=display, data=data, lines=lines,
                    model=PaperFile(paper=model.paper, methods=model.methods, results=model.results))
    checks = []
    for f in registry_files(root):
        fc = check_file(f)
        same_paper = (fc.model is not None and fc.model.paper.id == model.paper.id) or f.stem == model.paper.id
        if not same_paper:
            checks.append(fc)
    reg = build(checks + [own], root)
    return LoadedSubmission(submission=model, registry=reg, name=path.name, display=display, lines=lines)
