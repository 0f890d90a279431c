"""``rareval judge calibrate`` on real graded HealthBench rows, with a scripted judge that returns P(yes)."""

import json

import pytest

from rareval.cli import main as cli
from rareval.evals.calibrate import calibrate, graded_rows
from rareval.judge import Judge, JudgeConfig
from tests.conftest import SHARED

GRADED = SHARED / "data" / "healthbench" / "github_m42_sample_judge_responses_dev50.jsonl"


def test_calibrate_fits_on_some_rows_reports_on_the_others_and_the_file_applies(tmp_path, capsys):
    out = tmp_path / "calib.json"
    assert cli(["judge", "calibrate", "--judge", "scripted/keyword", "--data", str(GRADED), "--limit", "8",
                "--fit-rows", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fitted on 5 rows" in printed and "reported on the other 3 rows" in printed
    assert "before" in printed and "after" in printed
    result = json.loads(out.read_text())
    rows = graded_rows(GRADED, 8)
    assert result["fitted_on"]["criteria"] == sum(len(r.rubric) for r in rows[:5])
    assert result["reported_on"]["criteria"] == sum(len(r.rubric) for r in rows[5:])
    assert result["before"]["thresholds"] == {"default": 0.5} and "default" in result["thresholds"]
    for side in ("before", "after"):
        assert 0 <= result[side]["agreement"] <= 1 and result[side]["judged"] == result["reported_on"]["criteria"]
    # the file is what --judge-calibration applies
    judge = Judge("scripted/keyword", config=JudgeConfig(calibration=str(out)))
    assert judge.thresholds == result["thresholds"]


def test_calibration_needs_graded_rows_and_a_judge_with_p_yes(tmp_path):
    bad = tmp_path / "ungraded.jsonl"
    row = json.loads(GRADED.read_text().splitlines()[0])
    del row["responses"]
    bad.write_text(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"ungraded.jsonl: line 1 lacks 'prompt_response' or 'responses'"):
        graded_rows(bad)
    with pytest.raises(ValueError, match="fit_rows must leave rows on both sides"):
        calibrate(Judge("scripted/keyword"), GRADED, fit_rows=4, limit=4)
    no_logprobs = Judge("scripted/keyword", config=JudgeConfig(top_logprobs=0, cache=False))
    with pytest.raises(ValueError, match="returned no P\\(yes\\)"):
        calibrate(no_logprobs, GRADED, fit_rows=1, limit=2)


def test_a_calibration_fitted_for_another_judge_is_refused_naming_both(tmp_path, monkeypatch, capsys):
    """A file fitted for scripted/keyword, applied to a judge served elsewhere: the evaluation ends with one line
    naming the file and both judges, before any verdict is read with the wrong thresholds; the judge setting
    calibration_any_judge=true applies it anyway. The CLI refuses it the same way."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from tests.conftest import REPO
    from tests.judge.fake_providers import FakeServedJudge

    calib = tmp_path / "calib.json"
    assert cli(["judge", "calibrate", "--judge", "scripted/keyword", "--data", str(GRADED), "--limit", "4",
                "--out", str(calib)]) == 0
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SERVED_API_KEY", "sk-served")

    def evaluate(server, **task_args):
        grader = get_model(f"openai-api/served/{server.model}", base_url=server.base_url)
        return inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": grader},
                            task_args={"grader_calibration": str(calib), **task_args}, limit=2,
                            log_dir=str(tmp_path / "logs"), display="none")[0]
    with FakeServedJudge(delay=0) as server:
        refused = evaluate(server)
        assert refused.status == "error" and not server.judged
        assert f"{calib} was fitted for the judge scripted/keyword (identity keyword), not for " \
               f"openai-api/served/{server.model} (identity {server.model})" in refused.error.message
        forced = evaluate(server, grader_config="calibration_any_judge=true")
    assert forced.status == "success" and server.judged
    capsys.readouterr()
    assert cli(["judge", "calibrate", "--judge", "scripted/malformed", "--judge-calibration", str(calib), "--data",
                str(GRADED), "--limit", "2", "--out", str(tmp_path / "again.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "not for scripted/malformed" in err
