"""The report's figures (matplotlib, Agg), returned as PNG bytes.

Deterministic: fixed size, DPI and fonts, no timestamps or software tag in the PNG
(``metadata={"Software": None}``), points drawn in a sorted order, labels placed by fixed offsets.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

__all__ = [
    "LEVEL_STYLE", "benchmark_scatter", "epochs_by_year", "focus_range", "in_range", "learning_curves", "level_key",
    "top1_vs_speedup",
]

NARROW = (4.4, 5.4)
"""Figure size (inches at 100 dpi: 440 px wide) of the variant shown on narrow screens (phones, 420 px)."""

#: Line style of a comparison by the setup it reaches (colour, linestyle, width, legend text).
LEVEL_STYLE: dict[str, tuple[str, str, float, str]] = {
    "S4.2": ("#116329", "-", 2.6, "S4.2 (same base, finetuning and pruning recipe)"),
    "S4.1": ("#1a7f37", "-", 2.4, "S4.1"),
    "S3.2": ("#2da44e", "-", 2.2, "S3.2 (same base and finetuning LR schedule: fair)"),
    "S3.1": ("#8250df", "--", 2.0, "S3.1 (same finetuning epochs, LR schedule not shown same)"),
    "S2": ("#d4a72c", "--", 1.6, "S2 (same base only: unfair per the seed)"),
    "S1": ("#cf222e", ":", 1.8, "S1 (same rate only)"),
    "below S1": ("#8c959f", "-.", 1.4, "below S1 (rate differs or unknown)"),
}

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 9.5,
    "legend.fontsize": 8.0,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "path.simplify": False,
    "svg.hashsalt": "prune-audit",
    "axes.grid": True,
    "grid.color": "#e1e4e8",
    "grid.linewidth": 0.6,
}


def level_key(level: str) -> str:
    return level if level in LEVEL_STYLE else "below S1"


_OFFSETS = ((6, 4), (6, -11), (-6, 4), (-6, -11), (6, 15), (6, -22), (-6, 15), (-6, -22), (6, 26), (-6, 26))


def _place_labels(ax: Any, items: Sequence[tuple[float, float, str, str]], fontsize: float = 7.5,
                  obstacles: Sequence[tuple[float, float]] = ()) -> list[str]:
    """Annotate points with labels that overlap neither each other nor other points and stay inside the axes
    (greedy over fixed offsets, in order); a label that fits nowhere is left out.  Returns the labels left out.
    Call it after the axis limits are set."""
    fig = ax.figure
    fig.canvas.draw()  # the transforms below need the final layout of the axes
    trans = ax.transData
    frame = ax.get_window_extent()
    scale = fig.dpi / 72.0  # offsets are in points, the transform gives pixels
    boxes: list[tuple[float, float, float, float]] = []
    points = [tuple(trans.transform((x, y))) for x, y, _, _ in items]
    others = [tuple(trans.transform(p)) for p in obstacles]
    char_w, h = fontsize * 0.62 * scale, fontsize * 1.35 * scale
    skipped = []
    for (x, y, label, colour), (px, py) in zip(items, points):
        w = char_w * len(label)
        chosen = None
        for dx, dy in _OFFSETS:
            x0 = px + dx * scale if dx > 0 else px + dx * scale - w
            y0 = py + dy * scale
            box = (x0, y0, x0 + w, y0 + h)
            inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
            hit_label = any(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in boxes)
            hit_point = any(box[0] - 3 <= qx <= box[2] + 3 and box[1] - 3 <= qy <= box[3] + 3
                            for qx, qy in points + others if (qx, qy) != (px, py))
            if inside and not hit_label and not hit_point:
                chosen = (dx, dy, box)
                break
        if chosen is None:
            skipped.append(label)
            continue
        dx, dy, box = chosen
        boxes.append(box)
        ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, color=colour,
                    ha="left" if dx > 0 else "right", va="bottom", zorder=6)
    return skipped


def focus_range(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float] | None:
    """The axis range (x0, x1, y0, y1) that shows ``points`` -- the compared operating points, (speedup, top-1)
    -- with a margin (10 % of the span, at least 0.15× in speedup and 0.6 top-1); ``None`` without points."""
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx = max((max(xs) - min(xs)) * 0.10, 0.15)
    my = max((max(ys) - min(ys)) * 0.10, 0.6)
    return min(xs) - mx, max(xs) + mx, min(ys) - my, max(ys) + my


def in_range(rng: tuple[float, float, float, float] | None, x: float, y: float) -> bool:
    """Whether the point (x, y) lies in the axis range ``rng`` (``None``: every point does)."""
    return rng is None or (rng[0] <= x <= rng[1] and rng[2] <= y <= rng[3])


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return matplotlib, plt


def top1_vs_speedup(title: str, background: Sequence[tuple[float, float]],
                    highlight: Sequence[tuple[float, float, str, str]],
                    lines: Sequence[tuple[float, float, float, float, str, str]],
                    highlight_name: str, others_name: str = "other results in the registry",
                    competitor_name: str = "the compared results",
                    reruns: Sequence[tuple[float, float, str]] = (), narrow: bool = False,
                    focus: Sequence[tuple[float, float]] | None = None) -> bytes:
    """Top-1 vs speedup, focused on the compared operating points.

    ``background``: (speedup, top1) of every other registry result; ``highlight``: (speedup, top1,
    label, role) with role ``own`` or ``competitor``; ``lines``: (x1, y1, x2, y2, level, label);
    ``reruns``: (speedup, top1, label) of rerun results.  The axes show the range of :func:`focus_range`
    over ``focus`` (the compared operating points; default: the highlighted points and the line ends); the
    results outside it are counted in the figure.  ``narrow``: the 440 px wide variant (legend under the axes).
    """
    matplotlib, plt = _mpl()
    if focus is None:
        focus = [(h[0], h[1]) for h in highlight] + [(ln[0], ln[1]) for ln in lines] + [(ln[2], ln[3]) for ln in lines]
    rng = focus_range(focus)
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=NARROW if narrow else (9.6, 5.6))
        if background:
            bx, by = zip(*sorted(background))
            ax.scatter(bx, by, s=16, c="#afb8c1", marker="o", label=others_name, zorder=2)
        seen_levels: list[str] = []
        for x1, y1, x2, y2, level, _label in sorted(lines, key=lambda t: (t[4], t[0], t[1], t[2], t[3])):
            key = level_key(level)
            colour, ls, lw, legend = LEVEL_STYLE[key]
            ax.plot([x1, x2], [y1, y2], color=colour, linestyle=ls, linewidth=lw, zorder=3,
                    label=None if key in seen_levels else legend)
            if key not in seen_levels:
                seen_levels.append(key)
        own = sorted((h for h in highlight if h[3] == "own"), key=lambda h: (h[0], h[1], h[2]))
        comp = sorted((h for h in highlight if h[3] != "own"), key=lambda h: (h[0], h[1], h[2]))
        if comp:
            ax.scatter([h[0] for h in comp], [h[1] for h in comp], s=46, c="#0969da", marker="s",
                       edgecolors="#0a3069", linewidths=0.6, label=competitor_name, zorder=4)
        rr = sorted(reruns)
        if rr:
            ax.scatter([r[0] for r in rr], [r[1] for r in rr], s=56, c="#1a7f37", marker="^",
                       edgecolors="#0f4d22", linewidths=0.6, label="rerun evidence (reruns/results)", zorder=4)
        if own:
            ax.scatter([h[0] for h in own], [h[1] for h in own], s=90, c="#bc4c00", marker="*",
                       edgecolors="#762c00", linewidths=0.6, label=highlight_name, zorder=5)
        ax.set_xlabel("speedup (dense FLOPs / pruned FLOPs)")
        ax.set_ylabel("top-1 accuracy (%)")
        ax.set_title(title, fontsize=9.5 if narrow else None)
        handles, labels = ax.get_legend_handles_labels()
        if narrow:
            ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=7, framealpha=0.92)
        else:
            ax.legend(handles, labels, loc="lower left", framealpha=0.92)
        if rng is not None:
            ax.set_xlim(rng[0], rng[1])
            ax.set_ylim(rng[2], rng[3])
            drawn = list(background) + [(h[0], h[1]) for h in highlight] + [(r[0], r[1]) for r in reruns]
            out = [p for p in drawn if not in_range(rng, p[0], p[1])]
            if out:
                xs, ys = [p[0] for p in out], [p[1] for p in out]
                ax.text(0.99, 0.98, f"{len(out)} other result(s) outside this view\n(speedup {min(xs):.2f}–"
                        f"{max(xs):.2f}×, top-1 {min(ys):.2f}–{max(ys):.2f})", transform=ax.transAxes, ha="right",
                        va="top", fontsize=7, color="#57606a", zorder=7,
                        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#d0d7de", "alpha": 0.9})
        fig.tight_layout()
        _place_labels(ax, [(x, y, label, "#762c00" if role == "own" else "#0a3069")
                           for x, y, label, role in own + comp]
                      + ([(x, y, label, "#0f4d22") for x, y, label in rr] if len(rr) <= 3 else []),
                      fontsize=7 if narrow else 7.5, obstacles=sorted(background))
        return _png(fig)


def epochs_by_year(points: Sequence[tuple[int, int, str, bool]], title: str, narrow: bool = False) -> bytes:
    """Finetuning epochs per method over publication year: (year, epochs, method, highlighted); ``narrow``:
    the 440 px wide variant."""
    matplotlib, plt = _mpl()
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=NARROW if narrow else (9.6, 4.8))
        pts = sorted(points)
        normal = [p for p in pts if not p[3]]
        hi = [p for p in pts if p[3]]
        if normal:
            ax.scatter([p[0] for p in normal], [p[1] for p in normal], s=30, c="#57606a", zorder=3,
                       label="methods in the registry (own papers' finetuning)")
        if hi:
            ax.scatter([p[0] for p in hi], [p[1] for p in hi], s=70, c="#bc4c00", marker="*", zorder=4,
                       label="methods of this report")
        if pts:
            years = [p[0] for p in pts]
            ax.set_xlim(min(years) - 0.6, max(years) + 1.2)
            ax.set_ylim(0, max(p[1] for p in pts) * 1.15 + 5)
            step = 2 if narrow and max(years) - min(years) > 6 else 1
            ax.set_xticks(list(range(min(years), max(years) + 1, step)))
        ax.set_xlabel("publication year")
        ax.set_ylabel("finetuning epochs")
        ax.set_title(title, fontsize=9.5 if narrow else None)
        if narrow:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=7, framealpha=0.92)
        else:
            ax.legend(loc="upper left", framealpha=0.92)
        fig.tight_layout()
        if pts:
            _place_labels(ax, [(float(y), float(e), name, "#762c00" if h else "#24292f") for y, e, name, h in pts],
                          fontsize=7 if narrow else 7.5)
        return _png(fig)


def learning_curves(curves: Sequence[tuple[str, list[dict[str, Any]], float | None]], title: str,
                    narrow: bool = False) -> bytes:
    """Per-epoch test top-1 and train accuracy of rerun results, with their trainability accuracy (TA);
    ``narrow``: the 440 px wide variant."""
    matplotlib, plt = _mpl()
    palette = ["#0969da", "#bc4c00", "#1a7f37", "#8250df", "#cf222e"]
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(4.4, 6.4) if narrow else (9.6, 4.8))
        for n, (label, rows, ta) in enumerate(curves):
            colour = palette[n % len(palette)]
            xs = list(range(len(rows)))
            ax.plot(xs, [r["top1"] for r in rows], color=colour, linewidth=1.8, label=f"{label}: test top-1")
            ax.plot(xs, [r["train_acc"] for r in rows], color=colour, linewidth=1.2, linestyle="--",
                    label=f"{label}: train accuracy")
            prev = None
            for x, r in zip(xs, rows):
                if prev is not None and r["stage"] != prev:
                    ax.axvline(x - 0.5, color="#8c959f", linewidth=0.8, linestyle=":")
                    ax.annotate(f"{r['stage']} starts", (x - 0.5, 0.45), xycoords=("data", "axes fraction"),
                                xytext=(3, 0), textcoords="offset points", fontsize=7.5, color="#57606a",
                                rotation=90)
                prev = r["stage"]
            if ta is not None:
                ax.axhline(ta, color=colour, linewidth=1.0, linestyle="-.", label=f"{label}: TA {ta:.2f}")
        ax.set_ylim(0, 101)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch (all stages in order)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(title, fontsize=9.5 if narrow else None)
        if narrow:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=6.5, framealpha=0.92)
        else:
            ax.legend(loc="lower right", framealpha=0.92)
        fig.tight_layout()
        return _png(fig)


_PALETTE = ("#0969da", "#bc4c00", "#1a7f37", "#8250df", "#cf222e", "#9a6700", "#1b7c83", "#bf3989", "#57606a",
            "#0550ae", "#953800", "#116329", "#6639ba", "#a40e26", "#7d4e00", "#136061", "#99286e", "#24292f")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")


def benchmark_scatter(title: str, points: Sequence[tuple[float, float, str]],
                      size: tuple[float, float] = (9.6, 6.0)) -> bytes:
    """Top-1 (%) vs speedup (dense FLOPs / pruned FLOPs) of every result on one benchmark, one colour and
    marker per method (``points``: speedup, top-1, method), the legend under the axes in columns."""
    matplotlib, plt = _mpl()
    methods = sorted({p[2] for p in points}, key=str.casefold)
    with matplotlib.rc_context(_RC):
        fig, ax = plt.subplots(figsize=size)
        for n, m in enumerate(methods):
            pts = sorted((x, y) for x, y, mm in points if mm == m)
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=34, c=_PALETTE[n % len(_PALETTE)],
                       marker=_MARKERS[n % len(_MARKERS)], edgecolors="#1b1f24", linewidths=0.4, label=m, zorder=3)
        ax.set_xlabel("speedup (dense FLOPs / pruned FLOPs)")
        ax.set_ylabel("top-1 accuracy (%)")
        ax.set_title(title)
        if methods:
            ncol = max(1, min(4, int(size[0] // 2.3)))
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=ncol, framealpha=0.92, fontsize=8)
        fig.tight_layout()
        return _png(fig)
