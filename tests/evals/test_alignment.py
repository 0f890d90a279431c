"""Agreement, F1 and preference accuracy on hand-computed cases."""

import math

import pytest

from rareval.evals.alignment import binary_f1, macro_f1, pairwise_accuracy, preference_outcome, verdict_agreement


def test_verdict_agreement_skips_abstentions_and_reads_p_met():
    truth = [True, True, False, False, True]
    pred = [True, False, False, None, True]
    p = [0.9, 0.4, 0.2, None, 0.7]
    a = verdict_agreement(truth, pred, p)
    assert a.n == 5 and a.judged == 4 and a.abstained == 1
    assert a.agreement == pytest.approx(3 / 4)
    assert a.share_met == pytest.approx(2 / 4) and a.label_share_met == pytest.approx(3 / 5)
    # P(met) of positives {0.9, 0.4, 0.7} vs negative {0.2}: every positive ranks higher
    assert a.auc == pytest.approx(1.0)
    # kappa on judged pairs: p_o = 3/4; judge yes 2/4, truth yes 3/4 -> p_e = .5*.75 + .5*.25 = .5
    assert a.kappa == pytest.approx((0.75 - 0.5) / 0.5)


def test_auc_absent_without_p_met_or_with_one_class():
    assert verdict_agreement([True, False], [True, True]).auc is None
    assert verdict_agreement([True, True], [True, False], [0.3, 0.8]).auc is None


def test_f1_and_macro_f1():
    truth = [True, True, False, False]
    pred = [True, False, True, False]
    # met: TP=1 FP=1 FN=1 -> 2/4; not met: the same by symmetry
    assert binary_f1(truth, pred) == pytest.approx(0.5) and macro_f1(truth, pred) == pytest.approx(0.5)
    assert macro_f1([True, False], [True, False]) == 1.0


def test_preference_outcome_ties():
    assert preference_outcome(7, 5) == 1.0 and preference_outcome(4, 5) == 0.0
    assert preference_outcome(5, 5) == 0.0 and preference_outcome(5, 5, "half") == 0.5
    acc, (low, high) = pairwise_accuracy([1, 1, 0, 1])
    assert acc == 0.75 and low <= acc <= high
    assert math.isnan(pairwise_accuracy([])[0])
