"""Bad input, property-based: parsers, readers, the judge and the CLI never crash on it.

Every loader is given files whose lines are drawn from valid HealthBench / RaR rows, the same
rows with a field removed, retyped, emptied or set to NaN, rubrics that are empty or
penalty-only, malformed or truncated JSON, JSON that is not an object, and bytes that are not
UTF-8. It must either read the file or raise one error whose single line names the file, the
line and (for a field) the field; with ``skip_bad_rows`` it must read every good line and
count every bad one. Rubric converters raise only ``RubricError``; the judge's answer readers
return an answer or ``None``; the judge itself takes any response — however long (cut to fit
its context, recorded) — and the CLI answers bad arguments with one ``error:`` line and a
non-zero exit. Each test counts the inputs it tried (``figures``); a crash fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import re
import tempfile
import warnings
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from inspect_ai.model import ChatCompletionChoice, ChatMessageAssistant, Logprob, Logprobs, ModelOutput, TopLogprob

from rareval.data.cache import DataError
from rareval.data.healthbench import load_healthbench
from rareval.data.rar import load_rar
from rareval.judge import Judge, JudgeConfig
from rareval.judge.readers import read_batch, read_json_met, read_rating, read_slots, read_yesno
from rareval.judge.parsing import parse_json, parse_met, parse_rating
from rareval.prompts import load_prompt
from rareval.rubric import Rubric, RubricError
from rareval.strategies import score
from rareval.train.data import TrainDataError, load_generated_rubrics
from tests.conftest import REPO, hb_rubric

TRIED: Counter = Counter()
SETTINGS = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LOCATED = re.compile(r"^file [^,]+, (line|row) \d+(, field '[^']+')?: \S")

SAMPLE_ROW = json.loads((REPO / "rareval/data/healthbench_sample.jsonl").read_text(encoding="utf-8").split("\n")[4])
RAR_ROW = {"question": "What lowers a fever?", "reference_answer": "Paracetamol.", "question_source": "test",
           "rubric": [{"title": "Drug", "description": "Essential Criteria: Names paracetamol.", "weight": 5},
                      {"title": "Harm", "description": "Pitfall Criteria: Recommends aspirin for a child.",
                       "weight": -2}]}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def paths(value, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


@st.composite
def mutated(draw, row: dict):
    """``row`` with one field removed, retyped, emptied or made NaN, or its rubric made empty/penalty-only."""
    row = json.loads(json.dumps(row))
    kind = draw(st.sampled_from(["delete", "retype", "empty", "nan", "huge", "no_criteria", "penalty_only",
                                 "empty_text", "none"]))
    rubric_key = next(k for k in ("rubrics", "rubric", "criteria") if k in row)
    if kind == "no_criteria":
        row[rubric_key] = []
        return row
    if kind == "penalty_only":
        for item in row[rubric_key]:
            for k in ("points", "weight"):
                if k in item:
                    item[k] = -abs(item[k]) or -1
            if "description" in item:
                item["description"] = "Pitfall Criteria: " + item["description"].split(": ", 1)[-1]
            if "category" in item:
                item["category"] = "pitfall"
        return row
    if kind == "none":
        return row
    where, _ = draw(st.sampled_from([p for p in paths(row) if p[0]]))
    parent = row
    for k in where[:-1]:
        parent = parent[k]
    last = where[-1]
    if kind == "delete":
        del parent[last]
    elif kind == "retype":
        parent[last] = draw(json_values)
    elif kind == "empty":
        parent[last] = type(parent[last])() if isinstance(parent[last], (str, list, dict)) else None
    elif kind == "nan":
        parent[last] = float("nan")
    elif kind == "huge":
        parent[last] = 10**400
    elif kind == "empty_text":
        parent[last] = "   "
    return row


def lines(row: dict):
    """One JSONL line, as bytes without a newline: good, mutated, malformed, not an object, or not UTF-8."""
    return st.one_of(
        st.just(json.dumps(row).encode()),
        mutated(row).map(lambda r: json.dumps(r).encode()),
        st.integers(min_value=1, max_value=200).map(lambda n: json.dumps(row).encode()[:n]),
        json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
        st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=40),
        st.builds(lambda good, bad, at: good[:at] + bad + good[at:], st.just(json.dumps(row).encode()),
                  st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"]),
                  st.integers(min_value=0, max_value=300)),
    ).map(lambda b: b.replace(b"\n", b" "))


def write(data: list[bytes]) -> Path:
    handle = tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False)
    with handle:
        handle.write(b"\n".join(data) + b"\n")
    return Path(handle.name)


def blank(raw: bytes) -> bool:
    try:
        return not raw.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return False


def check_loader(load, data: list[bytes], name: str, errors=(DataError,)):
    """Read or raise one located error; with skip_bad_rows, read the good lines and count the bad ones."""
    TRIED[name] += 1
    path = write(data)
    try:
        try:
            rows = load(path)
        except errors as e:
            message = str(e)
            assert "\n" not in message and LOCATED.match(message.replace(str(path), "F")), message
            assert str(path) in message
        else:
            for row in rows:
                check_scoreable(row.rubric)
        with warnings.catch_warnings():  # the count of skipped rows is warned; it is checked here instead
            warnings.simplefilter("ignore")
            rows = load(path, skip_bad_rows=True)
        assert len(rows) + len(rows.skipped) == sum(not blank(b) for b in data)
        assert all(LOCATED.match(s.error.replace(str(path), "F")) for s in rows.skipped)
    finally:
        path.unlink()


def check_scoreable(rubric: Rubric) -> None:
    """A rubric that was accepted can be scored: a finite value or None (nothing to judge), never NaN."""
    for verdicts in ([True] * len(rubric), [False] * len(rubric)):
        for strategy in ("healthbench", "explicit"):
            value = score(strategy, rubric, verdicts)
            assert value is None or math.isfinite(value), (strategy, rubric, value)


@settings(max_examples=60, **SETTINGS)
@given(st.lists(lines(SAMPLE_ROW), min_size=1, max_size=5))
def test_healthbench_loader(data):
    check_loader(lambda p, **kw: load_healthbench(path=p, **kw), data, "healthbench_jsonl")


@settings(max_examples=60, **SETTINGS)
@given(st.lists(lines(RAR_ROW), min_size=1, max_size=5))
def test_rar_loader(data):
    check_loader(lambda p, **kw: load_rar(path=p, **kw), data, "rar_jsonl")


@settings(max_examples=40, **SETTINGS)
@given(st.lists(lines({"prompt_id": "p1", "rubric": SAMPLE_ROW["rubrics"]}), min_size=1, max_size=4))
def test_generated_rubrics_loader(data):
    TRIED["generated_rubrics_jsonl"] += 1
    path = write(data)
    try:
        for rubric in load_generated_rubrics(path).values():
            check_scoreable(rubric)
    except TrainDataError as e:
        assert "\n" not in str(e) and re.match(rf"^{re.escape(str(path))}: line \d+: ", str(e)), str(e)
    finally:
        path.unlink()


@settings(max_examples=40, **SETTINGS)
@given(st.lists(lines({"criteria": [{"text": "Mentions water.", "weight": 5, "category": "important"}]}),
                min_size=1, max_size=4))
def test_rubric_files(data):
    TRIED["rubric_json_files"] += 1
    path = write(data)
    try:
        for load in (Rubric.load_jsonl, lambda p: [Rubric.load(p)]):
            try:
                for rubric in load(path):
                    check_scoreable(rubric)
            except RubricError as e:
                assert "\n" not in str(e) and str(e).startswith(f"file {path}"), str(e)
    finally:
        path.unlink()


@settings(max_examples=200, **SETTINGS)
@given(st.one_of(json_values, mutated(SAMPLE_ROW).map(lambda r: r["rubrics"] if "rubrics" in r else r),
                 mutated(RAR_ROW).map(lambda r: r.get("rubric", r)),
                 json_values.map(json.dumps), st.binary(max_size=30)))
def test_rubric_coerce_raises_only_rubric_errors(value):
    TRIED["rubric_coerce"] += 1
    try:
        check_scoreable(Rubric.coerce(value))
    except RubricError as e:
        assert "\n" not in str(e)


def test_penalty_only_rubric_is_unscored_not_zero():
    """A rubric of pitfalls only has nothing to earn: no score (None), never a 0 or a 1."""
    rubric = hb_rubric((-5, "Recommends 'antibiotics'"), (-3, "Recommends 'aspirin'"))
    for strategy in ("healthbench", "explicit", "veto", "saturating"):
        assert score(strategy, rubric, [False, False]) is None, strategy


# -- the judge's answers ---------------------------------------------------------------------------

tokens = st.one_of(st.sampled_from(["yes", "No", " YES", "no", "1", "10", "0", "7", "²", "٣", "{", "\"", "rating",
                                    "", " ", "true", "maybe"]), st.text(max_size=6))
positions = st.builds(lambda t, lp, alts: Logprob(token=t, logprob=lp, top_logprobs=alts), tokens,
                      st.floats(max_value=0) | st.just(float("nan")) | st.just(float("-inf")),
                      st.none() | st.lists(st.builds(TopLogprob, token=tokens, logprob=st.floats(max_value=0)),
                                           max_size=5))
outputs = st.builds(
    lambda text, content, prompt, empty: ModelOutput(model="m", choices=[] if empty else [ChatCompletionChoice(
        message=ChatMessageAssistant(content=text), logprobs=None if content is None else Logprobs(content=content),
        prompt_logprobs=None if prompt is None else Logprobs(content=prompt))]),
    st.one_of(st.text(max_size=60), json_values.map(json.dumps),
              st.builds(lambda r: json.dumps({"rating": r}), json_values),
              st.builds(lambda m: json.dumps({"criteria_met": m, "explanation": "x"}), json_values)),
    st.none() | st.lists(positions, max_size=4), st.none() | st.lists(positions, max_size=6), st.booleans())


@settings(max_examples=200, **SETTINGS)
@given(outputs)
def test_answer_readers_return_an_answer_or_none(output):
    TRIED["judge_answers"] += 1
    for read in (read_yesno, read_json_met, read_rating, lambda o: read_batch(o, ["1. Mentions", "2"]),
                 lambda o: read_slots(o, 3)):
        value = read(output)
        assert value is None or isinstance(value, dict)
    text = output.completion
    for parse in (parse_json, parse_rating, parse_met):
        parse(text)


def test_json_infinity_and_nan_are_not_ratings():
    """Python's json reads Infinity and NaN as floats; int(inf) raised OverflowError in the rating reader."""
    for text in ('{"rating": Infinity}', '{"rating": -Infinity}', '{"rating": NaN}'):
        assert parse_rating(text) is None


def test_superscript_digits_are_not_ratings():
    """"²".isdigit() is true but int("²") raises: an answer carrying it crashed the rating reader."""
    assert parse_rating('{"rating": "²"}') is None
    out = ModelOutput.from_content("m", '{"rating": 7}')
    out.choices[0].logprobs = Logprobs(content=[Logprob(token="7", logprob=-0.1, top_logprobs=[
        TopLogprob(token="7", logprob=-0.1), TopLogprob(token="²", logprob=-3.0)])])
    assert read_rating(out) == {"rating": 7, "distribution": {"7": 1.0}}


@settings(max_examples=15, **SETTINGS)
@given(st.text(max_size=200) | st.builds(lambda t, n: t * n, st.text(min_size=1, max_size=30),
                                         st.integers(min_value=1, max_value=3000)))
@example(response="\r0\r0\r00" * 1566)  # found by CI: halving four times left 424 words of 400
@example(response="\r0" * 45000)  # the longest the strategy draws: 45,000 one-letter words
def test_the_judge_takes_any_response_and_cuts_what_its_context_cannot_hold(response):
    """Whatever the response — empty, control characters, longer than the judge's context — the judge
    answers every question, and says when it was shown only the start of the response."""
    TRIED["judge_responses"] += 1
    judge = Judge("scripted/keyword", config=JudgeConfig(cache=False), model_args={"context": 400})
    rubric = hb_rubric((5, "Mentions 'water'"), (-3, "Recommends 'antibiotics'"))
    verdicts, _ = asyncio.run(judge.criteria("I have a fever.", response, rubric))
    rating, _ = asyncio.run(judge.rating("I have a fever.", response))
    for criterion, verdict in zip(rubric, verdicts):
        whole = load_prompt("criterion_yesno").render(conversation="I have a fever.", response=response,
                                                      criterion=criterion.text, points=f"{criterion.weight:g}")
        assert verdict.error is None and verdict.response_truncated == (len(whole.split()) > 400)
    assert rating.error is None


# -- the command line ------------------------------------------------------------------------------

def run_cli(argv: list[str]) -> tuple[int, str]:
    from rareval.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, err.getvalue()


def bad_file(data: list[bytes]) -> str:
    return str(write(data))


TRAIN = ["train", "--preset", "rar-explicit@tiny", "--set", "rubric_source=physician", "--policy", "p",
         "--judge", "scripted/keyword", "--out", "/nonexistent/run"]
cli_args = st.one_of(
    st.builds(lambda name: ["train", "--preset", name, "--policy", "p", "--judge", "scripted/keyword", "--data", "d",
                            "--out", "o", "--dry-run"], st.text(min_size=1, max_size=12).filter(
        lambda n: n.split("@")[0] not in ("direct-likert", "reference-likert", "rar-predefined", "rar-explicit",
                                          "rar-implicit") and not n.startswith("-"))),
    st.builds(lambda key, value: [*TRAIN, "--data", "d", "--set", f"{key}={value}", "--dry-run"],
              st.sampled_from(["strategy", "max_steps", "learning_rate", "rubric_view", "temperature", "nope",
                               "num_generations", "rubric_source"]),
              st.text(max_size=8).filter(lambda v: "\x00" not in v)),
    st.builds(lambda judge: ["train", "--preset", "rar-explicit@tiny", "--policy", "p", "--judge", judge,
                             "--data", "d", "--out", "o", "--dry-run"],
              st.text(min_size=1, max_size=15).filter(lambda j: not j.startswith("-") and "\x00" not in j)),
    st.builds(lambda data, skip: [*TRAIN, "--data", bad_file(data), "--estimate", *skip],
              st.lists(lines(SAMPLE_ROW), min_size=1, max_size=3), st.sampled_from([[], ["--skip-bad-rows"]])),
    st.builds(lambda data: ["rubrics", "stats", bad_file(data)], st.lists(lines(SAMPLE_ROW), min_size=1, max_size=3)),
    st.builds(lambda n: ["reproduce", "--table", str(n), "--plan"], st.integers().filter(lambda n: not 1 <= n <= 11)),
    st.builds(lambda words: words, st.lists(st.text(max_size=8), min_size=1, max_size=3).filter(
        lambda w: w[0] not in ("models", "alignment", "train", "heldout", "rubrics", "reproduce", "regress"))),
    st.builds(lambda size: ["train", "--size", size], st.text(max_size=6).filter(
        lambda s: s not in ("paper", "cpu", "tiny"))),
)


@settings(max_examples=40, **SETTINGS)
@given(cli_args)
def test_cli_answers_bad_arguments_with_one_error_line(argv):
    TRIED["cli_invocations"] += 1
    code, err = run_cli(argv)
    assert "Traceback" not in err
    if code != 0:
        errors = [line for line in err.splitlines() if "error:" in line]
        assert errors, err
        if "--estimate" in argv or argv[:2] == ["rubrics", "stats"]:  # a generated data file: located errors
            message = errors[-1]
            assert re.search(r"line \d+", message) or "no training rows" in message or (
                "no records" in message and "file /" in message), message


def test_figures(figures):
    """Runs last in this module: what the property tests tried (a crash would have failed them)."""
    figures["bad_input"] = {"inputs_tried": dict(TRIED), "total": sum(TRIED.values()), "crashes": 0}
