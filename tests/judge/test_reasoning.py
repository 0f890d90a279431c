"""Reasoning and no-logprob judges through Inspect's real providers, against fake servers on loopback
that follow the provider's rules (:mod:`tests.judge.fake_providers`)."""

from __future__ import annotations

import asyncio

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model

from rareval.judge import Judge, JudgeConfig
from rareval.judge.generation import JudgeSetupError, generate_config, reasons
from rareval.judge.readers import read_json_met, read_yesno
from tests.conftest import REPO, hb_rubric
from tests.judge.fake_providers import FakeAnthropic, FakeReasoningOpenAI

CONVO = [{"role": "user", "content": "I have a fever, what should I do?"}]
ANSWER = "Rest, drink fluids and take paracetamol; see a doctor if it lasts over three days."
RUBRIC = hb_rubric((5, "Advises rest"), (3, "Mentions fluids"), (-4, "Recommends antibiotics"))


def openai_judge(fake: FakeReasoningOpenAI, model: str = "o4-mini", **config) -> Judge:
    return Judge(get_model(f"openai/{model}", base_url=fake.base_url, api_key="sk-test"),
                 config=JudgeConfig(cache=False, **config))


def test_a_reasoning_grader_answers_every_criterion_in_both_modes():
    with FakeReasoningOpenAI() as fake:
        verdicts, usage = asyncio.run(openai_judge(fake).criteria(CONVO, ANSWER, RUBRIC))
        json_verdicts, _ = asyncio.run(openai_judge(fake, verdict_mode="json").criteria(CONVO, ANSWER, RUBRIC))
    assert [v.met for v in verdicts] == [True, True, False] == [v.met for v in json_verdicts]
    assert all(v.error is None and v.p_met is None for v in verdicts)  # read from the word: no logprobs
    assert fake.rejected == [] and len(fake.judged) == 6 and usage.calls == 3
    for body in fake.judged:  # a budget that covers the reasoning; nothing the model refuses
        assert body["max_output_tokens"] == 4096 and "temperature" not in body and "top_logprobs" not in body


def test_the_fake_enforces_the_rules_the_judge_now_follows():
    """Asked as a non-reasoning judge, the same grader fails the way the API fails: a one-token verdict floored
    to the Responses API's 16 is eaten by the reasoning; below 16 the request is rejected. Both abstain."""
    with FakeReasoningOpenAI(reasoning_tokens=64) as fake:
        cut, _ = asyncio.run(openai_judge(fake, reasoning="off", parse_retries=0).criteria(CONVO, ANSWER, RUBRIC))
        assert {b["max_output_tokens"] for b in fake.judged} == {16} and fake.rejected == []
        refused, _ = asyncio.run(openai_judge(fake, reasoning="off", min_output_tokens=1, parse_retries=0,
                                              max_retries=0).criterion(CONVO, ANSWER, RUBRIC[0]))
    assert all(v.met is None and "unreadable" in v.error for v in cut)
    assert refused.met is None and "max_output_tokens" in refused.error and fake.rejected == ["max_output_tokens"]


def test_reasoning_is_detected_from_the_provider_and_settable():
    o4 = get_model("openai/o4-mini", base_url="http://127.0.0.1:9/v1", api_key="x").api
    gpt41 = get_model("openai/gpt-4.1-2025-04-14", base_url="http://127.0.0.1:9/v1", api_key="x").api
    assert reasons(JudgeConfig(), o4) and not reasons(JudgeConfig(), gpt41)
    assert reasons(JudgeConfig(reasoning_effort="low"), gpt41) and not reasons(JudgeConfig(reasoning="off"), o4)
    gen = generate_config(JudgeConfig(reasoning_effort="high"), o4, max_tokens=1, logprobs=True, top_logprobs=20)
    assert (gen.max_tokens, gen.logprobs, gen.temperature, gen.reasoning_effort) == (4096, None, None, "high")
    plain = generate_config(JudgeConfig(), gpt41, max_tokens=1, logprobs=True, top_logprobs=20)
    assert (plain.max_tokens, plain.logprobs, plain.top_logprobs, plain.temperature) == (1, True, 20, 0.0)


def test_a_combination_that_cannot_work_is_refused_before_any_call():
    with FakeReasoningOpenAI() as fake:
        judge = openai_judge(fake, batch_reading="prompt")
        with pytest.raises(JudgeSetupError, match="reasoning judge"):
            asyncio.run(judge.criteria(CONVO, ANSWER, RUBRIC, batched=True))
    assert fake.judged == []


def test_the_verdict_is_read_from_the_final_answer_not_the_reasoning():
    thought = ModelOutput.from_content("m", "<think>Yes? The response says rest... yes. But no fluids.</think>\nNo")
    assert read_yesno(thought)["met"] is False
    assert read_yesno(ModelOutput.from_content("m", "<think>yes, yes, yes")) is None  # cut off while thinking
    as_json = ModelOutput.from_content("m", '<think>{"criteria_met": true}</think>{"explanation": "x", '
                                       '"criteria_met": false}')
    assert read_json_met(as_json)["met"] is False


def test_healthbench_with_a_reasoning_grader_scores_every_criterion(tmp_path, monkeypatch):
    """The task through Inspect's runner, the grader Inspect's real ``openai/`` provider on the fake."""
    monkeypatch.chdir(REPO)
    with FakeReasoningOpenAI() as fake:
        grader = get_model("openai/o4-mini", base_url=fake.base_url, api_key="sk-test")
        log = inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": grader},
                           limit=3, log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success" and fake.rejected == []
    metrics = log.results.scores[0].metrics
    assert metrics["judge_abstention_rate"].value == 0 and "score" in metrics
    criteria = [(s.scores["healthbench_scorer"].metadata) for s in log.samples]
    questions = sum(m["questions"] for m in criteria)
    assert questions > 0 and sum(m["abstained"] for m in criteria) == 0
    assert len(fake.judged) == questions  # one call per criterion, none retried


@pytest.mark.parametrize("thinking", [None, 6000])
def test_an_anthropic_style_judge_without_logprobs(thinking):
    """No logprobs come back and temperature is ignored: the verdict is read from the word (or the JSON); with
    extended thinking the request's budget exceeds the thinking budget and the thinking block is not read."""
    with FakeAnthropic() as fake:
        model = get_model("anthropic/claude-sonnet-4-5", base_url=fake.base_url, api_key="sk-test")
        config = dict(cache=False, reasoning_tokens=thinking)
        verdicts, _ = asyncio.run(Judge(model, config=JudgeConfig(**config)).criteria(CONVO, ANSWER, RUBRIC))
        as_json, _ = asyncio.run(Judge(model, config=JudgeConfig(verdict_mode="json", **config)).criteria(
            CONVO, ANSWER, RUBRIC))
    assert [v.met for v in verdicts] == [True, True, False] == [v.met for v in as_json]
    assert all(v.p_met is None and v.error is None for v in verdicts) and fake.rejected == []
    budgets = {b["max_tokens"] for b in fake.judged}
    assert budgets == ({1, 512} if thinking is None else {6000 + 1, 6000 + 512})


def test_grader_settings_reach_a_served_grader_through_the_task(tmp_path, monkeypatch):
    """``-T grader_reasoning_effort`` / ``-T grader_config`` reach the request; the resolved settings are in
    the log; a bad setting stops the task before any call."""
    monkeypatch.chdir(REPO)
    with FakeReasoningOpenAI() as fake:
        grader = get_model("openai/o4-mini", base_url=fake.base_url, api_key="sk-test")
        log = inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": grader}, limit=1,
                           task_args={"grader_reasoning_effort": "low",
                                      "grader_config": "reasoning_max_tokens=2048,parse_retries=0"},
                           log_dir=str(tmp_path), display="none")[0]
        with pytest.raises(ValueError, match="unknown judge setting"):
            inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": grader}, limit=1,
                         task_args={"grader_config": "reasoning_budget=9"}, log_dir=str(tmp_path), display="none")
    assert log.status == "success" and fake.judged
    assert {(b["reasoning"]["effort"], b["max_output_tokens"]) for b in fake.judged} == {("low", 2048)}
    recorded = log.eval.metadata["judge_config"]
    assert (recorded["reasoning_effort"], recorded["reasoning_max_tokens"], recorded["parse_retries"]) == (
        "low", 2048, 0)


def test_two_servers_of_one_model_name_do_not_share_verdicts(tmp_path):
    """The verdict cache key holds the endpoint: a second server is asked, a rerun on the first is not."""
    from rareval.judge.cache import VerdictCache

    cache = VerdictCache(tmp_path / "verdicts.sqlite")
    with FakeReasoningOpenAI() as first, FakeReasoningOpenAI() as second:
        def ask(fake):
            model = get_model("openai/o4-mini", base_url=fake.base_url, api_key="sk-test", memoize=False)
            return asyncio.run(Judge(model, cache=cache).criteria(CONVO, ANSWER, RUBRIC))[1]

        assert ask(first).calls == 3 and ask(second).calls == 3
        again = ask(first)
    assert (again.calls, again.cached) == (0, 3) and len(first.judged) == len(second.judged) == 3
