"""Threshold lookup by the judge's identity, and threshold fitting, on hand-computed cases."""

import json

import pytest

from rareval.judge.calibration import best_threshold, calibrated_thresholds, fit_thresholds, thresholds


def test_lookup_is_by_the_weights_and_configuration_wins(tmp_path):
    stored = calibrated_thresholds("local/qwen-1.5b")
    assert stored["default"] == pytest.approx(0.517) and set(stored) == {"default", "level:cluster", "pitfall",
                                                                         "positive"}
    # the same GGUF served elsewhere keeps its calibration, whatever the provider or the folder
    for served in ("openai-api/llamacpp//srv/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                   "vllm//data/Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf"):
        assert calibrated_thresholds(served) == stored, served
    assert calibrated_thresholds("openai/gpt-4.1-2025-04-14") == {"default": 0.5}  # no stored calibration
    assert calibrated_thresholds("vllm/Qwen/Qwen2.5-Coder-1.5B-Instruct") == {"default": 0.5}  # other weights
    assert calibrated_thresholds("local/qwen-0.5b") == {"default": 0.5}
    assert thresholds("local/qwen-1.5b", threshold=0.3) == {"default": 0.3}
    assert thresholds("local/qwen-1.5b", by_kind={"pitfall": 0.7}) == {"default": 0.5, "pitfall": 0.7}
    assert thresholds("local/qwen-1.5b") == stored
    calib = tmp_path / "calib.json"
    calib.write_text(json.dumps({"judge": "openai/gpt-4.1", "thresholds": {"default": 0.4, "pitfall": 0.6}}))
    assert thresholds("openai/gpt-4.1", calibration=calib) == {"default": 0.4, "pitfall": 0.6}
    with pytest.raises(ValueError, match=r"calib.json was fitted for the judge openai/gpt-4.1 \(identity gpt-4.1\), "
                       r"not for local/qwen-1.5b \(identity qwen2.5-coder-1.5b-instruct-q4_k_m\)"):
        thresholds("local/qwen-1.5b", calibration=calib)  # another judge's thresholds misread this one's P(yes)
    assert thresholds("local/qwen-1.5b", calibration=calib, any_judge=True) == {"default": 0.4, "pitfall": 0.6}
    calib.write_text(json.dumps({"judge": "local/qwen-1.5b", "identity": "qwen2.5-coder-1.5b-instruct-q4_k_m",
                                 "thresholds": {"default": 0.4}}))  # the same weights served by llama.cpp
    assert thresholds("openai-api/llamacpp//models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                      calibration=calib) == {"default": 0.4}
    calib.write_text(json.dumps({"thresholds": {"pitfall": 1.5}}))
    with pytest.raises(ValueError, match="calib.json: thresholds need a 'default'"):
        thresholds("x", calibration=calib)


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
