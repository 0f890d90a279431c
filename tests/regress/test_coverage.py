"""Coverage: each side's scored / abstained / refused / absent items, and `regressed (coverage)`."""

import numpy as np
import pytest

from rareval.regress.coverage import coverage
from rareval.regress.errors import RegressUsageError
from rareval.regress.gate import compare
from rareval.regress.items import MetricItems, ResultSet
from rareval.regress.suite import Suite
from tests.regress.test_gate import rng_scores


def metric(scores, unscored=(), refused=()):
    """Items ``i000``… with ``scores`` (index → score), plus unscored and refused item indices."""
    return MetricItems(name="hb", kind="graded", scores={f"i{k:03d}": float(v) for k, v in scores.items()},
                       unscored=[f"i{k:03d}" for k in unscored], refused=[f"i{k:03d}" for k in refused])


def lose(base, abstained=(), refused=(), shift=0.0):
    """The baseline's scores, less the items the candidate lost (judge abstained / model refused), moved by shift."""
    kept = {k: float(np.clip(v + shift, 0, 1)) for k, v in enumerate(base) if k not in {*abstained, *refused}}
    return metric(kept, unscored=[*abstained, *refused], refused=refused)


def gate(cand, base, **suite):
    return compare(ResultSet(label="c", metrics={"hb": cand}), ResultSet(label="b", metrics={"hb": base}),
                   Suite(**suite))


def test_every_item_is_in_exactly_one_count_over_the_union_of_both_sides():
    base = metric({0: 1, 1: 1, 2: 0.5, 3: 0, 4: 1}, unscored=[5])  # i005: the judge abstained on the baseline
    cand = metric({0: 1, 1: 0, 6: 1}, unscored=[2, 3, 4], refused=[3, 4])  # i005 missing, i006 only here
    c = coverage(cand, base, tolerance=0.02)
    assert (c.baseline.items, c.baseline.scored, c.baseline.abstained, c.baseline.refused, c.baseline.absent) == (
        7, 5, 1, 0, 1)
    assert (c.candidate.items, c.candidate.scored, c.candidate.abstained, c.candidate.refused, c.candidate.absent
            ) == (7, 3, 1, 2, 1)
    assert c.baseline.share == pytest.approx(5 / 7) and c.candidate.share == pytest.approx(3 / 7)
    assert c.drop == pytest.approx(2 / 7) and c.lost
    # a refused item the side also scored (another epoch) is scored, not refused
    assert coverage(metric({0: 1}, unscored=[0], refused=[0]), metric({0: 1}), 0).candidate.refused == 0


def test_losing_items_beyond_the_tolerance_regresses_when_the_pairs_see_no_change():
    base = rng_scores(400)
    result = gate(lose(base, abstained=range(12), refused=range(12, 20)), metric(dict(enumerate(base))),
                  min_effect=0.1)
    (m,) = result.metrics
    # the 380 shared items are identical: the pairs alone would pass the candidate
    assert m.paired_verdict == "no detectable change" and m.difference == 0
    assert m.verdict == "regressed (coverage)" and result.regressed == ["hb"] and result.exit_code == 1
    assert (m.coverage.candidate.scored, m.coverage.candidate.abstained, m.coverage.candidate.refused) == (380, 12, 8)
    assert m.coverage.drop == pytest.approx(0.05)


@pytest.mark.parametrize("lost,tolerance,verdict", [
    (8, 0.02, "no detectable change"),   # 8 / 400 = 0.02: at the tolerance, not beyond it
    (9, 0.02, "regressed (coverage)"),
    (20, 0.05, "no detectable change"),
    (20, 0.0, "regressed (coverage)"),
])
def test_the_tolerance_is_the_largest_drop_in_share_scored_allowed(lost, tolerance, verdict):
    base = rng_scores(400)
    (m,) = gate(lose(base, abstained=range(lost)), metric(dict(enumerate(base))), min_effect=0.1,
                coverage_tolerance=tolerance).metrics
    assert m.verdict == verdict and m.paired_verdict == "no detectable change"


def test_within_the_tolerance_the_paired_verdict_stands():
    base = rng_scores(200)
    better = gate(lose(base, abstained=[0, 1], shift=0.15), metric(dict(enumerate(base)))).metrics[0]
    worse = gate(lose(base, refused=[0], shift=-0.15), metric(dict(enumerate(base)))).metrics[0]
    assert better.coverage.drop == pytest.approx(0.01) and better.verdict == better.paired_verdict == "improved"
    assert worse.verdict == worse.paired_verdict == "regressed"


def test_a_coverage_loss_overrules_an_improvement_on_the_shared_items():
    base = rng_scores(200)
    (m,) = gate(lose(base, refused=range(50), shift=0.15), metric(dict(enumerate(base)))).metrics
    assert m.paired_verdict == "improved" and m.verdict == "regressed (coverage)"


def test_a_candidate_that_scored_nothing_regresses_instead_of_being_misuse():
    base = metric({k: 1.0 for k in range(10)})
    result = gate(metric({}, unscored=range(10), refused=range(4)), base)
    (m,) = result.metrics
    assert m.verdict == "regressed (coverage)" and result.exit_code == 1
    assert m.items == 0 and m.difference is None and m.test == "none" and m.only_baseline == 10
    assert (m.coverage.candidate.abstained, m.coverage.candidate.refused) == (6, 4)
    # neither side scoring a shared item without a coverage loss is still misuse
    with pytest.raises(RegressUsageError, match="no item in common"):
        gate(metric({}, unscored=range(10)), metric({}, unscored=range(10)))
