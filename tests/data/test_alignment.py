"""Preference pairs: reference pairs from real rows, selection, save/load (building them with a generator:
tests/rubrics/test_pairs.py)."""

import pytest

from rareval.data.alignment import load_pairs, reference_pairs
from rareval.data.cache import DataError
from rareval.data.healthbench import load_healthbench
from tests.conftest import SHARED

UNION = SHARED / "data/healthbench/healthbench_offline_union.jsonl"


@pytest.fixture(scope="module")
def rows():
    return load_healthbench(path=UNION)[:120]


def test_reference_pairs_from_real_rows(rows):
    pairs = reference_pairs(rows, UNION, per_prompt=4)
    assert pairs and all(p.kind == "reference" and p.chosen != p.rejected for p in pairs)
    by_id = {r.prompt_id: r for r in rows}
    for p in pairs[:20]:
        assert p.chosen == by_id[p.prompt_id].ideal_completion
        assert p.rejected in by_id[p.prompt_id].ref_completions
    assert len({p.pair_id for p in pairs}) == len(pairs)
    assert pairs[0].provenance.source_sha256 and "implicit" in pairs[0].provenance.notes
    assert len(reference_pairs(rows, UNION, per_prompt=1)) <= len({p.prompt_id for p in pairs})


def test_bad_pairs_file_names_line_and_field(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"pair_id": "x"}\n')
    with pytest.raises(DataError, match=r"pairs.jsonl.*line 1.*field"):
        load_pairs(path)


def test_reference_pairs_come_from_group_2_rows_only(rows):
    groups = {r.prompt_id: r.ideal_completions_group for r in rows}
    assert {"Group 2", "Group 3"} <= set(groups.values())  # the rows hold both
    pairs = reference_pairs(rows, UNION, per_prompt=4)
    assert pairs and {groups[p.prompt_id] for p in pairs} == {"Group 2"}


def test_selection_is_a_seeded_sample_by_theme_of_answerable_conversations(rows):
    from rareval.data.alignment import answerable, pair_chars, select_pairs

    by_id = {r.prompt_id: r for r in rows}
    pairs = reference_pairs(rows, UNION, per_prompt=1)
    picked = select_pairs(pairs, by_id, 8, seed=0, max_chars=6000)
    assert len(picked) == 8 and picked == select_pairs(pairs, by_id, 8, seed=0, max_chars=6000)
    assert picked != select_pairs(pairs, by_id, 8, seed=1, max_chars=6000)
    assert all(answerable(by_id[p.prompt_id]) and pair_chars(p) <= 6000 for p in picked)
    themes = [by_id[p.prompt_id].theme for p in picked]
    assert len(set(themes)) >= 4  # the themes taken in turn, not the shortest prompts of one kind
    shortest = sorted(pairs, key=pair_chars)[:8]
    assert picked != shortest
    from rareval.data.healthbench import HealthBenchExample
    terse = HealthBenchExample.model_validate({**rows[0].model_dump(), "prompt": [{"role": "user",
                                                                                   "content": "He is 4"}]})
    assert not answerable(terse)
