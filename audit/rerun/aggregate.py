"""Aggregation of a grid's runs into the seed's tables (Tab. 4 layout) and typed results.

:func:`write_outputs` writes ``table.md``/``table.csv`` (rows = recipes with their setup tag,
columns = ratios, top-1 mean±std over seeds, Welch t-test against the Scratch row), ``stats.csv``,
``cells.csv``, ``curves.csv`` and ``COMMAND.txt``; :func:`write_results` one
:class:`audit.registry.schema.Result` per row x ratio with its mean learning curve.  Every file
is written atomically (:mod:`audit.io.atomic`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.core.rules import schedule_text
from audit.io.atomic import atomic_write_text
from audit.registry.schema import Metric, Result, Stage

from .curve import CSV_FIELDS, EpochRecord, curve_csv
from .grid import Cell, Grid, GridRun

if TYPE_CHECKING:
    from .runs import CellOutput

__all__ = ["aggregate", "scratch_mean", "table_frames", "write_outputs", "write_results"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def aggregate(g: Grid, run: GridRun) -> tuple[Any, Any, Any]:
    """The grid's results as pandas DataFrames: (per-seed cells, statistics per row x ratio -- top-1
    mean/std/n, trainability accuracy, speedup, Welch-test p against the Scratch-E row --, every
    epoch of every cell)."""
    import pandas as pd
    from scipy.stats import ttest_ind_from_stats

    recs, curves = [], []
    for c, o in zip(run.cells, run.outputs):
        r = o["result"]
        recs.append({"row": c.row, "setup": c.setup, "row_index": c.row_index, "ratio": c.ratio_text, "seed": c.seed,
                     "prune_epoch": c.prune_epoch, "finetune_epochs": c.finetune_epochs,
                     "schedule": schedule_text(c.schedule), "speedup": c.speedup,
                     "top1": r["top1"]["mean"], "top5": (r.get("top5") or {}).get("mean"),
                     "trainability_acc": r.get("trainability_acc"), "result_id": r["id"], "run_dir": o["run_dir"]})
        for h in o["history"]:
            curves.append({"row": c.row, "setup": c.setup, "ratio": c.ratio_text, "seed": c.seed, **h})
    per = pd.DataFrame(recs)
    stats = per.groupby(["row_index", "row", "setup", "ratio"], sort=False).agg(
        mean=("top1", "mean"), std=("top1", "std"), n=("top1", "size"), ta=("trainability_acc", "mean"),
        speedup=("speedup", "first")).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    scratch = stats[stats["setup"] == "Scratch-E"]
    ps = []
    for _, s in stats.iterrows():
        ref = scratch[scratch["ratio"] == s["ratio"]]
        if s["setup"].startswith("Scratch") or ref.empty or s["n"] < 2 or ref.iloc[0]["n"] < 2:
            ps.append(float("nan"))
            continue
        b = ref.iloc[0]
        if s["std"] == 0 and b["std"] == 0:
            ps.append(0.0 if s["mean"] != b["mean"] else 1.0)
            continue
        ps.append(float(ttest_ind_from_stats(s["mean"], s["std"], s["n"], b["mean"], b["std"], b["n"],
                                             equal_var=False).pvalue))
    stats["p_vs_scratch"] = ps
    return per, stats, pd.DataFrame(curves)


def table_frames(g: Grid, stats: Any) -> Any:
    """The Tab. 4 layout: rows = recipes (with the setup tag), columns = ratios; cells 'mean±std'."""
    import pandas as pd

    cols = [str(r) for r in g.ratios]
    head = {"setup": "", "row": "speedup (MACs)"}
    first = stats.drop_duplicates("ratio").set_index("ratio")
    for r in cols:
        head[f"{_pct(r)}"] = f"{first.loc[r, 'speedup']:.2f}x"
    rows = [head]
    for (_ri, row, setup), grp in stats.groupby(["row_index", "row", "setup"], sort=False):
        d = {"setup": setup, "row": row}
        grp = grp.set_index("ratio")
        for r in cols:
            s = grp.loc[r]
            star = ""
            p = s["p_vs_scratch"]
            if p == p:  # not NaN
                star = "*" if p < 0.05 else ""
                star += "+" if s["mean"] > scratch_mean(stats, r) else "-"
            d[_pct(r)] = f"{s['mean']:.2f}±{s['std']:.2f}{(' ' + star) if star else ''}"
        rows.append(d)
    return pd.DataFrame(rows)


def scratch_mean(stats: Any, ratio: str) -> float:
    """Mean top-1 of the Scratch-E row at ``ratio`` (NaN without one)."""
    s = stats[(stats["setup"] == "Scratch-E") & (stats["ratio"] == ratio)]
    return float(s.iloc[0]["mean"]) if not s.empty else float("nan")


def _pct(r: str) -> str:
    return f"{float(r) * 100:g}%"


def write_outputs(g: Grid, run: GridRun, out_dir: Path, command: str, results_dir: Path | None) -> Path:
    """Write table.csv/.md, cells.csv, stats.csv, curves.csv, COMMAND.txt; results to ``results_dir``."""
    per, stats, curves = aggregate(g, run)
    tab = table_frames(g, stats)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "cells.csv", per.drop(columns=["run_dir"]).to_csv(index=False))
    atomic_write_text(out_dir / "stats.csv", stats.to_csv(index=False))
    atomic_write_text(out_dir / "curves.csv", curves.to_csv(index=False))
    atomic_write_text(out_dir / "table.csv", tab.to_csv(index=False))
    md = [f"# {g.name}: top-1 (%) mean±std over {len(g.seed_list())} seed(s)", "",
          "`*` = Welch t-test against the Scratch row at the same ratio, p < 0.05; `+`/`-` = above/below it.", "",
          _markdown(tab), ""]
    ta = stats.pivot_table(index=["row_index", "row"], columns="ratio", values="ta", sort=False)
    ta.columns = [_pct(c) for c in ta.columns]
    ta = ta.reset_index(level=0, drop=True)
    md += ["Trainability accuracy (mean train accuracy over the first LR stage of finetuning/scratch, Eq. 1):", "",
           _markdown(ta.round(2).reset_index()), ""]
    atomic_write_text(out_dir / "table.md", "\n".join(md))
    cmd_file = out_dir / "COMMAND.txt"
    if run.ran == 0 and cmd_file.exists():  # re-aggregation of complete runs: keep the producing command's record
        recorded = cmd_file.read_text()
        if "re-aggregated" not in recorded:
            atomic_write_text(cmd_file, recorded + f"# re-aggregated from the complete runs by: {command} "
                                                   f"({run.seconds:.1f} s)\n")
    else:
        atomic_write_text(cmd_file, f"{command}\n# wall time {run.seconds:.1f} s; {run.ran} cells run, "
                                    f"{run.complete} read back\n")
    if results_dir is not None:
        write_results(g, run, stats, results_dir)
    return out_dir


def _markdown(df: Any) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join("" if (isinstance(v, float) and v != v) else str(v) for v in r.values) + " |")
    return "\n".join(lines)


def _mean_curve(histories: list[list[EpochRecord]]) -> str:
    """The learning curve averaged over seeds, per (stage, epoch), in the engine's metrics.csv columns."""
    rows: dict[tuple[str, int], list[EpochRecord]] = {}
    for h in histories:
        for r in h:
            rows.setdefault((r["stage"], int(r["epoch"])), []).append(r)
    means: list[dict[str, Any]] = []
    for (stage, epoch), rs in rows.items():
        d: dict[str, Any] = {"stage": stage, "epoch": epoch, "lr": float(rs[0]["lr"])}  # one schedule for all seeds
        for k in CSV_FIELDS[3:]:
            d[k] = sum(float(r[k]) for r in rs) / len(rs)  # type: ignore[literal-required,misc]
        means.append(d)
    return curve_csv(means)


def write_results(g: Grid, run: GridRun, stats: Any, results_dir: Path) -> list[Path]:
    """One typed Result per (row, ratio): the first seed's record with top-1 mean/std/runs over seeds,
    written as ``results_dir/<id>.json`` with the seeds' mean learning curve beside it (``.csv``)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    by_key: dict[tuple[int, str], list[tuple[Cell, CellOutput]]] = {}
    for c, o in zip(run.cells, run.outputs):
        by_key.setdefault((c.row_index, c.ratio_text), []).append((c, o))
    for (ri, ratio), items in by_key.items():
        c0, o0 = items[0]
        s = stats[(stats["row_index"] == ri) & (stats["ratio"] == ratio)].iloc[0]
        r = Result.model_validate(o0["result"])
        top5 = [o["result"].get("top5", {}).get("mean") for _, o in items]
        upd: dict[str, Any] = {
            "id": f"rerun-grid-{g.name}-{_slug(c0.row)}-r{_slug(ratio)}",
            "variant": f"{g.name}: {c0.row} [{c0.setup}]",
            "top1": Metric(mean=float(s["mean"]), std=float(s["std"]), runs=int(s["n"])),
            "top5": Metric(mean=sum(top5) / len(top5), runs=len(top5)) if all(x is not None for x in top5) else None,
            "trainability_acc": float(s["ta"]) if s["ta"] == s["ta"] else None,
            "notes": (r.notes or "") + f"; grid {g.name}, setup {c0.setup}, seeds "
                     f"{', '.join(str(c.seed) for c, _ in items)}; per-seed runs: "
                     f"{', '.join(Path(o['run_dir']).name for _, o in items)}",
        }
        if c0.pipeline == "pruning" and c0.prune_epoch is not None:
            head = g.overall.lr_schedule.head(c0.prune_epoch)
            upd["pretrain"] = Stage(epochs=c0.prune_epoch, lr_schedule=head, batch_size=r.finetune.batch_size
                                    if r.finetune else None)
            upd["base"] = r.base.model_copy(update={"identity": "own training",
                                                    "description": f"the grid's shared dense run, epoch {c0.prune_epoch}"})
        rr = r.model_copy(update=upd)
        rr = Result.model_validate(rr.model_dump(mode="json", exclude_none=True))
        path = results_dir / f"{rr.id}.json"
        atomic_write_text(results_dir / f"{rr.id}.csv", _mean_curve([o["history"] for _, o in items]))
        atomic_write_text(path, rr.model_dump_json(indent=1, exclude_none=True))
        written.append(path)
    return written
