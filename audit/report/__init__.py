"""Fairness reports for paper reviewers (``prune-audit report``).

* :mod:`audit.report.submission` -- the submission file: the registry's paper schema plus the
  comparisons the paper claims, validated like the registry;
* :mod:`audit.report.build` -- the report's content (summary, one section per claimed comparison,
  the seed's Sec. 6 checklist, Rule 1, requests, figures) as a small document model;
* :mod:`audit.report.doc` -- rendering to GitHub-flavoured Markdown and one self-contained HTML file;
* :mod:`audit.report.plots` -- deterministic matplotlib figures (PNG bytes);
* :mod:`audit.report.evidence` -- rerun evidence read from ``reruns/results`` (plain JSON/CSV);
* :mod:`audit.report.main` -- the command: build, render, write atomically; the shipped examples.

Nothing here imports torch; matplotlib is imported only when figures are drawn.
"""
