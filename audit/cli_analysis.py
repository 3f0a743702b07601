"""``prune-audit compare``, ``prune-audit audit`` and ``prune-audit recipe derive|budget``.

Mounted on the main app by :func:`register` (``audit.cli`` calls it at import).  Only typer,
typing and pathlib are imported here; every command imports its implementation lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

RegistryOpt = Annotated[
    Optional[Path],
    typer.Option("--registry", help="Registry directory (default: $PRUNE_AUDIT_REGISTRY, else the shipped one).",
                 show_default=False),
]
DatasetOpt = Annotated[Optional[str], typer.Option(help="Only this dataset id (e.g. imagenet-1k).")]
NetworkOpt = Annotated[Optional[str], typer.Option(help="Only this network id (e.g. resnet50).")]
ToleranceOpt = Annotated[
    float, typer.Option(help="Relative speedup tolerance for 'same rate' and SX-B (0.05 = 5 %).")
]
BaseAccOpt = Annotated[
    bool, typer.Option("--accept-base-accuracy",
                       help="Count an equal base accuracy without a base identity as the same base (inferred) for S2.")
]


def register(app: typer.Typer) -> None:
    """Add ``compare``, ``audit`` and the ``recipe`` sub-app to ``app``."""

    @app.command("compare")
    def compare(
        method_a: Annotated[str, typer.Argument(metavar="A", help="A method (any alias), e.g. GReg-2.")],
        method_b: Annotated[str, typer.Argument(metavar="B", help="Another method, e.g. L1-norm.")],
        dataset: DatasetOpt = None,
        network: NetworkOpt = None,
        tolerance: ToleranceOpt = 0.05,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON (docs/compare.schema.json).")] = False,
        accept_base_accuracy: BaseAccOpt = False,
        registry: RegistryOpt = None,
        rerun: Annotated[bool, typer.Option(
            "--rerun", help="Run the printed cross-validation plan with the rerun engine (A+RA, B+RB, A+RB, B+RA; "
                            "needs --rerun-base and the 'rerun' extra).")] = False,
        rerun_base: Annotated[Optional[Path], typer.Option(
            "--rerun-base", help="Rerun recipe giving model, dataset, pretraining and ratio; its finetuning stage is "
                                 "replaced by the plan's recipes.", show_default=False)] = None,
        seeds: Annotated[int, typer.Option("--seeds", help="With --rerun: seeds per configuration.")] = 1,
        runs_dir: Annotated[Path, typer.Option("--runs-dir", help="With --rerun: where runs live.")]
        = Path("reruns/runs"),
    ) -> int:
        """Which published numbers of A and B may be compared fairly, the real gap, and what would settle it."""
        from .commands import compare_cmd

        if rerun:
            return compare_cmd.rerun_plan(a=method_a, b=method_b, dataset=dataset, network=network,
                                          tolerance=tolerance, registry=registry, base=rerun_base, seeds=seeds,
                                          runs_dir=runs_dir, accept_base_accuracy=accept_base_accuracy)
        return compare_cmd.main(a=method_a, b=method_b, dataset=dataset, network=network, tolerance=tolerance,
                                as_json=as_json, registry=registry, accept_base_accuracy=accept_base_accuracy)

    @app.command("audit")
    def audit(
        dataset: DatasetOpt = None,
        network: NetworkOpt = None,
        tolerance: ToleranceOpt = 0.05,
        as_csv: Annotated[bool, typer.Option("--csv", help="The setup matrix as CSV (one row per method pair).")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
        accept_base_accuracy: BaseAccOpt = False,
        registry: RegistryOpt = None,
    ) -> int:
        """Setups of all method pairs, the calibrated leaderboard (S3.2+) and the naive one (raw top-1)."""
        from .commands import audit_cmd

        return audit_cmd.main(dataset=dataset, network=network, tolerance=tolerance, as_csv=as_csv,
                              as_json=as_json, registry=registry, accept_base_accuracy=accept_base_accuracy)

    recipe_app = typer.Typer(help="The seed's recipe rules: derived LR schedules and scratch budgets.",
                             no_args_is_help=True)
    app.add_typer(recipe_app, name="recipe")

    @recipe_app.command("derive")
    def recipe_derive(
        epochs: Annotated[int, typer.Option("--epochs", help="Total epochs of the schedule.")],
        lr: Annotated[float, typer.Option("--lr", help="Initial LR.")],
        final_lr: Annotated[float, typer.Option("--final-lr", help="Final LR (Rule 1).")] = 1e-5,
        gamma: Annotated[float, typer.Option(help="LR factor per stage.")] = 0.1,
        max_stage: Annotated[int, typer.Option("--max-stage", help="Longest stage in epochs (Rule 3); 0 = no cap "
                                               "(CIFAR halving).")] = 30,
        tail: Annotated[Optional[int], typer.Option("--tail", help="Also print the S4.2 finetuning schedule "
                                                    "after this pruning epoch.")] = None,
    ) -> int:
        """The seed's Appendix-A schedule (prints e.g. 0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5)."""
        from .commands import recipe_cmd

        return recipe_cmd.derive_main(epochs=epochs, lr=lr, final_lr=final_lr, gamma=gamma, max_stage=max_stage,
                                      tail=tail)

    @recipe_app.command("budget")
    def recipe_budget(
        pretrain_epochs: Annotated[float, typer.Option("--pretrain-epochs", help="K1: dense training epochs.")],
        finetune_epochs: Annotated[float, typer.Option("--finetune-epochs", help="K2: finetuning epochs.")],
        speedup: Annotated[float, typer.Option("--speedup", help="F1/F2: dense FLOPs / pruned FLOPs.")],
        prune_epochs: Annotated[float, typer.Option("--prune-epochs", help="Pruning-stage epochs (0 = one-shot).")] = 0,
        cap: Annotated[float, typer.Option("--cap", help="Rethinking Scratch-B cap on F1/F2 (2 on ImageNet; "
                                            "0 = uncapped).")] = 2.0,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    ) -> int:
        """Scratch-E/Scratch-B epochs (seed and rethinking definitions), SX-A/SX-B totals, SX-B squeeze."""
        from .commands import recipe_cmd

        return recipe_cmd.budget_main(pretrain_epochs=pretrain_epochs, finetune_epochs=finetune_epochs,
                                      speedup=speedup, prune_epochs=prune_epochs, cap=cap, as_json=as_json)
