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
