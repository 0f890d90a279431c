"""The gate's statistics against scipy and hand-worked cases."""

import math

import numpy as np
import pytest
from scipy import stats

from rareval.regress.stats import (EXACT_FLIPS, holm, mcnemar, min_changed_items, minimum_detectable_effect,
                                   sign_flip_test)
from rareval.stats import bootstrap_ci


@pytest.mark.parametrize("b,c", [(0, 0), (0, 1), (0, 6), (1, 5), (3, 3), (2, 9), (7, 0), (12, 11)])
def test_exact_mcnemar_is_scipys_binomial_test(b, c):
    result = mcnemar(b, c)
    assert result.exact
    expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("b,c", [(10, 30), (20, 20), (40, 25), (100, 130)])
def test_large_counts_use_chi_square_with_continuity_correction(b, c):
    result = mcnemar(b, c)
    assert not result.exact
    chi2 = max(abs(b - c) - 1, 0) ** 2 / (b + c)
    assert result.statistic == pytest.approx(chi2)
    assert result.p_value == pytest.approx(stats.chi2.sf(chi2, 1))
    # and it approximates the exact test it replaces
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, abs=0.02)


def test_exact_below_sets_the_switch():
    assert mcnemar(10, 30, exact_below=100).exact
    assert not mcnemar(3, 4, exact_below=5).exact
    with pytest.raises(ValueError):
        mcnemar(-1, 2)


def test_sign_flip_on_binary_items_is_the_exact_mcnemar_test():
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.choice([-1.0, 0.0, 1.0], size=14)
        b, c = int(np.sum(d < 0)), int(np.sum(d > 0))
        assert sign_flip_test(d) == pytest.approx(mcnemar(b, c, exact_below=100).p_value, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_sign_flip_is_scipys_paired_permutation_test(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=10)
    y = np.clip(x + rng.normal(0.15, 0.2, size=10), 0, 1)
    expected = stats.permutation_test((y, x), lambda a, b: np.mean(a - b), permutation_type="samples",
                                      n_resamples=np.inf, alternative="two-sided").pvalue
    assert sign_flip_test(y - x) == pytest.approx(expected, rel=1e-9)


def test_monte_carlo_sign_flip_is_close_to_the_exact_count_and_seeded(monkeypatch):
    from rareval.regress import stats as gate_stats

    rng = np.random.default_rng(3)
    d = rng.normal(0.1, 0.3, size=EXACT_FLIPS + 2)  # sampled by default
    p = sign_flip_test(d, resamples=20_000, seed=1)
    assert sign_flip_test(d, resamples=20_000, seed=1) == p
    monkeypatch.setattr(gate_stats, "EXACT_FLIPS", EXACT_FLIPS + 2)  # enumerate all 2^18 patterns instead
    assert p == pytest.approx(sign_flip_test(d), abs=0.01)
    monkeypatch.undo()
    assert sign_flip_test([0.2] * 30, resamples=999) == pytest.approx(1 / 1000)  # (1 + 0) / (1 + B)


def test_sign_flip_floor_and_zero_differences():
    assert sign_flip_test([0.4] * 5) == pytest.approx(2 / 32)
    assert sign_flip_test([0.0] * 9) == 1.0
    assert sign_flip_test([0.3, -0.3]) == 1.0


def test_holm_by_hand_and_its_properties():
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert holm([0.5]) == [0.5]
    assert holm([0.001, 0.9, 0.02, 0.04]) == pytest.approx([0.004, 0.9, 0.06, 0.08])
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, size=7)
    adj = holm(list(p))
    assert all(a >= q for a, q in zip(adj, p)) and max(adj) <= 1
    order = np.argsort(p)
    assert all(np.diff(np.array(adj)[order]) >= 0)  # monotone in the raw p-values
    # Holm never rejects less than Bonferroni
    assert all(a <= min(1, q * len(p)) + 1e-15 for a, q in zip(adj, p))


def test_minimum_detectable_effect():
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert minimum_detectable_effect(100, 0.5, 0.05) == pytest.approx(z * 0.5 / 10)
    assert minimum_detectable_effect(100, 0.5, 0.05, power=0.9) > minimum_detectable_effect(100, 0.5, 0.05)
    assert minimum_detectable_effect(400, 0.5, 0.05) == pytest.approx(minimum_detectable_effect(100, 0.5, 0.05) / 2)
    assert math.isinf(minimum_detectable_effect(5, 0.5, 0.05))  # below 6 items nothing reaches p < 0.05
    assert minimum_detectable_effect(10, 0.0, 0.05, binary=True) == pytest.approx(0.6)  # 6 of 10 must flip
    assert min_changed_items(0.05) == 6 and min_changed_items(0.025) == 7 and min_changed_items(0.01) == 8


def test_minimum_detectable_effect_has_the_power_it_claims():
    """At the MDE a paired test rejects about `power` of the time (normal differences, paired t-test)."""
    rng = np.random.default_rng(0)
    n, sd = 60, 0.4
    delta = minimum_detectable_effect(n, sd, 0.05)
    rejected = [stats.ttest_rel(rng.normal(delta, sd, n), np.zeros(n)).pvalue < 0.05 for _ in range(600)]
    assert 0.72 < np.mean(rejected) < 0.86


def test_paired_bootstrap_interval_agrees_with_the_t_interval_on_many_items():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 400)
    cand = np.clip(base + rng.normal(0.05, 0.2, 400), 0, 1)
    low, high = bootstrap_ci(cand - base, level=0.95, n=4000, seed=0)
    t = stats.ttest_rel(cand, base).confidence_interval(0.95)
    assert low == pytest.approx(t.low, abs=0.005) and high == pytest.approx(t.high, abs=0.005)
