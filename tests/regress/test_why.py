"""What changed: categories, tags, criteria and items, with pitfalls read the right way round."""

import pytest

from rareval.regress.items import CriterionOutcome, ItemDetail, MetricItems
from rareval.regress.why import diagnose


def criterion(text, category, met, tags=("axis:accuracy",)):
    return CriterionOutcome(id=text, text=text, category=category, tags=list(tags), met=met)


def side(verdicts_by_item, scores, tags_by_item):
    details = {item: ItemDetail(criteria=[criterion(t, c, m) for t, c, m in verdicts],
                                tags=tags_by_item[item]) for item, verdicts in verdicts_by_item.items()}
    return MetricItems(name="hb", kind="graded", scores=scores, details=details)


def test_categories_tags_and_flipped_criteria():
    base = side({"a": [("Says X", "essential", True), ("Claims Y", "pitfall", False)],
                 "b": [("Says X", "essential", True), ("Claims Y", "pitfall", False)],
                 "c": [("Says X", "essential", False), ("Claims Y", "pitfall", None)]},
                {"a": 1.0, "b": 1.0, "c": 0.0},
                {"a": {"axis:accuracy": 1.0}, "b": {"axis:accuracy": 1.0}, "c": {"axis:accuracy": 0.0}})
    cand = side({"a": [("Says X", "essential", False), ("Claims Y", "pitfall", True)],
                 "b": [("Says X", "essential", True), ("Claims Y", "pitfall", True)],
                 "c": [("Says X", "essential", True), ("Claims Y", "pitfall", True)]},
                {"a": 0.0, "b": 0.5, "c": 1.0},
                {"a": {"axis:accuracy": 0.0}, "b": {"axis:accuracy": 0.5}, "c": {"axis:accuracy": 1.0}})
    d = diagnose(cand, base, ["a", "b", "c"])
    essential, pitfall = d.categories
    assert (essential.category, essential.judgements) == ("essential", 3)
    assert (essential.newly_met, essential.newly_unmet) == (1, 1)
    # the abstained pitfall verdict on c is left out; the mistake is newly made on a and b
    assert (pitfall.judgements, pitfall.baseline_met, pitfall.candidate_met) == (2, 0.0, 1.0)
    assert pitfall.lower_is_better and not essential.lower_is_better
    first = d.criterion_flips[0]
    assert first.text == "Claims Y" and first.worse and first.items == ["a", "b"]  # worse first, most items first
    assert [(f.text, f.worse, f.items) for f in d.criterion_flips[1:]] == [("Says X", True, ["a"]),
                                                                          ("Says X", False, ["c"])]
    assert d.criterion_flips_total == 4
    (tag,) = d.tags
    assert tag.tag == "axis:accuracy" and tag.items == 3 and tag.difference == pytest.approx(-0.5 / 3)
    assert [c.item for c in d.worse_items] == ["a", "b"] and [c.item for c in d.better_items] == ["c"]
    assert (d.worse_total, d.better_total) == (2, 1)


def test_binary_items_without_details():
    cand = MetricItems(name="ll", kind="binary", scores={"q1": 1, "q2": 0, "q3": 1})
    base = MetricItems(name="ll", kind="binary", scores={"q1": 0, "q2": 1, "q3": 1})
    d = diagnose(cand, base, ["q1", "q2", "q3"])
    assert d.categories == [] and d.tags == [] and d.criterion_flips == []
    assert [c.item for c in d.worse_items] == ["q2"] and [c.item for c in d.better_items] == ["q1"]
