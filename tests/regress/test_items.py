"""Per-item scores read back from real Inspect logs (scripted policy and judge, no model weights)."""

import json

import pytest

from rareval.regress.errors import RegressUsageError
from rareval.regress.items import ResultSet, is_results_file, items_from_log, load_results, read_logs
from rareval.regress.run import run_suite
from rareval.regress.sources import Source
from rareval.regress.suite import GPQATask, HealthBenchTask, JudgePin, Suite
from tests.evals.test_gpqa import synthetic_rows, write_csv

POLICY = Source(kind="model", spec="scripted/policy", model="scripted/policy")


def hb_suite(rows, judge="scripted/keyword", **task):
    return Suite(name="items", judge=JudgePin(model=judge),
                 tasks=[HealthBenchTask(path=str(rows), max_tokens=16, **task)])


def test_healthbench_items_carry_criteria_axes_and_judge_calls(tmp_path, rows):
    results = run_suite(hb_suite(rows, limit=3), POLICY, tmp_path / "logs")
    items = results.metrics["healthbench"]
    # the scripted policy says "Drink water and rest. ...": 'water' and 'rest' met, no antibiotics
    assert items.kind == "graded" and items.scores == {"e0": 1.0, "e1": 1.0, "e2": 1.0}
    detail = items.details["e1"]
    assert [(c.text, c.category, c.met) for c in detail.criteria] == [
        ("Mentions 'water'", "important", True), ("Mentions 'rest'", "optional", True),
        ("Recommends 'antibiotics'", "pitfall", False)]
    assert detail.criteria[0].tags == ["axis:completeness"] and detail.tags == {"axis:completeness": 1.0}
    assert items.judge_calls == 9 and items.judge_cached == 0
    assert items.suite == hb_suite(rows, limit=3).fingerprint()
    # the folder reads back to the same items; a second run of the same answers is all cache hits
    assert read_logs(tmp_path / "logs").metrics["healthbench"].scores == items.scores
    again = run_suite(hb_suite(rows, limit=3), POLICY, tmp_path / "logs")
    assert again.judge_calls == 0 and again.judge_cached == 9
    assert read_logs(tmp_path / "logs").metrics["healthbench"].judge_cached == 9  # the newest log wins


def test_items_whose_criteria_all_abstained_are_unscored(tmp_path, rows):
    items = run_suite(hb_suite(rows, judge="scripted/malformed", limit=2), POLICY, tmp_path / "logs"
                      ).metrics["healthbench"]
    assert items.scores == {} and items.unscored == ["e0", "e1"]


@pytest.mark.parametrize("runs,kind", [(1, "binary"), (2, "graded")])
def test_gpqa_items_are_questions_and_runs_are_averaged(tmp_path, runs, kind):
    csv = write_csv(tmp_path / "gpqa_diamond.csv", synthetic_rows(3))
    suite = Suite(name="g", tasks=[GPQATask(path=str(csv), runs=runs, max_tokens=8)])
    items = run_suite(suite, POLICY, tmp_path / "logs").metrics["gpqa_diamond"]
    # one item per question whatever the runs; the scripted reply names no letter: wrong every time
    assert items.kind == kind and items.scores == {f"recSYN{i:04d}": 0.0 for i in range(3)}


def test_unreadable_logs_name_the_file(tmp_path):
    bad = tmp_path / "broken.eval"
    bad.write_text("not a zip")
    with pytest.raises(RegressUsageError, match="broken.eval: not a readable Inspect eval log"):
        items_from_log(bad)
    with pytest.raises(RegressUsageError, match="broken.eval: not a readable Inspect eval log"):
        read_logs(bad)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "other.json").write_text("{}")
    with pytest.raises(RegressUsageError, match="no Inspect eval logs with samples found"):
        read_logs(tmp_path / "empty")


def test_results_files_and_reports_load_as_results(tmp_path):
    results = ResultSet(label="x", metrics={})
    (tmp_path / "r.json").write_text(results.model_dump_json())
    (tmp_path / "report.json").write_text(json.dumps({"format": "rareval.regress.report/1",
                                                      "candidate_results": json.loads(results.model_dump_json())}))
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    assert is_results_file(tmp_path / "r.json") and is_results_file(tmp_path / "report.json")
    assert not is_results_file(tmp_path / "other.json")
    assert load_results(tmp_path / "report.json") == results
    with pytest.raises(RegressUsageError, match="other.json, field 'format': not gate results"):
        load_results(tmp_path / "other.json")
    (tmp_path / "bad.json").write_text(json.dumps({"format": "rareval.regress.results/1", "label": "x",
                                                   "metrics": {"m": {"name": "m", "kind": "ordinal", "scores": {}}}}))
    with pytest.raises(RegressUsageError, match="bad.json, field 'metrics.m.kind'"):
        load_results(tmp_path / "bad.json")


def test_unscored_items_are_split_into_judge_abstentions_and_model_refusals(tmp_path, rows):
    """A real log of 6 scored items, edited by hand into one item of each kind the log can tell apart."""
    from inspect_ai.log import EvalError, read_eval_log, write_eval_log
    from inspect_ai.model import ModelOutput
    from inspect_ai.scorer import Score

    run_suite(hb_suite(rows, limit=6), POLICY, tmp_path / "logs")
    [file] = (tmp_path / "logs").glob("*.eval")
    log = read_eval_log(str(file))
    samples = {s.id: s for s in log.samples}
    error = EvalError(message="RuntimeError: boom", traceback="", traceback_ansi="")
    unscored = Score(value="N", metadata={"overall": None, "unscored_reason": "every_positive_abstained"})
    # e1: the model under test raised before answering (no output, no score)
    samples["e1"].error, samples["e1"].output, samples["e1"].scores = error, ModelOutput(model="policy"), None
    # e2: the provider refused (content filter) and the judge could not score the refusal
    samples["e2"].output = ModelOutput.from_content("policy", "I can't help with that.", stop_reason="content_filter")
    samples["e2"].scores = {"healthbench_scorer": unscored}
    # e3: the model answered, the judge abstained on every criterion
    samples["e3"].scores = {"healthbench_scorer": unscored}
    # e4: the model answered, scoring crashed (an error after the answer is the grader's)
    samples["e4"].error, samples["e4"].scores = error, None
    # e5: a NaN score
    samples["e5"].scores = {"healthbench_scorer": Score(value=float("nan"), metadata={"overall": float("nan")})}
    write_eval_log(log, str(tmp_path / "edited.eval"))
    items = read_logs(tmp_path / "edited.eval").metrics["healthbench"]
    assert items.scores == {"e0": 1.0}
    assert items.unscored == ["e1", "e2", "e3", "e4", "e5"] and items.refused == ["e1", "e2"]


def test_a_refusal_the_judge_scored_is_scored(tmp_path, rows):
    refusing = Source(kind="model", spec="scripted/refuse", model="scripted/refuse")
    items = run_suite(hb_suite(rows, limit=2), refusing, tmp_path / "logs").metrics["healthbench"]
    # the keyword judge reads "I can't help with that." as meeting nothing: a low score, not a lost item
    assert items.scores == {"e0": 0.0, "e1": 0.0} and items.unscored == [] and items.refused == []
