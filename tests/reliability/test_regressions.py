"""One test per fix the reliability suite led to; each failed before its fix.

The property tests and fault scenarios that found these are in the other modules of this
package; these pin the fixes down with the smallest input that showed each.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError

from rareval.cli import main as cli
from rareval.data.cache import DataError
from rareval.data.healthbench import load_healthbench
from rareval.judge import Judge, JudgeConfig
from rareval.judge.readers import CONTEXT_OVERFLOW
from rareval.reward import RubricReward
from rareval.rubric import Rubric, RubricError
from rareval.train.data import TrainDataError, load_generated_rubrics
from tests.conftest import REPO, hb_rubric

GOOD_ROW = (REPO / "rareval/data/healthbench_sample.jsonl").read_bytes().split(b"\n")[4]
RUBRIC = hb_rubric((5, "Mentions 'water'"), (-3, "Recommends 'antibiotics'"))


def run(coro):
    return asyncio.run(coro)


# -- the judge --------------------------------------------------------------------------------------

def test_an_answer_without_choices_is_an_abstention_not_a_crash():
    """A server answering 200 with ``"choices": []`` raised IndexError out of the judge, ending the
    whole evaluation (found by the fault proxy's ``empty_choices``)."""
    verdicts, usage = run(Judge("scripted/empty", config=JudgeConfig(cache=False)).criteria("Hi", "Water.", RUBRIC))
    assert [v.met for v in verdicts] == [None, None] and usage.calls == 4  # asked again once, then abstained
    assert all("no choices" in v.error for v in verdicts)


def test_a_reader_that_fails_makes_the_answer_unreadable(monkeypatch):
    """Any exception while reading an answer is an unreadable answer (retried, then an abstention)."""
    import rareval.judge.core as judge_module

    def broken(output):
        raise ValueError("reader bug")

    monkeypatch.setattr(judge_module, "read_yesno", broken)
    verdicts, _ = run(Judge("scripted/keyword", config=JudgeConfig(cache=False)).criteria("Hi", "Water.", RUBRIC))
    assert [v.met for v in verdicts] == [None, None] and "reader bug" in verdicts[0].error


def test_a_fractional_judge_timeout_is_refused_when_configured():
    """JudgeConfig(timeout=1.5) was accepted, then every call crashed: Inspect's attempt_timeout is an int."""
    with pytest.raises(ValidationError, match="timeout"):
        JudgeConfig(timeout=1.5)
    assert JudgeConfig(timeout=2).timeout == 2


def test_a_response_longer_than_the_judges_context_is_cut_and_flagged():
    """The prompt overflowed the judge's context: every question abstained ('unreadable answer: ''');
    now the response is cut until it fits, and the verdict says so."""
    long = "Drink water and rest. " + "More detail follows here. " * 400
    judge = Judge("scripted/keyword", config=JudgeConfig(cache=False), model_args={"context": 500})
    verdicts, _ = run(judge.criteria("Fever?", long, RUBRIC))
    assert [v.met for v in verdicts] == [True, False] and all(v.response_truncated for v in verdicts)
    rating, _ = run(judge.rating("Fever?", long))
    assert rating.value is not None and rating.response_truncated
    short, _ = run(judge.criteria("Fever?", "Drink water.", RUBRIC))
    assert not any(v.response_truncated for v in short)
    refuse = Judge("scripted/keyword", config=JudgeConfig(cache=False, fit_attempts=0), model_args={"context": 500})
    assert run(refuse.criteria("Fever?", long, RUBRIC))[0][0].error.startswith(CONTEXT_OVERFLOW)


def test_an_abstention_names_the_error_inspect_gave_up_on():
    """After Inspect's retries the abstention said only 'RetryError[<Future …>]'."""
    from rareval.judge.readers import failure
    from tenacity import RetryError
    from tenacity import Future

    attempt = Future(1)
    attempt.set_exception(ConnectionError("server went away"))
    assert failure(RetryError(attempt)) == "ConnectionError: server went away"


def test_the_same_question_asked_twice_at_once_is_paid_once(tmp_path):
    """Identical completions scored in one batch (a GRPO group) asked the judge twice: both askings missed
    the verdict cache, which only holds answers already returned."""
    from rareval.judge.cache import VerdictCache

    judge = Judge("scripted/keyword", cache=VerdictCache(tmp_path / "v.sqlite"))

    async def twice():
        return await asyncio.gather(*(judge.criteria("Hi", "Drink water.", RUBRIC) for _ in range(3)))

    results = run(twice())
    assert sum(usage.calls for _, usage in results) == len(RUBRIC)
    assert sum(usage.cached for _, usage in results) == 2 * len(RUBRIC)
    assert len({tuple(v.met for v in verdicts) for verdicts, _ in results}) == 1


# -- data and rubrics -------------------------------------------------------------------------------

def test_a_line_that_is_not_utf8_is_a_located_bad_row(tmp_path):
    """One non-UTF-8 byte raised UnicodeDecodeError with no file or line, and skip_bad_rows did not help."""
    path = tmp_path / "rows.jsonl"
    path.write_bytes(GOOD_ROW + b"\n" + GOOD_ROW.replace(b"fever", b"fe\xffver", 1) + b"\n")
    with pytest.raises(DataError, match=r"^file .*rows\.jsonl, line 2: not UTF-8 \(byte 0xff"):
        load_healthbench(path=path)
    with pytest.warns(UserWarning, match="skipped 1 bad row"):
        rows = load_healthbench(path=path, skip_bad_rows=True)
    assert len(rows) == 1 and rows.skipped[0].line == 2


@pytest.mark.parametrize("value, field", [(5, None), ("not json", None), ({"criteria": []}, "criteria"),
                                          ([{"text": "a", "weight": "x", "category": "essential"}],
                                           "criteria[0].weight")])
def test_rubric_coerce_raises_rubric_errors(value, field):
    """Rubric.coerce raised TypeError, JSONDecodeError or pydantic's ValidationError."""
    with pytest.raises(RubricError) as error:
        Rubric.coerce(value)
    assert error.value.field == field


@pytest.mark.parametrize("points", [float("nan"), float("inf"), 10**400])
def test_non_finite_points_are_refused(points):
    """NaN points were accepted (every score NaN); 10**400 raised OverflowError."""
    with pytest.raises(RubricError, match="finite"):
        Rubric.from_healthbench([{"criterion": "a", "points": points, "tags": []}])
    with pytest.raises(RubricError, match="finite"):
        Rubric.from_rar([{"title": "t", "description": "Essential Criteria: a", "weight": points}])


def test_rubric_files_that_are_not_utf8_are_rubric_errors(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"criteria": [{"text": "\xff", "weight": 1, "category": "essential"}]}\n')
    with pytest.raises(RubricError, match="row 1: not UTF-8"):
        Rubric.load_jsonl(path)
    with pytest.raises(RubricError, match="not UTF-8"):
        Rubric.load(path)
    with pytest.raises(TrainDataError, match="line 1: not UTF-8"):
        load_generated_rubrics(path)


def test_reward_names_the_batch_row_and_column_of_a_bad_rubric():
    """A malformed rubric column raised TypeError (or worse) with no row; a missing reference, no row."""
    reward = RubricReward("healthbench", judge="scripted/keyword")
    with pytest.raises(RubricError, match=r"^row 1, field 'rubric': "):
        run(reward(["q", "q"], ["a", "b"], rubric=[[{"criterion": "x", "points": 1}], 5]))
    likert = RubricReward("reference_likert", judge="scripted/keyword")
    with pytest.raises(ValueError, match=r"^row 0: .*needs a reference"):
        run(likert(["q"], ["a"], reference=[""]))


# -- the command line -------------------------------------------------------------------------------

TRAIN = ["train", "--preset", "rar-explicit@tiny", "--set", "rubric_source=physician", "--policy", "p",
         "--judge", "scripted/keyword", "--out", "/nonexistent/run"]


def errors_of(capsys, argv) -> tuple[int, list[str]]:
    code = cli(argv)
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def test_an_unknown_strategy_is_refused(capsys):
    """``--set strategy=nope`` was accepted (rc 0 with --dry-run) and failed only once training began."""
    code, err = errors_of(capsys, [*TRAIN, "--data", "d", "--set", "strategy=nope", "--dry-run"])
    assert code == 2 and err == [err[0]] and "unknown strategy 'nope'" in err[0]


def test_a_bad_setting_is_one_error_line(capsys):
    """``--set max_steps=abc`` printed pydantic's four-line error."""
    code, err = errors_of(capsys, [*TRAIN, "--data", "d", "--set", "max_steps=abc", "--dry-run"])
    assert code == 2 and err == ["error: --set max_steps=abc: Input should be a valid integer, unable to parse "
                                 "string as an integer"]


@pytest.mark.parametrize("flag, value, says", [("--judge", "nosuch/model", "no Inspect model provider 'nosuch'"),
                                               ("--judge", "gpt-4o", "is not PROVIDER/NAME"),
                                               ("--policy", "local/nosuch", "no local model 'nosuch'")])
def test_an_unknown_model_is_refused_before_anything_runs(capsys, flag, value, says):
    """An unknown judge was accepted by --dry-run and --estimate, and by a real run until the first reward."""
    argv = [*TRAIN, "--data", "d", "--dry-run"]
    argv[argv.index(flag) + 1] = value
    code, err = errors_of(capsys, argv)
    assert code == 2 and len(err) == 1 and says in err[0]


def test_skip_bad_rows_counts_what_it_leaves_out(tmp_path, capsys):
    data = tmp_path / "rows.jsonl"
    data.write_bytes(GOOD_ROW + b"\n" + b'{"prompt_id": "x", "prompt": [], "rubrics": []}\n')
    code, err = errors_of(capsys, [*TRAIN, "--data", str(data), "--estimate"])
    assert code == 2 and err == [f"error: file {data}, line 2, field 'prompt': expected a non-empty list of messages"]
    with pytest.warns(UserWarning):
        assert cli([*TRAIN, "--data", str(data), "--estimate", "--skip-bad-rows"]) == 0
    assert "'malformed row (--skip-bad-rows)': 1" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["alignment", "sweep", "--judges", "scripted/keyword", "--pairs"],
                                     ["alignment", "build", "--kind", "reference", "--out", "/nonexistent/p.jsonl",
                                      "--source"]])
def test_alignment_commands_answer_bad_data_with_one_line(tmp_path, capsys, command):
    """A malformed pairs or HealthBench file ended ``rareval alignment`` with a traceback."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt_id": "a", "rubrics": 3}) + "\n")
    code, err = errors_of(capsys, [*command, str(bad)])
    assert code == 2 and len(err) == 1 and err[0].startswith(f"error: file {bad}, line 1, field ")
