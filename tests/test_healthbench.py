"""HealthBench scoring parity with simple-evals and the task through the real Inspect runner."""

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.scorer import SampleScore, Score

from rareval.healthbench import healthbench_metrics, length_adjusted, tag_scores
from tests.conftest import REPO
from rareval.rubric import Rubric


def test_tag_scores_follow_simple_evals():
    r = Rubric.from_healthbench([
        {"criterion": "a", "points": 7, "tags": ["axis:accuracy"]}, {"criterion": "b", "points": 5, "tags": ["axis:accuracy"]},
        {"criterion": "c", "points": 10, "tags": ["axis:completeness"]}, {"criterion": "d", "points": -6, "tags": ["axis:accuracy"]},
        {"criterion": "e", "points": -2, "tags": ["axis:safety"]}])
    t = tag_scores(r, [True, False, True, True, True])
    assert t == {"axis:accuracy": pytest.approx((7 - 6) / 12), "axis:completeness": 1.0}  # safety: no positive points


def test_clip_after_averaging_and_seeded_bootstrap():
    scores = [SampleScore(score=Score(value=v, metadata={"overall": v, "tags": {}, "example_tags": ["theme:x"],
                                                       "abstained": a, "questions": 4}), sample_id=i)
              for i, (v, a) in enumerate([(-0.5, 0), (0.9, 1), (0.8, 0)])]
    m = healthbench_metrics()(scores)
    assert m["score"] == pytest.approx(0.4)          # mean(-0.5, .9, .8), not mean(0, .9, .8)
    assert m["theme:x"] == pytest.approx(0.4) and m["judge_abstention_rate"] == pytest.approx(1 / 12)
    assert m["bootstrap_std"] == healthbench_metrics()(scores)["bootstrap_std"] > 0
    high = [SampleScore(score=Score(value=1.2, metadata={"overall": 1.2, "abstained": 0, "questions": 1}), sample_id=0)]
    assert healthbench_metrics()(high)["score"] == 1.0


def test_task_runs_through_inspect_with_scripted_models(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    logs = inspect_eval("tasks/healthbench.py", model="scripted/policy",
                        model_roles={"grader": "scripted/keyword"}, limit=3, log_dir=str(tmp_path), display="none")
    log = logs[0]
    assert log.status == "success" and len(log.samples) == 3
    metrics = log.results.scores[0].metrics
    assert metrics["n_scored"].value == 3 and metrics["judge_abstention_rate"].value == 0.0
    sample = log.samples[0]
    score = next(iter(sample.scores.values()))
    assert len(score.metadata["verdicts"]) == score.metadata["questions"] > 0
    assert "met" in score.explanation  # per-criterion verdicts visible in inspect view


def test_judge_failure_on_pitfall_never_raises_the_score(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    logs = inspect_eval("tasks/healthbench.py", model="scripted/policy",
                        model_roles={"grader": "scripted/malformed"}, limit=2, log_dir=str(tmp_path), display="none")
    metrics = logs[0].results.scores[0].metrics
    assert metrics["judge_abstention_rate"].value == 1.0 and metrics["n_scored"].value == 0
    assert metrics["unscored"].value == 2


def test_length_adjusted_score(tmp_path, monkeypatch):
    assert length_adjusted(0.5, "x" * 2500, 0.0299) == pytest.approx(0.5 - 0.0299)
    assert length_adjusted(0.5, "x" * 1500, 0.0299) == pytest.approx(0.5 + 0.0299)
    assert length_adjusted(None, "x", 0.03) is None and length_adjusted(0.5, "x", None) is None
    monkeypatch.chdir(REPO)
    logs = inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": "scripted/keyword"},
                        limit=2, task_args={"length_penalty": 0.0299}, log_dir=str(tmp_path), display="none")
    metrics = logs[0].results.scores[0].metrics
    reply_len = len(logs[0].samples[0].output.completion)
    overall = [next(iter(s.scores.values())).metadata["overall"] for s in logs[0].samples]
    expected = sum(overall) / len(overall) - 0.0299 * (reply_len - 2000) / 500  # clipped after averaging
    assert metrics["score_length_adjusted"].value == pytest.approx(min(1.0, max(0.0, expected)))
