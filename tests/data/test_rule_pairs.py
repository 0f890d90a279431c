"""Rule-based pairs: the ideal answer with content removed, on real HealthBench rows."""

import pytest

from rareval.data.healthbench import load_healthbench
from rareval.data.rule_pairs import remove_safety, rule_pairs, sentences, without
from tests.data.test_alignment import UNION


@pytest.fixture(scope="module")
def rows():
    return load_healthbench(path=UNION)[:200]


@pytest.mark.parametrize("kind", ["removed_criteria", "removed_safety"])
def test_rejected_is_the_chosen_with_sentences_removed(rows, kind):
    pairs = rule_pairs(rows, UNION, kind)
    assert len(pairs) >= 20 and all(p.kind == kind for p in pairs)
    for p in pairs:
        kept, full = sentences(p.rejected), sentences(p.chosen)
        assert kept and len(kept) < len(full) and set(kept) <= set(full)  # only removed, never added
    assert len({p.pair_id for p in pairs}) == len(pairs) and "rule-based" in pairs[0].provenance.notes


def test_safety_advice_is_what_goes(rows):
    row = next(r for r in rows if r.ideal_completion and remove_safety(r))
    gone = set(sentences(row.ideal_completion)) - set(sentences(remove_safety(row)))
    assert gone and all(any(w in s.lower() for w in ("doctor", "emergency", "seek", "immediately", "call", "see",
                                                     "warning", "right away", "red flag", "consult", "contact",
                                                     "visit", "talk", "speak", "go to")) for s in gone)
    with pytest.raises(ValueError, match="unknown rule-based pair kind"):
        rule_pairs(rows, UNION, "removed_everything")


def test_removal_keeps_the_layout():
    text = "First line.\n\n- item one. Second part!\n- item two\n\nLast words? Done."
    assert without(text, {1}) == "First line.\n\nSecond part!\n- item two\n\nLast words? Done."
    assert without(text, {5}) == "First line.\n\n- item one. Second part!\n- item two\n\nLast words?"
    assert without(text, {4, 5}) == "First line.\n\n- item one. Second part!\n- item two"
    assert without(text, {0}) == "- item one. Second part!\n- item two\n\nLast words? Done."


def test_rejected_keeps_the_chosen_layout(rows):
    pairs = rule_pairs(rows, UNION, "removed_criteria")
    paragraphs = [p for p in pairs if "\n\n" in p.chosen]
    assert paragraphs and sum("\n\n" in p.rejected for p in paragraphs) >= len(paragraphs) // 2
