"""Rule-based pairs: the ideal answer with content removed, on real HealthBench rows.

The cut must keep the layout of what it keeps (a judge must not find the rejected answer by its broken
formatting): checked by :mod:`tests.data.layout_check`, which reads lines, markers and sentences its own way,
over every ideal answer of the shipped data, for each rule and for arbitrary cuts.
"""

import random

import pytest

from rareval.data.alignment import load_pairs
from rareval.data.healthbench import load_healthbench
from rareval.data.rule_pairs import (
    cut,
    remove_criteria,
    remove_safety,
    rule_pairs,
    sentences,
    without,
)
from tests.conftest import REPO
from tests.data.layout_check import layout_faults
from tests.data.test_alignment import UNION

RULES = {"removed_criteria": remove_criteria, "removed_safety": remove_safety}
#: The Figure 3 pairs: rebuilt with the layout-keeping rule, and as the committed figure was computed on them.
PAIRS, PAIRS_V1 = REPO / "results/paper/figure3_pairs.jsonl", REPO / "results/paper/figure3_pairs_v1.jsonl"


@pytest.fixture(scope="module")
def rows():
    return load_healthbench(path=UNION)[:200]


@pytest.fixture(scope="module")
def ideal_rows():
    """Every row of the shipped data with a physician's ideal answer."""
    found = [r for r in load_healthbench(path=UNION) if r.ideal_completion]
    assert len(found) == 655
    return found


def faults_of(chosen: str, rejected: str) -> list[str]:
    """Layout faults, and a cut that removes no words."""
    return layout_faults(chosen, rejected) + ([] if len(rejected.split()) < len(chosen.split()) else
                                              ["the cut removes nothing"])


@pytest.mark.parametrize("kind", ["removed_criteria", "removed_safety"])
def test_rejected_is_the_chosen_with_sentences_removed(rows, kind):
    pairs = rule_pairs(rows, UNION, kind)
    assert len(pairs) >= 20 and all(p.kind == kind for p in pairs)
    for p in pairs:
        kept, full = sentences(p.rejected), sentences(p.chosen)
        assert kept and len(kept) < len(full) and set(kept) <= set(full)  # only removed, never added
    assert len({p.pair_id for p in pairs}) == len(pairs) and "rule-based" in pairs[0].provenance.notes


def gone_runs(original: list[str], kept: list[str]) -> list[list[str]]:
    """The runs of consecutive sentences of ``original`` missing from ``kept`` (an ordered subsequence)."""
    runs, rest = [[]], iter(kept)
    at = next(rest, None)
    for s in original:
        if s == at:
            at = next(rest, None)
            runs.append([])
        else:
            runs[-1].append(s)
    return [r for r in runs if r]


def test_safety_advice_is_what_goes(rows):
    """Each run of removed sentences holds safety advice (with it go what its list item or lead-in introduces,
    and a lead-in left with nothing under it)."""
    words = ("doctor", "emergency", "seek", "immediately", "call", "see", "warning", "right away", "red flag",
             "consult", "contact", "visit", "talk", "speak", "go to")
    for row in [r for r in rows if r.ideal_completion and remove_safety(r)][:20]:
        runs = gone_runs(sentences(row.ideal_completion), sentences(remove_safety(row)))
        assert runs and all(any(w in s.lower() for s in run for w in words) for run in runs), runs
    with pytest.raises(ValueError, match="unknown rule-based pair kind"):
        rule_pairs(rows, UNION, "removed_everything")


def test_removal_keeps_the_layout():
    text = "First line.\n\n- item one. Second part!\n- item two\n\nLast words? Done."
    assert sentences(text) == ["First line.", "item one.", "Second part!", "item two", "Last words?", "Done."]
    assert without(text, {1}) == "First line.\n\n- Second part!\n- item two\n\nLast words? Done."  # marker kept
    assert without(text, {5}) == "First line.\n\n- item one. Second part!\n- item two\n\nLast words?"
    assert without(text, {4, 5}) == "First line.\n\n- item one. Second part!\n- item two"
    assert without(text, {0}) == "- item one. Second part!\n- item two\n\nLast words? Done."
    assert without(text, {3}) == "First line.\n\n- item one. Second part!\n\nLast words? Done."


@pytest.mark.parametrize(("text", "removed", "expected"), [
    # a sentence is cut within its line: the next line is not pulled up onto it
    ("Rest today. Drink water\nevery hour.\n\nSee you.", {1}, "Rest today.\nevery hour.\n\nSee you."),
    # a list marker is no sentence: the item goes with its line, and the list is renumbered
    ("Technique:\n\n1. Wet the brush.\n2. Gently move it.\n3. Rinse.\n\nDone.", {1},
     "Technique:\n\n1. Gently move it.\n2. Rinse.\n\nDone."),
    # a lead-in whose list all went goes too, and no blank line is left at the start
    ("Technique:\n\n1. Wet the brush.\n2. Gently move it.\n\nDone.", {1, 2}, "Done."),
    ("Here's why:\n- It helps.\n- It is cheap.\n\nAsk me more.", {1, 2}, "Ask me more."),
    # a lead-in that is the last sentence of its line: the sentences before it stay
    ("It is safe. You need:\n- a towel\n\nThat's all.", {2}, "It is safe.\n\nThat's all."),
    # a list item takes its sub-items with it
    ("1. Call 911\n- shout for help\n- unlock the door\n2. Start CPR", {0}, "1. Start CPR"),
    # two runs of blank lines do not meet where a paragraph went; the text ends as the original did
    ("One.\n\nTwo.\n\nThree.\n", {1}, "One.\n\nThree.\n"),
    ("One.\n\nTwo.\n", {1}, "One.\n"),
    # a heading whose section all went goes; a horizontal rule is not left doubled
    ("Intro.\n\n---\n\n### Warning signs\n- Chest pain.\n\n---\n\n### Diet\nEat well.", {2},
     "Intro.\n\n---\n\n### Diet\nEat well."),
    # a heading that goes takes its section with it (up to the next heading of its level)
    ("### Rest\nSleep well.\n\n### Warning signs\n- Chest pain.\n\n### Diet\nEat well.", {2},
     "### Rest\nSleep well.\n\n### Diet\nEat well."),
    # a Unicode line separator is a line break too
    ("Interactions:\u20281. SSRIs raise bleeding risk.\u20282. NSAIDs too.", {1},
     "Interactions:\u20281. NSAIDs too."),
])
def test_the_cut_keeps_lines_lists_and_lead_ins(text, removed, expected):
    assert without(text, removed) == expected
    assert layout_faults(text, expected) == []


def test_the_layout_check_finds_what_the_old_rule_did_to_the_committed_pairs():
    """The pairs the committed Figure 3 was computed on, cut by the rule before the layout fix: 21 of 100 damaged
    (19 with lines joined or a marker lost, 3 with orphaned list numbers, 2 with a lead-in left over nothing)."""
    pairs = load_pairs(PAIRS_V1)
    found = {p.pair_id: layout_faults(p.chosen, p.rejected) for p in pairs}
    kinds = [f.split(":")[0] for faults in found.values() for f in {x.split(":")[0] for x in faults}]
    assert len(pairs) == 100 and sum(map(bool, found.values())) == 21
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "not a chosen line less whole sentences": 19, "orphan marker": 3, "lead-in with nothing under it": 2,
        "a numbered list out of sequence": 2}
    assert "1. 2. Gently move the brush back and forth in short strokes." in p_rejected(pairs, "40a58786")


def p_rejected(pairs, prefix: str) -> str:
    return next(p.rejected for p in pairs if p.pair_id.startswith(prefix))


@pytest.mark.parametrize("kind", RULES)
def test_every_rule_cut_of_the_shipped_ideal_answers_keeps_the_layout(ideal_rows, kind):
    """All 655 ideal answers: every line of a cut answer is a line of the original or that line less whole
    sentences, in order; markers in order, none bare; no lead-in left over nothing; content removed (or no
    pair, where the rule finds nothing it can remove)."""
    cut_answers = [(r, RULES[kind](r)) for r in ideal_rows]
    faults = {r.prompt_id: f for r, rejected in cut_answers if rejected is not None
              and (f := faults_of(r.ideal_completion, rejected))}
    assert not faults, f"{len(faults)} damaged: {list(faults.items())[:3]}"
    assert sum(rejected is not None for _, rejected in cut_answers) >= {"removed_criteria": 500,
                                                                         "removed_safety": 200}[kind]


def arbitrary_cuts(rows, seed: int, per_answer: int):
    """Each answer's single-sentence cuts (every third sentence) and seeded random sets of its sentences."""
    for row in rows:
        text, rng = row.ideal_completion, random.Random(f"{seed}:{row.prompt_id}")
        n = len(sentences(text))
        picks = [{i} for i in range(0, n, 3)] + [{i for i in range(n) if rng.random() < 0.3}
                                                 for _ in range(per_answer)]
        for removed in picks:
            if (rejected := cut(text, removed)) is not None:
                yield row.prompt_id, text, rejected


def test_arbitrary_cuts_keep_the_layout(ideal_rows):
    sample = random.Random(0).sample(ideal_rows, 80)
    faults = {pid: f for pid, text, rejected in arbitrary_cuts(sample, 0, 2) if (f := faults_of(text, rejected))}
    assert not faults, f"{len(faults)} damaged: {list(faults.items())[:3]}"


@pytest.mark.slow
def test_arbitrary_cuts_of_every_shipped_answer_keep_the_layout(ideal_rows):
    faults = {pid: f for pid, text, rejected in arbitrary_cuts(ideal_rows, 1, 3) if (f := faults_of(text, rejected))}
    assert not faults, f"{len(faults)} damaged: {list(faults.items())[:3]}"


def test_the_committed_pairs_are_the_fixed_rule_with_their_rubrics(ideal_rows):
    """results/paper/figure3_pairs.jsonl: the conversations, ids and order of the pairs the figure was computed
    on, each rejected answer the fixed rule's cut, no layout fault, the generated rubrics kept (they read the
    conversation and the chosen answer only). The one conversation the fixed rule no longer cuts (its only
    content was the removed sentence) is left out."""
    pairs, v1 = load_pairs(PAIRS), {p.pair_id: p for p in load_pairs(PAIRS_V1)}
    by_id = {r.prompt_id: r for r in ideal_rows}
    assert [p.pair_id for p in pairs] == [i for i in v1 if i in {p.pair_id for p in pairs}] and len(pairs) == 99
    assert [i for i in v1 if i not in {p.pair_id for p in pairs}] == [
        "e469153c-c7e7-4321-87c4-10aebddf5200:removed_criteria:0"]
    assert RULES["removed_criteria"](by_id["e469153c-c7e7-4321-87c4-10aebddf5200"]) is None
    for p in pairs:
        old = v1[p.pair_id]
        assert p.rejected == RULES[p.kind](by_id[p.prompt_id]) and layout_faults(p.chosen, p.rejected) == []
        assert (p.prompt, p.chosen, p.rubric_ref, p.rubric_noref, p.provenance) == (
            old.prompt, old.chosen, old.rubric_ref, old.rubric_noref, old.provenance)
