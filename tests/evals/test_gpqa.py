"""GPQA-Diamond: loader, per-run permutation, prompts, scorer and an Inspect run.

Only generated items are used for prompts, extraction and the Inspect run. The
real file is read from the password-protected zip beside the repository (skipped
when absent); those tests assert counts and ids only, never question text.
"""

import csv
import hashlib
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import SampleScore, Score

from rareval.data import gpqa as data
from rareval.data.cache import DataUnavailable
from rareval.data.gpqa import (
    GPQA_SHA256,
    GPQADataError,
    choice_permutation,
    gpqa_csv_path,
    gpqa_samples,
    load_gpqa_diamond,
    read_gpqa_csv,
    record_to_sample,
)
from rareval.evals.gpqa import across_runs, render_prompt
from rareval.stats import mean_ci_across_runs

ROOT = Path(__file__).resolve().parents[2]
TASK_FILE = ROOT / "tasks" / "gpqa_diamond.py"
REAL_ZIP = ROOT.parent / "shared" / "data" / "gpqa" / "gpqa_diamond.zip"
COLUMNS = ["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3",
           "Explanation", "Subdomain", "Record ID", "High-level domain", "Canary String"]
DOMAINS = [("Physics", "Quantum Mechanics"), ("Chemistry", "Organic Chemistry"), ("Biology", "Genetics")]


def synthetic_rows(n: int) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        domain, subdomain = DOMAINS[i % 3]
        rows.append({"Question": f"Synthetic item {i}: which option is marked right?",
                     "Correct Answer": f"right-{i}", "Incorrect Answer 1": f"wrong-{i}-1",
                     "Incorrect Answer 2": f"wrong-{i}-2", "Incorrect Answer 3": f"wrong-{i}-3",
                     "Explanation": "generated", "Subdomain": subdomain, "Record ID": f"recSYN{i:04d}",
                     "High-level domain": domain, "Canary String": f"gpqa:test:{i}"})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def synthetic_csv(tmp_path):
    return write_csv(tmp_path / "gpqa_diamond.csv", synthetic_rows(6))


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RAREVAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RAREVAL_GPQA_PATH", raising=False)


# --- prompts ---------------------------------------------------------------

def test_prompts_hold_question_choices_and_answer_format():
    choices = ["right-0", "wrong-0-1", "wrong-0-2", "wrong-0-3"]
    rar = render_prompt("rar", "Synthetic item 0?", choices)
    simple = render_prompt("simple_evals", "Synthetic item 0?", choices)
    for text in (rar, simple):
        assert "Synthetic item 0?" in text
        assert re.search(r"^A\) right-0\nB\) wrong-0-1\nC\) wrong-0-2\nD\) wrong-0-3$", text, re.M)
    assert "\\boxed{}" in rar and "Answer:" not in rar
    assert "'Answer: $LETTER'" in simple and "boxed" not in simple
    # braces in a question are text, not template fields
    assert "{x}" in render_prompt("rar", "What is {x}?", choices)
    with pytest.raises(ValueError, match="unknown GPQA prompt"):
        render_prompt("chatty", "q", choices)


# --- per-run permutation -----------------------------------------------------

def test_target_follows_correct_answer_in_every_run(synthetic_csv):
    records = read_gpqa_csv(synthetic_csv)
    for sample in gpqa_samples(records, runs=10, seed=0):
        i = int(sample.metadata["record_id"][-4:])
        assert sample.choices["ABCD".index(sample.target)] == f"right-{i}"
        assert sorted(sample.choices) == sorted([f"right-{i}"] + [f"wrong-{i}-{k}" for k in (1, 2, 3)])


def test_runs_get_own_permutations_and_seeds_reproduce():
    perms = [tuple(choice_permutation("recSYN0001", run, seed=0)) for run in range(10)]
    assert len(set(perms)) > 1
    assert perms == [tuple(choice_permutation("recSYN0001", run, seed=0)) for run in range(10)]
    assert perms != [tuple(choice_permutation("recSYN0001", run, seed=1)) for run in range(10)]
    # string seeds are hashed with SHA-512: the value is stable across processes and versions
    assert choice_permutation("recSYN0000", 0, 0) == [2, 0, 1, 3]


def test_correct_letter_is_spread_over_all_positions():
    # guards against the "every gold answer is D" shuffle bug (evalchemy #155)
    counts = Counter("ABCD"[choice_permutation(f"rec{i}", 0, 0).index(0)] for i in range(400))
    assert set(counts) == set("ABCD") and min(counts.values()) > 60


def test_samples_are_record_major_with_run_metadata(synthetic_csv):
    records = read_gpqa_csv(synthetic_csv)
    samples = gpqa_samples(records, runs=3, seed=7)
    assert len(samples) == 18 and len({s.id for s in samples}) == 18
    assert [s.id for s in samples[:4]] == ["recSYN0000-r0", "recSYN0000-r1", "recSYN0000-r2", "recSYN0001-r0"]
    assert samples[4].metadata == {"record_id": "recSYN0001", "run": 1, "domain": "Chemistry",
                                   "subdomain": "Organic Chemistry",
                                   "permutation": choice_permutation("recSYN0001", 1, 7)}
    assert record_to_sample(records[0], run=2, shuffle=False).target == "A"
    with pytest.raises(ValueError, match="runs"):
        gpqa_samples(records, runs=0)


# --- loader: malformed and missing files --------------------------------------

def test_missing_column_names_field(tmp_path):
    columns = [c for c in COLUMNS if c != "Subdomain"]
    path = write_csv(tmp_path / "broken.csv", synthetic_rows(3), columns)
    with pytest.raises(GPQADataError, match=r"broken\.csv, line 1, field 'Subdomain': missing column"):
        read_gpqa_csv(path)


def test_empty_value_names_line_and_field_after_multiline_cell(tmp_path):
    rows = synthetic_rows(4)
    rows[0]["Question"] = "Synthetic item 0 spans\nthree\nlines?"  # row 1 covers lines 2-4
    rows[2]["Incorrect Answer 2"] = "  "                          # row 3 starts on line 6
    with pytest.raises(GPQADataError, match=r"line 6, field 'Incorrect Answer 2': empty value"):
        read_gpqa_csv(write_csv(tmp_path / "g.csv", rows))


def test_repeated_id_is_rejected(tmp_path):
    rows = synthetic_rows(3)
    rows[2]["Record ID"] = rows[0]["Record ID"]
    with pytest.raises(GPQADataError, match=r"line 4, field 'Record ID': repeats the id first seen on line 2"):
        read_gpqa_csv(write_csv(tmp_path / "g.csv", rows))


def test_zip_with_other_content_fails_the_sha_check(tmp_path, synthetic_csv):
    bad_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(bad_zip, "w") as zf:
        zf.write(synthetic_csv, "dataset/gpqa_diamond.csv")
    with pytest.raises(GPQADataError, match="differs from the pinned"):
        gpqa_csv_path(bad_zip)


def test_offline_without_data_explains_where_to_put_it(monkeypatch):
    monkeypatch.setattr(data, "GPQA_URL", "http://127.0.0.1:9/gpqa_diamond.csv")
    with pytest.raises(DataUnavailable) as err:
        load_gpqa_diamond()
    message = str(err.value)
    assert "gpqa_diamond.csv" in message and "RAREVAL_GPQA_PATH" in message
    assert "http://127.0.0.1:9/gpqa_diamond.csv" in message
    assert str(Path("data") / "gpqa" / "gpqa_diamond.csv") in message
    monkeypatch.setenv("RAREVAL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="offline mode"):
        load_gpqa_diamond()
    with pytest.raises(DataUnavailable, match="no file at"):
        load_gpqa_diamond("/nonexistent/gpqa_diamond.csv")


def test_records_hide_text_in_repr(synthetic_csv):
    record = read_gpqa_csv(synthetic_csv)[0]
    assert "right-0" not in repr(record) and "Synthetic" not in repr(record)
    assert record.options[0] == "right-0"


# --- loader: the real file ---------------------------------------------------

SUBDOMAINS = {"Organic Chemistry": 72, "Quantum Mechanics": 25, "Chemistry (general)": 20,
              "Physics (general)": 19, "Molecular Biology": 15, "High-energy particle physics": 14,
              "Astrophysics": 13, "Relativistic Mechanics": 7, "Electromagnetism and Photonics": 6,
              "Genetics": 4, "Inorganic Chemistry": 1, "Optics and Acoustics": 1,
              "Condensed Matter Physics": 1}


@pytest.mark.skipif(not REAL_ZIP.is_file(), reason=f"GPQA zip not at {REAL_ZIP}")
def test_real_zip_loads_198_verified_records(tmp_path, monkeypatch):
    records = load_gpqa_diamond(REAL_ZIP)
    cached = tmp_path / "data" / "gpqa" / "gpqa_diamond.csv"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == GPQA_SHA256
    assert len(records) == 198 and len({r.record_id for r in records}) == 198
    assert records[0].record_id == "rec06pnAkLOr2t2mp"
    assert Counter(r.subdomain for r in records) == SUBDOMAINS
    assert Counter(r.domain for r in records) == {"Chemistry": 93, "Physics": 86, "Biology": 19}
    assert all(r.canary.startswith("gpqa:") for r in records)
    leaked = any(r.question in repr(r) for r in records)  # short answers like "4" can occur in ids
    assert not leaked
    # later calls use the verified cache: via the env var, then with no path at all
    monkeypatch.setenv("RAREVAL_GPQA_PATH", str(REAL_ZIP))
    assert [r.record_id for r in load_gpqa_diamond()] == [r.record_id for r in records]
    monkeypatch.delenv("RAREVAL_GPQA_PATH")
    assert gpqa_csv_path() == cached


# --- across-run metric -------------------------------------------------------

def _score(value: str, run: int) -> SampleScore:
    return SampleScore(score=Score(value=value), sample_id=f"s{run}", sample_metadata={"run": run})


def test_across_runs_groups_by_run():
    # run 0: 2/2, run 1: 1/2, run 2: 0/2 → mean .5, s = .5, half = t_{.975,2} · .5 / sqrt(3) = 1.24209
    scores = [_score(v, run) for run, vs in enumerate([("C", "C"), ("C", "I"), ("I", "I")]) for v in vs]
    result = across_runs()(scores)
    assert result["run_mean"] == pytest.approx(0.5)
    assert result["run_std"] == pytest.approx(0.5)
    assert result["run_ci95"] == pytest.approx(1.24209, abs=1e-4)
    assert result["n_runs"] == 3


# --- a real Inspect run --------------------------------------------------------

def _output(text: str) -> ModelOutput:
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)  # offline-safe mockllm
    return out


ANSWER_STYLES = ["Reasoning...\n\\boxed{{{0}}}", "**ANSWER: {0}**", "Answer: ${0}$",
                 "The answer is {0} because the marked option says so."]


def scripted_policy(messages, tools, tool_choice, config) -> ModelOutput:
    """Even items: the option reading ``right-<i>``, in rotating formats. Odd items: always B."""
    prompt = messages[-1].text
    i = int(re.search(r"Synthetic item (\d+)", prompt).group(1))
    if i % 2:
        return _output("Hard to say. Answer: B")
    letter = re.search(rf"^([A-D])\) right-{i}$", prompt, re.M).group(1)
    return _output(ANSWER_STYLES[(i // 2) % len(ANSWER_STYLES)].format(letter))


def test_inspect_run_scores_the_rule_and_reports_across_run_ci(tmp_path, synthetic_csv):
    runs, limit = 3, 12  # 6 generated items, limit keeps the first 4 items in all 3 runs
    log = inspect_eval(f"{TASK_FILE}@gpqa_diamond",
                       task_args={"prompt": "rar", "runs": runs, "seed": 5, "path": str(synthetic_csv)},
                       model=get_model("mockllm/model", custom_outputs=scripted_policy),
                       limit=limit, log_dir=str(tmp_path / "logs"), display="none")[0]
    assert log.status == "success"
    log = read_eval_log(log.location)
    assert len(log.samples) == limit
    # the log's targets are the loader's permutations, and the rule decides every score
    expected_samples = {s.id: s for s in gpqa_samples(read_gpqa_csv(synthetic_csv), runs=runs, seed=5)}
    per_run: dict[int, list[float]] = {}
    for sample in log.samples:
        assert sample.target == expected_samples[sample.id].target
        assert "\\boxed{}" in sample.messages[0].text
        i = int(sample.metadata["record_id"][-4:])
        expected = 1.0 if i % 2 == 0 or sample.target == "B" else 0.0
        value = list(sample.scores.values())[0].value
        assert (value == "C") == (expected == 1.0), sample.id
        per_run.setdefault(sample.metadata["run"], []).append(expected)
    assert sorted(per_run) == [0, 1, 2] and all(len(v) == 4 for v in per_run.values())
    summary = mean_ci_across_runs([sum(v) / len(v) for _, v in sorted(per_run.items())])
    metrics = log.results.scores[0].metrics
    assert metrics["run_mean"].value == pytest.approx(summary.mean)
    assert metrics["run_ci95"].value == pytest.approx(summary.half_width, nan_ok=True)
    assert metrics["run_std"].value == pytest.approx(summary.std, nan_ok=True)
    assert metrics["n_runs"].value == 3
    assert metrics["answered"].value == 1.0
    assert log.eval.task_args["runs"] == runs and log.eval.metadata["prompt"] == "rar"


def test_inspect_run_falls_back_to_the_verifier(tmp_path, synthetic_csv):
    asked: list[str] = []

    def verifier(messages, tools, tool_choice, config) -> ModelOutput:
        asked.append(messages[-1].text)
        return _output("Yes")

    log = inspect_eval(f"{TASK_FILE}@gpqa_diamond",
                       task_args={"prompt": "simple_evals", "runs": 1, "path": str(synthetic_csv),
                                  "verifier_role": "grader"},
                       model=get_model("mockllm/model", custom_outputs=lambda *a: _output("It is the marked one.")),
                       model_roles={"grader": get_model("mockllm/model", custom_outputs=verifier)},
                       limit=2, log_dir=str(tmp_path / "logs"), display="none")[0]
    assert log.status == "success"
    metrics = log.results.scores[0].metrics
    assert metrics["accuracy"].value == 1.0 and metrics["answered"].value == 0.0
    assert metrics["n_runs"].value == 1  # one run: the interval is undefined, not zero
    assert len(asked) == 2 and all(re.search(r"Option [A-D] or right-\d", text) for text in asked)


REJECTED_ONLY = "(A) is wrong because parity is violated … (D) is wrong as well."


def test_inspect_run_asks_the_verifier_when_options_are_only_rejected(tmp_path, synthetic_csv):
    # a response that only lists rejected options has no answer letter: the scorer must not
    # read the last rejected one, but hand the response to the verifier (RaR's fallback)
    asked: list[str] = []

    def verifier(messages, tools, tool_choice, config) -> ModelOutput:
        asked.append(messages[-1].text)
        return _output("No")

    def policy(messages, tools, tool_choice, config) -> ModelOutput:
        i = int(re.search(r"Synthetic item (\d+)", messages[-1].text).group(1))
        return _output(REJECTED_ONLY if i % 2 == 0 else "(A) is wrong, so I choose **B**.")

    log = inspect_eval(f"{TASK_FILE}@gpqa_diamond",
                       task_args={"prompt": "rar", "runs": 1, "path": str(synthetic_csv), "verifier_role": "grader"},
                       model=get_model("mockllm/model", custom_outputs=policy),
                       model_roles={"grader": get_model("mockllm/model", custom_outputs=verifier)},
                       limit=4, log_dir=str(tmp_path / "logs"), display="none")[0]
    assert log.status == "success"
    log = read_eval_log(log.location)
    for sample in log.samples:
        score = list(sample.scores.values())[0]
        if int(sample.metadata["record_id"][-4:]) % 2 == 0:
            assert score.answer is None and score.value == "I", sample.id
            assert score.metadata == {"method": "verifier", "verifier": "no"}, sample.id
        else:
            assert score.answer == "B" and score.metadata == {"method": "extract"}, sample.id
    assert len(asked) == 2 and all(REJECTED_ONLY in text for text in asked)
    assert log.results.scores[0].metrics["answered"].value == 0.5
