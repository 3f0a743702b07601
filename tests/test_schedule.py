"""The shared LR-schedule representation: parsers, lr_at, equality, canonical form, fuzzing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core import schedule as S
from audit.core.schedule import ScheduleError, format_schedule, parse_schedule

SEED_90 = "0:1e-2,30:1e-3,60:1e-4,75:1e-5"


def test_seed_notation_lr_at_every_epoch():
    s = parse_schedule(SEED_90, 90)
    assert [s.lr_at(e) for e in (0, 29, 30, 59, 60, 74, 75, 89)] == [1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5]
    assert s.final_lr == 1e-5 and s.first_stage_epochs() == 30 and s.is_complete
    with pytest.raises(ScheduleError, match="outside a schedule of 90 epochs"):
        s.lr_at(90)


def test_first_key_must_be_zero_and_in_order():
    with pytest.raises(ScheduleError, match="the first key must be 0, not 30"):
        parse_schedule("30:1e-2,60:1e-3", 90)
    with pytest.raises(ScheduleError, match="out of order: 30 after 60"):
        parse_schedule("0:1e-2,60:1e-3,30:1e-4", 90)
    with pytest.raises(ScheduleError, match="does not fit in a total of 20 epochs"):
        parse_schedule("0:1e-2,30:1e-3", 20)


@pytest.mark.parametrize(
    "phrase,total,expected",
    [
        ("0.01, step decay (30/60/75)", 90, "0:1e-2,30:?,60:?,75:?; total=90"),
        ("0.001, fixed", 20, "0:1e-3; total=20"),
        ("0.01, cosine annealing", 180, "cosine 1e-2->?; total=180"),
        ("0.01, step (36/48/54)", 60, "0:1e-2,36:?,48:?,54:?; total=60"),
        ("0.01", None, "lr 1e-2"),
        ("0.001, step decay (30/60/90)", 100, "0:1e-3,30:?,60:?,90:?; total=100"),
    ],
)
def test_tab3_phrases(phrase, total, expected):
    assert format_schedule(parse_schedule(phrase, total)) == expected


def test_step_decay_with_factor_equals_seed_notation():
    a = S.step(0.01, [30, 60, 75], 0.1, 90)
    assert a == parse_schedule(SEED_90, 90)
    assert a.same_as(parse_schedule(SEED_90, 90)) is True


def test_equality_is_per_epoch_not_per_spelling():
    assert parse_schedule("0:1e-2,30:1e-2,60:1e-3", 90) == parse_schedule("0:0.01,60:0.001", 90)
    assert S.cosine(0.1, 0.1, 10) == S.fixed(0.1, 10)
    assert parse_schedule(SEED_90, 90) != parse_schedule(SEED_90, 100)


def test_same_as_unknown_and_differs():
    full = parse_schedule(SEED_90, 90)
    partial = parse_schedule("0.01, step decay (30/60/75)", 90)
    assert full.same_as(partial) is None  # decay factor not reported: unknowable
    assert full.same_as(parse_schedule("0.001, fixed", 90)) is False  # differs at epoch 0 already
    assert full.same_as(parse_schedule("0.01, step decay (30/60/75)", 100)) is False  # different totals
    assert S.initial_only(0.01).same_as(S.initial_only(0.01)) is None
    assert S.initial_only(0.01).same_as(S.initial_only(0.1)) is False


def test_cosine_and_warmup():
    c = parse_schedule("cosine 1e-1->0; total=100")
    assert c.lr_at(0) == pytest.approx(0.1) and c.lr_at(99) == pytest.approx(0.0)
    assert c.lr_at(50) < c.lr_at(10)
    w = parse_schedule("warmup 5 from 1e-4; cosine 1e-1->0; total=100")
    assert w.lr_at(0) == pytest.approx(1e-4) and w.lr_at(5) == pytest.approx(0.1)
    assert w.lr_at(2) == pytest.approx(1e-4 + (0.1 - 1e-4) * 2 / 5)


def test_tail_and_head_s42():
    overall = parse_schedule("0:1e-1,30:1e-2,60:1e-3,90:1e-4,105:1e-5", 120)
    assert format_schedule(overall.tail(30)) == f"{SEED_90}; total=90"
    assert format_schedule(overall.tail(45)) == "0:1e-2,15:1e-3,45:1e-4,60:1e-5; total=75"
    assert format_schedule(overall.tail(90)) == "0:1e-4,15:1e-5; total=30"
    assert format_schedule(overall.head(30)) == "0:1e-1; total=30"


def test_mapping_forms():
    assert S.schedule_from_data({"type": "step", "lr": 0.01, "milestones": [30, 60, 75], "gamma": 0.1}, 90) == \
        parse_schedule(SEED_90, 90)
    assert S.schedule_from_data({"type": "piecewise", "points": {0: 0.01, 30: 0.001}}, 60) == \
        parse_schedule("0:1e-2,30:1e-3", 60)
    with pytest.raises(ScheduleError, match="unknown schedule field"):
        S.schedule_from_data({"type": "fixed", "lr": 0.1, "gama": 0.1})
    with pytest.raises(ScheduleError, match="says total=80 but its stage has 90"):
        parse_schedule("0:1e-2; total=80", 90)


@pytest.mark.parametrize("lr,text", [(0.01, "1e-2"), (0.1, "1e-1"), (0.0015, "1.5e-3"), (0.0, "0"), (1e-5, "1e-5"),
                                     (0.2, "2e-1"), (1.0, "1e0")])
def test_format_lr(lr, text):
    assert S.format_lr(lr) == text
    assert float(text) == lr


# ---------------------------------------------------------------------- fuzzing
lrs = st.floats(min_value=0, max_value=10, allow_nan=False, allow_infinity=False)


@st.composite
def schedules(draw):
    kind = draw(st.sampled_from(["piecewise", "cosine", "initial-only"]))
    total = draw(st.one_of(st.none(), st.integers(1, 400)))
    if kind == "piecewise":
        limit = total if total is not None else 400
        starts = sorted(draw(st.sets(st.integers(1, max(1, limit - 1)), max_size=5)))
        starts = [e for e in starts if total is None or e < total]
        points = [(0, draw(lrs))] + [(e, draw(st.one_of(st.none(), lrs))) for e in starts]
        body = S.piecewise(points, total)
    elif kind == "cosine":
        lr0 = draw(lrs)
        body = S.cosine(lr0, draw(st.one_of(st.none(), st.floats(0, lr0))), total)
    else:
        return S.initial_only(draw(lrs), total)
    if total is not None and total > 2 and draw(st.booleans()):
        body = S.with_warmup(body, draw(st.integers(1, total - 1)), draw(lrs))
    return body


@given(schedules())
@settings(max_examples=300, deadline=None)
def test_canonical_form_round_trips(s):
    text = format_schedule(s)
    assert parse_schedule(text) == s
    assert format_schedule(parse_schedule(text)) == text


@given(schedules())
@settings(max_examples=200, deadline=None)
def test_lr_at_is_pure_and_bounded(s):
    if s.total_epochs is None:
        return
    first = [s.lr_at(e) for e in range(s.total_epochs)]
    assert first == [s.lr_at(e) for e in range(s.total_epochs)]
    for v in first:
        assert v is None or (math.isfinite(v) and v >= 0)
    assert s.same_as(s) in (True, None)


@given(st.text(max_size=80), st.one_of(st.none(), st.integers(-5, 500)))
@settings(max_examples=500, deadline=None)
def test_parser_raises_only_schedule_error(text, total):
    try:
        parse_schedule(text, total)
    except ScheduleError:
        pass


ALPHABET = st.sampled_from(list("0123456789:,.;e-+ ?>=abcdefghilmnorstuwxyz()/\t"))


@given(st.text(alphabet=ALPHABET, max_size=60), st.one_of(st.none(), st.integers(-5, 500)))
@settings(max_examples=1500, deadline=None)
def test_parser_raises_only_schedule_error_near_grammar(text, total):
    try:
        s = parse_schedule(text, total)
    except ScheduleError:
        return
    assert parse_schedule(format_schedule(s)) == s


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=12),
       st.one_of(st.none(), st.integers(-5, 500)))
@settings(max_examples=500, deadline=None)
def test_schedule_from_data_raises_only_schedule_error(data, total):
    try:
        S.schedule_from_data(data, total)
    except ScheduleError:
        pass


_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 200), st.floats(), st.text(max_size=6),
                    st.lists(st.integers(-3, 200), max_size=4),
                    st.dictionaries(st.integers(-3, 100), st.one_of(st.none(), st.floats()), max_size=4))


@given(st.fixed_dictionaries(
    {"type": st.sampled_from(["step", "fixed", "cosine", "piecewise", "initial-only", "bogus"])},
    optional={k: _values for k in ("lr", "milestones", "gamma", "min_lr", "points", "total", "warmup_epochs",
                                   "warmup_start_lr")}),
    st.one_of(st.none(), st.integers(-5, 500)))
@settings(max_examples=1500, deadline=None)
def test_schedule_mappings_raise_only_schedule_error(data, total):
    try:
        S.schedule_from_data(data, total)
    except ScheduleError:
        pass


@pytest.mark.parametrize("text, body", [
    ("0:1e-2,30:1e-3,60:1e-4,75:1e-5; total=90", "0:1e-2,30:1e-3,60:1e-4,75:1e-5"),
    ("cosine 1e-2->?; total=180", "cosine 1e-2->?"),
    ("lr 1e-2", "lr 1e-2"),
    ("warmup 5 from 1e-4; cosine 1e-1->0; total=100", "warmup 5 from 1e-4; cosine 1e-1->0"),
])
def test_body_text_is_the_canonical_form_without_the_total(text, body):
    s = parse_schedule(text)
    assert s.body_text() == body
    assert format_schedule(s) == text
