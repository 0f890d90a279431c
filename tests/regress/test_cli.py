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


def answered(folder, suite, reply, judge_context):
    """Logs of the scripted policy answering ``reply`` on the suite's tasks, judged by the suite's scripted
    keyword judge whose context holds ``judge_context`` words (a longer judge prompt: nothing read, abstained)."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from rareval.regress.run import inspect_tasks

    [log] = inspect_eval(inspect_tasks(suite), model=get_model("scripted/policy", reply=reply, memoize=False),
                         model_roles={"grader": get_model(suite.judge.model, context=judge_context, memoize=False)},
                         log_dir=str(folder), display="none", score_display=False)
    assert log.status == "success"
    return str(folder)


@pytest.fixture
def verbose_candidate(tmp_path):
    """``(suite file, candidate logs, baseline logs)``: 8 questions, the last 2 long. The candidate's answer is
    1,000 words longer than the baseline's, which overflows the judge's context on the long questions only;
    the pinned judge does not cut responses to fit (fit_attempts: 0), so it abstains there, and those 2 of 8
    items (0.25 of the suite) leave the pairs. On the 6 shared items both answers meet the same criteria."""
    from rareval.models.scripted import DEFAULT_REPLY
    from rareval.regress.suite import load_suite
    from tests.regress.conftest import QUESTIONS, write_rows, write_suite

    padding = " ".join(["indeed"] * 1000)
    write_rows(tmp_path / "rows.jsonl", questions=[*QUESTIONS[:6], *(f"{q} {padding}" for q in QUESTIONS[6:])])
    suite_file = write_suite(tmp_path)
    suite_file.write_text(suite_file.read_text().replace("judge:\n", "judge:\n  config: {fit_attempts: 0}\n"))
    suite = load_suite(suite_file)
    assert suite.judge.config == {"fit_attempts": 0}
    baseline = answered(tmp_path / "baseline", suite, DEFAULT_REPLY, judge_context=1500)
    candidate = answered(tmp_path / "candidate", suite, f"{DEFAULT_REPLY} {padding}", judge_context=1500)
    return suite_file, candidate, baseline


def test_a_candidate_losing_items_to_judge_abstentions_regresses_on_coverage_exit_1(tmp_path, capsys,
                                                                                     verbose_candidate):
    suite_file, candidate, baseline = verbose_candidate
    code = cli(["regress", "--candidate", candidate, "--baseline", baseline, "--suite", str(suite_file),
                "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("## rareval regress: REGRESSED (exit 1)")
    assert "**regressed (coverage)** (paired: no detectable change)" in out
    assert "| healthbench | 8 | 8 · 0 · 0 | 6 · 2 · 0 | 1.000 → 0.750 (-0.250) | **lost** |" in out
    report = json.loads((tmp_path / "r.json").read_text())
    (metric,) = report["gate"]["metrics"]
    assert report["exit_code"] == 1 and report["status"] == "regressed"
    assert metric["verdict"] == "regressed (coverage)" and metric["items"] == 6 and metric["difference"] == 0
    overflow = "judge: every positive abstained (the prompt exceeds the judge's context (''))"
    assert metric["coverage"]["candidate"] == {"items": 8, "scored": 6, "abstained": 2, "refused": 0, "absent": 0,
                                               "share": 0.75, "lost": {"e6": overflow, "e7": overflow}}
    assert f"- `healthbench`, candidate: 2 items — {overflow} (`e6`, `e7`)" in out
    assert report["candidate_results"]["metrics"]["healthbench"]["unscored"] == ["e6", "e7"]


def test_the_same_loss_within_the_suites_tolerance_gets_the_usual_verdict(tmp_path, capsys, verbose_candidate):
    suite_file, candidate, baseline = verbose_candidate
    tolerant = tmp_path / "tolerant.yaml"
    tolerant.write_text(suite_file.read_text() + "coverage_tolerance: 0.25\n")  # not in the fingerprint
    code = cli(["regress", "--candidate", candidate, "--baseline", baseline, "--suite", str(tolerant),
                "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("## rareval regress: PASSED (exit 0)")
    (metric,) = json.loads((tmp_path / "r.json").read_text())["gate"]["metrics"]
    # the 6 shared items score 1.0 on both sides: no spread, so the pairs claim they could see min_effect
    assert metric["verdict"] == metric["paired_verdict"] == "no detectable change"
    assert metric["coverage"]["drop"] == 0.25 and not metric["coverage"]["lost"]
    assert "coverage tolerance 0.25" in out and "| 6 · 2 · 0 | 1.000 → 0.750 (-0.250) | kept |" in out
