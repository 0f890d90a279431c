"""The one scoring path: the GRPO reward and the Inspect scorer give the same score for the same answer."""

import asyncio

import pytest
from inspect_ai import eval as inspect_eval

from rareval.judge import Judge, JudgeConfig
from rareval.reward import RubricReward
from tests.conftest import REPO


@pytest.mark.parametrize("strategy", ["healthbench", "explicit", "saturating", "implicit"])
def test_grpo_reward_equals_inspect_scorer(tmp_path, monkeypatch, strategy):
    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": "scripted/keyword"},
                       task_args={"strategy": strategy}, limit=4, log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success"
    prompts = [[{"role": m.role, "content": m.text} for m in s.input] for s in log.samples]
    completions = [[{"role": "assistant", "content": s.output.completion}] for s in log.samples]
    rubrics = [s.metadata["rubric"] for s in log.samples]
    scorer = [next(iter(s.scores.values())).metadata["overall"] for s in log.samples]
    # a fresh judge without the verdict cache: the reward asks every question again
    reward = RubricReward(strategy, judge=Judge("scripted/keyword", config=JudgeConfig(cache=False)))
    logged = {}
    values = asyncio.run(reward(prompts, completions, rubric=rubrics, log_metric=logged.__setitem__))
    assert values == pytest.approx(scorer) and len(values) == 4
    assert logged["rubric/judge_calls"] >= 1  # the reward really asked the judge
    assert any(v is not None for v in scorer)
