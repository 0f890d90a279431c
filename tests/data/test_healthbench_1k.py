import uuid

import pytest

from rareval.data.healthbench import load_healthbench
from rareval.data.healthbench_1k import IDS_PATH, in_healthbench_1k, read_1k_ids, split_1k, write_1k_ids


def synthetic_ids(n=5000) -> list[str]:
    """Stable UUID-shaped ids, like HealthBench's prompt_id."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"healthbench/{i}")) for i in range(n)]


def test_membership_is_pinned():
    # Changing the salt or the rule changes these: that would silently move prompts between splits.
    ids = synthetic_ids(12)
    assert [k for k, i in enumerate(ids) if in_healthbench_1k(i)] == [0, 4, 5, 10]
    assert in_healthbench_1k("a92eefc7-4782-4ff9-b162-09a0373d1523") is False


def test_split_of_5000_gives_about_1000_and_partitions():
    ids = synthetic_ids()
    test, train = split_1k(ids)
    assert abs(len(test) - 1000) < 100  # binomial(5000, 0.2): s.d. 28
    assert len(test) == 983
    assert set(test).isdisjoint(train) and len(test) + len(train) == 5000
    assert test == [i for i in ids if i in set(test)]  # input order kept
    assert split_1k(reversed(ids))[0] == test[::-1]  # membership does not depend on order or company


def test_split_accepts_rows_dicts_and_ids():
    rows = load_healthbench("sample")
    test, train = split_1k(rows)
    as_dicts = split_1k([{"prompt_id": r.prompt_id} for r in rows])
    assert [r.prompt_id for r in test] == [d["prompt_id"] for d in as_dicts[0]]
    assert [r.prompt_id for r in train] == [d["prompt_id"] for d in as_dicts[1]]


def test_write_and_read_id_list(tmp_path):
    ids = synthetic_ids(300)
    dest = tmp_path / "ids.txt"
    written = write_1k_ids(ids, dest, source="synthetic")
    assert written == sorted(i for i in ids if in_healthbench_1k(i))
    text = dest.read_text()
    assert text.startswith("# HealthBench-1k test split: sha256('rareval/healthbench-1k/v1:' + prompt_id)")
    assert f"# {len(written)} ids from synthetic" in text
    assert read_1k_ids(dest) == written


def test_shipped_id_list_follows_the_rule():
    if not IDS_PATH.exists():
        pytest.skip("healthbench_1k_ids.txt is written from the official full file, not available here")
    ids = read_1k_ids()
    assert all(in_healthbench_1k(i) for i in ids) and 900 < len(ids) < 1100
