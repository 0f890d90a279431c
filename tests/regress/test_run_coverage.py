"""`rareval regress` running the models itself (run_suite, through the command): items a candidate loses
to its own errors or to its judge's refusals are reported as lost coverage (exit 1, the coverage table in
the written report), never as a gate that could not run (exit 2). A judge that cannot be reached at all, and
a model that answers nothing, are the set-up's failures: exit 2, one line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rareval.cli import main as cli
from tests.regress import providers  # noqa: F401  (registers flaky/...)
from tests.regress.conftest import write_suite

REPO = Path(__file__).resolve().parents[2]
#: the command's own entry point in a fresh process, with the test providers registered first
COMMAND = [sys.executable, "-c", ("import sys, tests.regress.providers; from rareval.cli import main; "
                                  "sys.exit(main(sys.argv[1:]))")]


def suite_judged_by(folder: Path, judge: str) -> Path:
    path = write_suite(folder)
    path.write_text(path.read_text().replace("model: scripted/keyword", f"model: {judge}"))
    return path


def regress(folder: Path, candidate: str, suite: Path, *extra: str) -> list[str]:
    return ["regress", "--candidate", candidate, "--baseline", "scripted/policy", "--suite", str(suite),
            "--log-dir", str(folder / "logs"), "--markdown", str(folder / "regress.md"), "--json",
            str(folder / "regress.json"), *extra]


def test_a_candidate_that_errors_on_some_items_exits_1_with_the_coverage_table(tmp_path, rows):
    """In a fresh process, as CI runs it: 2 of 8 items raise in the candidate's generate."""
    suite = suite_judged_by(tmp_path, "flaky/judge")
    run = subprocess.run([*COMMAND, *regress(tmp_path, "flaky/errors", suite, "--quiet")], cwd=REPO,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 1, run.stderr
    report = (tmp_path / "regress.md").read_text()
    assert report.startswith("## rareval regress: REGRESSED (exit 1)")
    assert "**regressed (coverage)** (paired: " in report
    assert "| healthbench | 8 | 8 · 0 · 0 | 6 · 0 · 2 | 1.000 → 0.750 (-0.250) | **lost** |" in report
    assert ("- `healthbench`, candidate: 2 items — the model errored: FlakyModelError('the model crashed on this "
            "input') (`e1`, `e5`)") in report
    metric = json.loads((tmp_path / "regress.json").read_text())["gate"]["metrics"][0]
    assert metric["coverage"]["candidate"]["refused"] == 2 and metric["items"] == 6


def test_a_candidate_whose_answers_the_judge_refuses_exits_1_with_the_coverage_table(tmp_path, rows, capsys):
    """6 of 8 answers, the first 6 asked, make the judge refuse every criterion (a judge that abstains on
    its first five samples used to stop the run)."""
    suite = suite_judged_by(tmp_path, "flaky/judge")
    code = cli(regress(tmp_path, "flaky/unsafe", suite))
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("## rareval regress: REGRESSED (exit 1)")
    report = (tmp_path / "regress.md").read_text()
    assert report == out
    assert "| healthbench | 8 | 8 · 0 · 0 | 2 · 6 · 0 | 1.000 → 0.250 (-0.750) | **lost** |" in report
    assert ("- `healthbench`, candidate: 6 items — judge: every positive abstained (refused: I can't help "
            "with grading that.) (`e0`, `e1`, `e2`, `e3`, `e4`, `e5`)") in report
    gate = json.loads((tmp_path / "regress.json").read_text())
    assert gate["exit_code"] == 1 and gate["gate"]["metrics"][0]["verdict"] == "regressed (coverage)"
    assert gate["candidate_results"]["metrics"]["healthbench"]["unscored"] == [f"e{i}" for i in range(6)]


@pytest.mark.parametrize("judge,candidate,expected", [
    ("scripted/error", "scripted/policy", ("evaluating scripted/policy on healthbench failed: the judge could not be "
                                           "reached: all 24 calls to it failed (last: ScriptedError('scripted judge "
                                           "failure'))")),
    ("scripted/keyword", "scripted/error", ("evaluating scripted/error on healthbench failed: the model answered no "
                                            "item: all 8 samples errored before any output (first: "
                                            "ScriptedError('scripted judge failure'))")),
])
def test_a_judge_or_model_that_cannot_be_reached_at_all_exits_2(tmp_path, rows, capsys, judge, candidate, expected):
    suite = suite_judged_by(tmp_path, judge)
    assert cli(regress(tmp_path, candidate, suite)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("rareval regress: error: ")
    assert expected in err
    assert not (tmp_path / "regress.md").exists()


def test_a_judge_whose_few_new_calls_fail_loses_those_items_not_the_gate(tmp_path, rows, capsys):
    """A rerun the verdict cache answers but for 2 revised answers, whose judge calls fail: every call made
    failed, yet 6 items were scored, so the judge was not unreachable: exit 1, the 2 items lost (it was 2)."""
    suite = suite_judged_by(tmp_path, "flaky/judge")
    assert cli(regress(tmp_path / "first", "scripted/policy", suite)) == 0  # fills the verdict cache
    capsys.readouterr()
    code = cli(regress(tmp_path, "flaky/revised", suite))
    out, err = capsys.readouterr()
    assert code == 1 and out.startswith("## rareval regress: REGRESSED (exit 1)"), err
    report = (tmp_path / "regress.md").read_text()
    assert "| healthbench | 8 | 8 · 0 · 0 | 6 · 2 · 0 | 1.000 → 0.750 (-0.250) | **lost** |" in report, report
    assert "the judge's connection was reset" in report
