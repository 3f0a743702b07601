"""A static leaderboard site built from the registry (``prune-audit site --out DIR``).

* :mod:`audit.site.build` -- the pages as ``{relative path: bytes}``: an index of benchmarks, one page per
  benchmark (the calibrated leaderboard, S3.2+ pairs only, beside the naive one; the setup matrix with the
  reason of each cell on hover; the top-1 vs speedup plot; the hook sections) and one page per paper (every
  result with its sources and recipe);
* :mod:`audit.site.write` -- writing the site as one unit (a temporary directory, then a rename).

Self-contained: relative links only, one stylesheet, a small optional sorting script, PNG figures; no
request leaves a page, it works from ``file://`` and reads without JavaScript.  Deterministic: equal
registries give byte-identical files.  Nothing here imports torch.
"""

from audit.site.build import Finding, SiteTable, build_site
from audit.site.write import MARKER, write_site

__all__ = ["MARKER", "Finding", "SiteTable", "build_site", "write_site"]
