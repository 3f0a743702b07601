"""``prune-audit recipe derive|budget``: the seed's Appendix-A schedules and the scratch budgets.

The rules themselves are :mod:`audit.core.rules`; this module parses options and prints.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from audit.cli.options import Command, JsonOpt, new_app, parse_finite
from audit.io import jsontext

__all__ = ["app", "recipe_budget", "recipe_derive"]

app = new_app("The seed's recipe rules: derived LR schedules and scratch budgets.")


@app.command("derive", cls=Command)
def recipe_derive(
    epochs: Annotated[int, typer.Option("--epochs", metavar="N", help="Total epochs of the schedule.")],
    lr: Annotated[float, typer.Option("--lr", metavar="LR", parser=parse_finite, help="Initial LR.")],
    final_lr: Annotated[float, typer.Option("--final-lr", metavar="LR", parser=parse_finite,
                                            help="Final LR (Rule 1).")] = 1e-5,
    gamma: Annotated[float, typer.Option("--gamma", metavar="FACTOR", parser=parse_finite,
                                         help="LR factor per stage.")] = 0.1,
    max_stage: Annotated[int, typer.Option("--max-stage", metavar="EPOCHS",
                                           help="Longest stage in epochs (Rule 3); 0 = no cap (CIFAR halving).")]
    = 30,
    tail: Annotated[Optional[int], typer.Option("--tail", metavar="EPOCH", show_default=False,
                                                help="Also print the S4.2 finetuning schedule after this pruning "
                                                     "epoch.")] = None,
) -> None:
    """The seed's Appendix-A schedule (prints e.g. 0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5).

    Raises :class:`audit.errors.AuditError` for a negative ``--max-stage`` or a ``--tail`` outside
    1..epochs-1, and :class:`audit.core.rules.RecipeError` for inputs the rules reject.
    """
    from rich.table import Table

    from audit.cli.console import make_console
    from audit.core.rules import derive, s42_finetune, schedule_text
    from audit.core.schedule import format_lr
    from audit.errors import AuditError

    if max_stage < 0:
        raise AuditError(f"--max-stage must be >= 0 (0 = no cap; got {max_stage})")
    sched = derive(epochs, lr, final_lr=final_lr, gamma=gamma, max_stage=max_stage or None)
    tail_line = None
    if tail is not None:
        if not 0 < tail < epochs:
            raise AuditError(f"--tail must be a pruning epoch between 1 and {epochs - 1} (got {tail})")
        tail_line = (f"S4.2 finetuning after pruning epoch {tail} (P{tail}F{epochs - tail}): "
                     f"{schedule_text(s42_finetune(sched, tail))}")
    print(schedule_text(sched))
    lengths = [b[0] - a[0] for a, b in zip(sched.points, sched.points[1:])] + [epochs - sched.points[-1][0]]
    if not max_stage:
        cap = "no stage cap (CIFAR halving)"
    elif lengths[-1] > max_stage:  # Rule 1 (reach the final LR) wins over Rule 3: the last stage takes the rest
        cap = (f"max {max_stage} epochs per stage except the last, which takes the remaining {lengths[-1]}: "
               f"{len(lengths)} stages of at most {max_stage} epochs cannot fill {epochs} (Rule 3 yields to Rule 1)")
    else:
        cap = f"max {max_stage} epochs per stage"
    t = Table()
    for col in ("stage", "epochs", "length", "LR"):
        t.add_column(col, justify="right" if col != "epochs" else "left")
    pts = sched.points
    for k, (start, value) in enumerate(pts):
        end = pts[k + 1][0] if k + 1 < len(pts) else epochs
        t.add_row(str(k + 1), f"{start}-{end - 1}", str(end - start), format_lr(value))
    make_console().print(t)
    print(f"{epochs} epochs from {format_lr(float(lr))} to {format_lr(float(final_lr))}; Appendix A rules: "
          f"LR x{gamma:g} per stage, halving, {cap}")
    if tail_line is not None:
        print(tail_line)


@app.command("budget", cls=Command)
def recipe_budget(
    pretrain_epochs: Annotated[float, typer.Option("--pretrain-epochs", metavar="EPOCHS", parser=parse_finite,
                                                   help="K1: dense training epochs.")],
    finetune_epochs: Annotated[float, typer.Option("--finetune-epochs", metavar="EPOCHS", parser=parse_finite,
                                                   help="K2: finetuning epochs.")],
    speedup: Annotated[float, typer.Option("--speedup", metavar="X", parser=parse_finite,
                                           help="F1/F2: dense FLOPs / pruned FLOPs.")],
    prune_epochs: Annotated[float, typer.Option("--prune-epochs", metavar="EPOCHS", parser=parse_finite,
                                                help="Pruning-stage epochs (0 = one-shot).")] = 0,
    cap: Annotated[float, typer.Option("--cap", metavar="X", parser=parse_finite,
                                       help="Rethinking Scratch-B cap on F1/F2 (2 on ImageNet; 0 = uncapped).")]
    = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Scratch-E/Scratch-B epochs (seed and rethinking definitions), SX-A/SX-B totals, SX-B squeeze.

    Raises :class:`audit.errors.AuditError` for a negative ``--cap`` and
    :class:`audit.core.rules.RecipeError` for inputs the rules reject.
    """
    from audit.core.rules import budget
    from audit.errors import AuditError

    if cap < 0:
        raise AuditError(f"--cap must be >= 1, or 0 for no cap (got {cap:g})")
    b = budget(pretrain_epochs, finetune_epochs, speedup, prune_epochs, cap=cap or None)
    if as_json:
        import sys

        out = {"pretrain_epochs": b.pretrain_epochs, "prune_epochs": b.prune_epochs,
               "finetune_epochs": b.finetune_epochs, "speedup": b.speedup, "cap": b.cap,
               "sx_a_epochs": b.sx_a_epochs, "sx_b_cost": round(b.sx_b_cost, 4),
               "scratch_e_seed": b.scratch_e_seed, "scratch_b_seed": round(b.scratch_b_seed, 4),
               "scratch_e_rethinking": b.scratch_e_rethinking,
               "scratch_b_rethinking": round(b.scratch_b_rethinking, 4),
               "squeezed_pruning_epoch": round(b.squeezed_pruning_epoch, 4)}
        sys.stdout.write(jsontext.dumps(out))
        sys.stdout.write("\n")
        return
    from rich.table import Table

    from audit.cli.console import make_console

    rows = [
        ("SX-A total epochs", b.sx_a_epochs, "pretrain + prune + finetune"),
        ("SX-B total cost", b.sx_b_cost, "dense-epoch units: pretrain + prune + finetune / speedup"),
        ("Scratch-E (seed, SX-A)", b.scratch_e_seed, "K1 + Kp + K2 epochs of the pruned model"),
        ("Scratch-B (seed, SX-B)", b.scratch_b_seed, "(K1 + Kp)·F1/F2 + K2 epochs (Sec. 2.2)"),
        ("Scratch-E (rethinking)", b.scratch_e_rethinking, "K1: the large model's epochs (Liu et al. 2019)"),
        ("Scratch-B (rethinking)", b.scratch_b_rethinking,
         "K1·min(F1/F2, cap)" + (f", cap {b.cap:g} (ImageNet: at most double)" if b.cap else ", uncapped")),
        ("SX-B squeezed pruning epoch", b.squeezed_pruning_epoch, "K1 / speedup (Sec. 4, Tab. 4)"),
    ]
    t = Table(title=f"pipeline: pretrain {b.pretrain_epochs:g} + prune {b.prune_epochs:g} + finetune "
                    f"{b.finetune_epochs:g} epochs at speedup {b.speedup:g}×", title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("definition")
    for name, value, how in rows:
        t.add_row(name, f"{value:.2f}" if value != int(value) else f"{int(value)}", how)
    make_console().print(t)
