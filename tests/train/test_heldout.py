"""`rareval heldout`: a finished tiny run graded before vs after on its held-out prompts (scripted judge)."""

import json

import numpy as np
import pytest

from rareval.cli import main as cli
from rareval.train.monitor import read_metrics
from rareval.stats import paired_difference
from rareval.train.heldout import summarise
from tests.train.test_run import save_tiny_policy, write_train_rows


def test_summarise_counts_unscored_and_brackets_the_mean():
    s = summarise([0.2, None, 0.4, 0.9])
    assert s["n"] == 3 and s["unscored"] == 1
    assert s["mean"] == pytest.approx(0.5)
    assert s["ci95"][0] <= 0.5 <= s["ci95"][1]
    assert summarise([None, None]) == {"mean": None, "ci95": None, "n": 0, "unscored": 2}


def test_paired_difference_uses_only_prompts_both_scored():
    d = paired_difference([0.1, 0.5, None, 0.3], [0.4, 0.5, 0.9, 0.2])
    assert d["n"] == 3 and (d["better"], d["worse"], d["tied"]) == (1, 1, 1)
    assert d["mean"] == pytest.approx(np.mean([0.3, 0.0, -0.1]))
    assert d["ci95"][0] <= d["mean"] <= d["ci95"][1]
    with pytest.raises(ValueError):
        paired_difference([0.1], [0.1, 0.2])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    save_tiny_policy(root / "policy")
    data = write_train_rows(root / "rows.jsonl", held_out=3)
    run = root / "run"
    assert cli(["train", "--preset", "rar-implicit-human@tiny", "--policy", str(root / "policy"), "--judge",
                "scripted/keyword", "--data", str(data), "--out", str(run), "--set", "max_steps=2"]) == 0
    return run


def test_heldout_grades_base_and_final_on_the_held_out_prompts(finished_run, capsys):
    assert cli(["heldout", "--run", str(finished_run)]) == 0
    out = capsys.readouterr().out
    assert "before:" in out and "after:" in out and "after − before" in out
    result = json.loads((finished_run / "heldout.json").read_text())
    split = json.loads((finished_run / "split.json").read_text())
    for side in ("before", "after"):
        ids = [i["prompt_id"] for i in result[side]["items"]]
        assert len(ids) == 3 and set(ids) <= set(split["held_out_ids"])
        assert result[side]["n"] + result[side]["unscored"] == 3
    assert result["before"]["policy"].endswith("policy") and result["after"]["policy"].endswith("final")
    assert result["difference"]["n"] == min(result["before"]["n"], result["after"]["n"])


def test_heldout_names_a_directory_that_is_not_a_finished_run(tmp_path, capsys):
    assert cli(["heldout", "--run", str(tmp_path)]) == 2
    assert "not a finished run" in capsys.readouterr().err


def test_train_summary_puts_finished_runs_side_by_side(finished_run, tmp_path, capsys):
    assert cli(["heldout", "--run", str(finished_run)]) == 0
    out = tmp_path / "summary"
    assert cli(["train-summary", str(finished_run), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    (run,) = summary["runs"]
    assert run["preset"] == "rar-implicit-human" and run["status"]["step"] == 2 and len(run["rewards"]) == 2
    assert run["heldout"]["before"]["n"] + run["heldout"]["before"]["unscored"] == 3
    shares = [r["frac_reward_zero_std"] for r in read_metrics(finished_run / "metrics.jsonl")]
    assert run["zero_advantage_share"] == sum(shares) / 2 and "of groups all alike" in capsys.readouterr().out
    assert {p.name for p in (out / finished_run.name).iterdir()} == {"curves.png", "config.json", "metrics.jsonl", "status.json", "heldout.json"}
    for png in (out / "summary.png", out / finished_run.name / "curves.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert cli(["train-summary", str(tmp_path / "nothing"), "--out", str(out)]) == 2


def test_heldout_settings_override_the_runs_own(finished_run):
    assert cli(["heldout", "--run", str(finished_run), "--rows", "2", "--strategy", "healthbench"]) == 0
    result = json.loads((finished_run / "heldout.json").read_text())
    assert result["strategy"] == "healthbench" and result["judge"] == "scripted/keyword"
    assert len(result["before"]["items"]) == 2 and result["before"]["config"]["max_new_tokens"] == 16


def test_a_generated_rubric_run_is_graded_on_the_same_held_out_prompts(tmp_path):
    """Held-out prompts have no generated rubric; grading reads the physician rubric, so a run on
    generated rubrics is graded on the same prompts as every other run of the data."""
    from rareval.rubric import Rubric
    from rareval.train.data import grading_records, training_rows
    from rareval.train.presets import get_preset

    data = write_train_rows(tmp_path / "rows.jsonl", train=2, held_out=3)
    train_ids = [json.loads(line)["prompt_id"] for line in data.read_text().splitlines()][:2]
    rubric = Rubric.coerce([{"criterion": "Mentions 'water'", "points": 5, "tags": []}]).model_dump(mode="json")
    rubrics = tmp_path / "rubrics.jsonl"
    rubrics.write_text("".join(json.dumps({"prompt_id": pid, "rubric": rubric}) + "\n" for pid in train_ids))
    explicit, likert = get_preset("rar-explicit", "tiny"), get_preset("direct-likert", "tiny")
    rows = training_rows(explicit, data, rubrics)
    assert rows.held_out_records == []  # the reward (and the monitor) has no rubric for them
    graded = grading_records(explicit, rows.held_out)
    assert [r["prompt_id"] for r in graded] == [r.prompt_id for r in rows.held_out] and len(graded) == 3
    assert all(json.loads(r["physician_rubric"])["criteria"] for r in graded)
    same = grading_records(likert, training_rows(likert, data).held_out)
    assert [r["prompt_id"] for r in same] == [r["prompt_id"] for r in graded]
