"""``on_failure=not_met`` scores an answer that came back unreadable as not met; a call that failed still abstains.

A wrong key, a timeout, a refusal or a prompt over the judge's context is no verdict: under every rule it abstains,
so fail-fast ends an evaluation with the judge's error instead of scoring every example 0 as a success.
"""

from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from tests.conftest import REPO
from tests.judge.fake_providers import FakeServedJudge


def healthbench(tmp_path, grader, **task_args):
    """tasks/healthbench.py on 3 examples of the bundled sample, through Inspect's runner."""
    return inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": grader},
                        task_args=task_args, limit=3, log_dir=str(tmp_path / "logs"), display="none")[0]


def test_a_wrong_key_ends_the_run_with_the_judges_error_under_not_met(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    with FakeServedJudge(api_key="sk-right") as server:
        grader = get_model(f"openai-api/served/{server.model}", base_url=server.base_url, api_key="sk-wrong")
        log = healthbench(tmp_path, grader, on_failure="not_met", fail_fast=2)
    assert log.status == "error", log.results
    assert "abstained on 100%" in log.error.message and "Incorrect API key provided" in log.error.message


def test_an_unreadable_answer_is_still_scored_not_met(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    log = healthbench(tmp_path, "scripted/malformed", on_failure="not_met", fail_fast=2)
    metrics = log.results.scores[0].metrics
    assert log.status == "success" and metrics["judge_abstention_rate"].value == 0
    assert "unscored" not in metrics or metrics["unscored"].value == 0
