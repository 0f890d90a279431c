import pytest

from rareval.data.cache import DataError, DataUnavailable
from rareval.data.healthbench_meta import load_healthbench_meta_eval

from .conftest import write_jsonl


def meta_record(**overrides) -> dict:
    rec = {
        "prompt": [{"role": "user", "content": "I have a mild headache, what should I do?"}],
        "completion": "Rest, drink water, and see a doctor if it gets worse.",
        "rubric": "Advises seeking care if the headache worsens or red flags appear.",
        "category": "cluster:hedging_accuracy_hedges",
        "binary_labels": [True, True, False],
        "anonymized_physician_ids": ["p1", "p2", "p3"],
        "prompt_id": "pid-1",
        "completion_id": "cid-1",
    }
    rec.update(overrides)
    return rec


def test_meta_eval_rows_and_majority_label(tmp_path):
    f = write_jsonl(tmp_path / "meta.jsonl", [meta_record(), meta_record(binary_labels=[True, False],
                                                                         anonymized_physician_ids=["a", "b"])])
    rows = load_healthbench_meta_eval(f)
    assert len(rows) == 2
    assert rows[0].criterion.startswith("Advises") and rows[0].physician_ids == ("p1", "p2", "p3")
    assert rows[0].majority_label is True
    assert rows[1].majority_label is False  # a tie is not a strict majority


@pytest.mark.parametrize("overrides,field", [
    ({"binary_labels": []}, "binary_labels"),
    ({"binary_labels": [True, "yes", False]}, "binary_labels[1]"),
    ({"anonymized_physician_ids": ["p1"]}, "anonymized_physician_ids"),
    ({"rubric": "  "}, "rubric"),
    ({"completion": None}, "completion"),
    ({"prompt": []}, "prompt"),
])
def test_meta_eval_errors_name_line_and_field(tmp_path, overrides, field):
    f = write_jsonl(tmp_path / "meta.jsonl", [meta_record(), meta_record(**overrides)])
    with pytest.raises(DataError) as e:
        load_healthbench_meta_eval(f)
    assert (e.value.line, e.value.field) == (2, field)
    with pytest.warns(UserWarning, match="skipped 1 bad row"):
        assert len(load_healthbench_meta_eval(f, skip_bad_rows=True)) == 1


def test_meta_eval_absent_offline(monkeypatch):
    monkeypatch.setenv("RAREVAL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="oss_meta_eval.jsonl"):
        load_healthbench_meta_eval()
