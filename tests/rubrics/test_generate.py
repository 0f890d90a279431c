"""Rubric synthesis and degraded answers: parsing, repair, and the call through Inspect."""

import asyncio
import json

import pytest

from rareval.rubrics.generate import GenerationError, degrade, generate_rubric, parse_degraded, parse_rubric_items
from rareval.rubric import Category

ITEMS = [
    {"title": "Urgent care", "description": "Essential Criteria: Advises urgent care for chest pain.", "weight": 5},
    {"title": "Dose", "description": "Important Criteria: States the adult dose.", "weight": "3", "extra": 1},
    {"title": "No prefix", "description": "Mentions hydration.", "weight": 2},
    "not an object",
    {"title": "Pitfall", "description": "Pitfall Criteria: Recommends antibiotics for a virus.", "weight": 2},
]


def test_parse_rubric_items_repairs_and_names_what_it_dropped():
    rubric, dropped = parse_rubric_items("Here it is:\n```json\n" + json.dumps(ITEMS) + "\n```")
    assert [c.category for c in rubric] == [Category.ESSENTIAL, Category.IMPORTANT, Category.PITFALL]
    assert rubric[1].weight == 3 and rubric[2].weight == -2  # a positive pitfall weight is negated
    assert len(dropped) == 2 and dropped[0].startswith("item 2:") and dropped[1].startswith("item 3:")


def test_parse_rubric_items_rejects_unusable_output():
    with pytest.raises(GenerationError, match="no JSON array"):
        parse_rubric_items("I cannot write a rubric.")
    with pytest.raises(GenerationError, match="no usable positive"):
        parse_rubric_items(json.dumps([ITEMS[4]]))


def test_parse_degraded_fields():
    fields = parse_degraded("[reasoning] removed the warning\n[perturbed_completion] Rest.\n"
                            "[chunks_added] none\n[chunks_removed] See a doctor.")
    assert fields["perturbed_completion"] == "Rest." and fields["chunks_removed"] == "See a doctor."
    with pytest.raises(GenerationError):
        parse_degraded("[reasoning] nothing else")


def test_generate_and_degrade_through_inspect_models():
    from inspect_ai.model import get_model

    rubric_model = get_model("scripted/policy", reply=json.dumps(ITEMS))
    got = asyncio.run(generate_rubric(rubric_model, "user: chest pain?", "Go to urgent care."))
    assert len(got.rubric) == 3 and got.prompt_version.startswith("rubric_generate@") and got.usage.calls == 1
    noref = asyncio.run(generate_rubric(rubric_model, "user: chest pain?"))
    assert noref.prompt_version.startswith("rubric_generate_noref@")
    writer = get_model("scripted/policy", reply="[reasoning] vaguer\n[perturbed_completion] Maybe rest.\n"
                                                "[chunks_added] none\n[chunks_removed] urgent care")
    worse = asyncio.run(degrade(writer, "user: chest pain?", "Go to urgent care now."))
    assert worse.text == "Maybe rest." and worse.model == "scripted/policy"
    with pytest.raises(GenerationError):  # the rewrite must differ from the ideal answer
        asyncio.run(degrade(writer, "user: chest pain?", "Maybe rest."))
    # a rewrite cut off at max_tokens is rejected, asked again, and never accepted
    cut = get_model("scripted/policy", reply=writer.api.reply + " and more words " * 20, cut_at_max_tokens=True)
    with pytest.raises(GenerationError, match="cut off at max_tokens=12"):
        asyncio.run(degrade(cut, "user: chest pain?", "Go to urgent care now.", max_tokens=12))
    assert cut.api.calls == 2  # the first asking and one retry
    assert asyncio.run(degrade(cut, "user: chest pain?", "Go to urgent care now.", max_tokens=400)).text
    with pytest.raises(GenerationError):
        asyncio.run(generate_rubric(get_model("scripted/malformed"), "user: hi"))


IDEAL = "Go to urgent care now: chest pain with sweating needs an ECG today, so do not wait at home."


@pytest.mark.parametrize("rewrite, why", [
    (IDEAL, "equals the ideal"),
    ("[reasoning] vaguer [perturbed_completion] Chest pain with sweating can wait until tomorrow.", "field markers"),
    ("Rest.", "of the ideal's length"),
    (IDEAL * 2, "of the ideal's length"),
    ("I'm sorry, but I can't give medical advice here; please ask a doctor about it.", "refusal"),
    (IDEAL.replace("today,", "today"), "nearly identical"),
])
def test_screen_names_why_a_rewrite_is_not_a_worse_answer(rewrite, why):
    from rareval.rubrics.generate import screen

    assert why in screen(IDEAL, rewrite)


def test_screen_keeps_a_plausible_worse_rewrite():
    from rareval.rubrics.generate import screen

    ideal = "Chest pain with sweating can be a heart attack: call emergency services now and do not drive yourself."
    assert screen(ideal, "Chest pain has many causes; rest for a while and see whether it passes.") is None
    assert screen("I'm sorry to hear that. Rest and drink water.", "I'm sorry to hear that. Just rest.") is None
