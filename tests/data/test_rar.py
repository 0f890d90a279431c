import os
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rareval.data.cache import DataError, DataUnavailable
from rareval.data.rar import dedupe_against_train, load_rar, normalize_question, parse_rar_row
from rareval.rubric import Category

from .conftest import closed_port, write_jsonl


def rar_row(question="What causes iron-deficiency anaemia in adults?", reference="Blood loss, most often GI.",
            prefixes=("Essential", "Important", "Optional", "Pitfall"), source="medical-o1-reasoning-SFT") -> dict:
    weights = {"Pitfall": -1, "Essential": 5, "Important": 3, "Optional": 1}
    rubric = [{"title": f"Item {j}", "description": f"{p} Criteria: Mentions point {j}.",
               "weight": next((w for k, w in weights.items() if p.lower().startswith(k[:5].lower())), 2)}
              for j, p in enumerate(prefixes)]
    return {"question": question, "reference_answer": reference, "question_source": source, "rubric": rubric,
            "rubric_list": [r["description"] for r in rubric], "rubric_count": len(rubric)}


def test_parse_maps_categories_including_malformed_prefixes():
    row = parse_rar_row(rar_row(prefixes=("Esssential", "Importance", "Option", "Pitfall")), 1, domain="science")
    assert [c.category for c in row.rubric] == [Category.ESSENTIAL, Category.IMPORTANT, Category.OPTIONAL,
                                                 Category.PITFALL]
    assert row.rubric[0].text == "Mentions point 0." and row.rubric[3].weight == -1
    assert row.domain == "science" and row.reference_missing is False


def test_unknown_prefix_names_the_row_and_field(tmp_path):
    f = write_jsonl(tmp_path / "test.jsonl", [rar_row(), rar_row(prefixes=("Essential", "Critical"))])
    with pytest.raises(DataError) as e:
        load_rar("medicine", "test", path=f)
    assert (e.value.line, e.value.field) == (2, "rubric[1].description")
    assert str(e.value).startswith(f"file {f}, line 2, field 'rubric[1].description': description must start")


@pytest.mark.parametrize("record,field", [
    ({"question": ""}, "question"),
    ({"question": None}, "question"),
    ({"rubric": []}, "rubric"),
    ({"rubric": "Essential Criteria: x"}, "rubric"),
    ({"reference_answer": 3}, "reference_answer"),
])
def test_invalid_rows(record, field):
    with pytest.raises(DataError, match=f"row 7, field '{field}'"):
        parse_rar_row({**rar_row(), **record}, 7)


def test_missing_references_are_flagged():
    assert parse_rar_row(rar_row(reference=""), 1).reference_missing
    assert parse_rar_row(rar_row(reference=None), 1).reference_missing
    assert parse_rar_row({k: v for k, v in rar_row().items() if k != "reference_answer"}, 1).reference_missing


def test_local_parquet_jsonl_and_snapshot_directory(tmp_path):
    rows = [rar_row(question=f"Q{i}?") for i in range(3)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "one.parquet")
    assert [r.question for r in load_rar("science", "train", path=tmp_path / "one.parquet")] == ["Q0?", "Q1?", "Q2?"]
    snapshot = tmp_path / "RaR-Science" / "data"
    snapshot.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows[:2]), snapshot / "test-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(rows[2:]), snapshot / "test-00001-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(rows[:1]), snapshot / "train-00000-of-00001.parquet")
    loaded = load_rar("science", "test", path=tmp_path / "RaR-Science")
    assert [r.question for r in loaded] == ["Q0?", "Q1?", "Q2?"] and all(r.domain == "science" for r in loaded)
    with pytest.raises(DataUnavailable, match="nothing to read"):
        load_rar("science", "val", path=tmp_path / "RaR-Science")


def test_parquet_errors_name_the_row(tmp_path):
    pq.write_table(pa.Table.from_pylist([rar_row(), rar_row(question="")]), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=r"t\.parquet, row 2, field 'question': empty"):
        load_rar(path=tmp_path / "t.parquet")


def test_cache_directory_is_read_before_the_hub(tmp_path):
    cache = tmp_path / "data-cache" / "rar-medicine"
    cache.mkdir(parents=True)
    write_jsonl(cache / "val.jsonl", [rar_row(question="cached?")])
    assert [r.question for r in load_rar("medicine", "val")] == ["cached?"]


def test_skip_bad_rows(tmp_path):
    f = write_jsonl(tmp_path / "t.jsonl", [rar_row(), "{not json", rar_row(prefixes=("Bogus",)), rar_row()])
    with pytest.warns(UserWarning, match=r"skipped 2 bad row"):
        rows = load_rar(path=f, skip_bad_rows=True)
    assert len(rows) == 2 and [s.line for s in rows.skipped] == [2, 3]


def test_dedupe_test_against_train():
    train = [parse_rar_row(rar_row(question=q), i) for i, q in enumerate(["What is ATP?", "Define  entropy."])]
    test = [parse_rar_row(rar_row(question=q), i) for i, q in
            enumerate(["what is atp?", "Define entropy.", "What is a gene?"])]
    kept, removed = dedupe_against_train(test, train)
    assert [r.question for r in kept] == ["What is a gene?"] and removed == 2
    assert normalize_question("  A\n b ") == "a b"


def test_hub_unreachable_fails_fast_naming_the_path_option(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    t0 = time.monotonic()
    with pytest.raises(DataUnavailable) as e:
        load_rar("science", "test")
    assert time.monotonic() - t0 < 3
    msg = str(e.value)
    assert "ScaleAI/RaR-Science split 'test'" in msg and "path=" in msg
    assert str(tmp_path / "data-cache" / "rar-science") in msg


def test_hf_hub_offline_reads_only_the_datasets_cache(tmp_path):
    """With HF_HUB_OFFLINE=1 from the start (as a user would export it) and an empty cache: a clear error."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "RAREVAL_DATA_DIR": str(tmp_path / "data-cache")}
    code = ("from rareval.data import load_rar, DataUnavailable\n"
            "try:\n    load_rar('medicine', 'test')\n"
            "except DataUnavailable as e:\n    print('UNAVAILABLE', e)\n")
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("UNAVAILABLE ScaleAI/RaR-Medicine split 'test' is not available"), out.stderr
    assert "Traceback" not in out.stderr and time.monotonic() - t0 < 60
