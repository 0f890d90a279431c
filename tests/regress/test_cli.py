"""`rareval regress` exit codes and one-line errors."""

import json

import pytest

from rareval.cli import main as cli
from rareval.regress.items import ResultSet
from tests.regress.test_gate import results


def stored(tmp_path, name, result_set):
    path = tmp_path / f"{name}.json"
    path.write_text(result_set.model_dump_json())
    return str(path)


def one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_results_against_results_exit_0_and_1(tmp_path, capsys):
    good = stored(tmp_path, "good", results("good", hb=[1.0] * 10))
    bad = stored(tmp_path, "bad", results("bad", hb=[0.0] * 10))
    assert cli(["regress", "--candidate", good, "--baseline", bad, "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    md = tmp_path / "out" / "report.md"
    assert cli(["regress", "--candidate", bad, "--baseline", good, "--markdown", str(md)]) == 1
    assert "REGRESSED (exit 1)" in capsys.readouterr().out and md.read_text().startswith("## rareval regress")


@pytest.mark.parametrize("args,expected", [
    (["--candidate", "./missing-run", "--baseline", "{good}"], "file missing-run, field '--candidate': no such file"),
    (["--candidate", "{good}", "--baseline", "{good}", "--suite", "{suite}"], "field 'alpha'"),
    (["--candidate", "scripted/policy", "--baseline", "{good}"], "needs a suite with tasks (--suite)"),
    (["--candidate", "{good}", "--baseline", "{other}"], "no metric in common"),
])
def test_misuse_exits_2_with_one_line_naming_file_and_field(tmp_path, capsys, args, expected):
    names = {"good": stored(tmp_path, "good", results("good", hb=[1.0] * 10)),
             "other": stored(tmp_path, "other", results("other", ll=[1.0] * 10)),
             "suite": str(tmp_path / "suite.yaml")}
    (tmp_path / "suite.yaml").write_text("alpha: 7\n")
    assert cli(["regress", *(a.format(**names) for a in args)]) == 2
    err = one_line_error(capsys)
    assert err.startswith("rareval regress: error: ") and expected in err
    if "suite" in args:
        assert "suite.yaml" in err


def test_missing_required_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(["regress", "--candidate", "x"])
    assert exit_.value.code == 2 and "--baseline" in capsys.readouterr().err


def test_an_unwritable_report_and_a_crash_are_2_not_1(tmp_path, capsys, monkeypatch):
    good = stored(tmp_path, "good", results("good", hb=[1.0] * 10))
    (tmp_path / "file").write_text("")
    assert cli(["regress", "--candidate", good, "--baseline", good, "--json", str(tmp_path / "file" / "r.json")]) == 2
    assert "cannot write" in capsys.readouterr().err

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("rareval.regress.gate.compare", boom)
    assert cli(["regress", "--candidate", good, "--baseline", good]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("(RuntimeError: disk on fire)")


def test_json_report_round_trip_through_the_command(tmp_path):
    good = stored(tmp_path, "good", results("good", hb=[0.5] * 10))
    assert cli(["regress", "--candidate", good, "--baseline", good, "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert ResultSet.model_validate(report["candidate_results"]).label == "good"
    assert cli(["regress", "--candidate", good, "--baseline", str(tmp_path / "r.json"), "--quiet"]) == 0


def test_judge_args_and_pinned_settings_reach_the_judge(tmp_path):
    """`--judge-arg` reaches the suite's judge model (here: make its 'water' verdicts unreadable) and the pinned
    `judge.config` its settings (on_failure=not_met: those verdicts count as not met, none abstains)."""
    from inspect_ai.log import read_eval_log

    from tests.regress.conftest import write_rows, write_suite

    write_rows(tmp_path / "rows.jsonl")
    suite = write_suite(tmp_path, limit=2)
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(suite.read_text().replace("judge:\n", "judge:\n  config: {on_failure: not_met}\n"))

    def run(suite_file, name):
        assert cli(["regress", "--candidate", "scripted/policy", "--baseline", "scripted/policy", "--suite",
                    str(suite_file), "--judge-arg", "fail_when=water", "--log-dir", str(tmp_path / name),
                    "--quiet"]) == 0
        [log] = (tmp_path / name / "candidate").glob("*.eval")
        return {k: v.value for k, v in read_eval_log(log).results.scores[0].metrics.items()}

    assert run(suite, "abstain")["judge_abstention_rate"] == pytest.approx(1 / 3)  # 'water' of 3 criteria
    assert run(pinned, "not-met")["judge_abstention_rate"] == 0
