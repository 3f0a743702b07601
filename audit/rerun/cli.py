"""``prune-audit rerun``: run recipes and count FLOPs.

This module must stay importable without torch: torch and the engine are imported inside the
command functions only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .errors import RerunError, require_torch

app = typer.Typer(
    help="Rerun L1-norm filter pruning under a recipe (pretrain -> prune -> finetune, or scratch), "
         "and count FLOPs/parameters of pruned networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DATASET_CLASSES = {"imagenet-1k": 1000, "imagenet-100": 100, "cifar-10": 10, "cifar-100": 100, "digits": 10}


@app.command("run")
def run_cmd(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML (see reruns/recipes/).", show_default=False)],
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where runs live (one folder per recipe hash).")]
    = Path("reruns/runs"),
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or auto.")] = "cpu",
    results_dir: Annotated[Optional[Path], typer.Option(
        "--results-dir", help="Also collect the result record and learning curve here as RESULT-ID.json/.csv "
                              "(default: reruns/results; --no-results-dir to skip).", show_default=False)]
    = Path("reruns/results"),
    no_results_dir: Annotated[bool, typer.Option("--no-results-dir", help="Do not collect the result.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result record as JSON.")] = False,
) -> None:
    """Run a recipe; rerunning the same recipe resumes it (or, once complete, just reads its result)."""
    if device not in ("cpu", "cuda", "auto"):
        raise RerunError(f"--device must be cpu, cuda or auto, not {device!r}")
    from .config import load_recipe

    rec = load_recipe(recipe)
    require_torch()
    from rich.console import Console

    from .runs import run_recipe

    console = Console(stderr=True)
    with _ProgressHooks(console, quiet=as_json) as hooks:
        outcome = run_recipe(rec, runs_dir, device=device, hooks=hooks, recipe_dir=recipe.resolve().parent)
    r = outcome.result
    collected = None
    if results_dir is not None and not no_results_dir:
        from audit.io.atomic import atomic_write_bytes

        results_dir.mkdir(parents=True, exist_ok=True)
        for ext, name in (("csv", "metrics.csv"), ("json", "result.json")):  # the result last
            atomic_write_bytes(results_dir / f"{r.id}.{ext}", (outcome.run_dir / name).read_bytes())
        collected = results_dir / f"{r.id}.json"
    if as_json:
        out = {"run_dir": str(outcome.run_dir), "recipe_hash": outcome.recipe_hash, "status": outcome.status,
               "collected": str(collected) if collected else None,
               "result": r.model_dump(mode="json", exclude_none=True)}
        typer.echo(json.dumps(out, indent=1))
        return
    c = Console()
    c.print(f"[bold]{outcome.status}[/bold]: {outcome.run_dir}  (recipe {outcome.recipe_hash[:16]})")
    ta = f"{r.trainability_acc:.2f}" if r.trainability_acc is not None else "n/a"
    base = f"{r.base.top1:.2f}" if r.base.top1 is not None else "n/a"
    c.print(f"{r.network} on {r.dataset}: base top-1 {base} -> final top-1 {r.top1.mean:.2f} "
            f"(top-5 {r.top5.mean if r.top5 else float('nan'):.2f}), trainability acc {ta}, "
            f"speedup {r.compression.speedup:.2f}x")
    c.print(f"result: {outcome.run_dir / 'result.json'}; learning curve: {outcome.run_dir / 'metrics.csv'}")
    if collected:
        c.print(f"collected: {collected} (+ .csv)")


class _ProgressHooks:
    """Rich progress bar over the epochs' batches."""

    def __init__(self, console, quiet: bool = False):
        from .stages import Hooks

        self.console, self.quiet = console, quiet
        self._base = Hooks
        self.progress = None
        self.task = None

    def __enter__(self):
        if not self.quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=self.console, transient=False)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def stage_start(self, stage: str, epochs: int, start_epoch: int, images_per_epoch: int) -> None:
        self.stage, self.epochs, self.images = stage, epochs, images_per_epoch

    def epoch_start(self, stage: str, epoch: int, lr: float) -> None:
        if self.progress is not None:
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.task = self.progress.add_task(f"{stage} {epoch + 1}/{self.epochs} lr {lr:g}", total=self.images)

    def batch(self, images: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, images)

    def epoch_end(self, rec: dict[str, Any]) -> None:
        if self.progress is not None:
            if self.task is not None:
                self.progress.remove_task(self.task)
                self.task = None
            self.progress.console.print(
                f"{rec['stage']} {rec['epoch'] + 1:>3}: lr {rec['lr']:<8g} train loss {rec['train_loss']:.4f} "
                f"acc {rec['train_acc']:6.2f} | test loss {rec['test_loss']:.4f} top-1 {rec['top1']:6.2f} "
                f"top-5 {rec['top5']:6.2f} | {rec['seconds']:.1f}s {rec['images_per_s']:.0f} img/s")

    def message(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text)


@app.command("grid")
def grid_cmd(
    grid: Annotated[Path, typer.Argument(help="Grid YAML (see reruns/grids/).", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print every cell with its schedules and epochs "
                                                            "(with and without sharing the dense run); run nothing.")]
    = False,
    executor: Annotated[str, typer.Option("--executor", help="local (a pool of worker processes) or slurm "
                                                             "(submitit).")] = "local",
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where runs live.")] = Path("reruns/runs"),
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Where the table goes (default: "
                                                    "reruns/grids/<name>/).", show_default=False)] = None,
    results_dir: Annotated[Path, typer.Option("--results-dir", help="Collect one Result per row x ratio here.")]
    = Path("reruns/results"),
    no_results_dir: Annotated[bool, typer.Option("--no-results-dir", help="Do not collect results.")] = False,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or auto.")] = "cpu",
    slurm_folder: Annotated[Path, typer.Option("--slurm-folder", help="submitit's log folder.")]
    = Path("reruns/submitit"),
    slurm_param: Annotated[Optional[list[str]], typer.Option(
        "--slurm-param", help="KEY=VALUE for submitit's update_parameters (repeatable), e.g. slurm_partition=gpu, "
                              "gpus_per_node=1, timeout_min=600.", show_default=False)] = None,
) -> None:
    """Expand a grid (rows = the seed's setups x ratios x seeds) and run what is missing, then aggregate."""
    import sys

    from .grid import dry_run_text, load_grid

    if executor not in ("local", "slurm"):
        raise RerunError(f"--executor must be local or slurm, not {executor!r}")
    g = load_grid(grid)
    require_torch()
    if dry_run:
        typer.echo(dry_run_text(g))
        return
    from .aggregate import write_outputs
    from .executor import make_executor
    from .grid import run_grid

    params: dict[str, Any] = {}
    for kv in slurm_param or []:
        if "=" not in kv:
            raise RerunError(f"--slurm-param {kv!r}: expected KEY=VALUE")
        k, v = kv.split("=", 1)
        params[k.strip()] = int(v) if v.strip().lstrip("-").isdigit() else v.strip()
    if params and executor != "slurm":
        raise RerunError("--slurm-param needs --executor slurm")
    ex = make_executor(executor, workers, slurm_folder, **params)
    run = run_grid(g, runs_dir, ex, device=device, log=lambda m: typer.echo(m, err=True))
    out = out_dir or Path("reruns/grids") / g.name
    cmd = "prune-audit rerun " + " ".join(sys.argv[sys.argv.index("grid"):] if "grid" in sys.argv else ["grid", str(grid)])
    write_outputs(g, run, out, cmd, None if no_results_dir else results_dir)
    typer.echo((out / "table.md").read_text())
    typer.echo(f"wall time {run.seconds:.1f} s ({run.ran} cells run, {run.complete} read back); written to {out}/")


@app.command("crossval")
def crossval_cmd(
    method_a: Annotated[str, typer.Argument(metavar="A", help="A method the engine can run (l1, random, greg1, "
                                                            "greg2).", show_default=False)],
    method_b: Annotated[str, typer.Argument(metavar="B", help="Another method.", show_default=False)],
    recipe_a: Annotated[Path, typer.Option("--recipe-a", help="A's recipe RA (rerun recipe YAML).",
                                           show_default=False)],
    recipe_b: Annotated[Path, typer.Option("--recipe-b", help="B's recipe RB (rerun recipe YAML).",
                                           show_default=False)],
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds 0..N-1 of every configuration.")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="local or slurm (submitit).")] = "local",
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where runs live.")] = Path("reruns/runs"),
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Write crossval.json, runs.csv and the command "
                                                    "here (default: reruns/crossval/A-vs-B/).", show_default=False)]
    = None,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or auto.")] = "cpu",
) -> None:
    """Run A+RA, B+RB, A+RB, B+RA (x seeds) and print the seed's verdict (end of Sec. 5)."""
    import sys

    from .crossval import check_methods

    a, b = check_methods(method_a, method_b)
    if seeds < 1:
        raise RerunError(f"--seeds must be at least 1, not {seeds}")
    if executor not in ("local", "slurm"):
        raise RerunError(f"--executor must be local or slurm, not {executor!r}")
    from audit.io.yamlio import load, read_text

    datas = []
    for p in (recipe_a, recipe_b):
        from .config import load_recipe

        load_recipe(p)
        datas.append(load(read_text(p, str(p)), str(p))[0])
    require_torch()
    from .crossval import run_crossval
    from .executor import make_executor

    ex = make_executor(executor, workers)
    na, nb = recipe_a.stem, recipe_b.stem
    if na == nb:
        na, nb = "RA", "RB"
    rep = run_crossval(a, b, datas[0], datas[1], list(range(seeds)), runs_dir, ex, device, na, nb,
                       log=lambda m: typer.echo(m, err=True))
    out = out_dir or Path("reruns/crossval") / f"{a}-vs-{b}"
    out.mkdir(parents=True, exist_ok=True)
    cmd = "prune-audit rerun " + " ".join(sys.argv[sys.argv.index("crossval"):] if "crossval" in sys.argv
                                          else ["crossval", method_a, method_b])
    rep["command"] = cmd
    from audit.io.atomic import atomic_write_text

    lines = ["method,recipe,seed,top1,trainability_acc,result_id,run"]
    lines += [f"{r['method']},{r['recipe']},{r['seed']},{r['top1']!r},{r['trainability_acc']!r},{r['result_id']},"
              f"{r['run']}" for r in rep["runs"]]
    for k, v in rep["mean"].items():
        typer.echo(f"{k}: top-1 {v:.2f}" + (f" ± {rep['std'][k]:.2f}" if rep["std"][k] == rep["std"][k] else "")
                   + f" over {seeds} seed(s)")
    typer.echo(f"verdict: {rep['verdict']}")
    sh = rep["pretraining"]
    shared = (f"# pretraining shared: {sh['dense_runs']} dense run(s), {sh['pretrain_epochs_shared']} epochs "
              f"instead of {sh['pretrain_epochs_unshared']}\n" if sh["dense_runs"] else "")
    atomic_write_text(out / "crossval.json", json.dumps(rep, indent=1) + "\n")
    atomic_write_text(out / "runs.csv", "\n".join(lines) + "\n")
    atomic_write_text(out / "verdict.txt", f"{cmd}\n# wall time {rep['seconds']:.1f} s\n{shared}" + "\n".join(
        f"{k}: top-1 {v:.2f}" for k, v in rep["mean"].items()) + f"\nverdict: {rep['verdict']}\n")
    typer.echo(f"written to {out}/")


@app.command("flops")
def flops_cmd(
    network: Annotated[Optional[str], typer.Option("--network", help="Network id (resnet50, resnet56, vgg19, ...).",
                                                   show_default=False)] = None,
    ratios: Annotated[Optional[str], typer.Option(
        "--ratios", help="Uniform ratio (0.5) or stage-wise list '0,0.6,0.6,0.6,0.21,0' ([stem, layer1..., fc]); "
                         "VGG: 17 entries [conv0..conv15, fc] or a uniform ratio (convs 1-15).",
        show_default=False)] = None,
    num_classes: Annotated[Optional[int], typer.Option("--num-classes", help="Classes (default: the network's "
                                                       "customary 1000 / 10 / 100).", show_default=False)] = None,
    input_size: Annotated[Optional[int], typer.Option("--input-size", help="Input resolution (default 224 for "
                                                      "torchvision ResNets, 32 for CIFAR nets).",
                                                      show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
    result: Annotated[Optional[str], typer.Option(
        "--result", help="PAPER/RESULT of the registry: check its claimed speedup against its published ratios "
                         "(exit 1 when they disagree).",
        show_default=False)] = None,
) -> None:
    """Dense and pruned MACs, speedup, parameters and kept channels per layer.

    With ``--result`` this is a check: the report is printed either way, and the exit status is 1
    when the claimed speedup disagrees with the one the published ratios give (by more than 0.01x
    after rounding to two decimals, or 1 %)."""
    claimed = None
    key = None
    if result is not None:
        network, ratios, num_classes, claimed, key = _from_registry(result, network, ratios, num_classes)
    if network is None or ratios is None:
        raise RerunError("flops needs --network and --ratios (or --result PAPER/RESULT)")
    if num_classes is not None and num_classes < 1:
        raise RerunError(f"--num-classes must be positive, not {num_classes}")
    if input_size is not None and input_size < 8:
        raise RerunError(f"--input-size must be at least 8, not {input_size}")
    require_torch()
    from .flops import flops_report
    from .models import network_info

    network_info(network)
    rep = flops_report(network, ratios, num_classes, input_size)
    data = rep.to_json()
    if claimed is not None:
        agrees = abs(round(rep.speedup, 2) - round(claimed, 2)) <= 0.011 or abs(rep.speedup / claimed - 1) < 0.01
        data["check"] = {"result": key, "claimed_speedup": claimed, "computed_speedup": rep.speedup,
                         "agrees": agrees}
    if as_json:
        typer.echo(json.dumps(data, indent=1))
    else:
        _print_flops(data)
    if claimed is not None and not data["check"]["agrees"]:
        raise typer.Exit(1)


def _from_registry(key: str, network, ratios, num_classes):
    from audit.registry.store import load_registry

    entry = load_registry().find_result(key)
    r = entry.result
    comp = r.compression
    if comp.layerwise_ratios is not None:
        pub: Any = ",".join(repr(x) for x in comp.layerwise_ratios)
    elif comp.pruning_ratio is not None:
        pub = repr(comp.pruning_ratio)
    else:
        raise RerunError(f"result {key} publishes no layer-wise or uniform pruning ratios: nothing to check")
    if r.speedup is None:
        raise RerunError(f"result {key} claims no speedup: nothing to check")
    if network is not None and network != r.network:
        raise RerunError(f"--network {network} contradicts result {key}, which is on {r.network}")
    if ratios is not None:
        raise RerunError("give either --ratios or --result (the result's published ratios are used)")
    return r.network, pub, num_classes or DATASET_CLASSES.get(r.dataset), r.speedup, key


def _print_flops(d: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    c = Console()
    c.print(f"[bold]{d['network']}[/bold], {d['num_classes']} classes, {d['input_size']}x{d['input_size']} input; "
            f"{d['convention']}")
    t = Table(show_header=True)
    for col in ("", "dense", "pruned"):
        t.add_column(col, justify="right")
    t.add_row("MACs (G)", f"{d['dense_macs'] / 1e9:.4f}", f"{d['pruned_macs'] / 1e9:.4f}")
    t.add_row("2xMACs (G, alt.)", f"{d['dense_2x_macs'] / 1e9:.4f}", f"{d['pruned_2x_macs'] / 1e9:.4f}")
    t.add_row("params (M)", f"{d['dense_params'] / 1e6:.4f}", f"{d['pruned_params'] / 1e6:.4f}")
    t.add_row("params w/o BN (M)", f"{d['dense_params_no_bn'] / 1e6:.4f}", f"{d['pruned_params_no_bn'] / 1e6:.4f}")
    c.print(t)
    c.print(f"speedup {d['speedup']:.4f}x ({d['flops_reduction_pct']:.2f}% MACs removed), "
            f"params -{d['params_reduction_pct']:.2f}%")
    if "check" in d:
        ch = d["check"]
        verdict = "[green]agrees[/green]" if ch["agrees"] else "[red]DISAGREES[/red]"
        c.print(f"{ch['result']}: claimed {ch['claimed_speedup']}x, computed {ch['computed_speedup']:.4f}x: {verdict}")
    lt = Table(title="kept channels", show_header=True)
    for col in ("layer", "stage", "ratio", "channels", "kept"):
        lt.add_column(col, justify="right" if col in ("channels", "kept") else "left")
    for row in d["layers"]:
        lt.add_row(row["layer"], row["stage"], row["ratio"], str(row["channels"]), str(row["kept"]))
    c.print(lt)


if __name__ == "__main__":  # pragma: no cover - used by the kill-and-resume test
    import sys

    from ..errors import AuditError

    try:
        app()
    except AuditError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
