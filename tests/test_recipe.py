"""The seed's recipe rules: Appendix-A schedules, S4.2 tails, scratch budgets, Rule 1, and the CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.cli import main
from audit.core import rules as recipe
from audit.core.rules import RecipeError, budget, derive, rule1_check, s42_finetune, schedule_text
from audit.core.schedule import fixed, parse_schedule


@pytest.mark.parametrize("epochs, lr, expected", [
    (90, 0.1, "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5"),      # Tab. 4 P30F90, 1e-1 (Appendix A)
    (60, 1e-2, "0:1e-2,30:1e-3,45:1e-4,53:1e-5"),            # Tab. 4 P60F60, 1e-2 (Appendix A)
    (90, 1e-2, "0:1e-2,30:1e-3,60:1e-4,75:1e-5"),            # ResNet-50 Tab. 1 (Appendix A)
    (120, 0.1, "0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5"),   # the 120-epoch scratch schedule (Appendix A)
])
def test_derive_reproduces_the_printed_schedules(epochs, lr, expected):
    s = derive(epochs, lr)
    assert schedule_text(s) == expected
    assert s.total_epochs == epochs
    assert s.same_as(parse_schedule(expected, epochs)) is True


def test_p90f30_1e2_has_a_15_epoch_first_stage():
    s = derive(30, 1e-2)
    assert s.first_stage_epochs() == 15  # App. D: "the 1st-LR-stage epochs (i.e., 15 epochs)"
    assert schedule_text(s) == "0:1e-2,15:1e-3,23:1e-4,27:1e-5"


def test_cifar_halving_without_cap():
    assert schedule_text(derive(160, 0.1, final_lr=1e-3, max_stage=None)) == "0:1e-1,80:1e-2,120:1e-3"


def test_final_lr_is_reached_even_off_the_gamma_grid():
    s = derive(90, 0.05)
    assert s.final_lr == 1e-5
    assert schedule_text(s) == "0:5e-2,30:5e-3,60:5e-4,75:5e-5,83:1e-5"


def test_single_stage_when_initial_equals_final():
    assert schedule_text(derive(20, 1e-3, final_lr=1e-3)) == "0:1e-3"


@pytest.mark.parametrize("kwargs, message", [
    (dict(total_epochs=0, initial_lr=0.1), "epochs must be positive (got 0)"),
    (dict(total_epochs=90, initial_lr=-0.1), "initial LR must be positive (got -0.1)"),
    (dict(total_epochs=90, initial_lr=1e-6), "the initial LR 1e-6 is below the final LR 1e-5"),
    (dict(total_epochs=3, initial_lr=0.1), "3 epoch(s) cannot hold the 5 LR stages from 1e-1 to 1e-5"),
    (dict(total_epochs=90, initial_lr=0.1, gamma=1.0), "the decay factor gamma must be in (0, 1) (got 1.0)"),
])
def test_derive_rejects_bad_input(kwargs, message):
    with pytest.raises(RecipeError) as e:
        derive(**kwargs)
    assert str(e.value) == message


def test_s42_tails_of_the_120_epoch_schedule():
    overall = derive(120, 0.1)
    assert schedule_text(s42_finetune(overall, 30)) == "0:1e-2,30:1e-3,60:1e-4,75:1e-5"   # P30F90, 1e-2
    assert schedule_text(s42_finetune(overall, 60)) == "0:1e-3,30:1e-4,45:1e-5"           # P60F60, 1e-3
    assert schedule_text(s42_finetune(overall, 90)) == "0:1e-4,15:1e-5"                   # P90F30, 1e-4
    assert schedule_text(s42_finetune(overall, 15)) == "0:1e-1,15:1e-2,45:1e-3,75:1e-4,90:1e-5"  # P15F105, 1e-1
    assert s42_finetune(overall, 45).total_epochs == 75
    with pytest.raises(RecipeError):
        s42_finetune(overall, 120)


def test_scratch_budgets_both_definitions():
    b = budget(pretrain_epochs=90, finetune_epochs=90, speedup=2.31)
    assert b.scratch_e_seed == 180                       # SX-A: same total epochs
    assert b.scratch_b_seed == pytest.approx(90 * 2.31 + 90)   # K1·F1/F2 + K2 (Sec. 2.2)
    assert b.scratch_e_rethinking == 90
    assert b.scratch_b_rethinking == pytest.approx(180)  # capped at 2×
    assert budget(90, 20, 1.5).scratch_b_rethinking == pytest.approx(135)  # below the cap
    assert budget(90, 20, 3.0, cap=None).scratch_b_rethinking == pytest.approx(270)
    # SX-B: the scratch run of Scratch-B epochs costs the same dense-epoch units as the pipeline
    assert b.scratch_b_seed / 2.31 == pytest.approx(b.sx_b_cost)
    assert b.sx_a_epochs == 180


def test_pruning_stage_counts_at_dense_cost():
    b = budget(pretrain_epochs=90, finetune_epochs=90, speedup=2.0, prune_epochs=10)
    assert b.sx_a_epochs == 190
    assert b.sx_b_cost == pytest.approx(90 + 10 + 45)
    assert b.scratch_b_seed == pytest.approx(100 * 2 + 90)


def test_sxb_squeeze_of_the_pruning_epoch():
    assert recipe.sxb_squeeze(30, 1.11) == pytest.approx(27.03, abs=0.01)   # Tab. 4, pruning ratio 10 %
    assert round(recipe.sxb_squeeze(30, 12.06), 2) == 2.49
    # squeezed: P dense epochs + 90 pruned epochs cost what a 120-epoch scratch run of the pruned model costs
    p = recipe.sxb_squeeze(30, 7.68)
    assert p + 90 / 7.68 == pytest.approx(120 / 7.68)


@pytest.mark.parametrize("args, message", [
    (dict(pretrain_epochs=-1, finetune_epochs=90, speedup=2), "pretrain epochs must be a non-negative number of epochs (got -1)"),
    (dict(pretrain_epochs=90, finetune_epochs=90, speedup=0.5), "speedup must be a number >= 1 (dense FLOPs / pruned FLOPs; got 0.5)"),
    (dict(pretrain_epochs=0, finetune_epochs=0, speedup=2), "the pipeline has 0 epochs in total"),
])
def test_budget_rejects_bad_input(args, message):
    with pytest.raises(RecipeError) as e:
        budget(**args)
    assert str(e.value) == message


def test_rule1():
    long = derive(90, 1e-2)
    orig = fixed(1e-3, 20)
    msg = rule1_check(orig, long, "L1-norm", "GReg-2")
    assert msg == ("Rule 1: L1-norm's finetuning stops at LR 1e-3, GReg-2's decays to 1e-5 "
                   "(a larger final LR understates L1-norm)")
    assert rule1_check(long, derive(60, 1e-2)) is None
    assert rule1_check(long, None) is None
    assert rule1_check(long, parse_schedule("0.01, cosine annealing", 90)) is None  # minimum not reported


# ---------------------------------------------------------------------- CLI
def test_cli_recipe_derive_prints_the_schedule_first(capsys):
    assert main(["recipe", "derive", "--epochs", "90", "--lr", "0.1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5"
    assert "│     5 │ 83-89  │      7 │ 1e-5 │" in out


def test_cli_recipe_derive_tail_and_cap(capsys):
    assert main(["recipe", "derive", "--epochs", "120", "--lr", "0.1", "--tail", "30"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5"
    assert "S4.2 finetuning after pruning epoch 30 (P30F90): 0:1e-2,30:1e-3,60:1e-4,75:1e-5" in out
    assert main(["recipe", "derive", "--epochs", "160", "--lr", "0.1", "--final-lr", "1e-3", "--max-stage", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "0:1e-1,80:1e-2,120:1e-3"


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0", "--lr", "0.1"], "epochs must be positive (got 0)"),
    (["--epochs", "90", "--lr", "-0.1"], "initial LR must be positive (got -0.1)"),
    (["--epochs", "90", "--lr", "1e-6"], "the initial LR 1e-6 is below the final LR 1e-5"),
    (["--epochs", "90", "--lr", "0.1", "--tail", "90"], "--tail must be a pruning epoch between 1 and 89 (got 90)"),
])
def test_cli_recipe_derive_bad_input_is_one_line(capsys, argv, message):
    assert main(["recipe", "derive", *argv]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"prune-audit: error: {message}\n"
    assert captured.out == ""


def test_cli_recipe_budget(capsys):
    assert main(["recipe", "budget", "--pretrain-epochs", "30", "--finetune-epochs", "90", "--speedup", "1.11",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sx_a_epochs"] == 120
    assert data["squeezed_pruning_epoch"] == pytest.approx(27.027, abs=1e-3)
    assert data["scratch_b_seed"] == pytest.approx(30 * 1.11 + 90)
    assert main(["recipe", "budget", "--pretrain-epochs", "90", "--finetune-epochs", "90", "--speedup", "2.31"]) == 0
    out = capsys.readouterr().out
    assert "Scratch-B (rethinking)" in out and "Scratch-B (seed, SX-B)" in out


def test_cli_recipe_budget_bad_input(capsys):
    assert main(["recipe", "budget", "--pretrain-epochs", "90", "--finetune-epochs", "90", "--speedup", "0.5"]) == 1
    assert capsys.readouterr().err == (
        "prune-audit: error: speedup must be a number >= 1 (dense FLOPs / pruned FLOPs; got 0.5)\n")



@settings(max_examples=200, deadline=None)
@given(epochs=st.integers(6, 400), exp=st.integers(-4, 0), cap=st.sampled_from([30, None, 10]))
def test_derive_rules_hold(epochs, exp, cap):
    lr = 10.0 ** exp
    s = derive(epochs, lr, max_stage=cap)
    pts = s.points
    assert s.total_epochs == epochs and pts[0] == (0, lr)
    assert s.final_lr == pytest.approx(1e-5)                          # Rule 1
    assert len(pts) == exp + 6                                         # one stage per factor of 10
    lengths = [b[0] - a[0] for a, b in zip(pts, pts[1:])] + [epochs - pts[-1][0]]
    assert all(n >= 1 for n in lengths)
    start = 0
    for i, n in enumerate(lengths[:-1]):
        remaining = epochs - start
        halved = -(-remaining // 2) if cap is None else min(cap, -(-remaining // 2))   # Rules 2 and 3
        later = len(lengths) - 1 - i  # every later stage keeps at least one epoch
        assert n == max(1, min(halved, remaining - later))
        start += n


def test_one_recipe_error_family():
    """The rerun engine's RecipeError is also the rules' RecipeError: one ``except`` catches a recipe
    refused by either layer (no two unrelated classes of one name)."""
    from audit.rerun.errors import RecipeError as RerunRecipeError
    from audit.rerun.errors import RerunError

    assert issubclass(RerunRecipeError, RecipeError) and issubclass(RerunRecipeError, RerunError)
