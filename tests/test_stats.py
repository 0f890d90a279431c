"""rareval.stats against values worked out by hand."""

import math

import pytest

from rareval.stats import (
    RunSummary,
    bootstrap_ci,
    bootstrap_std,
    cohen_kappa,
    mean_ci_across_runs,
    roc_auc,
    spearman,
)

# --- bootstrap -------------------------------------------------------------

def test_bootstrap_std_of_constant_is_zero():
    assert bootstrap_std([0.3] * 10) == pytest.approx(0.0, abs=1e-12)


def test_bootstrap_std_matches_binomial_standard_error():
    # 50 ones and 50 zeros: std of the resampled mean = sqrt(p(1-p)/m) = sqrt(.25/100) = 0.05
    values = [1.0] * 50 + [0.0] * 50
    assert bootstrap_std(values, n=20000) == pytest.approx(0.05, abs=0.002)


def test_bootstrap_std_is_seeded():
    values = [0.1, 0.5, 0.9, 0.2]
    assert bootstrap_std(values, seed=3) == bootstrap_std(values, seed=3)
    assert bootstrap_std(values, seed=3) != bootstrap_std(values, seed=4)


def test_bootstrap_std_clips_each_mean():
    # every resampled mean of [2, 3] lies in [2, 3]; clipped to [0, 1] they are all 1
    assert bootstrap_std([2.0, 3.0], clip=(0, 1)) == 0.0
    assert bootstrap_std([2.0, 3.0]) > 0.0


def test_bootstrap_ci_of_binary_values_matches_normal_interval():
    # p = .5, m = 100: .5 ± 1.96 · .05 = (.402, .598)
    low, high = bootstrap_ci([1.0] * 50 + [0.0] * 50, n=20000)
    assert low == pytest.approx(0.402, abs=0.015)
    assert high == pytest.approx(0.598, abs=0.015)


def test_bootstrap_ci_narrows_with_level_and_is_degenerate_for_constants():
    values = [0.0, 1.0, 1.0, 0.0, 1.0, 0.5]
    lo95, hi95 = bootstrap_ci(values, level=0.95)
    lo50, hi50 = bootstrap_ci(values, level=0.50)
    assert lo95 <= lo50 <= hi50 <= hi95
    assert bootstrap_ci([4.0, 4.0, 4.0]) == (4.0, 4.0)


def test_bootstrap_rejects_empty_and_bad_level():
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_std([])
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([1.0], level=1.5)


# --- across runs -----------------------------------------------------------

def test_mean_ci_across_two_runs():
    # s = 0.14142, t_{.975,1} = 12.7062, half = 12.7062 · 0.14142 / sqrt(2) = 1.27062
    s = mean_ci_across_runs([0.5, 0.7])
    assert isinstance(s, RunSummary)
    assert s.mean == pytest.approx(0.6)
    assert s.std == pytest.approx(0.141421, abs=1e-6)
    assert s.half_width == pytest.approx(1.27062, abs=1e-4)
    assert s.n == 2


def test_mean_ci_across_five_runs_and_levels():
    # mean 3, s = sqrt(2.5) = 1.58114; t_{.975,4} = 2.77645 → 1.96324; t_{.95,4} = 2.13185 → 1.50744
    mean, half, std, n = mean_ci_across_runs([1, 2, 3, 4, 5])
    assert (mean, n) == (3.0, 5)
    assert std == pytest.approx(1.58114, abs=1e-5)
    assert half == pytest.approx(1.96324, abs=1e-4)
    assert mean_ci_across_runs([1, 2, 3, 4, 5], level=0.90).half_width == pytest.approx(1.50744, abs=1e-4)


def test_mean_ci_single_run_has_unknown_spread():
    s = mean_ci_across_runs([0.42])
    assert s.mean == 0.42 and s.n == 1
    assert math.isnan(s.half_width) and math.isnan(s.std)


# --- agreement -------------------------------------------------------------

def test_cohen_kappa_textbook_table():
    # 2x2 table yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = .7, p_e = .5·.6 + .5·.4 = .5 → .4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_extremes():
    assert cohen_kappa([0, 1, 2], [0, 1, 2]) == pytest.approx(1.0)
    assert cohen_kappa([0, 1], [1, 0]) == pytest.approx(-1.0)  # p_o = 0, p_e = .5
    assert cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.5)
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def test_cohen_kappa_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        cohen_kappa([1, 0], [1])


# --- ROC AUC ---------------------------------------------------------------

def test_roc_auc_hand_example():
    # positives .35 and .8 against negatives .1 and .4: 3 of 4 pairs ordered → .75
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_roc_auc_ties_count_half():
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    # pairs: (.5 vs .2) 1, (.5 vs .5) .5, (.9 vs .2) 1, (.9 vs .5) 1 → 3.5 / 4
    assert roc_auc([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9]) == pytest.approx(0.875)


def test_roc_auc_perfect_reversed_and_booleans():
    assert roc_auc([False, True, True], [0.1, 0.7, 0.9]) == 1.0
    assert roc_auc([1, 0, 0], [0.1, 0.7, 0.9]) == 0.0


def test_roc_auc_needs_both_classes():
    with pytest.raises(ValueError, match="positive and one negative"):
        roc_auc([1, 1], [0.2, 0.3])


def test_spearman_needs_variation():
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None and spearman([1, 2], [1, 2]) is None
