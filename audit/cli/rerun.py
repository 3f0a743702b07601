"""``prune-audit rerun run|grid|crossval|flops``: run recipes, grids and cross-validations; count FLOPs.

Importable without torch: torch and the engine (:mod:`audit.rerun`) are imported inside the
commands only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, Optional

import typer

from audit.cli.options import (
    Command,
    Device,
    DeviceOpt,
    Executor,
    ExecutorOpt,
    JsonOpt,
    RegistryOpt,
    ResultsDirOpt,
    RunsDirOpt,
    SeedsOpt,
    WorkersOpt,
    new_app,
)
from audit.errors import AuditError
from audit.io import jsontext

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["NoResultsDirOpt", "SpeedupCheckFailed", "app", "crossval_cmd", "flops_cmd", "grid_cmd", "run_cmd"]

app = new_app("Rerun L1-norm filter pruning under a recipe (pretrain -> prune -> finetune, or scratch), "
              "and count FLOPs/parameters of pruned networks.")

"""Class count of each dataset id (the default ``--num-classes`` of ``flops --result``)."""

NoResultsDirOpt = Annotated[bool, typer.Option("--no-results-dir", help="Do not collect results.")]


class SpeedupCheckFailed(AuditError):
    """``flops --result``: the claimed speedup is not the one the published ratios give (exit status 1)."""


def _command_line(word: str, fallback: list[str]) -> str:
    """The ``prune-audit rerun ...`` command as typed, from ``word`` (the sub-command) on; recorded
    next to the outputs so that a table says how it was made."""
    import sys

    return "prune-audit rerun " + " ".join(sys.argv[sys.argv.index(word):] if word in sys.argv else fallback)


@app.command("run", cls=Command)
def run_cmd(
    recipe: Annotated[Path, typer.Argument(metavar="RECIPE.yaml", show_default=False,
                                           help="Recipe YAML (see reruns/recipes/).")],
    runs_dir: RunsDirOpt = Path("reruns/runs"),
    device: DeviceOpt = Device.cpu,
    results_dir: ResultsDirOpt = Path("reruns/results"),
    no_results_dir: NoResultsDirOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result record as JSON.")] = False,
) -> None:
    """Run a recipe; rerunning the same recipe resumes it (or, once complete, just reads its result)."""
    from audit.io.atomic import atomic_write_bytes
    from audit.rerun.config import load_recipe
    from audit.rerun.errors import require_torch

    rec = load_recipe(recipe)
    require_torch()
    from rich.text import Text

    from audit.cli.console import make_console
    from audit.rerun.runs import run_recipe

    with _ProgressHooks(make_console(stderr=True), quiet=as_json) as hooks:
        outcome = run_recipe(rec, runs_dir, device=device.value, hooks=hooks,  # type: ignore[arg-type]
                             recipe_dir=recipe.resolve().parent)
    r = outcome.result
    collected = None
    if not no_results_dir:
        results_dir.mkdir(parents=True, exist_ok=True)
        for ext, name in (("csv", "metrics.csv"), ("json", "result.json")):  # the result last
            atomic_write_bytes(results_dir / f"{r.id}.{ext}", (outcome.run_dir / name).read_bytes())
        collected = results_dir / f"{r.id}.json"
    if as_json:
        out = {"run_dir": str(outcome.run_dir), "recipe_hash": outcome.recipe_hash, "status": outcome.status,
               "collected": str(collected) if collected else None,
               "result": r.model_dump(mode="json", exclude_none=True)}
        typer.echo(jsontext.dumps(out, indent=1), nl=False)
        return
    c = make_console()
    c.print(Text.assemble((outcome.status, "bold"), f": {outcome.run_dir}  (recipe {outcome.recipe_hash[:16]})"))
    ta = f"{r.trainability_acc:.2f}" if r.trainability_acc is not None else "n/a"
    base = f"{r.base.top1:.2f}" if r.base.top1 is not None else "n/a"
    c.print(f"{r.network} on {r.dataset}: base top-1 {base} -> final top-1 {r.top1_value:.2f} "
            f"(top-5 {r.top5.mean if r.top5 else float('nan'):.2f}), trainability acc {ta}, "
            f"speedup {r.compression.speedup:.2f}x")
    c.print(f"result: {outcome.run_dir / 'result.json'}; learning curve: {outcome.run_dir / 'metrics.csv'}")
    if collected:
        c.print(f"collected: {collected} (+ .csv)")


class _ProgressHooks:
    """The engine's progress hooks (see ``audit.rerun.stages.Hooks``) drawn as a rich progress bar
    over each epoch's images, with one summary line per epoch; ``quiet`` draws nothing."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.progress: Any = None
        self.task: Any = None
        self.epochs = 0
        self.images = 0

    def __enter__(self) -> _ProgressHooks:
        if not self.quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                                     transient=False)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def stage_start(self, stage: str, epochs: int, start_epoch: int, images_per_epoch: int) -> None:
        self.epochs, self.images = epochs, images_per_epoch

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


def _slurm_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as submitit parameters (integer values as int); raises RerunError otherwise."""
    from audit.rerun.errors import RerunError

    params: dict[str, Any] = {}
    for kv in pairs:
        if "=" not in kv:
            raise RerunError(f"--slurm-param {kv!r}: expected KEY=VALUE")
        k, v = kv.split("=", 1)
        params[k.strip()] = int(v) if v.strip().lstrip("-").isdigit() else v.strip()
    return params


@app.command("grid", cls=Command)
def grid_cmd(
    grid: Annotated[Path, typer.Argument(metavar="GRID.yaml", show_default=False,
                                         help="Grid YAML (see reruns/grids/).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print every cell with its schedules and epochs "
                                                            "(with and without sharing the dense run); run nothing.")]
    = False,
    executor: ExecutorOpt = Executor.local,
    workers: WorkersOpt = 1,
    runs_dir: RunsDirOpt = Path("reruns/runs"),
    out_dir: Annotated[Optional[Path], typer.Option("--out", metavar="DIR", show_default=False,
                                                    help="Where the table goes (default: reruns/grids/<name>/).")]
    = None,
    results_dir: ResultsDirOpt = Path("reruns/results"),
    no_results_dir: NoResultsDirOpt = False,
    device: DeviceOpt = Device.cpu,
    slurm_folder: Annotated[Path, typer.Option("--slurm-folder", metavar="DIR", help="submitit's log folder.")]
    = Path("reruns/submitit"),
    slurm_param: Annotated[Optional[list[str]], typer.Option(
        "--slurm-param", metavar="KEY=VALUE", show_default=False,
        help="A parameter of submitit's update_parameters (repeatable), e.g. slurm_partition=gpu, "
             "gpus_per_node=1, timeout_min=600.")] = None,
) -> None:
    """Expand a grid (rows = the seed's setups x ratios x seeds) and run what is missing, then aggregate."""
    from audit.rerun.errors import RerunError, require_torch
    from audit.rerun.grid import dry_run_text, load_grid

    g = load_grid(grid)
    require_torch()
    if dry_run:
        typer.echo(dry_run_text(g))
        return
    from audit.rerun.aggregate import write_outputs
    from audit.rerun.executor import make_executor
    from audit.rerun.grid import run_grid

    params = _slurm_params(slurm_param or [])
    if params and executor is not Executor.slurm:
        raise RerunError("--slurm-param needs --executor slurm")
    ex = make_executor(executor.value, workers, slurm_folder, **params)
    run = run_grid(g, runs_dir, ex, device=device.value, log=lambda m: typer.echo(m, err=True))
    out = out_dir or Path("reruns/grids") / g.name
    write_outputs(g, run, out, _command_line("grid", ["grid", str(grid)]), None if no_results_dir else results_dir)
    typer.echo((out / "table.md").read_text())
    typer.echo(f"wall time {run.seconds:.1f} s ({run.ran} cells run, {run.complete} read back); written to {out}/")


@app.command("crossval", cls=Command)
def crossval_cmd(
    method_a: Annotated[str, typer.Argument(metavar="A", show_default=False,
                                            help="A method the engine can run (l1, random, greg1, greg2).")],
    method_b: Annotated[str, typer.Argument(metavar="B", show_default=False, help="Another method.")],
    recipe_a: Annotated[Path, typer.Option("--recipe-a", metavar="RECIPE.yaml", show_default=False,
                                           help="A's recipe RA (rerun recipe YAML).")],
    recipe_b: Annotated[Path, typer.Option("--recipe-b", metavar="RECIPE.yaml", show_default=False,
                                           help="B's recipe RB (rerun recipe YAML).")],
    seeds: SeedsOpt = 1,
    executor: ExecutorOpt = Executor.local,
    workers: WorkersOpt = 1,
    runs_dir: RunsDirOpt = Path("reruns/runs"),
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", metavar="DIR", show_default=False,
        help="Write crossval.json, runs.csv and the command here (default: reruns/crossval/A-vs-B/).")] = None,
    device: DeviceOpt = Device.cpu,
) -> None:
    """Run A+RA, B+RB, A+RB, B+RA (x seeds) and print the seed's verdict (end of Sec. 5)."""
    from audit.io.atomic import atomic_write_text
    from audit.rerun.config import read_recipe
    from audit.rerun.crossval import check_methods
    from audit.rerun.errors import require_torch

    a, b = check_methods(method_a, method_b)
    datas = [read_recipe(p).data for p in (recipe_a, recipe_b)]
    require_torch()
    from audit.rerun.crossval import run_crossval
    from audit.rerun.executor import make_executor

    ex = make_executor(executor.value, workers)
    na, nb = recipe_a.stem, recipe_b.stem
    if na == nb:
        na, nb = "RA", "RB"
    rep = run_crossval(a, b, datas[0], datas[1], list(range(seeds)), runs_dir, ex, device.value, na, nb,
                       log=lambda m: typer.echo(m, err=True))
    out = out_dir or Path("reruns/crossval") / f"{a}-vs-{b}"
    out.mkdir(parents=True, exist_ok=True)
    cmd = _command_line("crossval", ["crossval", method_a, method_b])
    rep["command"] = cmd
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
    atomic_write_text(out / "crossval.json", jsontext.dumps(rep, indent=1))
    atomic_write_text(out / "runs.csv", "\n".join(lines) + "\n")
    atomic_write_text(out / "verdict.txt", f"{cmd}\n# wall time {rep['seconds']:.1f} s\n{shared}" + "\n".join(
        f"{k}: top-1 {v:.2f}" for k, v in rep["mean"].items()) + f"\nverdict: {rep['verdict']}\n")
    typer.echo(f"written to {out}/")


_RATIOS_HELP = (
    "Uniform ratio (0.5); stage-wise list '0,0.6,0.6,0.6,0.21,0' (one entry per item of [ stem, layer1, ..., fc ]; "
    "VGG-19: [ conv0, ..., conv15, fc ], VGG-16: [ conv0, ..., conv12, fc ]); per-conv list (one entry per conv in "
    "module order, e.g. HRank's 55 for resnet56); or a mapping 'layer1=0.6,layer2=0.3' / '{\"layer3.residual\": 0.2}' "
    "(keys: stage, block, layer, stem, layerN.residual, VGG conv index or range '7-12').")
"""The ``--ratios`` help; ``[`` is followed by a space so that no markup renderer takes a list for a tag."""


@app.command("flops", cls=Command)
def flops_cmd(
    network: Annotated[Optional[str], typer.Option("--network", metavar="ID", show_default=False,
                                                   help="Network id (resnet50, resnet56, vgg19, vgg16-2fc, ...).")]
    = None,
    ratios: Annotated[Optional[str], typer.Option("--ratios", metavar="RATIOS", show_default=False,
                                                  help=_RATIOS_HELP)] = None,
    skip: Annotated[Optional[list[str]], typer.Option(
        "--skip", metavar="LAYERS", show_default=False,
        help="Blocks or layers left unpruned, comma-separated and/or repeated (Li et al.: --skip "
             "layer1.0,layer2.0,layer2.3,layer3.0,layer3.5).")] = None,
    rounding: Annotated[str, typer.Option(
        "--rounding", metavar="RULE",
        help="Filters removed of C at ratio r: ceil-pruned = min(ceil(r*C), C-1) (the seed, GReg); floor-pruned "
             "= min(floor(r*C), C-1) (Distiller, HRank); floor-kept keeps max(floor((1-r)*C), 1) (rethinking).")]
    = "ceil-pruned",
    convention: Annotated[Optional[str], typer.Option(
        "--convention", metavar="NAME", show_default=False,
        help="Counting convention: MACs (default: conv + linear), 2xMACs, ptflops (+ bias, BN, ReLU, pooling: "
             "Torch-Pruning's counter), no-projection (Li et al.'s ResNet-34), outputs-only (HRank). With --result: "
             "the result's own (MACs unless it states 2xMACs).")] = None,
    num_classes: Annotated[Optional[int], typer.Option(
        "--num-classes", metavar="N", show_default=False,
        help="Classes (default: the network's customary 1000 / 10 / 100; with --result the dataset's).")] = None,
    input_size: Annotated[Optional[int], typer.Option(
        "--input-size", metavar="PIXELS", show_default=False,
        help="Input resolution (default 224 for torchvision ResNets, 32 for CIFAR nets; with --result the "
             "dataset's).")] = None,
    as_json: JsonOpt = False,
    result: Annotated[Optional[str], typer.Option(
        "--result", metavar="PAPER/RESULT", show_default=False,
        help="A result of the registry: check its claimed speedup against its published ratios "
             "(exit 1 when they disagree).")] = None,
    registry: RegistryOpt = None,
) -> None:
    """Dense and pruned MACs, speedup, parameters and kept channels per layer.

    Counted from the torch-free MAC tables (:mod:`audit.core.macs`) for every network that has one,
    else by the engine.  With ``--result`` this is a check: the report is printed either way, then
    :class:`SpeedupCheckFailed` (exit status 1) is raised when the claimed speedup disagrees with
    the one the published ratios give (by more than 0.01x after rounding to two decimals, or 1 %)."""
    from audit.core import macs
    from audit.rerun.errors import RerunError

    claimed = None
    key = None
    skips = tuple(x.strip() for item in (skip or []) for x in item.split(",") if x.strip())
    if result is not None:
        src = _from_registry(result, network, ratios, registry)
        network, ratios, claimed, key = src.network, src.ratios, src.speedup, result
        num_classes = num_classes or src.classes
        input_size = input_size or src.input_size
        convention = convention or src.convention
        skips = skips or src.skip
    if network is None or ratios is None:
        raise RerunError("flops needs --network and --ratios (or --result PAPER/RESULT)")
    if num_classes is not None and num_classes < 1:
        raise RerunError(f"--num-classes must be positive, not {num_classes}")
    if input_size is not None and input_size < 8:
        raise RerunError(f"--input-size must be at least 8, not {input_size}")
    convention = convention or "MACs"
    if macs.has_table(network):
        data = macs.flops_json(network, ratios, skip=skips, rounding=rounding, convention=convention,
                               input_size=input_size, classes=num_classes)
    else:
        from audit.rerun.errors import require_torch

        require_torch()
        from audit.rerun.flops import flops_report
        from audit.rerun.models import network_info

        network_info(network)
        data = flops_report(network, ratios, num_classes, input_size, skip=skips, rounding=rounding,
                            convention=convention).to_json()
    speedup = data["speedup"]
    if claimed is not None:
        agrees = abs(round(speedup, 2) - round(claimed, 2)) <= 0.011 or abs(speedup / claimed - 1) < 0.01
        data["check"] = {"result": key, "claimed_speedup": claimed, "computed_speedup": speedup,
                         "agrees": agrees}
    if as_json:
        typer.echo(jsontext.dumps(data, indent=1), nl=False)
    else:
        _print_flops(data)
    if claimed is not None and not data["check"]["agrees"]:
        raise SpeedupCheckFailed(f"{key}: claimed speedup {claimed}x, computed {speedup:.4f}x from its "
                                 "published ratios: they disagree")


class _Published(NamedTuple):
    """What ``flops --result`` takes from a registry result."""

    network: str
    ratios: str
    speedup: float
    classes: int
    input_size: int
    convention: str
    skip: tuple[str, ...]


def _from_registry(key: str, network: str | None, ratios: str | None, registry: Path | None) -> _Published:
    """Network, published ratios and skip list, claimed speedup, the dataset's class count and input size,
    and the FLOPs convention the result states (``MACs`` when none) of registry result ``key``
    (``paper/result``); raises RerunError when the result cannot be checked or contradicts the options."""
    from audit.core import catalog
    from audit.registry.store import load_registry
    from audit.rerun.errors import RerunError

    entry = load_registry(registry).find_result(key)
    r = entry.result
    comp = r.compression
    if comp.layerwise_ratios is not None:
        pub = ",".join(repr(x) for x in comp.layerwise_ratios)
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
    ds = catalog.dataset(r.dataset)
    stated = comp.flops.convention if comp.flops is not None else None
    skip = tuple(getattr(comp, "skip", None) or ())  # a registry schema with skip lists fills it
    return _Published(r.network, pub, r.speedup, ds.classes, ds.input_size, stated or "MACs", skip)


def _print_flops(d: dict[str, Any]) -> None:
    """The flops report as text: header, dense/pruned table, speedup, the check's verdict, kept channels."""
    from rich.table import Table
    from rich.text import Text

    from audit.cli.console import make_console

    c = make_console()
    c.print(Text.assemble((d["network"], "bold"), f", {d['num_classes']} classes, {d['input_size']}x"
                                                  f"{d['input_size']} input; {d['convention']}; rounding "
                                                  f"{d['rounding']}"))
    t = Table(show_header=True)
    for col in ("", "dense", "pruned"):
        t.add_column(col, justify="right")
    unit = {"MACs": "MACs", "2xMACs": "2xMACs", "ptflops": "ptflops ops", "no-projection": "MACs w/o proj.",
            "outputs-only": "HRank MACs"}[d["convention_name"]]
    t.add_row(f"{unit} (G)", f"{d['dense_macs'] / 1e9:.4f}", f"{d['pruned_macs'] / 1e9:.4f}")
    if d["convention_name"] == "MACs":
        t.add_row("2xMACs (G, alt.)", f"{d['dense_2x_macs'] / 1e9:.4f}", f"{d['pruned_2x_macs'] / 1e9:.4f}")
    elif d["convention_name"] == "2xMACs":
        t.add_row("MACs (G, alt.)", f"{d['dense_macs'] / 2e9:.4f}", f"{d['pruned_macs'] / 2e9:.4f}")
    t.add_row("params (M)", f"{d['dense_params'] / 1e6:.4f}", f"{d['pruned_params'] / 1e6:.4f}")
    t.add_row("params w/o BN (M)", f"{d['dense_params_no_bn'] / 1e6:.4f}", f"{d['pruned_params_no_bn'] / 1e6:.4f}")
    c.print(t)
    c.print(f"speedup {d['speedup']:.4f}x ({d['flops_reduction_pct']:.2f}% MACs removed), "
            f"params -{d['params_reduction_pct']:.2f}%")
    if "check" in d:
        ch = d["check"]
        verdict = ("agrees", "green") if ch["agrees"] else ("DISAGREES", "red")
        c.print(Text.assemble(f"{ch['result']}: claimed {ch['claimed_speedup']}x, computed "
                              f"{ch['computed_speedup']:.4f}x: ", verdict))
    lt = Table(title="kept channels", show_header=True)
    for col in ("layer", "stage", "ratio", "channels", "kept"):
        lt.add_column(col, justify="right" if col in ("channels", "kept") else "left")
    for row in d["layers"]:
        lt.add_row(row["layer"], row["stage"], row["ratio"], str(row["channels"]), str(row["kept"]))
    c.print(lt)
