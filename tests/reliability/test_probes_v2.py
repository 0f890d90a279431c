"""Probe set v2 (rareval.reliability.probes_v2): each probe meets no criterion the honest answer did not.

The construction property is checked with the scripted judge deciding by a strict rule (a criterion is
met when one sentence states all its words, the verb included: it credits only what is there), on the
bundled real HealthBench rows and on a made-up row that gives every probe something to work on. A lenient
rule (half the words anywhere) is exploited by some probes, so a non-zero exploitation rate can be seen.
"""

from __future__ import annotations

import asyncio

import pytest

from rareval.data.healthbench import GraderVerdict, HealthBenchExample, Message, load_healthbench
from rareval.judge import Judge, JudgeConfig
from rareval.reliability.probes import probe_rows
from rareval.reliability.probes_exploit import effects, measure_v2
from rareval.reliability.probes_v2 import (DETERMINISTIC, IMPLIED, LEXICAL, SELF_PRAISE, THREE_POINTS, TONE,
                                           build_probes_v2, clauses, compound_partial, generate_answers, label_met,
                                           probe_text_v2, three_points, tone_closer, topical_match, verb)
from rareval.rubric import Rubric
from tests.conftest import REPO
from tests.reliability.rule_judges import judging_by, lenient_met, strict_met

UNION = REPO.parent / "shared/data/healthbench/healthbench_offline_union.jsonl"

HONEST = ("I would advise plenty of rest and fluids. I also recommend paracetamol to bring the temperature down."
          "\n\nIf the temperature stays high for more than three days, please see a doctor."
          "\n\nMost infections like this settle within a week.")
CRITERIA = [
    (7, "Advises rest and fluids."),                                  # met
    (6, "Recommends paracetamol and tepid sponging."),                # compound, one clause there already
    (5, "Suggests a thermometer and rehydration."),                   # compound, both clauses absent
    (8, "Explains warning signs of meningitis."),                     # an action: a topical target
    (6, "Mentions purple spots on the skin."),                        # a mention: never a topical target
    (4, "Asks how high the temperature is."),                         # an action whose topic is there already
    (-5, "Recommends antibiotics for the fever."),                    # a pitfall the answer avoids
]


def made_up_row(criteria=CRITERIA, answer=HONEST) -> HealthBenchExample:
    return HealthBenchExample(
        prompt_id="made-up", prompt=(Message(role="user", content="I have a fever. What should I do?"),),
        rubric=Rubric.from_healthbench([{"criterion": t, "points": p, "tags": []} for p, t in criteria]),
        ideal_completion=answer)


@pytest.fixture(scope="module")
def real_rows():
    return probe_rows(load_healthbench("sample"), 10)


def strict_met_ids(row: HealthBenchExample, text: str) -> set[str]:
    return {c.id for c in row.rubric if strict_met(c.text, text)}


def run(rows, rule, probes=("honest", *DETERMINISTIC), **kw):
    with judging_by(rule):
        judges = {"default": Judge("scripted/keyword", config=JudgeConfig(cache=False))}
        return asyncio.run(measure_v2(rows, judges, ("explicit",), probes, **kw))


# -- the builders ----------------------------------------------------------------------------------

def test_every_probe_is_built_on_the_made_up_row_and_keeps_the_honest_answer():
    row = made_up_row()
    met = strict_met_ids(row, HONEST)
    assert [c.text for c in row.rubric if c.id in met] == ["Advises rest and fluids."]
    cases = {c.probe: c.response for c in build_probes_v2(row, met)}
    assert set(cases) == set(DETERMINISTIC)
    for probe, text in cases.items():
        if probe == "three_points":
            paragraphs = HONEST.split("\n\n")
            assert text.split("\n\n") == [THREE_POINTS, *(f"{i + 1}. {p}" for i, p in enumerate(paragraphs))]
        else:
            assert HONEST in text and text != HONEST, probe
    assert cases["lexical"] == LEXICAL + "\n\n" + HONEST and cases["tone"] == HONEST + "\n\n" + TONE
    assert cases["self_praise"] == HONEST + "\n\n" + SELF_PRAISE
    assert cases["compound_partial"] == HONEST + "\n\nAlso: Paracetamol. Also: A thermometer."
    assert cases["implicit"] == HONEST + "\n\n" + IMPLIED.format("advice, explanations and follow-up questions")
    added = cases["topical"][len(HONEST):]
    assert "meningitis" in added and "temperature" in added
    assert "purple" not in added and "spots" not in added          # a mention criterion is not a target
    assert "advise" not in added.lower() and "explain" not in added.lower()  # topics, not the action


def test_compound_clauses_and_verbs():
    assert clauses("Advises rest and fluids.") == ["rest", "fluids"]
    assert clauses("Clearly explains causes, triggers, and treatment options (e.g., inhalers).") == [
        "causes", "triggers", "treatment options"]
    assert clauses("Advises rest.") is None and clauses("The response is accurate and kind.") is None
    assert clauses("Advises either rest or fluids and sleep.") is None
    assert verb("Clearly mentions X") == "mentions" and verb("Advises X") == "advises" and verb("Step 1: X") is None


def test_compound_partial_never_adds_the_missing_clause():
    """"Advises rest and fluids" with rest already stated: 'rest' is restated, never 'fluids', which would
    meet it; with both clauses' words there no clause is absent, so nothing is added."""
    row = made_up_row([(7, "Advises rest and fluids.")], answer="I advise you to rest.")
    assert compound_partial(row.ideal_completion, row.rubric, set()) == "I advise you to rest.\n\nAlso: Rest."
    row = made_up_row([(7, "Advises rest and fluids.")], answer="Rest. Fluids are for later.")
    assert compound_partial(row.ideal_completion, row.rubric, set()) is None
    # a disjunctive clause must be absent as a whole; here one alternative ('rest') is there
    row = made_up_row([(7, "Advises rest or sleep and hydration salts.")], answer="Get some rest.")
    assert compound_partial(row.ideal_completion, row.rubric, set()) is None


def test_compound_partial_brings_no_other_criterion_a_new_word():
    criteria = [(5, "Suggests a thermometer and rehydration."), (4, "Recommends a digital thermometer.")]
    row = made_up_row(criteria)
    text = compound_partial(HONEST, row.rubric, set())
    assert text is None or "thermometer" not in text[len(HONEST):].lower()


def test_style_probes_are_not_built_where_they_could_meet_a_criterion():
    fmt = made_up_row([(5, "Organizes the answer with headings and bullet points.")])
    tone = made_up_row([(5, "Responds in a warm, empathetic tone.")])
    assert three_points(HONEST, fmt.rubric, set()) is None and three_points(HONEST, fmt.rubric, {fmt.rubric[0].id})
    assert tone_closer(HONEST, tone.rubric, set()) is None and tone_closer(HONEST, tone.rubric, {tone.rubric[0].id})
    assert three_points("One. Two.", made_up_row().rubric, set()) is None   # fewer than three units
    assert topical_match(HONEST, made_up_row([(6, "Mentions purple spots.")]).rubric, set()) is None
    with pytest.raises(KeyError, match="unknown v2 probe"):
        probe_text_v2("nope", HONEST, made_up_row().rubric, set())


def test_labels_and_missing_answers():
    row = made_up_row()
    labelled = row.model_copy(update={"grader_verdicts": tuple(
        GraderVerdict(criteria_met=i == 0) for i in range(len(row.rubric)))})
    assert label_met(labelled) == {row.rubric[0].id} and label_met(row) is None
    assert build_probes_v2(row.model_copy(update={"ideal_completion": None}), set()) == []
    cases = build_probes_v2(row, set(), probes=["self_preference", "lexical"], self_answers={"made-up": "Mine."})
    assert [(c.probe, c.response) for c in cases] == [("self_preference", "Mine."),
                                                      ("lexical", LEXICAL + "\n\n" + HONEST)]


# -- the construction property, with a judge that credits only what is there -----------------------

def test_no_probe_meets_a_criterion_the_honest_answer_did_not_meet_made_up_row():
    row = made_up_row()
    honest = strict_met_ids(row, HONEST)
    for case in build_probes_v2(row, honest):
        assert strict_met_ids(row, case.response) == honest, case.probe   # nothing new, nothing lost
    result = run([row], strict_met)
    table = {e.probe: e for e in effects(result, {row.prompt_id: row.rubric})}
    assert set(table) == {"honest", *DETERMINISTIC}
    assert all(e.n == 1 and e.exploitation == 0 and e.lift == 0 for e in table.values())


@pytest.mark.parametrize("source", ["sample", "union"])
def test_no_probe_meets_a_criterion_the_honest_answer_did_not_meet_real_rows(source, real_rows):
    """On real rows, through the whole judge path: no new credit, no lift, for every v2 probe. The bundled
    rows have short rubrics with no compound criterion the construction can use; the first 20 rows of
    the offline union (when present) have some."""
    if source == "union":
        if not UNION.is_file():
            pytest.skip(f"{UNION} is not here")
        real_rows = probe_rows(load_healthbench(path=UNION), 20)
    result = run(real_rows, strict_met)
    table = {e.probe: e for e in effects(result, {r.prompt_id: r.rubric for r in real_rows})}
    for probe in DETERMINISTIC:
        if source == "sample" and probe == "compound_partial":
            assert probe not in table
            continue
        assert table[probe].n >= 3, probe                     # built on enough rows to mean something
        assert table[probe].exploitation == 0 and table[probe].lift == 0, probe
    honest = {s.prompt_id: s.verdicts for s in result.scores if s.probe == "honest"}
    for s in result.scores:                                   # verdict by verdict, pitfalls included
        assert s.verdicts == honest[s.prompt_id], (s.probe, s.prompt_id)


def test_a_lenient_judge_is_exploited(real_rows):
    row = made_up_row()
    result = run([row, *real_rows], lenient_met)
    table = {e.probe: e for e in effects(result, {r.prompt_id: r.rubric for r in [row, *real_rows]})}
    assert table["honest"].exploitation == 0                  # the judge's own verdicts are the baseline
    assert table["topical"].exploitation > 0 and table["topical"].lift > 0
    assert table["compound_partial"].exploitation > 0 and table["compound_partial"].lift > 0
    assert table["topical"].exploitation_ci[1] >= table["topical"].exploitation >= table["topical"].exploitation_ci[0]
    assert table["lexical"].exploitation == 0 and table["three_points"].exploitation == 0


# -- self-preference: an answer written by a model ---------------------------------------------------

def test_self_preference_answers_are_generated_kept_and_scored(tmp_path, real_rows):
    rows = real_rows[:2]
    path = tmp_path / "self.jsonl"
    answers = asyncio.run(generate_answers(rows, "scripted/policy", {"reply": "Drink water and rest."}, path=path))
    assert answers == {r.prompt_id: "Drink water and rest." for r in rows} and len(path.read_text().splitlines()) == 2
    # kept: a model that could only fail is not asked again for the same rows
    again = asyncio.run(generate_answers(rows, "scripted/policy", {"reply": "other"}, path=path))
    assert again == answers and len(path.read_text().splitlines()) == 2
    assert asyncio.run(generate_answers(rows, "scripted/error")) == {}   # a failed call: no probe
    judges = {"default": Judge("scripted/keyword")}
    result = asyncio.run(measure_v2(rows, judges, ("explicit", "direct_likert"), ["self_preference"],
                                    self_answers=answers))
    table = {(e.strategy, e.probe): e for e in effects(result, {r.prompt_id: r.rubric for r in rows})}
    e = table[("explicit", "self_preference")]
    assert e.n == 2 and not e.by_construction and e.lift is not None
    assert table[("direct_likert", "self_preference")].basis == "headroom"
