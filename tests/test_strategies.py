import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rareval.rubric import Category, Criterion, Rubric
from rareval.strategies import (PREDEFINED_RUBRIC, RAR_WEIGHTS, STRATEGIES, exact_match, likert, score, signed_ratio,
                                verifiable_rubric)
from tests.conftest import hb_rubric


def rar(*items):
    return Rubric(criteria=tuple(Criterion(text=f"c{i}", weight=-1 if cat == "pitfall" else 1, category=Category(cat))
                                 for i, cat in enumerate(items)))


SIMPLE_EVALS = hb_rubric((7, "a"), (5, "b"), (10, "c"), (-6, "d"))


def test_registry_names():
    assert {"healthbench", "explicit", "implicit", "direct_likert", "reference_likert", "predefined",
            "verifiable", "veto", "saturating"} <= set(STRATEGIES)
    with pytest.raises(KeyError, match="unknown strategy 'nope'"):
        score("nope", SIMPLE_EVALS, [True] * 4)


def test_healthbench_simple_evals_case():
    # simple-evals' calculate_score test: (7 + 10 - 6) / 22 = 0.5
    assert score("healthbench", SIMPLE_EVALS, [True, False, True, True]) == 0.5


def test_healthbench_negative_total():
    r = hb_rubric((5, "a"), (-10, "b"))
    assert score("healthbench", r, [True, True]) == pytest.approx(-1.0)
    assert score("healthbench", r, [False, True]) == pytest.approx(-2.0)


def test_healthbench_penalty_only_is_undefined():
    r = hb_rubric((-5, "a"), (-3, "b"))
    assert score("healthbench", r, [False, False]) is None
    assert score("healthbench", r, [True, False]) is None


def test_abstention_on_positive_renormalises():
    # positives renormalised among the judged ones (17/17 met); the present pitfall still
    # costs its 6 of the rubric's 22 positive points: 1 - 6/22 (not (17 - 6)/17, which
    # would inflate the penalty because a positive criterion went missing)
    assert score("healthbench", SIMPLE_EVALS, [True, None, True, True]) == pytest.approx(1 - 6 / 22)
    assert score("healthbench", SIMPLE_EVALS, [True, None, False, False]) == pytest.approx(7 / 17)


def test_abstention_on_pitfall_does_not_count_as_avoided():
    not_met = score("healthbench", SIMPLE_EVALS, [True, False, True, False])
    present = score("healthbench", SIMPLE_EVALS, [True, False, True, True])
    abstained = score("healthbench", SIMPLE_EVALS, [True, False, True, None])
    assert not_met == pytest.approx(17 / 22) and present == pytest.approx(0.5)
    # the only pitfall could not be judged: the score is undefined, not the "not met" (avoided) value
    assert abstained is None
    # two pitfalls, one judged present: its rate is extrapolated, the score moves *down* from "not met"
    r = hb_rubric((10, "a"), (-4, "p1"), (-4, "p2"))
    assert score("healthbench", r, [True, True, None]) == pytest.approx(1 - 8 / 10)
    assert score("healthbench", r, [True, True, False]) == pytest.approx(1 - 4 / 10)
    # explicit with polarity (a): the abstained pitfall leaves numerator and denominator
    e = rar("essential", "pitfall")
    assert score("explicit", e, [True, None]) == 1.0
    assert score("explicit", e, [True, False]) == 1.0  # avoided: (1 + .9) / 1.9
    assert score("explicit", rar("essential", "optional", "pitfall"), [True, False, None]) == pytest.approx(1 / 1.3)
    assert score("explicit", rar("essential", "optional", "pitfall"), [True, False, False]) == pytest.approx(1.9 / 2.2)


def test_nothing_judged_is_none_never_zero():
    for name in ("healthbench", "explicit", "veto", "saturating"):
        assert score(name, SIMPLE_EVALS, [None] * 4) is None, name
    assert score("implicit", rating=None) is None


def test_signed_ratio_matches_plain_formula_without_abstentions():
    w = [3, 2, -1, -4, 5]
    for mask in range(32):
        v = [bool(mask >> i & 1) for i in range(5)]
        plain = sum(wi for wi, vi in zip(w, v) if vi) / 10
        assert signed_ratio(w, v) == pytest.approx(plain)


def test_explicit_category_weights_polarity_a():
    r = rar("essential", "important", "optional", "pitfall")
    # met: essential, optional; pitfall present -> (1.0 + 0.3) / (1 + .7 + .3 + .9)
    assert score("explicit", r, [True, False, True, True]) == pytest.approx(1.3 / 2.9)
    # pitfall avoided adds 0.9
    assert score("explicit", r, [True, False, True, False]) == pytest.approx(2.2 / 2.9)


def test_explicit_polarity_b_and_custom_weights():
    r = rar("essential", "important", "pitfall")
    assert score("explicit", r, [True, True, True], pitfall_polarity="subtract") == pytest.approx((1.7 - 0.9) / 1.7)
    v1 = {"essential": 1.0, "important": 0.7, "optional": 0.3, "pitfall": 0.8}
    assert score("explicit", r, [True, False, False], weights=v1) == pytest.approx(1.8 / 2.5)
    with pytest.raises(ValueError, match="pitfall_polarity"):
        score("explicit", r, [True] * 3, pitfall_polarity="flip")


def test_explicit_ignores_numeric_weights_of_data():
    a = Rubric.from_rar([{"title": "t", "description": "Essential Criteria: x", "weight": 5},
                         {"title": "t", "description": "Optional Criteria: y", "weight": 1}])
    b = Rubric.from_rar([{"title": "t", "description": "Essential Criteria: x", "weight": 2},
                         {"title": "t", "description": "Optional Criteria: y", "weight": 2}])
    assert score("explicit", a, [False, True]) == score("explicit", b, [False, True]) == pytest.approx(0.3 / 1.3)


def test_likert_normalisation():
    assert score("implicit", rating=1) == 0.0 and score("implicit", rating=10) == 1.0
    assert score("direct_likert", rating=7) == pytest.approx(6 / 9)
    assert score("reference_likert", rating=7, normalise="over_ten") == pytest.approx(0.7)
    with pytest.raises(ValueError):
        likert(11)


def test_predefined_uses_the_four_generic_criteria():
    assert len(PREDEFINED_RUBRIC) == 4
    assert score("predefined", SIMPLE_EVALS, [True, True, False, False]) == 0.5  # uniform weights
    with pytest.raises(ValueError, match="4 verdicts|criteria"):
        score("predefined", SIMPLE_EVALS, [True])


def test_remark_1_verifiable_equals_rlvr():
    rubric = verifiable_rubric("42")
    for answer in ["42", " 42 ", "41", "forty-two"]:
        rlvr = float(exact_match(answer, "42"))  # r_RLVR = match(y, y_hat), Eq. 3
        assert score("verifiable", rubric, [exact_match(answer, "42")]) == rlvr
        assert score("explicit", rubric, [exact_match(answer, "42")]) == rlvr
    with pytest.raises(ValueError, match="exactly one essential"):
        score("verifiable", SIMPLE_EVALS, [True] * 4)


def test_veto_zeroes_on_failed_essential():
    r = rar("essential", "important", "optional")
    assert score("veto", r, [False, True, True]) == 0.0
    assert score("veto", r, [True, True, False]) == pytest.approx(1.7 / 2.0)
    assert score("veto", r, [None, True, True]) == 1.0  # an abstention never vetoes


def test_saturating_is_concave_within_a_category():
    r = rar("important", "important", "important", "important")
    s = [score("saturating", r, [i < k for i in range(4)]) for k in range(5)]
    gains = [b - a for a, b in zip(s, s[1:])]
    assert s[0] == 0.0 and s[-1] == pytest.approx(1.0)
    assert all(g1 > g2 for g1, g2 in zip(gains, gains[1:]))
    alpha = 2.0
    assert s[2] == pytest.approx((1 - math.exp(-alpha * 0.5)) / (1 - math.exp(-alpha)))
    p = rar("essential", "pitfall")
    assert score("saturating", p, [True, True]) == pytest.approx(1.0 - 0.9)


# -- defects fixed: signed weight maps, pitfall veto, abstained pitfalls, pitfall-only explicit ------

SIGNED = {"essential": 1.0, "important": 0.7, "optional": 0.3, "pitfall": -0.9}  # the data's own sign


def test_signed_category_weights_are_read_as_magnitudes():
    r = rar("essential", "important", "pitfall")
    # read signed, (1 + .7) / (1 + .7 - .9) = 2.125: above 1
    assert score("explicit", r, [True, True, True], weights=SIGNED) == pytest.approx(1.7 / 2.6)
    for v in ([True, True, True], [True, False, False], [False, True, True], [None, True, False]):
        for name, opts in [("explicit", {}), ("explicit", {"pitfall_polarity": "subtract"}), ("veto", {}),
                           ("veto", {"veto_categories": ("pitfall",)}), ("saturating", {})]:
            assert score(name, r, v, weights=SIGNED, **opts) == score(name, r, v, **opts), (name, opts, v)
    neg = {"essential": -1.0}
    assert score("predefined", PREDEFINED_RUBRIC, [True, False, True, True], weights=neg) == 0.75


def test_veto_on_pitfall_fires_when_present_not_when_avoided():
    r = rar("essential", "pitfall")
    assert score("veto", r, [True, False], veto_categories=("pitfall",)) == 1.0  # avoided: explicit
    assert score("veto", r, [True, True], veto_categories=("pitfall",)) == 0.0  # present: vetoed
    assert score("veto", r, [True, None], veto_categories=("pitfall",)) == 1.0  # abstained: no veto
    assert score("veto", r, [True, True]) == pytest.approx(1 / 1.9)  # default: only essentials veto
    with pytest.raises(ValueError, match="unknown veto categories"):
        score("veto", r, [True, True], veto_categories=("pitfalls",))


def test_veto_never_lifts_a_negative_score():
    # subtract polarity can go negative; a veto gives min(0, explicit), else meeting the
    # essential (False -> True) would lower the score from 0 to -0.8
    r = rar("essential", "pitfall", "pitfall")
    met = score("veto", r, [True, True, True], pitfall_polarity="subtract")
    failed = score("veto", r, [False, True, True], pitfall_polarity="subtract")
    assert met == pytest.approx(1 - 1.8) and failed == pytest.approx(-1.8) and failed <= met


def test_saturating_abstained_pitfall_is_not_avoided():
    p = rar("essential", "pitfall")
    assert score("saturating", p, [True, None]) is None  # was 1.0, as if avoided
    assert score("saturating", p, [True, False]) == pytest.approx(1.0)
    # two pitfalls, one judged present: the rate (1/1) comes from the judged one
    p2 = rar("essential", "pitfall", "pitfall")
    assert score("saturating", p2, [True, True, None]) == pytest.approx(1 - 0.9)
    assert score("saturating", p2, [True, True, False]) == pytest.approx(1 - 0.45)


def test_explicit_without_judged_positive_is_none():
    e = rar("essential", "important", "pitfall")
    assert score("explicit", e, [None, None, False]) is None  # was 1.0 from the avoided pitfall alone
    assert score("healthbench", SIMPLE_EVALS, [None, None, None, False]) is None
    assert score("explicit", e, [None, None, False], pitfall_polarity="subtract") is None
    assert score("explicit", rar("pitfall"), [False]) is None  # penalty-only rubric


# -- properties over random rubrics and verdicts ------------------------------------------------------

POSITIVE = ("essential", "important", "optional")
ALL_CATEGORIES = POSITIVE + ("pitfall",)


def _bounds_signed(pos_weights, neg_weights):
    """[−W⁻/W⁺, 1] (W⁺ > 0 whenever a score exists)."""
    wp, wn = sum(pos_weights), sum(neg_weights)
    return (-wn / wp if wp > 0 else -math.inf), 1.0


def _bounds(kind, rubric, weights, options):
    w = {k: abs(v) for k, v in weights.items()}
    if kind == "healthbench":
        return _bounds_signed([c.weight for c in rubric if c.weight > 0], [-c.weight for c in rubric if c.weight < 0])
    if kind == "saturating":
        present = [w[c.category.value] for c in rubric if not c.is_pitfall]
        has_pits = any(c.is_pitfall for c in rubric)
        return (-w["pitfall"] / min(present) if has_pits and present else 0.0), 1.0
    if options.get("pitfall_polarity") == "subtract":  # explicit / veto (b)
        return _bounds_signed([w[c.category.value] for c in rubric if not c.is_pitfall],
                              [w["pitfall"] for c in rubric if c.is_pitfall])
    return 0.0, 1.0  # explicit / veto (a), predefined, verifiable


# (case id, strategy, options, rubric kind); every verdict strategy of STRATEGIES is covered
CASES = [
    ("healthbench", "healthbench", {}, "healthbench"),
    ("explicit-avoided", "explicit", {}, "category"),
    ("explicit-subtract", "explicit", {"pitfall_polarity": "subtract"}, "category"),
    ("predefined", "predefined", {}, "predefined"),
    ("veto", "veto", {}, "category"),
    ("veto-pitfall", "veto", {"veto_categories": ("pitfall",)}, "category"),
    ("veto-all-subtract", "veto", {"veto_categories": ALL_CATEGORIES, "pitfall_polarity": "subtract"}, "category"),
    ("saturating", "saturating", {}, "saturating"),
    ("verifiable", "verifiable", {}, "verifiable"),
]


def test_property_cases_cover_every_verdict_strategy():
    assert {s for _, s, _, _ in CASES} == {n for n, s in STRATEGIES.items() if s.question != "rating"}


points = st.one_of(st.integers(1, 10), st.integers(-10, -1))  # HealthBench-style, of varied sizes
magnitude = st.floats(0.1, 2.0)
sign = st.sampled_from([1.0, -1.0])  # weight maps may carry the data's sign (defect 1)
weight_maps = st.fixed_dictionaries({k: st.builds(lambda m, s: m * s, magnitude, sign) for k in ALL_CATEGORIES})


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_verdict_strategy_properties(case, data):
    _, name, options, kind = case
    if kind == "predefined":
        rubric = PREDEFINED_RUBRIC
    elif kind == "verifiable":
        rubric = verifiable_rubric("42")
    else:  # points map to categories by size (>= 7 essential ...), negative points are pitfalls
        rubric = hb_rubric(*[(p, f"c{i}") for i, p in enumerate(data.draw(st.lists(points, min_size=1, max_size=7)))])
    if kind not in ("healthbench", "verifiable"):
        options = {**options, "weights": data.draw(weight_maps)}
    verdicts = data.draw(st.lists(st.sampled_from([True, False, None]), min_size=len(rubric), max_size=len(rubric)))

    def f(v):
        return score(name, rubric, v, **options)

    lo, hi = _bounds(kind, rubric, options.get("weights", RAR_WEIGHTS), options)
    s = f(verdicts)
    assert s is None or lo - 1e-9 <= s <= hi + 1e-9, (s, lo, hi)
    assert f([None] * len(rubric)) is None  # nothing judged: None, never 0

    for i, c in enumerate(rubric):
        met, not_met, abstained = (f(verdicts[:i] + [v] + verdicts[i + 1:]) for v in (True, False, None))
        # for a pitfall, met = the undesirable behaviour present; the favourable verdict is False
        worse, better = (met, not_met) if c.is_pitfall else (not_met, met)
        if worse is not None and better is not None:
            # positive False -> True never lowers; pitfall False -> True never raises
            assert worse <= better + 1e-9, (i, c.category, verdicts, worse, better)
        if abstained is not None and better is not None:
            # an abstention is never worth more than the favourable verdict
            assert abstained <= better + 1e-9, (i, c.category, verdicts, abstained, better)


@pytest.mark.parametrize("name", sorted(n for n, s in STRATEGIES.items() if s.question == "rating"))
@settings(max_examples=100, deadline=None)
@given(a=st.floats(1, 10), b=st.floats(1, 10), normalise=st.sampled_from(["minus_one", "over_ten"]))
def test_rating_strategy_range(name, a, b, normalise):
    lo, hi = sorted([a, b])
    s_lo, s_hi = score(name, rating=lo, normalise=normalise), score(name, rating=hi, normalise=normalise)
    assert 0.0 <= s_lo <= s_hi <= 1.0
