"""Rubric statistics (RaR v2 Tables 4/5, 7/8) on the real HealthBench union file and on RaR-format files."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rareval.data.cache import DataError
from rareval.rubric import Rubric, healthbench_category
from rareval.rubrics.stats import PAPER, file_stats, markdown_table, read_rubric_file, report, rubric_stats

UNION = Path(__file__).resolve().parents[3] / "shared" / "data" / "healthbench" / "healthbench_offline_union.jsonl"
needs_union = pytest.mark.skipif(not UNION.is_file(), reason=f"{UNION} not present")


def rar_record(question: str, prefixes: list[str], reference: str = "A reference.") -> dict:
    weights = {"Essential": 5, "Important": 3, "Optional": 1, "Pitfall": -2}
    rubric = [{"title": f"T{j}", "description": f"{p} Criteria: Mentions point {j}.", "weight": weights[p]}
              for j, p in enumerate(prefixes)]
    return {"question": question, "reference_answer": reference, "question_source": "test", "rubric": rubric}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


RAR = [rar_record("What is the boiling point of water at sea level?", ["Essential", "Important", "Pitfall"]),
       rar_record("Why is the sky blue?", ["Essential", "Essential", "Optional", "Important", "Pitfall"])]


@needs_union
def test_healthbench_union_counts_match_the_raw_json():
    raw = [json.loads(line) for line in UNION.read_text(encoding="utf-8").split("\n") if line.strip()]
    counts = {"essential": 0, "important": 0, "optional": 0, "pitfall": 0}
    for record in raw:
        for item in record["rubrics"]:
            counts[healthbench_category(item["points"]).value] += 1
    total = sum(counts.values())
    words = [len([m for m in r["prompt"] if m["role"] == "user"][-1]["content"].split()) for r in raw]

    stats = file_stats(UNION)
    assert stats.kind == "healthbench" and stats.examples == len(raw) == 754
    assert stats.criteria == total == sum(len(r["rubrics"]) for r in raw)
    assert {k: v.count for k, v in stats.categories.items()} == counts
    assert stats.mean_criteria_per_question == pytest.approx(total / 754)
    assert stats.mean_question_words == pytest.approx(sum(words) / 754) and stats.questions_measured == 754
    assert sum(c.percent for c in stats.categories.values()) == pytest.approx(100)
    assert stats.categories["pitfall"].percent == pytest.approx(100 * counts["pitfall"] / total)
    assert stats.min_criteria == min(len(r["rubrics"]) for r in raw)
    assert stats.max_criteria == max(len(r["rubrics"]) for r in raw)


def test_rar_jsonl_and_parquet(tmp_path):
    jsonl = write_jsonl(tmp_path / "rar.jsonl", RAR)
    parquet = tmp_path / "rar.parquet"
    pq.write_table(pa.Table.from_pylist(RAR), parquet)
    for path in (jsonl, parquet):
        stats = file_stats(path)
        assert (stats.kind, stats.examples, stats.criteria) == ("rar", 2, 8)
        assert {k: v.count for k, v in stats.categories.items()} == {"essential": 3, "important": 2, "optional": 1,
                                                                     "pitfall": 2}
        assert stats.categories["essential"].percent == pytest.approx(37.5)
        assert stats.mean_criteria_per_question == 4.0 and (stats.min_criteria, stats.max_criteria) == (3, 5)
        assert stats.mean_question_words == pytest.approx((10 + 5) / 2)


def test_generated_rubrics_have_no_question_text(tmp_path):
    rubric = Rubric.from_rar(RAR[0]["rubric"])
    path = write_jsonl(tmp_path / "gen.jsonl", [{"prompt_id": "a", "rubric": rubric.model_dump(mode="json")},
                                                {"prompt_id": "b", "rubric": RAR[1]["rubric"]}])
    stats = file_stats(path)
    assert (stats.kind, stats.examples, stats.criteria, stats.mean_question_words) == ("generated", 2, 8, None)
    table = markdown_table(stats)
    assert "| question length, words (mean) | n/a |" in table and "paper" not in table


def test_paper_column_and_figures():
    med, sci = PAPER["medicine"], PAPER["science"]
    assert (med.examples, med.mean_criteria_per_question, med.mean_question_words) == (20_166, 7.5, 45.0)
    assert (sci.examples, sci.mean_question_words) == (20_625, 52.6)
    assert med.categories["important"].count == 52_748 and med.categories["pitfall"].percent == 13.1
    assert sci.categories["essential"].count == 42_739 and sci.categories["optional"].percent == 22.3
    stats = rubric_stats([Rubric.from_rar(r["rubric"]) for r in RAR], [r["question"] for r in RAR], kind="rar")
    text = report(stats, "science")
    assert "| examples | 2 | 20,625 |" in text and "| Pitfall | 2 (25.0%) | 21,808 (14.5%) |" in text
    assert "SPEC §1.3" not in text and "SPEC §1.3" in report(stats, "medicine")
    lines = markdown_table(stats, "medicine").splitlines()
    assert all(line.count("|") == 4 for line in lines)  # three columns on every row


def test_errors_name_the_file_and_line(tmp_path):
    unknown = write_jsonl(tmp_path / "x.jsonl", [{"text": "hello"}])
    with pytest.raises(DataError, match=rf"file {unknown}, line 1: expected fields 'prompt_id'\+'rubric'"):
        read_rubric_file(unknown)
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [RAR[0], {"prompt_id": "a", "rubric": RAR[0]["rubric"]}])
    with pytest.raises(DataError, match="line 2: expected a rar record like the first"):
        read_rubric_file(mixed)
    bad = write_jsonl(tmp_path / "bad.jsonl", [RAR[0], rar_record("Q?", ["Essential"]) | {"rubric": [
        {"title": "t", "description": "Critical Criteria: x", "weight": 5}]}])
    with pytest.raises(DataError, match=r"line 2, field 'rubric\[0\].description'"):
        read_rubric_file(bad)
    gen = write_jsonl(tmp_path / "gen.jsonl", [{"prompt_id": "a", "rubric": [{"foo": 1}]}])
    with pytest.raises(DataError, match="line 1, field 'rubric'"):
        read_rubric_file(gen)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="no records"):
        read_rubric_file(empty)
    with pytest.raises(FileNotFoundError):
        read_rubric_file(tmp_path / "missing.jsonl")
