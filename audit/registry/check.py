"""``registry check``: the auditor of the arithmetic that papers print.

A results table prints several numbers that depend on each other: a pruned and a base accuracy and
the change between them, an accuracy and an error rate, a speedup, a FLOPs reduction and the absolute
FLOP counts, a parameter reduction and the absolute parameter counts, a layer-wise pruning ratio and
the speedup it gives.  This module recomputes each dependent number from the others and reports every
disagreement as a :class:`Finding`, with the printed values, the recomputed value and the tolerance.

Tolerances come from the printed precision: a number printed as ``93.53`` stands for any value in
[93.525, 93.535], so a recomputed value is compared as an interval (every input at both ends of its
rounding interval) with the printed one (``93.53 -> 93.77`` gives +0.24 within +-0.01: a printed
``+0.38`` is wrong; a printed ``1.99`` against a computed ``1.993`` is right).

Checks (each finding names its ``check``):

* ``delta``: a printed top-1/top-5 change vs pruned - base (sign convention as stated).
* ``error-rate``: a printed accuracy vs 100 - the printed error rate.
* ``speedup-reduction``, ``speedup-flops``, ``reduction-flops``: speedup vs FLOPs reduction vs the
  absolute counts (speedup = dense / pruned; reduction = 1 - pruned / dense).
* ``params``: a printed parameter reduction vs the absolute parameter counts.
* ``convention``: the printed dense FLOPs vs the catalog's dense MACs (``registry/networks.yaml``):
  which counting convention the paper used (MACs, 2xMACs, MACs plus BN/ReLU/pooling), and whether it
  is the one the file states; the printed dense parameters vs the catalog's.
* ``base-checkpoint``: a base top-1 (top-5) that does not belong to the published weights the result
  names as its base (the catalog's checkpoints: ``torchvision/resnet50/IMAGENET1K_V1`` is 76.130 top-1
  in torchvision's own model metadata).
* ``ratios``: a printed speedup (or parameter reduction) vs the one its pruning ratios give on the
  network (torch-free MAC tables, :mod:`audit.core.macs`), naming the uniform ratio that would fit
  (the seed's Tab. 7 prints at 0.3/0.5/0.7/0.9 the counts of 0.1/0.3/0.5/0.7: seed PDF, Tab. 7).
* ``std-zero``: a standard deviation of 0.00 over two runs or more.
* ``test-grid``: a single-run (or mean over n exact runs) accuracy that no test-set count can give
  (ImageNet-100 has 5,000 test images: a single-run top-1 is a multiple of 0.02 %).

Severities: ``error`` (the printed numbers contradict each other beyond rounding, or a stated
convention contradicts the printed count), ``warning`` (implausible, or off by a small margin that a
counting convention may explain), ``info`` (what the check inferred, e.g. the convention of an
unlabelled FLOP count).  Torch-free.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from audit.core import catalog
from audit.core.fmt import half_unit
from audit.registry.schema import Result

__all__ = [
    "CHECKS", "RATIO_FIT_TOL", "RATIO_GRID", "RATIO_REL_TOL", "TEST_SET_SIZE", "CheckReport", "Finding", "Severity",
    "SpeedupAt",
    "check_entries", "check_entry", "mac_table_speedup", "markdown",
]

Severity = Literal["error", "warning", "info"]
CHECKS = ("delta", "error-rate", "accuracy-order", "accuracy-form", "speedup-reduction", "speedup-flops", "reduction-flops", "params", "convention",
          "base-checkpoint", "ratios", "std-zero", "test-grid")
"""Every check this module runs, in report order."""
RATIO_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Uniform pruning ratios tried when a printed speedup does not fit its own ratio (0.05 .. 0.95)."""
RATIO_REL_TOL = 0.005
"""Relative margin (0.5 %) a speedup from the MAC tables may differ from a printed one before the
``ratios`` check reports it: layer-counting details (bias, BN folding, rounding of channel counts)
move published speedups by a few tenths of a percent."""
RATIO_FIT_TOL = 0.01
"""Relative margin (1 %) within which another ratio is said to fit a printed speedup."""
TEST_SET_SIZE = {"imagenet-100": 5000, "cifar-10": 10000, "cifar-100": 10000, "imagenet-1k": 50000}
"""Test (validation) images per dataset: ImageNet-100's 50 per class (seed, Sec. 4), the CIFAR test
sets, ImageNet-1K's validation set."""

SpeedupAt = Callable[[Result, Any], "tuple[float, float] | None"]
"""``(result, ratios) -> (speedup, params_reduction_pct)`` at those ratios on the result's network, or
``None`` when no MAC table covers it; ``ratios`` is a uniform float or the result's layer-wise list."""


class Finding(BaseModel):
    """One disagreement (or inference) about the printed numbers of one result."""

    severity: Severity
    check: str = Field(description="which check (see CHECKS)")
    file: str = Field(description="the paper file, as shown")
    line: int = Field(description="line of the result in the file")
    key: str = Field(description="registry key paper-id/result-id")
    field: str = Field(description="dotted path of the value found wrong (or inferred)")
    message: str = Field(description="one line: printed values, recomputed value, tolerance")
    printed: dict[str, str] = Field(description="the printed values used, as written in the file")
    recomputed: float | None = Field(description="the value recomputed from the other printed values")
    tolerance: float | None = Field(description="half-width of the interval the printed precision allows "
                                                "(absolute, in the field's unit)")

    def text(self) -> str:
        """``file:line: key: field: severity [check]: message``."""
        return f"{self.file}:{self.line}: {self.key}: {self.field}: {self.severity} [{self.check}]: {self.message}"


class CheckReport(BaseModel):
    """Every finding of one run of the checker, sorted by file, line and check."""

    results: int = Field(description="results checked")
    findings: list[Finding]

    def count(self, severity: Severity) -> int:
        """Number of findings of ``severity``."""
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        """True when an error-level finding exists (``registry check`` then exits 1)."""
        return self.count("error") > 0


# ---------------------------------------------------------------------- printed precision
class _Val:
    """A printed number as the interval its rounding allows."""

    def __init__(self, value: float, text: str | None, hu: float | None = None):
        self.value = float(value)
        self.text = text if text is not None else f"{value:g}"
        self.hu = half_unit(text, value) if hu is None else hu

    def moved(self, value: float) -> _Val:
        """Another value with this one's printed text and rounding interval (a printed drop read as a
        gain, or the same number under the opposite sign convention)."""
        return _Val(value, self.text, self.hu)

    @property
    def lo(self) -> float:
        return self.value - self.hu

    @property
    def hi(self) -> float:
        return self.value + self.hu


def _range(f: Callable[..., float], *vals: _Val) -> tuple[float, float]:
    """Min and max of ``f`` over the corners of the inputs' rounding intervals (every function here is
    monotonic in each input)."""
    outs = []
    for corner in itertools.product(*((v.lo, v.hi) for v in vals)):
        try:
            outs.append(f(*corner))
        except ZeroDivisionError:
            continue
    return (min(outs), max(outs)) if outs else (math.nan, math.nan)


def _overlaps(printed: _Val, lo: float, hi: float) -> bool:
    eps = 1e-9 * max(1.0, abs(printed.value))
    return printed.hi + eps >= lo and printed.lo - eps <= hi


def _like(x: float, v: _Val, sign: bool = False) -> str:
    """``x`` with the printed decimals of ``v`` (``+0.30`` next to a printed ``+0.45``)."""
    d = max(0, round(-math.log10(2 * v.hu))) if v.hu > 0 else 2
    return f"{x:+.{d}f}" if sign else f"{x:.{d}f}"


# ---------------------------------------------------------------------- one result
class _Ctx:
    def __init__(self, entry: Any):
        self.entry = entry
        self.r: Result = entry.result
        self.printed: Mapping[str, str] = getattr(entry, "printed", {}) or {}
        self.out: list[Finding] = []

    def val(self, path: str, value: float) -> _Val:
        text = self.printed.get(path)
        if text is None and path in ("base.top1", "base.top5"):  # 100 - a printed error: its precision
            err = self.printed.get(f"{path}_error")
            return _Val(value, None, half_unit(err, 100.0 - value) if err is not None else None)
        return _Val(value, text)

    def add(self, severity: Severity, check: str, field: str, message: str, printed: dict[str, _Val],
            recomputed: float | None, tolerance: float | None) -> None:
        e = self.entry
        self.out.append(Finding(severity=severity, check=check, file=e.file, line=e.line, key=e.key, field=field,
                                message=message, printed={k: v.text for k, v in printed.items()},
                                recomputed=None if recomputed is None else round(recomputed, 6),
                                tolerance=None if tolerance is None else round(tolerance, 6)))


def _check_delta(c: _Ctx) -> None:
    r = c.r
    for name, metric, change, base in (("top1", r.top1, r.top1_change, r.base.top1),
                                       ("top5", r.top5, r.top5_change, r.base.top5)):
        if change is None or metric is None or base is None:
            continue
        if metric.mean is not None:
            acc = c.val(f"{name}.mean", metric.mean)
        else:  # accuracy from the error rate: the error's interval width, mirrored
            assert metric.error is not None
            acc = _Val(metric.value, None, half_unit(c.printed.get(f"{name}.error"), metric.error))
        b = c.val(f"base.{name}", base)
        printed = c.val(f"{name}_change.value", change.value)
        gain = printed.moved(change.gain)
        lo, hi = _range(lambda p, q: p - q, acc, b)
        if _overlaps(gain, lo, hi):
            continue
        computed = metric.value - base
        convention = "gain = pruned - base" if change.sign == "gain" else "drop = base - pruned"
        hint = "; it fits the opposite sign convention" if _overlaps(printed.moved(-change.gain), lo, hi) else ""
        tol = (hi - lo) / 2 + printed.hu
        shown = computed if change.sign == "gain" else -computed
        c.add("error", "delta", f"{name}_change.value",
              f"printed {'Δ' if change.sign == 'gain' else 'drop'} {change.value:+g} ({convention}), but "
              f"{acc.text} - {b.text} = {_like(computed, printed, True)} (so {_like(shown, printed, True)} in the "
              "printed convention; "
              f"tolerance ±{tol:.3g} from the printed precision){hint}",
              {f"{name}": acc, f"base.{name}": b, f"{name}_change": printed}, shown, tol)


def _check_error(c: _Ctx) -> None:
    base = c.r.base
    for name in ("top1", "top5"):
        err = getattr(base, f"{name}_error")
        if err is None or f"base.{name}" not in c.printed:
            continue  # no error printed, or the accuracy is derived from it
        acc, e = c.val(f"base.{name}", getattr(base, name)), c.val(f"base.{name}_error", err)
        lo, hi = _range(lambda x: 100.0 - x, e)
        if not _overlaps(acc, lo, hi):
            c.add("error", "error-rate", f"base.{name}",
                  f"printed base accuracy {acc.text} and base error {e.text} do not add up to 100 "
                  f"(100 - {e.text} = {100 - err:.4g}; tolerance ±{acc.hu + e.hu:.3g})",
                  {f"base.{name}": acc, f"base.{name}_error": e}, 100 - err, acc.hu + e.hu)
    for name, m in (("top1", c.r.top1), ("top5", c.r.top5)):
        if m is None or m.mean is None or m.error is None:
            continue
        acc, err = c.val(f"{name}.mean", m.mean), c.val(f"{name}.error", m.error)
        lo, hi = _range(lambda e: 100.0 - e, err)
        if not _overlaps(acc, lo, hi):
            c.add("error", "error-rate", f"{name}.mean",
                  f"printed accuracy {acc.text} and error {err.text} do not add up to 100 "
                  f"(100 - {err.text} = {100 - m.error:.4g}; tolerance ±{acc.hu + err.hu:.3g})",
                  {f"{name}.mean": acc, f"{name}.error": err}, 100 - m.error, acc.hu + err.hu)


def _accuracies(r: Result) -> list[tuple[str, str, float]]:
    """``(field, metric, accuracy %)`` of every accuracy the result prints as an accuracy (not as an
    error rate): pruned top-1/top-5 ``mean`` and base top-1/top-5."""
    out: list[tuple[str, str, float]] = []
    for name, m in (("top1", r.top1), ("top5", r.top5)):
        if m is not None and m.mean is not None:
            out.append((f"{name}.mean", name, m.mean))
    for name in ("top1", "top5"):
        v = getattr(r.base, name)
        if v is not None:
            out.append((f"base.{name}", name, v))
    return out


def _check_accuracy_order(c: _Ctx) -> None:
    """A top-5 accuracy below the top-1 accuracy of the same network is impossible (every top-1 hit is
    a top-5 hit): one of the two is mistyped, or an error rate sits in an accuracy field."""
    r = c.r
    pairs = (("top1.mean", r.top1.value if r.top1 else None, "top5.mean", r.top5.value if r.top5 else None),
             ("base.top1", r.base.top1, "base.top5", r.base.top5))
    for f1, v1, f5, v5 in pairs:
        if v1 is None or v5 is None:
            continue
        a1, a5 = c.val(f1, v1), c.val(f5, v5)
        if v5 + a1.hu + a5.hu < v1:
            c.add("error", "accuracy-order", f5,
                  f"top-5 accuracy {a5.text} is below the top-1 accuracy {a1.text} of the same network: "
                  "impossible (a typo, or an error rate in an accuracy field?)",
                  {f1.removesuffix(".mean"): a1, f5.removesuffix(".mean"): a5}, None, None)


ACCURACY_FORM_GAP = 20.0
"""Points (%) an accuracy must lie from its network's reference accuracy, while 100 minus it lies
closer, before ``accuracy-form`` reports it as a likely error rate: pruning and other training
recipes move accuracies by a few points, never by tens."""


def _check_accuracy_form(c: _Ctx, networks: Mapping[str, Any]) -> None:
    """An accuracy tens of points from every reference accuracy the catalog holds for the result's
    network on its dataset (:attr:`audit.core.catalog.Network.checkpoints`), whose complement
    ``100 - v`` lies closer to it, is most likely an error rate entered as an accuracy (ShrinkBench's
    grid prints a VGG-16 top-5 error 10.10 % in its ``OrigTop5`` accuracy column)."""
    r = c.r
    net = networks.get(r.network)
    refs: dict[str, list[tuple[float, str]]] = {"top1": [], "top5": []}
    for ck in getattr(net, "checkpoints", None) or ():
        if ck.dataset == r.dataset:
            for metric in ("top1", "top5"):
                ref = getattr(ck, metric)
                if ref is not None:
                    refs[metric].append((ref, ck.identity))
    for fld, metric, v in _accuracies(r):
        if not refs[metric]:
            continue
        ref, ident = min(refs[metric], key=lambda x: abs(x[0] - v))
        if abs(v - ref) > ACCURACY_FORM_GAP and abs((100.0 - v) - ref) < abs(v - ref):
            val = c.val(fld, v)
            c.add("warning", "accuracy-form", fld,
                  f"{metric.replace('top', 'top-')} accuracy {val.text} is {abs(v - ref):.1f} points from "
                  f"{r.network}'s {ref:g} ({ident}), but 100 - {val.text} = {100 - v:.4g} is near it: an error "
                  "rate entered as an accuracy?", {fld: val}, 100.0 - v, None)


def _check_compression(c: _Ctx) -> None:
    comp = c.r.compression
    sp = None if comp.speedup is None else c.val("compression.speedup", comp.speedup)
    red = None if comp.flops_reduction_pct is None else c.val("compression.flops_reduction_pct",
                                                                 comp.flops_reduction_pct)
    fl = comp.flops
    dense = pruned = None
    if fl is not None and fl.dense is not None and fl.pruned is not None:
        dense, pruned = c.val("compression.flops.dense", fl.dense), c.val("compression.flops.pruned", fl.pruned)
    if sp is not None and red is not None and red.value < 100:
        lo, hi = _range(lambda p: 1.0 / (1.0 - p / 100.0), red)
        if not _overlaps(sp, lo, hi):
            calc = 1.0 / (1.0 - red.value / 100.0)
            c.add("error", "speedup-reduction", "compression.speedup",
                  f"printed speedup {sp.text}x, but a {red.text}% FLOPs reduction is {calc:.4g}x "
                  f"(1 / (1 - reduction); tolerance ±{(hi - lo) / 2 + sp.hu:.3g})",
                  {"speedup": sp, "flops_reduction_pct": red}, calc, (hi - lo) / 2 + sp.hu)
    if sp is not None and dense is not None and pruned is not None:
        lo, hi = _range(lambda d, p: d / p, dense, pruned)
        if not _overlaps(sp, lo, hi):
            calc = dense.value / pruned.value
            c.add("error", "speedup-flops", "compression.speedup",
                  f"printed speedup {sp.text}x, but dense / pruned FLOPs = {dense.text} / {pruned.text} = "
                  f"{calc:.4g}x (tolerance ±{(hi - lo) / 2 + sp.hu:.3g})",
                  {"speedup": sp, "flops.dense": dense, "flops.pruned": pruned}, calc, (hi - lo) / 2 + sp.hu)
    if red is not None and dense is not None and pruned is not None:
        _check_reduction(c, "reduction-flops", "compression.flops_reduction_pct", "FLOPs reduction", red,
                         dense, pruned, ("flops_reduction_pct", "flops.dense", "flops.pruned"))
    pa = comp.params
    pred = comp.params_reduction_pct
    if pa is not None and pa.dense is not None and pa.pruned is not None and pred is not None:
        _check_reduction(c, "params", "compression.params_reduction_pct", "parameter reduction",
                         c.val("compression.params_reduction_pct", pred), c.val("compression.params.dense", pa.dense),
                         c.val("compression.params.pruned", pa.pruned),
                         ("params_reduction_pct", "params.dense", "params.pruned"))


def _check_reduction(c: _Ctx, check: str, field: str, noun: str, printed: _Val, dense: _Val, pruned: _Val,
                     names: tuple[str, str, str]) -> None:
    """A printed reduction in percent against ``1 - pruned / dense`` of the printed counts."""
    lo, hi = _range(lambda d, p: 100.0 * (1.0 - p / d), dense, pruned)
    if not _overlaps(printed, lo, hi):
        calc = 100.0 * (1.0 - pruned.value / dense.value)
        tol = (hi - lo) / 2 + printed.hu
        c.add("error", check, field,
              f"printed {noun} {printed.text}%, but 1 - {pruned.text} / {dense.text} = {calc:.4g}% "
              f"(tolerance ±{tol:.3g})", dict(zip(names, (printed, dense, pruned))), calc, tol)


_CONVENTIONS = (("MACs", 1.0, 1.0), ("2xMACs", 2.0, 2.0), ("MACs+elementwise", 1.0, 1.05))
"""(convention, low, high) bounds of printed dense FLOPs / catalog dense MACs: conv + linear MACs,
twice that, or MACs plus BN, ReLU, pooling and bias operations (ptflops/thop-style counters add
0.5-5 %: 126.6 M for ResNet-56 against 125.5 M MACs)."""


def _check_convention(c: _Ctx, networks: Mapping[str, Any]) -> None:
    r = c.r
    net = networks.get(r.network)
    fl = r.compression.flops
    if net is None:
        return
    if fl is not None and fl.dense is not None and net.dense_macs:
        d = c.val("compression.flops.dense", fl.dense)
        scale = fl.absolute(1.0) or 1.0
        lo, hi = d.lo * scale / net.dense_macs, d.hi * scale / net.dense_macs
        found = None
        for name, a, b in _CONVENTIONS:
            if hi >= a * (1 - 1e-9) and lo <= b * (1 + 1e-9):
                found = name
                break
        stated = fl.convention if fl.convention not in (None, "unstated") else None
        catalog_text = f"{net.id} has {net.dense_macs / 1e6:,.1f} M MACs at {net.input_size} px (network catalog)"
        printed = {"flops.dense": d}
        ratio = d.value * scale / net.dense_macs
        if found is None:
            c.add("warning", "convention", "compression.flops.dense",
                  f"printed dense FLOPs {d.text} {fl.scale} match no known convention: {catalog_text}, "
                  f"ratio {ratio:.3f}", printed, float(net.dense_macs), d.hu * scale)
        elif stated is not None and stated != found and not (stated == "MACs-no-projection" and found == "MACs"):
            c.add("error", "convention", "compression.flops.convention",
                  f"the file states {stated}, but the printed dense count {d.text} {fl.scale} is {found} "
                  f"({catalog_text}; ratio {ratio:.3f})", printed, float(net.dense_macs), d.hu * scale)
        elif stated is None:
            c.add("info", "convention", "compression.flops.convention",
                  f"convention not stated; the printed dense count {d.text} {fl.scale} is {found} "
                  f"({catalog_text}; ratio {ratio:.3f})", printed, float(net.dense_macs), d.hu * scale)
    pa = r.compression.params
    if pa is not None and pa.dense is not None and net.dense_params:
        d = c.val("compression.params.dense", pa.dense)
        scale = pa.absolute(1.0) or 1.0
        lo, hi = d.lo * scale, d.hi * scale
        if not (lo <= net.dense_params * 1.01 and hi >= net.dense_params * 0.99):
            c.add("warning", "convention", "compression.params.dense",
                  f"printed dense parameters {d.text} {pa.scale}, but {net.id} has {net.dense_params:,} "
                  "(network catalog): another variant of the network, or another count?",
                  {"params.dense": d}, float(net.dense_params), d.hu * scale)


def _check_checkpoint(c: _Ctx) -> None:
    r = c.r
    if r.base.identity is None:
        return
    found = catalog.checkpoint(r.base.identity)
    if found is None:
        return
    _, ck = found
    if ck.dataset != r.dataset:
        return
    for name, printed, ref in (("top1", r.base.top1, ck.top1), ("top5", r.base.top5, ck.top5)):
        if printed is None or ref is None:
            continue
        v = c.val(f"base.{name}", printed)
        if not _overlaps(v, ref, ref):
            c.add("warning", "base-checkpoint", f"base.{name}",
                  f"base {name.replace('top', 'top-')} {v.text} does not belong to {ck.identity} ({ref:g} in "
                  f"{ck.source}): another evaluation or other weights?", {f"base.{name}": v}, ref, v.hu)


def _check_ratios(c: _Ctx, speedup_at: SpeedupAt | None) -> None:
    r = c.r
    comp = r.compression
    if speedup_at is None:
        return
    ratios: Any = None
    field = ""
    if comp.pruning_ratio is not None and not comp.layerwise_ratios and not comp.conv_ratios and not comp.skip:
        ratios, field = comp.pruning_ratio, "compression.pruning_ratio"
    elif comp.layerwise_ratios is not None and not comp.skip and not comp.conv_ratios:
        ratios, field = list(comp.layerwise_ratios), "compression.layerwise_ratios"
    if ratios is None or (comp.speedup is None and comp.params_reduction_pct is None):
        return
    got = speedup_at(r, ratios)
    if got is None:
        return
    speedup, params_pct = got
    sp = None if comp.speedup is None else c.val("compression.speedup", comp.speedup)
    pp = None if comp.params_reduction_pct is None else c.val("compression.params_reduction_pct",
                                                               comp.params_reduction_pct)
    sp_off = sp is not None and abs(sp.value - speedup) > sp.hu + RATIO_REL_TOL * speedup
    pp_off = pp is not None and abs(pp.value - params_pct) > pp.hu + 0.05
    if not sp_off and not pp_off:
        return
    ratio_text = f"{ratios:g}" if isinstance(ratios, float) else str(ratios)
    printed: dict[str, _Val] = {}
    parts = []
    if sp is not None:
        printed["speedup"] = sp
        parts.append(f"printed {sp.text}x")
    if pp is not None:
        printed["params_reduction_pct"] = pp
        parts.append(f"{pp.text}% params removed")
    fit = ""
    if isinstance(ratios, float):
        fits = []
        for cand in RATIO_GRID:
            if abs(cand - ratios) < 1e-9:
                continue
            g = speedup_at(r, cand)
            if g is None:
                continue
            ok_sp = sp is None or abs(sp.value - g[0]) <= sp.hu + RATIO_FIT_TOL * g[0]
            ok_pp = pp is None or abs(pp.value - g[1]) <= pp.hu + 0.05
            if ok_sp and ok_pp:
                fits.append((abs((sp.value if sp else g[0]) - g[0]), cand, g))
        if fits:
            _, cand, g = min(fits)
            fit = f"; ratio {cand:g} fits ({g[0]:.4g}x, {g[1]:.2f}% params removed)"
        else:
            fit = "; no uniform ratio on the 0.05 grid fits better"
    rel = None if sp is None else (sp.value - speedup) / speedup
    severity: Severity = "error" if (rel is None or abs(rel) > 0.03 or pp_off) else "warning"
    c.add(severity, "ratios", "compression.speedup" if sp_off else "compression.params_reduction_pct",
          f"{', '.join(parts)} at {field.rsplit('.', 1)[1]} {ratio_text}, but {r.network} at that ratio has "
          f"{speedup:.4g}x and {params_pct:.2f}% params removed (MAC tables, conv + linear)"
          + ("" if rel is None else f", {rel * 100:+.2f}%") + fit,
          printed, speedup, None if sp is None else sp.hu + RATIO_REL_TOL * speedup)


def _check_stats(c: _Ctx) -> None:
    r = c.r
    for name, m in (("top1", r.top1), ("top5", r.top5)):
        if m is None:
            continue
        if m.std is not None and m.std == 0 and m.runs is not None and m.runs >= 2:
            c.add("warning", "std-zero", f"{name}.std",
                  f"std {c.printed.get(f'{name}.std', '0')} over {m.runs} runs: every run at the same accuracy "
                  "is implausible (a std not printed, or rounded away?)",
                  {f"{name}.std": c.val(f"{name}.std", 0.0)}, None, None)
        size = TEST_SET_SIZE.get(r.dataset)
        if size is None or m.mean is None or m.runs_bound != "exact":
            continue
        n = 1 if m.statistic in ("single-run", "best-of-n") else m.runs
        if n is None or m.statistic in ("median",):
            continue
        step = 100.0 / (size * n)
        v = c.val(f"{name}.mean", m.mean)
        if step <= 2 * v.hu:
            continue  # every printed value is reachable at this precision
        k = round(m.mean / step)
        if all(abs(kk * step - m.mean) > v.hu + 1e-9 for kk in (k - 1, k, k + 1)):
            c.add("warning", "test-grid", f"{name}.mean",
                  f"{v.text}% is not a possible accuracy on {size:,} test images over {n} run(s) "
                  f"(a multiple of {step:.4g}%; nearest {k * step:.4g})",
                  {f"{name}.mean": v}, k * step, v.hu)


def mac_table_speedup(result: Result, ratios: Any) -> tuple[float, float] | None:
    """The default :data:`SpeedupAt`: the torch-free MAC tables of :mod:`audit.core.macs` (generated by
    the rerun engine), at the result's rounding rule (default pruned = ceil(r*C), the seed's) and its
    dataset's input size and class count; ``None`` where no table covers the network or the ratios."""
    from audit.core import macs
    from audit.errors import AuditError

    if not macs.has_table(result.network):
        return None
    ds = catalog.DATASETS.get(result.dataset)
    try:
        count = macs.count_macs(result.network, ratios, rounding=result.compression.rounding or "ceil-pruned",
                                skip=tuple(result.compression.skip or ()),
                                input_size=None if ds is None or result.dataset == "digits" else ds.input_size,
                                classes=None if ds is None else ds.classes)
    except (AuditError, ValueError):
        return None
    return count.speedup, count.params_reduction_pct


def check_entry(entry: Any, *, speedup_at: SpeedupAt | None = None,
                networks: Mapping[str, Any] | None = None) -> list[Finding]:
    """Every finding about one registry entry (:class:`audit.registry.store.Entry`: its result, file,
    line, key and printed texts).  ``networks`` is the catalog (with any paper-declared networks);
    ``speedup_at`` gives speedups at pruning ratios (default: none, the ``ratios`` check is skipped)."""
    c = _Ctx(entry)
    _check_delta(c)
    _check_error(c)
    _check_accuracy_order(c)
    _check_accuracy_form(c, networks if networks is not None else catalog.NETWORKS)
    _check_compression(c)
    _check_convention(c, networks if networks is not None else catalog.NETWORKS)
    _check_checkpoint(c)
    _check_ratios(c, speedup_at)
    _check_stats(c)
    return c.out


def check_entries(entries: Iterable[Any], *, speedup_at: SpeedupAt | None = None,
                  networks: Mapping[str, Any] | None = None) -> CheckReport:
    """:func:`check_entry` over ``entries``; findings sorted by file, line, check order."""
    order = {name: i for i, name in enumerate(CHECKS)}
    found: list[Finding] = []
    n = 0
    for e in entries:
        n += 1
        found.extend(check_entry(e, speedup_at=speedup_at, networks=networks))
    found.sort(key=lambda f: (f.file, f.line, order.get(f.check, 99), f.field))
    return CheckReport(results=n, findings=found)


def markdown(report: CheckReport, title: str, command: str, severities: Sequence[Severity] = ("error", "warning")
             ) -> str:
    """The findings as a Markdown document (``registry/CHECK.md``): counts, then one table per check.
    Only ``severities`` are listed (the info-level inferences are counted)."""
    lines = [f"# {title}", "", f"Regenerate with `{command}`.", "",
             f"{report.results} results checked: {report.count('error')} errors, {report.count('warning')} "
             f"warnings, {report.count('info')} notes (not listed: what the check inferred, e.g. the "
             "convention of an unlabelled FLOP count).", ""]
    for check in CHECKS:
        rows = [f for f in report.findings if f.check == check and f.severity in severities]
        if not rows:
            continue
        lines += [f"## {check} ({len(rows)})", "", "| severity | result | line | field | finding |",
                  "|---|---|---|---|---|"]
        for f in rows:
            msg = f.message.replace("|", "\\|")
            lines.append(f"| {f.severity} | `{f.key}` | {f.file}:{f.line} | `{f.field}` | {msg} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
