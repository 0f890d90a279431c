"""``-T grader=simple-evals`` against inspect_evals 0.26.0's HealthBench scorer: the same scripted grader
answers both, through Inspect's runner, on the 754 rubrics of the union file; per-example scores are equal."""

import asyncio
import json

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model
from inspect_ai.solver import generate

from rareval.data.healthbench import load_healthbench
from rareval.evals.healthbench import example_to_sample, healthbench_scorer
from rareval.judge import Judge, JudgeConfig
from rareval.judge.simple_evals import grader_prompt
from rareval.prompts import load_prompt
from tests.conftest import SHARED

import inspect_evals.healthbench.scorer as inspect_evals_healthbench  # noqa: E402  (the [dev] extra pins 0.26.0)
UNION = SHARED / "data" / "healthbench" / "healthbench_offline_union.jsonl"
#: criteria containing this word get malformed grades, to compare the two failure rules as well
UNREADABLE = "pain"


def samples():
    out = []
    for row in load_healthbench(path=UNION):
        s = example_to_sample(row)  # plus the metadata inspect_evals reads
        s.metadata.update(conversation=[m.model_dump() for m in row.prompt],
                          rubrics=[{"criterion": c.text, "points": c.weight, "tags": list(c.tags)} for c in row.rubric])
        out.append(s)
    return out


def grader():
    return get_model("scripted/keyword", fail_when=UNREADABLE, memoize=False)


def test_the_prompt_is_simple_evals_template_filled_as_simple_evals_fills_it():
    prompt = load_prompt("simple_evals_grader")
    criterion = load_healthbench(path=UNION)[0].rubric[0]
    text = grader_prompt(prompt, [{"role": "user", "content": "Hi"}], "Hello", criterion)
    assert text.startswith("Your job is to look at a conversation and a rubric item")
    assert f"# Conversation\nuser: Hi\n\nassistant: Hello\n\n# Rubric item\n[{criterion.weight:g}] {criterion.text}\n" \
        in text and text.endswith("Do not include any other text in the response.")


def test_per_example_scores_equal_inspect_evals_on_the_union_file(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path / "inspect-cache"))
    data = samples()
    assert len(data) == 754
    ours = inspect_eval(Task(dataset=data, solver=generate(), scorer=healthbench_scorer(
        grader="simple-evals", on_failure="not_met", fail_fast=0)), model="scripted/policy",
        model_roles={"grader": grader()}, log_dir=str(tmp_path / "ours"), display="none", max_samples=32)[0]
    theirs = inspect_eval(Task(dataset=data, solver=generate(), scorer=inspect_evals_healthbench.healthbench_scorer(
        judge_model=grader(), bootstrap_samples=10, include_subset_scores=False)), model="scripted/policy",
        log_dir=str(tmp_path / "theirs"), display="none", max_samples=32)[0]
    assert ours.status == theirs.status == "success"
    ours_by_id = {s.id: next(iter(s.scores.values())) for s in ours.samples}
    theirs_by_id = {s.id: next(iter(s.scores.values())) for s in theirs.samples}
    assert set(ours_by_id) == set(theirs_by_id) and len(ours_by_id) == 754
    unreadable = 0
    for sample_id, their in theirs_by_id.items():
        our = ours_by_id[sample_id]
        assert our.metadata["verdicts"] == [d["met"] for d in their.metadata["detailed_results"]], sample_id
        assert our.metadata["overall"] == pytest.approx(their.value["healthbench_score"]), sample_id
        unreadable += sum(UNREADABLE in d["criterion"] for d in their.metadata["detailed_results"])
    assert unreadable > 20  # the failure rule was compared too, not only readable grades


def test_on_failure_rules():
    """A grade that never reads: abstain after parse_retries, not met (inspect_evals), or asked N more times."""
    row = load_healthbench(path=UNION)[0]
    conversation = [m.model_dump() for m in row.prompt]

    def verdict(**config):
        judge = Judge(get_model("scripted/malformed"), config=JudgeConfig(grader="simple-evals", cache=False, **config))
        return asyncio.run(judge.criterion(conversation, "Hello", row.rubric[0]))

    (abstained, default_usage), (not_met, _), (retried, retry_usage) = (
        verdict(), verdict(on_failure="not_met"), verdict(on_failure="retry:4"))
    assert abstained.met is None and retried.met is None and "unreadable" in abstained.error
    assert not_met.met is False and not_met.error is None and "on_failure=not_met" in not_met.explanation
    assert (default_usage.calls, retry_usage.calls) == (2, 5)


#: A grade as graders write it, and what simple-evals' ``parse_json_to_dict`` and its check make of it
#: (openai/simple-evals healthbench_eval.py: a leading ```json fence and a trailing ``` stripped, json.loads, then
#: ``criteria_met`` True or False, else asked again): True / False, or None for "not read, asked again".
GRADE = '{\n  "explanation": "The assistant told the user to drink water.",\n  "criteria_met": %s\n}'
GRADER_TEXTS = [
    ("```json\n" + GRADE % "true" + "\n```", True),          # what the template asks for
    (GRADE % "false", False),                                 # bare JSON
    ("  ```json\n" + GRADE % "false" + "\n```\n\n", False),  # surrounding white space
    ("```json" + GRADE % "true" + "```", True),              # a fence without line breaks
    ("```\n" + GRADE % "true" + "\n```", None),               # an unlabelled fence: simple-evals cannot read it
    ("```JSON\n" + GRADE % "true" + "\n```", None),           # the label in capitals: neither
    ("```json\n" + GRADE % "true" + "\n```\nHope this helps.", None),  # text after the fence
    ('```json\n{"explanation": "x", "criteria_met": "true"}\n```', None),  # a string, not a boolean
    ('```json\n{"explanation": "x"}\n```', None),             # no verdict
]


@pytest.mark.parametrize("text, simple_evals_reads", GRADER_TEXTS)
def test_grades_are_read_exactly_as_simple_evals_reads_them(text, simple_evals_reads):
    """The official mode reads what simple-evals reads and nothing else; inspect_evals 0.26 also strips an
    unlabelled fence (its parse_json_to_dict), the one grade form on which the two references differ."""
    from inspect_ai.model import ModelOutput

    from rareval.judge.simple_evals import read_grade

    grade = read_grade(ModelOutput.from_content("grader", text))
    assert (grade["met"] if grade else None) is simple_evals_reads
    theirs = inspect_evals_healthbench.parse_json_to_dict(text).get("criteria_met")
    theirs = theirs if theirs is True or theirs is False else None
    unlabelled = text.startswith("```\n")
    assert (theirs is not simple_evals_reads) is unlabelled


def test_an_unread_grade_is_asked_again_at_simple_evals_temperature(monkeypatch):
    """A grader that first writes an unlabelled fence, then the labelled one, over a real OpenAI-compatible
    server: asked twice, both times at simple-evals' 0.5 (its one sampler), and read from the second answer."""
    from tests.judge.fake_providers import FakeServedJudge

    monkeypatch.setenv("SERVED_API_KEY", "sk-served")
    row = load_healthbench(path=UNION)[0]
    fenced = ["```\n" + GRADE % "true" + "\n```", "```json\n" + GRADE % "true" + "\n```"]
    with FakeServedJudge(delay=0, replies=fenced) as server:
        model = get_model(f"openai-api/served/{server.model}", base_url=server.base_url)
        judge = Judge(model, config=JudgeConfig(grader="simple-evals", cache=False))
        verdict, usage = asyncio.run(judge.criterion([m.model_dump() for m in row.prompt], "Hello", row.rubric[0]))
    graded = [r for r in server.requests if "# Rubric item" in json.dumps(r)]
    assert [r["temperature"] for r in graded] == [0.5, 0.5] and usage.calls == 2
    assert verdict.met is True and verdict.error is None
