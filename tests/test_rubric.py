import json

import pytest

from rareval.rubric import Category, Rubric, RubricError


def test_from_healthbench_categories_and_tags():
    r = Rubric.from_healthbench([
        {"criterion": "a", "points": 10, "tags": ["axis:accuracy", "level:example"]},
        {"criterion": "b", "points": 5, "tags": []}, {"criterion": "c", "points": 2, "tags": []},
        {"criterion": "d", "points": -6, "tags": ["cluster:x"]}])
    assert [c.category for c in r] == [Category.ESSENTIAL, Category.IMPORTANT, Category.OPTIONAL, Category.PITFALL]
    assert r[0].tag_values("axis") == ["accuracy"] and r[3].tags == ("cluster:x",)
    assert len({c.id for c in r}) == 4


def test_from_rar_maps_known_misspellings_and_rejects_others():
    r = Rubric.from_rar([{"title": "t", "description": p + " Criteria: x", "weight": w}
                         for p, w in [("Esssential", 5), ("Importance", 3), ("Option", 1), ("Pitfall", -1)]])
    assert [c.category.value for c in r] == ["essential", "important", "optional", "pitfall"]
    assert r[0].text == "x" and r[3].weight == -1
    with pytest.raises(RubricError, match=r"file f.jsonl, row 7, field 'rubric\[1\].description'"):
        Rubric.from_rar([{"title": "t", "description": "Essential Criteria: x", "weight": 5},
                         {"title": "t", "description": "Crucial Criteria: y", "weight": 5}], file="f.jsonl", row=7)


@pytest.mark.parametrize("items, field", [
    ([{"points": 1, "tags": []}], "rubrics[0].criterion"),
    ([{"criterion": "x", "points": "3", "tags": []}], "rubrics[0].points"),
    ([{"criterion": "x", "points": True, "tags": []}], "rubrics[0].points"),
    ([{"criterion": "x", "points": 1, "tags": "axis:a"}], "rubrics[0].tags"),
    ([], "rubrics")])
def test_healthbench_errors_name_row_and_field(items, field):
    with pytest.raises(RubricError) as e:
        Rubric.from_healthbench(items, file="hb.jsonl", row=3)
    assert e.value.field == field and e.value.row == 3 and "hb.jsonl" in str(e.value)


def test_json_round_trip_and_errors(tmp_path):
    r = Rubric.from_healthbench([{"criterion": "a\u2028b", "points": 3, "tags": []}])
    r.save(tmp_path / "r.json")
    assert Rubric.load(tmp_path / "r.json") == r
    (tmp_path / "rs.jsonl").write_text(r.model_dump_json() + "\n" + json.dumps({"criteria": []}) + "\n")
    with pytest.raises(RubricError, match="row 2"):
        Rubric.load_jsonl(tmp_path / "rs.jsonl")
    assert Rubric.coerce([{"criterion": "a", "points": 1, "tags": []}])[0].text == "a"
