"""Threshold lookup by the judge's identity, and threshold fitting, on hand-computed cases."""

import pytest

from rareval.judge.calibration import best_threshold, calibrated_thresholds, fit_thresholds, thresholds


def test_lookup_is_by_identity_and_configuration_wins():
    stored = calibrated_thresholds("local/qwen-1.5b")
    assert stored["default"] == pytest.approx(0.517) and set(stored) == {"default", "level:cluster", "pitfall",
                                                                         "positive"}
    assert calibrated_thresholds("openai/gpt-4.1-2025-04-14") == {"default": 0.5}  # no stored calibration
    assert calibrated_thresholds("local/qwen-0.5b") == {"default": 0.5}
    assert thresholds("local/qwen-1.5b", threshold=0.3) == {"default": 0.3}
    assert thresholds("local/qwen-1.5b", by_kind={"pitfall": 0.7}) == {"default": 0.5, "pitfall": 0.7}
    assert thresholds("local/qwen-1.5b") == stored


def test_best_threshold_fits_the_data():
    truth = [False, False, True, True, False]
    p = [0.1, 0.3, 0.35, 0.8, 0.6]
    th, agree = best_threshold(truth, p)
    assert agree == pytest.approx(4 / 5)
    assert sum((x >= th) == t for x, t in zip(p, truth)) == 4


def test_fit_thresholds_by_kind_with_bounds():
    truth = [True] * 25 + [False] * 25 + [True] * 20
    p = [0.8] * 25 + [0.2] * 25 + [0.1] * 20   # the third kind: always met, low P(yes)
    kinds = ["positive"] * 50 + ["level:cluster"] * 20
    th = fit_thresholds(truth, p, kinds)
    assert 0.2 < th["positive"] <= 0.8 and th["level:cluster"] == 0.05  # clamped, not 0
    assert set(th) == {"default", "positive", "level:cluster"}
