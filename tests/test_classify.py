"""The setup classifier on hand-built pairs: every criterion, every level, every ``unknown`` path."""

from __future__ import annotations

import random
import sys

import pytest

from audit.core import classify as C
from audit.core.classify import classify, classify_all, features
from audit.core.setups import CHAIN
from audit.registry.schema import Result

FT90 = "0:1e-2,30:1e-3,60:1e-4,75:1e-5"
TV = "torchvision/resnet50/IMAGENET1K_V1"


def R(**kw) -> Result:
    d = dict(id="r", method="M", dataset="imagenet-1k", network="resnet50", top1={"mean": 75.0},
             sources=[{"where": "Tab. 1"}])
    d.update(kw)
    return Result.model_validate(d)


def full(**kw) -> Result:
    """A result that reports everything the S-chain and the SX flags need."""
    d = dict(top1={"mean": 75.0}, base={"identity": TV, "top1": 76.13}, compression={"speedup": 2.31},
             pretrain={"epochs": 90}, prune={"epochs": 0},
             finetune={"epochs": 90, "lr_schedule": FT90})
    d.update(kw)
    return R(**d)


def F(result: Result, label: str = "", paper: str = "p") -> C.Feat:
    return features(result, label=label or result.id, paper=paper)


def cmp(a: Result, b: Result, **kw) -> C.Comparison:
    return classify(F(a, "A"), F(b, "B"), **kw)


# ---------------------------------------------------------------------- levels
def test_s42_when_everything_is_the_same():
    c = cmp(full(), full(top1={"mean": 74.5}))
    assert c.level == "S4.2" and c.label == "S4.2" and c.rank == 7
    assert all(x.outcome == "same" for x in c.criteria.values())
    assert c.failed == {}
    assert c.sx["SX-A"].outcome == "same" and c.sx["SX-B"].outcome == "same"
    assert c.delta_top1 == pytest.approx(0.5)


def test_dataset_or_network_differs_is_not_comparable():
    c = cmp(full(), full(network="resnet34"))
    assert c.level == "not comparable" and c.rank == 0
    assert "network resnet50 vs resnet34" in c.label
    c = cmp(full(), full(dataset="imagenet-100"))
    assert c.level == "not comparable" and "dataset imagenet-1k vs imagenet-100" in c.label


def test_s1_speedup_within_tolerance_and_mismatch_reported():
    c = cmp(full(), full(compression={"speedup": 2.40}, base={"identity": "own training"}))
    assert c.level == "S1"
    assert c.criteria[C.RATE].outcome == "same"
    assert "mismatch 3.7% (tolerance 5%)" in c.criteria[C.RATE].note
    assert c.criteria[C.BASE].outcome == "differs"
    assert c.failed["S2"] == [C.BASE]
    assert c.failed_text()[0] == f"S2: base model differs ({TV} (top-1 76.13) vs own training)"


def test_speedup_beyond_tolerance_without_dominance_is_not_comparable_at_this_rate():
    a = full(top1={"mean": 75.36}, compression={"speedup": 2.31})
    b = full(top1={"mean": 74.77}, compression={"speedup": 2.56})
    c = cmp(a, b)
    assert c.level == "not comparable at this rate" and c.rank == 1
    assert c.criteria[C.RATE].outcome == "differs"
    assert "mismatch 9.8%" in c.criteria[C.RATE].note
    assert c.dominance is None
    assert set(c.failed) == set(CHAIN)


def test_tolerance_is_configurable():
    a = full(top1={"mean": 75.36}, compression={"speedup": 2.31})
    b = full(top1={"mean": 74.77}, compression={"speedup": 2.56})
    assert cmp(a, b, tolerance=0.10).level == "S4.2"
    assert cmp(a, b, tolerance=0.05).level == "not comparable at this rate"
    with pytest.raises(ValueError):
        cmp(a, b, tolerance=0)


def test_pareto_dominance_keeps_the_chain():
    a = full(top1={"mean": 75.5}, compression={"speedup": 2.56})
    b = full(top1={"mean": 75.0}, compression={"speedup": 2.31})
    c = cmp(a, b)
    assert c.dominance == "A"
    assert c.level == "S4.2" and "A Pareto-dominates" in c.label
    assert cmp(b, a).dominance == "B"


def test_speedup_unknown_is_not_s1():
    c = cmp(full(), full(compression={}))
    assert c.rank == 1 and c.level.startswith("S1 not established")
    assert c.criteria[C.RATE].outcome == "unknown"
    assert c.criteria[C.RATE].note == "B did not report it"


def test_s2_base_identity_same_differs_unknown():
    assert cmp(full(), full(finetune={"epochs": 60, "lr_schedule": "0:1e-2,30:1e-3"})).level == "S2"
    c = cmp(full(), full(base={"top1": 76.13}))
    assert c.level == "S1" and c.criteria[C.BASE].outcome == "unknown"
    assert "B did not report it" in c.criteria[C.BASE].note
    assert "same accuracy (76.13), identity unknown" in c.criteria[C.BASE].note
    # accepted only on request, and then labelled as inferred
    c2 = cmp(full(), full(base={"top1": 76.13}), accept_base_accuracy=True)
    assert c2.criteria[C.BASE].outcome == "same (inferred)"
    assert c2.level == "S4.2" and "base model inferred" in c2.label


def test_base_identity_unknown_on_side_a():
    c = cmp(full(base={}), full())
    assert c.criteria[C.BASE].outcome == "unknown" and c.criteria[C.BASE].note == "A did not report it"


def test_base_evidence_is_identity_and_printed_accuracy():
    # C11: one checkpoint identity printed with two base accuracies
    a = full(base={"identity": TV, "top1": 76.18})
    b = full(base={"identity": TV, "top1": 76.13})
    c = cmp(a, b)
    assert c.criteria[C.BASE].outcome == "differs" and c.level == "S1"
    assert c.criteria[C.BASE].describe().startswith(
        f"base model differs ({TV} (top-1 76.18) vs {TV} (top-1 76.13)); same identity, base top-1 differs by 0.05")
    assert c.delta_drop == pytest.approx((76.18 - 75.0) - (76.13 - 75.0))
    trusted = cmp(a, b, trust_identity=True)
    assert trusted.criteria[C.BASE].outcome == "same" and trusted.level == "S4.2"
    assert "accepted as the same base" in trusted.criteria[C.BASE].note
    # rounding reconciles 76.1 and 76.13: the same base
    assert cmp(full(base={"identity": TV, "top1": 76.1}), b).criteria[C.BASE].outcome == "same"
    # C01/C13: no identity, different printed base accuracies: the bases differ (not "unknown")
    c = cmp(full(base={"top1": 93.53}), full(base={"top1": 93.59}))
    assert c.criteria[C.BASE].outcome == "differs"
    assert c.criteria[C.BASE].describe() == "base model differs (top-1 93.53 vs top-1 93.59)"


def test_own_training_is_not_the_same_base_across_papers():
    a = full(base={"identity": "own training"})
    c = classify(F(a, "A", paper="p1"), F(a, "B", paper="p2"))
    assert c.criteria[C.BASE].outcome == "differs"
    assert classify(F(a, "A", paper="p1"), F(a, "B", paper="p1")).criteria[C.BASE].outcome == "same"


def test_inferred_base_labels_the_level():
    b = full(inferred={"base.identity": "presumed from the ratios"})
    c = cmp(full(prune={"epochs": 5}), b)
    assert c.criteria[C.BASE].outcome == "same (inferred)"
    assert "B: presumed from the ratios" in c.criteria[C.BASE].note
    assert c.level == "S3.2" and c.label == "S3.2, base model inferred"
    assert c.inferred == [C.BASE]


def test_inferred_value_above_the_reached_level_does_not_label_it():
    b = full(finetune={"epochs": 60, "lr_schedule": "0:1e-2,30:1e-3"}, inferred={"prune.epochs": "one-shot"})
    c = cmp(full(), b)
    assert c.level == "S2" and c.label == "S2"


def test_s31_same_epochs_different_schedule():
    c = cmp(full(), full(finetune={"epochs": 90, "lr_schedule": "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5"}))
    assert c.level == "S3.1"
    assert c.criteria[C.FT_LR].outcome == "differs"
    assert c.failed["S3.2"] == [C.FT_LR]


def test_finetune_epochs_unknown():
    c = cmp(full(), full(finetune=None))
    assert c.level == "S2"
    assert c.criteria[C.FT_EPOCHS].outcome == "unknown"
    assert c.criteria[C.FT_LR].outcome == "unknown"


def test_finetune_schedule_partly_reported_is_unknown_not_same():
    a = full(finetune={"epochs": 30, "lr_schedule": "0.01, step decay (10/20)"})
    b = full(finetune={"epochs": 30, "lr_schedule": "0.01, step decay (10/20)"})
    c = cmp(a, b)
    assert c.criteria[C.FT_EPOCHS].outcome == "same"
    assert c.criteria[C.FT_LR].outcome == "unknown"
    assert "only partly reported" in c.criteria[C.FT_LR].note
    assert c.level == "S3.1"


def test_finetune_schedule_unknown_one_side():
    c = cmp(full(), full(finetune={"epochs": 90}))
    assert c.level == "S3.1"
    assert c.criteria[C.FT_LR].outcome == "unknown" and c.criteria[C.FT_LR].note == "B did not report it"


def test_s41_same_pruning_epochs_different_schedule():
    a = full(prune={"epochs": 5, "lr_schedule": "0:1e-3"})
    b = full(prune={"epochs": 5, "lr_schedule": "0:1e-2"})
    c = cmp(a, b)
    assert c.level == "S4.1" and c.failed["S4.2"] == [C.PR_LR]


def test_s42_pruning_schedule_unknown():
    c = cmp(full(prune={"epochs": 5, "lr_schedule": "0:1e-3"}), full(prune={"epochs": 5}))
    assert c.level == "S4.1" and c.criteria[C.PR_LR].outcome == "unknown"


def test_pruning_epochs_differ_and_unknown():
    c = cmp(full(prune={"epochs": 5}), full())
    assert c.level == "S3.2" and c.criteria[C.PR_EPOCHS].outcome == "differs"
    c = cmp(full(prune=None), full())
    assert c.level == "S3.2" and c.criteria[C.PR_EPOCHS].outcome == "unknown"
    assert c.criteria[C.PR_EPOCHS].note == "A did not report it"


def test_pruning_stage_with_a_schedule_but_no_epochs_differs_from_one_shot():
    c = cmp(full(prune={"lr_schedule": "0.001"}), full())
    assert c.criteria[C.PR_EPOCHS].outcome == "differs"
    assert c.criteria[C.PR_LR].outcome == "differs"
    # ... but is unknown against another stage of unknown length
    c = cmp(full(prune={"lr_schedule": "0.001"}), full(prune={"epochs": 5}))
    assert c.criteria[C.PR_EPOCHS].outcome == "unknown"


def test_sx_flags_beside_the_chain():
    # SX-A: 90 + 0 + 90 = 180 vs 60 + 30 + 90 = 180 (same epochs, different chain)
    a = full()
    b = full(pretrain={"epochs": 60}, prune={"epochs": 30})
    c = cmp(a, b)
    assert c.level == "S3.2"
    assert c.sx["SX-A"].outcome == "same"
    assert c.sx["SX-B"].outcome == "same"  # 90+0+90/2.31 vs 60+30+90/2.31
    # SX-B differs when dense epochs are traded for cheaper pruned ones: 90 + 90/2.31 vs 60 + 120/2.31
    c = cmp(full(), full(pretrain={"epochs": 60}, finetune={"epochs": 120, "lr_schedule": "0:1e-2"}))
    assert c.level == "S2"
    assert c.sx["SX-A"].outcome == "same" and c.sx["SX-B"].outcome == "differs"
    assert "mismatch 13.2%" in c.sx["SX-B"].note
    # unknown when pretraining epochs are not reported
    c = cmp(full(pretrain=None), full())
    assert c.sx["SX-A"].outcome == "unknown" and c.sx["SX-B"].outcome == "unknown"
    assert c.sx["SX-A"].note == "A did not report it"


def test_sx_inferred():
    c = cmp(full(inferred={"pretrain.epochs": "torchvision recipe"}), full())
    assert c.sx["SX-A"].outcome == "same (inferred)"


def test_scratch_result_against_pruning():
    s = R(pipeline="scratch-b", top1={"mean": 74.0}, compression={"speedup": 2.31},
          scratch={"epochs": 180, "lr_schedule": "0:1e-1,60:1e-2,120:1e-3"})
    c = cmp(full(), s)
    # pruning vs scratch has its own chain (the seed's Sec. 4): no base model to compare
    assert C.BASE not in c.criteria and c.criteria[C.ARCH].outcome == "same"
    assert c.criteria[C.OVERALL].outcome == "unknown"  # the pretraining schedule is not reported
    assert c.sx["SX-A"].outcome == "same"  # 90 + 0 + 90 = 180 scratch epochs
    assert c.sx["SX-B"].outcome == "differs"
    assert c.level == "SX-A" and c.level.reading == "not conclusive"
    assert c.failed_text() == ["S4.2: overall LR schedule unknown (A did not report it)"]


SCRATCH = "0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5"


def _scratch(**kw) -> Result:
    d = dict(pipeline="scratch", top1={"mean": 83.31, "std": 0.13, "runs": 3}, dataset="imagenet-100",
             network="resnet34", compression={"pruning_ratio": 0.3, "speedup": 1.41},
             scratch={"epochs": 120, "lr_schedule": SCRATCH})
    d.update(kw)
    return R(**d)


def _pruned(pt: int, ft: str, top1: float = 84.0, **kw) -> Result:
    d = dict(top1={"mean": top1, "std": 0.22, "runs": 3}, dataset="imagenet-100", network="resnet34",
             base={"identity": "own training"}, compression={"pruning_ratio": 0.3, "speedup": 1.41},
             pretrain={"epochs": pt, "lr_schedule": "0:1e-1"}, prune={"epochs": 0},
             finetune={"epochs": 120 - pt if "epochs" not in kw else kw.pop("epochs"), "lr_schedule": ft})
    d.update(kw)
    return R(**d)


def test_pruning_vs_scratch_chain_follows_the_seed_legend():
    s = _scratch()
    # S4.2: pretraining to epoch 30 plus finetuning is the scratch run's schedule, epoch by epoch
    c = cmp(_pruned(30, "0:1e-2,30:1e-3,60:1e-4,75:1e-5"), s)
    assert c.level == "S4.2" and c.rank == 7 and c.criteria[C.OVERALL].outcome == "same"
    assert c.significance.tested and c.significance.p_value == pytest.approx(0.0152, abs=5e-4)
    # SX-A: same 120 epochs, the finetuning restarts at a larger LR
    assert cmp(_pruned(30, "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5"), s).level == "SX-A"
    # SX-B: pruned at 30/k (k = 1.41 -> 21) and 90 finetuning epochs: the same cost, not the same epochs
    sxb = cmp(_pruned(21, "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5", epochs=90), s)
    assert sxb.level == "SX-B" and sxb.sx["SX-A"].outcome == "differs"
    # another architecture: not at this rate
    other = cmp(_pruned(30, "0:1e-2,30:1e-3,60:1e-4,75:1e-5", compression={"pruning_ratio": 0.5, "speedup": 1.93}),
                s)
    assert other.rank == 1 and "pruned architectures differ" in other.label


def test_tolerance_never_turns_s42_into_sxb():
    # an S4.2 row whose speedup is 4 % off the scratch row's (within the 5 % tolerance) stays S4.2
    c = cmp(_pruned(30, "0:1e-2,30:1e-3,60:1e-4,75:1e-5", compression={"speedup": 1.41 * 1.04}),
            _scratch(compression={"speedup": 1.41}))
    assert c.level == "S4.2"


def test_classify_all_agrees_on_scratch_pairs():
    rs = [_scratch(), _pruned(30, "0:1e-2,30:1e-3,60:1e-4,75:1e-5"),
          _pruned(30, "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5"),
          _pruned(21, "0:1e-1,30:1e-2,60:1e-3,75:1e-4,83:1e-5", epochs=90)]
    feats = [F(r, f"x{i}") for i, r in enumerate(rs)]
    table = C.classify_all(feats)
    got = {(int(i), int(j)): str(table.level(k)) for k, (i, j) in enumerate(zip(table.i, table.j)) if 0 in (i, j)}
    assert got == {(0, 1): "S4.2", (0, 2): "SX-A", (0, 3): "SX-B"}


def test_delta_drop_when_bases_differ():
    a = full(top1={"mean": 75.0}, base={"identity": "own training", "top1": 75.4})
    b = full(top1={"mean": 75.5}, base={"identity": TV, "top1": 76.13})
    c = cmp(a, b)
    assert c.delta_top1 == pytest.approx(-0.5)
    assert c.delta_drop == pytest.approx((75.4 - 75.0) - (76.13 - 75.5))
    assert cmp(full(), full(base={"identity": TV})).delta_drop is None


def test_welch_significance():
    a = full(top1={"mean": 79.57, "std": 0.15, "runs": 3})
    b = full(top1={"mean": 77.64, "std": 0.39, "runs": 3})
    c = cmp(a, b)
    assert c.significance.tested and c.significance.significant
    from scipy.stats import ttest_ind_from_stats

    t, p = ttest_ind_from_stats(79.57, 0.15, 3, 77.64, 0.39, 3, equal_var=False)
    assert c.significance.p_value == pytest.approx(p)
    close = cmp(full(top1={"mean": 83.88, "std": 0.07, "runs": 3}), full(top1={"mean": 83.95, "std": 0.17, "runs": 3}))
    assert close.significance.tested and close.significance.significant is False


def test_significance_missing_inputs_are_named():
    c = cmp(full(), full())
    assert not c.significance.tested and c.significance.reason == "neither side reports std or runs"
    c = cmp(full(top1={"mean": 75, "std": 0.1, "runs": 3}), full(top1={"mean": 75, "std": 0.1}))
    assert c.significance.reason == "B reports no runs"
    c = cmp(full(top1={"mean": 75, "std": 0.1, "runs": 1}), full(top1={"mean": 75, "std": 0.1, "runs": 3}))
    assert c.significance.reason == "A reports no a second run"


def test_blockers_name_the_own_criterion_or_what_a_level_needs():
    from audit.core.compare import pair_view

    c = cmp(full(), full(base={"identity": "own training", "top1": 76.13}))  # only the base differs
    assert c.level == "S1"
    assert c.failed_text()[:2] == ["S2: base model differs (torchvision/resnet50/IMAGENET1K_V1 (top-1 76.13) vs own training (top-1 76.13))",
                                   "S3.1: needs base model"]
    assert [(b.level, b.needs) for b in c.blockers()][:2] == [("S2", None), ("S3.1", "base model")]

    class E:  # the registry entry fields a pair view reads besides the features
        class result:
            reimplementation_of = None
            setup_tag = None

    p = pair_view(c, "claimed", E, E)
    assert p.own_failures() == [c.failed_text()[0]]
    assert p.model_dump(mode="json")["failed_text"] == c.failed_text()


def test_rule1_flag():
    c = cmp(full(), full(finetune={"epochs": 90, "lr_schedule": "0:1e-3"}))
    assert c.rule1 is not None and not c.rule1.a_higher and (c.rule1.higher_lr, c.rule1.lower_lr) == (1e-3, 1e-5)
    assert c.rule1.text().startswith("Rule 1: B's finetuning stops at LR 1e-3, A's decays to 1e-5")
    assert cmp(full(), full()).rule1 is None


def test_classifier_does_not_import_scipy_or_pandas_at_import():
    import subprocess

    code = ("import sys, audit.core.classify, audit.core.rules, audit.core.compare; "
            "print(sorted(m for m in ('scipy', 'pandas', 'numpy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------- bulk vs one-by-one
def _random_result(rng: random.Random, i: int) -> Result:
    scheds = [None, {"epochs": 90, "lr_schedule": FT90}, {"epochs": 90, "lr_schedule": "0:1e-1,30:1e-2,60:1e-3"},
              {"epochs": 20, "lr_schedule": "0:1e-3"}, {"epochs": 30, "lr_schedule": "0.01, step decay (10/20)"},
              {"epochs": 90}, {"lr_schedule": "0.01"}]
    prunes = [None, {"epochs": 0}, {"epochs": 5}, {"epochs": 5, "lr_schedule": "0:1e-3"}, {"lr_schedule": "0.001"}]
    bases = [{}, {"identity": TV}, {"identity": "own training", "top1": 75.4}, {"top1": 76.13},
             {"identity": TV, "top1": 76.13}]
    inferred = {}
    base = rng.choice(bases)
    if base.get("identity") and rng.random() < 0.3:
        inferred["base.identity"] = "presumed"
    d = dict(id=f"r{i}", top1={"mean": round(rng.uniform(70, 77), 2)}, base=base,
             compression=rng.choice([{}, {"speedup": rng.choice([2.31, 2.35, 2.56, 3.0])}]),
             pretrain=rng.choice([None, {"epochs": 90}, {"epochs": 60}]), prune=rng.choice(prunes),
             finetune=rng.choice(scheds), network=rng.choice(["resnet50", "resnet34"]), inferred=inferred)
    if rng.random() < 0.1:
        d.update(pipeline="scratch", prune=None, finetune=None, scratch={"epochs": 180})
    return R(**d)


@pytest.mark.parametrize("accept", [False, True])
def test_classify_all_agrees_with_classify(accept):
    rng = random.Random(7)
    results = [_random_result(rng, i) for i in range(120)]
    feats = [features(r, paper=f"p{i % 3}", label=r.id) for i, r in enumerate(results)]
    table = classify_all(feats, 0.05, accept_base_accuracy=accept)
    n = sum(1 for i in range(len(feats)) for j in range(i + 1, len(feats))
            if (feats[i].dataset, feats[i].network) == (feats[j].dataset, feats[j].network))
    assert len(table) == n
    for i, j, rank, inf, sxa, sxb, dom in zip(table.i.tolist(), table.j.tolist(), table.rank.tolist(),
                                              table.inferred.tolist(), table.sx_a.tolist(), table.sx_b.tolist(),
                                              table.dominance.tolist()):
        c = classify(feats[i], feats[j], 0.05, accept_base_accuracy=accept)
        assert rank == c.rank, (i, j, c.label)
        assert inf == bool(c.inferred), (i, j, c.label)
        assert C.OUTCOMES[sxa] == c.sx["SX-A"].outcome
        assert C.OUTCOMES[sxb] == c.sx["SX-B"].outcome
        assert {0: None, 1: "A", 2: "B"}[dom] == c.dominance


def test_classify_all_empty_and_singletons():
    assert len(classify_all([])) == 0
    assert len(classify_all([F(full())])) == 0
    with pytest.raises(ValueError):
        classify_all([], tolerance=-1)


def test_delta_drop_only_when_bases_are_not_the_same():
    a = full(top1={"mean": 75.0}, base={"identity": TV, "top1": 76.13})
    b = full(top1={"mean": 74.0}, base={"identity": TV, "top1": 76.13})
    assert cmp(a, b).delta_drop is None
    c = cmp(a, full(top1={"mean": 74.0}, base={"top1": 76.15}))  # identity unknown
    assert c.delta_drop == pytest.approx((76.13 - 75.0) - (76.15 - 74.0))


def test_pruning_stage_reported_in_iterations_is_not_one_shot():
    from audit.core.classify import classify, features
    from audit.registry.schema import Result

    def res(prune):
        return Result.model_validate({
            "id": "r", "method": "m", "dataset": "cifar-10", "network": "resnet56", "top1": {"mean": 93.0},
            "base": {"identity": "own"}, "compression": {"speedup": 2.0},
            "finetune": {"epochs": 10, "lr_schedule": "0:1e-2"}, "prune": prune, "sources": [{"where": "T"}]})

    cmp = classify(features(res({"iterations": 5000}), paper="p"), features(res({"epochs": 0}), paper="p"))
    assert cmp.level == "S3.2"
    assert cmp.criteria["pruning epochs"].outcome == "differs"


def test_setup_vocabulary_carries_rank_reading_and_style():
    from audit.core.setups import CHAIN, Level, Outcome, Reading, pareto_dominance

    assert [lvl.rank for lvl in CHAIN] == [2, 3, 4, 5, 6, 7]
    assert Level.of_rank(5) is Level.S3_2 and Level.of_rank(1) is Level.NOT_AT_RATE
    assert Level.of_rank(0) is Level.NOT_COMPARABLE and Level.RATE_UNKNOWN.rank == 1
    assert [lvl.reading for lvl in CHAIN] == [Reading.WEAK, Reading.NOT_CONCLUSIVE, Reading.NOT_CONCLUSIVE,
                                             Reading.FAIR, Reading.FAIR, Reading.FAIR]
    assert Level.NOT_AT_RATE.reading is Reading.NONE
    assert (Level.S3_2.style, Level.S3_1.style, Level.NOT_AT_RATE.style, Level.NOT_COMPARABLE.style) == \
        ("green", "yellow", "red", "dim")
    assert f"{Level.S3_2}" == "S3.2" and {"S3.2": 1}[Level.S3_2] == 1  # prints and hashes as its text
    assert [o.code for o in Outcome] == [0, 1, 2, 3] and Outcome.SAME_INFERRED.ok and not Outcome.UNKNOWN.ok
    assert pareto_dominance(3.0, 75.0, 2.0, 74.0) == 1 and pareto_dominance(2.0, 75.0, 3.0, 75.0) == 2
    assert pareto_dominance(3.0, 74.0, 2.0, 75.0) == 0 and pareto_dominance(float("nan"), 80.0, 2.0, 75.0) == 0
