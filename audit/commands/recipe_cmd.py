"""``prune-audit recipe derive|budget``: the seed's Appendix-A schedules and the scratch budgets."""

from __future__ import annotations

import json
import sys

from ..errors import AuditError


def _console():
    from rich.console import Console

    return Console(soft_wrap=False, width=max(100, Console().width))


def derive_main(*, epochs: int, lr: float, final_lr: float = 1e-5, gamma: float = 0.1, max_stage: int = 30,
                tail: int | None = None) -> int:
    from audit.core.rules import derive, s42_finetune, schedule_text
    from audit.core.schedule import format_lr

    if max_stage < 0:
        raise AuditError(f"--max-stage must be >= 0 (0 = no cap; got {max_stage})")
    sched = derive(epochs, lr, final_lr=final_lr, gamma=gamma, max_stage=max_stage or None)
    tail_sched = None
    if tail is not None:
        if not 0 < tail < epochs:
            raise AuditError(f"--tail must be a pruning epoch between 1 and {epochs - 1} (got {tail})")
        tail_sched = s42_finetune(sched, tail)
    print(schedule_text(sched))
    from rich.table import Table

    cap = f"max {max_stage} epochs per stage" if max_stage else "no stage cap (CIFAR halving)"
    t = Table()
    for col in ("stage", "epochs", "length", "LR"):
        t.add_column(col, justify="right" if col != "epochs" else "left")
    pts = sched.points
    for k, (start, value) in enumerate(pts):
        end = pts[k + 1][0] if k + 1 < len(pts) else epochs
        t.add_row(str(k + 1), f"{start}-{end - 1}", str(end - start), format_lr(value))
    console = _console()
    console.print(t)
    print(f"{epochs} epochs from {format_lr(float(lr))} to {format_lr(float(final_lr))}; Appendix A rules: "
          f"LR x{gamma:g} per stage, halving, {cap}")
    if tail_sched is not None:
        print(f"S4.2 finetuning after pruning epoch {tail} (P{tail}F{epochs - tail}): {schedule_text(tail_sched)}")
    return 0


def budget_main(*, pretrain_epochs: float, finetune_epochs: float, speedup: float, prune_epochs: float = 0,
                cap: float = 2.0, as_json: bool = False) -> int:
    from audit.core.rules import budget

    if cap < 0:
        raise AuditError(f"--cap must be >= 1, or 0 for no cap (got {cap:g})")
    b = budget(pretrain_epochs, finetune_epochs, speedup, prune_epochs, cap=cap or None)
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
    if as_json:
        out = {"pretrain_epochs": b.pretrain_epochs, "prune_epochs": b.prune_epochs,
               "finetune_epochs": b.finetune_epochs, "speedup": b.speedup, "cap": b.cap,
               "sx_a_epochs": b.sx_a_epochs, "sx_b_cost": round(b.sx_b_cost, 4),
               "scratch_e_seed": b.scratch_e_seed, "scratch_b_seed": round(b.scratch_b_seed, 4),
               "scratch_e_rethinking": b.scratch_e_rethinking,
               "scratch_b_rethinking": round(b.scratch_b_rethinking, 4),
               "squeezed_pruning_epoch": round(b.squeezed_pruning_epoch, 4)}
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.table import Table

    t = Table(title=f"pipeline: pretrain {b.pretrain_epochs:g} + prune {b.prune_epochs:g} + finetune "
                    f"{b.finetune_epochs:g} epochs at speedup {b.speedup:g}×", title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("definition")
    for name, value, how in rows:
        t.add_row(name, f"{value:.2f}" if value != int(value) else f"{int(value)}", how)
    _console().print(t)
    return 0
