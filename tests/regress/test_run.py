"""The gate end to end: a tiny policy trained with the rubric reward (`rareval train`, scripted judge)
against its base, run through Inspect's hf/ provider on a pinned suite."""

import json

import pytest

from rareval.cli import main as cli
from rareval.regress.run import check_prompt_versions, inspect_tasks
from rareval.regress.suite import Suite, load_suite
from tests.regress.conftest import write_rows, write_suite
from tests.train.test_run import save_tiny_policy, write_train_rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(folder, base checkpoint, trained run folder)``: GRPO with RaR-Explicit on a scripted judge."""
    root = tmp_path_factory.mktemp("regress")
    save_tiny_policy(root / "base")
    data = write_train_rows(root / "train.jsonl", held_out=0, ideal=False)
    assert cli(["train", "--preset", "rar-explicit@tiny", "--set", "rubric_source=physician", "--policy",
                str(root / "base"), "--judge", "scripted/keyword", "--data", str(data), "--out", str(root / "run"),
                "--set", "max_steps=4", "--set", "learning_rate=5e-3"]) == 0
    write_rows(root / "rows.jsonl")
    write_suite(root)
    return root, root / "base", root / "run"


@pytest.fixture(scope="module")
def first_gate(trained):
    """The trained policy gated against its base, both run on the suite; returns the JSON report."""
    root, base, run = trained
    code = cli(["regress", "--candidate", str(run), "--baseline", str(base), "--suite", str(root / "tiny-gate.yaml"),
                "--log-dir", str(root / "logs"), "--json", str(root / "first.json"), "--markdown",
                str(root / "first.md")])
    return code, json.loads((root / "first.json").read_text())


def verdicts(report):
    return {m["name"]: m["verdict"] for m in report["gate"]["metrics"]}


def test_trained_checkpoint_is_reported_improved_over_its_base(trained, first_gate):
    code, report = first_gate
    assert code == 0 and report["status"] == "passed"
    assert verdicts(report) == {"healthbench": "improved"}
    metric = report["gate"]["metrics"][0]
    assert metric["items"] == 8 and metric["difference"] > 0.3 and metric["p_holm"] < 0.05
    # why it moved: the rubric's 'water' criterion, the completeness axis
    why = report["gate"]["diagnostics"]["healthbench"]
    assert any(f["text"] == "Mentions 'water'" and f["candidate_met"] for f in why["criterion_flips"])
    assert why["tags"][0]["tag"] == "axis:completeness"
    markdown = (trained[0] / "first.md").read_text()
    assert "**improved**" in markdown and "Why `healthbench` moved" in markdown


def test_swapping_them_is_caught_as_a_regression(trained, first_gate, capsys):
    root = trained[0]
    capsys.readouterr()
    code = cli(["regress", "--candidate", str(root / "logs" / "baseline"), "--baseline",
                str(root / "logs" / "candidate"), "--suite", str(root / "tiny-gate.yaml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "REGRESSED (exit 1)" in out and "**regressed**" in out
    assert "worse · important · \"Mentions 'water'\": met → not met on 8 items" in out


def test_unchanged_checkpoint_rerun_is_no_change_and_makes_no_judge_call(trained, first_gate):
    root, _, run = trained
    _, first = first_gate
    # the same checkpoint again, against the previous report (whose candidate becomes the baseline)
    code = cli(["regress", "--candidate", str(run), "--baseline", str(root / "first.json"), "--suite",
                str(root / "tiny-gate.yaml"), "--log-dir", str(root / "rerun"), "--json", str(root / "rerun.json"),
                "--quiet"])
    report = json.loads((root / "rerun.json").read_text())
    assert code == 0 and verdicts(report) == {"healthbench": "no detectable change"}
    assert report["gate"]["judge_calls"]["candidate"] == 0  # every verdict came from the pinned cache
    assert report["gate"]["judge_cached"]["candidate"] == 24
    # deterministic: the same answers, the same scores as the first run
    assert (report["candidate_results"]["metrics"]["healthbench"]["scores"]
            == first["candidate_results"]["metrics"]["healthbench"]["scores"])


def test_too_small_suite_is_underpowered_and_its_logs_are_not_this_suites(trained, first_gate, capsys):
    root, base, run = trained
    small = write_suite(root, name="too-small", limit=3)
    capsys.readouterr()
    code = cli(["regress", "--candidate", str(run), "--baseline", str(base), "--suite", str(small), "--log-dir",
                str(root / "small-logs")])
    out = capsys.readouterr().out
    assert code == 0
    assert "| underpowered |" in out and "none (needs ≥ 6 changed items)" in out
    # logs that suite wrote cannot stand in for this suite's
    code = cli(["regress", "--candidate", str(root / "small-logs" / "candidate"), "--baseline",
                str(root / "logs" / "baseline"), "--suite", str(root / "tiny-gate.yaml")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "produced by suite too-small@" in err and "field 'metrics.healthbench.suite'" in err


def test_suite_tasks_and_prompt_pin(tmp_path, rows):
    suite = load_suite(write_suite(tmp_path, limit=2))
    (task,) = inspect_tasks(suite)
    assert task.name == "healthbench" and len(task.dataset) == 2
    assert task.metadata["regress_suite"] == suite.fingerprint()
    check_prompt_versions(suite)  # the pinned version is the installed one
    stale = Suite.model_validate({**suite.model_dump(), "judge": {"model": "scripted/keyword",
                                                                  "prompt_versions": ["criterion_yesno@0000000000"]}})
    with pytest.raises(Exception, match="judge.prompt_versions.0.*installed prompt is criterion_yesno@"):
        check_prompt_versions(stale)
