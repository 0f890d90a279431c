"""Every artifact renders from a stored results file; the paper-number comparison is right."""

import json
import re

import pytest

from rareval.experiments import ARTIFACTS, ordered
from rareval.experiments.base import compare, load_results, write_results
from rareval.experiments.plan import Plan, Step
from rareval.experiments.render import IMAGE_ONLY, comparison_table, markdown
from tests.conftest import REPO

SPEC_ARTIFACTS = ["figure2", "figure3"] + [f"table{n}" for n in range(1, 12)]
TOPIC_TABLES = ("table6", "table9")  # stand-in taxonomies differ: side by side, no differences


def fixture_results(artifact) -> dict:
    """A small stored results file: ours = paper + 1 on numbers (Figure 3: rows of two judges)."""
    if artifact.key == "figure3":
        right = {"likert": 5, "rubric_ref": 9}  # of 10 pairs, by the expected rating
        rows = [{"judge": j, "condition": c, "accuracy": a, "ci_low": a - 0.1, "ci_high": min(a + 0.1, 1.0),
                 "auc": a, "n_scored": 2, "unscored": 0, "ties": 0.0, "size_b": s, "log": "logs/x.eval",
                 "accuracy_expected": right[c] / 10, "expected_ci_low": 0.0, "expected_ci_high": 1.0,
                 "outcomes": {f"p{i}": {"strict": None, "expected": float(i < right[c])} for i in range(10)}}
                for j, s in [("local/qwen-0.5b", 0.5), ("scripted/keyword", None)]
                for c, a in [("likert", 0.55), ("rubric_ref", 0.75)]]
        return {"artifact": "figure3", "title": artifact.title, "scale": "embedded", "rows": rows,
                "paper_image_only": True,
                "comparison": artifact.comparison(rows, ["local/qwen-0.5b", "scripted/keyword"]),
                "settings": {"judges": ["local/qwen-0.5b", "scripted/keyword"], "run": ["likert", "rubric_ref"],
                             "skipped": {}, "pairs": 2}, "provenance": {"date": "2025-10-03", "seed": 0}}
    if artifact.key in TOPIC_TABLES:  # stand-in topics: a different taxonomy, beside the paper's
        return {"artifact": artifact.key, "title": artifact.title, "scale": "embedded", "taxonomy": "theme",
                "taxonomy_note": "**Taxonomies differ.**", "paper_topics": artifact.paper_topics(),
                "ours_topics": [{"topic": "t1", "count": 2, "percent": 66.7}, {"topic": "t2", "count": 1,
                                                                               "percent": 33.3}],
                "comparison": [], "provenance": {"seed": 0, "date": "2025-10-03"}}
    rows = [compare(item, value, value + 1 if isinstance(value, (int, float)) else value, unit)
            for item, value, unit in artifact.paper_rows()]
    return {"artifact": artifact.key, "title": artifact.title, "scale": "embedded", "comparison": rows,
            "provenance": {"data": [{"path": "x.jsonl", "sha256": "ab" * 32, "rows": 3}], "seed": 0,
                           "commit": "0123456789abcdef", "date": "2025-10-03T00:00:00+00:00"}}


def test_every_artifact_of_the_paper_is_declared_in_order():
    assert [a.key for a in ordered()] == SPEC_ARTIFACTS
    assert all(a.title and a.needs for a in ARTIFACTS.values())


@pytest.mark.parametrize("key", SPEC_ARTIFACTS)
def test_every_artifact_renders_from_a_stored_results_file(key, tmp_path):
    artifact = ARTIFACTS[key]
    stored = write_results(fixture_results(artifact), tmp_path / "results" / f"{key}.json")
    paths = artifact.render(load_results(stored), tmp_path / "figs")
    suffixes = sorted(p.suffix for p in paths)
    assert suffixes == ([".md", ".pdf", ".png"] if artifact.kind == "figure" else [".md"])
    assert all(p.stat().st_size > 100 for p in paths)
    text = (tmp_path / "figs" / f"{key}.md").read_text()
    assert "**Scale: embedded**" in text
    if key in TOPIC_TABLES:
        topic, (n, pct) = next(iter(artifact.paper.items()))
        assert f"| 1 | {topic} | {n:,} | {pct:.1f} | t1 | 2 | 66.7 |" in text and "Taxonomies differ" in text
        return
    assert "| paper | ours | ours − paper |" in text
    if key == "figure3":
        assert IMAGE_ONLY in text
        assert "| local/qwen-0.5b · likert accuracy | no number (image only) | 0.55 | — |" in text
        assert "| finding: rubric_ref > likert at every judge size | yes | yes | same |" in text
    else:
        item, value, _ = artifact.paper_rows()[0]
        assert f"| {item} |" in text and ("| +1 |" in text or "| +1.0 |" in text or "| same |" in text)


@pytest.mark.parametrize("key", SPEC_ARTIFACTS)
def test_the_paper_column_renders_before_ours_exists(key, tmp_path):
    artifact = ARTIFACTS[key]
    text = artifact.render(artifact.paper_only(), tmp_path)[0].read_text()
    assert "**Scale: not run**" in text
    for item, value, _ in artifact.paper_rows()[:3]:
        assert f"| {item} |" in text


def test_compare_gives_paper_ours_and_difference():
    assert compare("Important (%)", 34.1, 31.02) == {"item": "Important (%)", "paper": 34.1, "ours": 31.02,
                                                     "diff": -3.08, "unit": ""}
    assert compare("examples", 20_166, 754)["diff"] == -19_412
    assert compare("scheduler", "constant_with_warmup", "constant_with_warmup")["diff"] == "same"
    assert compare("scheduler", "constant_with_warmup", "constant")["diff"] == "differs"
    assert compare("accuracy", None, 0.6)["diff"] is None and compare("x", 1.0, None)["diff"] is None


def test_markdown_rows_and_image_only_cells():
    lines = comparison_table([compare("Pitfall (%)", 13.1, 30.89), compare("examples", 20_166, 754),
                              compare("acc", None, 0.5)], image_only=True)
    assert lines[2] == "| Pitfall (%) | 13.1 | 30.89 | +17.79 |"
    assert lines[3] == "| examples | 20,166 | 754 | -19,412 |"
    assert lines[4] == f"| acc | {IMAGE_ONLY} | 0.5 | — |"
    page = markdown({"title": "T", "scale": "paper", "comparison": [], "notes": ["n1"]})
    assert "**Scale: paper**" in page and "- n1" in page


def test_paper_numbers_are_spec_section_2():
    a = ARTIFACTS
    assert a["figure2"].paper["RaR-Implicit"] == {"HealthBench overall": 31.2, "GPQA-Diamond mean acc": 37.6}
    assert a["figure2"].paper["RaR-Predefined"] == {"HealthBench overall": 12.5, "GPQA-Diamond mean acc": 31.7}
    assert a["figure3"].paper is None
    assert [v["HealthBench-1k overall"] for v in a["table1"].paper.values()] == [20.4, 23.9, 31.7, 32.0, 35.9, 34.8]
    assert [v["HealthBench-1k overall"] for v in a["table2"].paper.values()] == [34.9, 38.8, 37.2, 37.2]
    assert [v["HealthBench-1k overall"] for v in a["table3"].paper.values()] == [35.9, 34.2, 32.7, 32.4, 32.7,
                                                                                  31.1, 31.9]
    assert a["table4"].paper == {"examples": 20_166, "rubrics per question (mean)": 7.5,
                                 "question length in words (mean)": 45.0}
    assert a["table5"].paper["Important (count)"] == 52_748 and a["table5"].paper["Pitfall (%)"] == 13.1
    assert sum(n for n, _ in a["table6"].paper.values()) == 20_166
    assert a["table7"].paper["question length in words (mean)"] == 52.6
    assert a["table8"].paper["Essential (count)"] == 42_739 and a["table8"].paper["Optional (%)"] == 22.3
    assert sum(n for n, _ in a["table9"].paper.values()) == 20_625
    assert a["table10"].paper["learning_rate"] == 5e-6 and a["table10"].paper["max_length"] == 3584
    assert a["table11"].paper["Qwen-7B-Instruct"] == {"RaR-Implicit": 26.7, "Direct-Likert": 22.0}


def test_plan_totals_and_cost():
    plan = Plan(key="x", scale="paper", runnable=True, steps=[
        Step(kind="eval", what="a", judge_calls=1_000, tokens_per_call=500),
        Step(kind="build", what="b", judge_calls=10, tokens_per_call=100)])
    assert plan.judge_calls == 1_000 and plan.generator_calls == 10 and plan.tokens == 501_000
    assert plan.cost(2.0) == pytest.approx(1.002) and plan.cost(None) is None
    assert "~$1.00 at $2/Mtok" in plan.text(2.0)


def test_results_files_are_json_with_provenance_keys(tmp_path):
    from rareval.experiments.base import provenance

    prov = provenance(models=["m"], judge="j", seed=3, logs=["l.eval"])
    assert {"models", "judge", "data", "seed", "commit", "dirty", "date", "inspect_logs"} <= set(prov)
    path = write_results({"provenance": prov}, tmp_path / "r.json")
    assert json.loads(path.read_text())["provenance"]["seed"] == 3


def test_figure3_finding_is_a_paired_interval_and_a_judge_without_a_reading_is_kept_off():
    """The finding per judge: accuracy(rubric) − accuracy(Likert) on the same pairs, paired bootstrap 95 % CI;
    checked against a hand-computed case; a judge with no readable rating says so and never decides."""
    from rareval.experiments.figure3 import finding_differences
    from rareval.stats import paired_difference

    # hand-computed: differences (0, 1) → bootstrap means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4
    d = paired_difference([0.0, 0.0], [0.0, 1.0], n=4000)
    assert d["mean"] == 0.5 and d["ci95"] == [0.0, 1.0] and (d["better"], d["tied"]) == (1, 1)
    assert paired_difference([0.0] * 5, [1.0] * 5)["ci95"] == [1.0, 1.0]

    artifact = ARTIFACTS["figure3"]
    rows = fixture_results(artifact)["rows"]
    judges = ["local/qwen-0.5b", "scripted/keyword"]
    diffs = finding_differences(rows, judges, "rubric_ref", "likert")
    assert diffs["local/qwen-0.5b"]["mean"] == pytest.approx(0.4) and diffs["local/qwen-0.5b"]["ci95"][0] > 0
    # the smallest detectable difference shrinks as the pairs grow (power 0.8, alpha 0.05); under 10 shared
    # pairs no interval is drawn at all
    many = [{**r, "outcomes": {f"{k}{copy}": v for k, v in r["outcomes"].items() for copy in "ab"}} for r in rows]
    assert 0 < finding_differences(many, judges, "rubric_ref", "likert")["local/qwen-0.5b"]["detectable"] < \
        diffs["local/qwen-0.5b"]["detectable"]
    few = [{**r, "outcomes": dict(list(r["outcomes"].items())[:9])} for r in rows]
    assert finding_differences(few, judges, "rubric_ref", "likert")["local/qwen-0.5b"] == {
        "mean": None, "ci95": None, "n": 9, "read": 9, "why": "too few readings (n=9)"}
    assert {c["item"]: c["ours"] for c in artifact.comparison(few, judges)}[
        "local/qwen-0.5b: accuracy(rubric_ref) − accuracy(likert), tie-free, paired 95 % CI"] == \
        "too few readings (n=9)"
    mute = [{**r, "outcomes": {k: {"strict": None, "expected": None} for k in r["outcomes"]}}
            if r["judge"] == "scripted/keyword" else r for r in rows]
    table = {c["item"]: c["ours"] for c in artifact.comparison(mute, judges)}
    assert table["scripted/keyword: accuracy(rubric_ref) − accuracy(likert), tie-free, paired 95 % CI"] == \
        "no reading"
    # decided by the judge with a reading, and says so
    assert table["finding: rubric_ref > likert at every judge size"] == "yes (on the 1 of 2 judges read)"
    worse = [{**r, "outcomes": {k: {"strict": None, "expected": 0.0} for k in r["outcomes"]}}  # never right
             if r["condition"] == "rubric_ref" else r for r in rows]
    assert {c["item"]: c["ours"] for c in artifact.comparison(worse, judges)}[
        "finding: rubric_ref > likert at every judge size"] == "no"
    stale = [{k: v for k, v in r.items() if k != "outcomes"} for r in rows]  # stored before per-pair outcomes
    assert not any(c["item"].startswith("finding") for c in artifact.comparison(stale, judges))


NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def no_reading_results() -> dict:
    """The fixture's rows with enough readings to be drawn, and a third judge (gemma) that read nothing under
    one condition (NaN accuracies, as the committed Gemma rubric_noref row) and too few pairs under the other."""
    artifact = ARTIFACTS["figure3"]
    results = fixture_results(artifact)
    rows = [{**r, "n_scored": 10, "n_expected": 10, "accuracy_half": r["accuracy"], "half_ci_low": r["ci_low"],
             "half_ci_high": r["ci_high"]} for r in results["rows"]]
    nan = float("nan")
    empty = {k: nan for k in ("accuracy", "ci_low", "ci_high", "auc", "ties", "accuracy_half", "half_ci_low",
                              "half_ci_high", "accuracy_expected", "expected_ci_low", "expected_ci_high")}
    rows += [{"judge": "local/gemma-270m", "condition": "likert", "size_b": 0.27, **empty, "n_scored": 0,
              "n_expected": 0, "unscored": 10, "outcomes": {f"p{i}": {"strict": None, "expected": None}
                                                            for i in range(10)}},
             {**rows[0], "judge": "local/gemma-270m", "size_b": 0.27, "n_scored": 2, "n_expected": 2,
              "condition": "rubric_ref", "outcomes": {f"p{i}": {"strict": 1.0, "expected": float(i < 1)}
                                                      for i in range(2)}}]
    judges = ["local/qwen-0.5b", "scripted/keyword", "local/gemma-270m"]
    return results | {"rows": rows, "comparison": artifact.comparison(rows, judges),
                      "settings": {**results["settings"], "judges": judges},
                      "sections": {"Accuracy per judge and condition": artifact.detail(rows)}}


def committed_results() -> dict:
    return load_results(REPO / "results/paper/figure3.json")


def drawn_figure(results: dict, out, monkeypatch):
    """Render Figure 3 and hand back the matplotlib figure as it was saved (laid out, drawn) and its renderer."""
    from rareval.experiments import figure3

    seen, real = [], figure3.save_figure

    def save(fig, out_dir, key):
        fig.canvas.draw()
        seen.append((fig, fig.canvas.get_renderer()))
        return real(fig, out_dir, key)

    monkeypatch.setattr(figure3, "save_figure", save)
    ARTIFACTS["figure3"].render(results, out)
    return seen[0]


def _texts(artist) -> list:
    from matplotlib.text import Text

    return [t for t in artist.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("results", [no_reading_results, committed_results], ids=["no-reading-judge", "committed"])
def test_figure3_reads_at_a_glance_with_a_judge_that_has_no_reading(results, tmp_path, monkeypatch):
    """A judge with no reading (0 pairs read: NaN accuracies) and one with too few: no `nan` in the Markdown,
    its tables or on the figure ("no reading" instead); the legends sit outside every panel; no two texts of a
    panel overlap (one short label per judge, tick labels, title); the finding panel draws the zero line and
    the smallest detectable difference; at most ~2,000 px wide, judges in size order."""
    stored = results()
    tables = json.dumps([stored["comparison"], stored["sections"]], ensure_ascii=False)  # as committed
    assert not NAN.search(tables)
    fig, renderer = drawn_figure(stored, tmp_path, monkeypatch)
    md = (tmp_path / "figure3.md").read_text()
    assert not NAN.search(md), [line for line in md.splitlines() if NAN.search(line)]
    assert "| local/gemma-270m | 0.27 | likert | no reading | no reading | no reading | no reading" in md or \
        "| local/gemma-270m | 0.27 | rubric_noref | no reading | no reading | no reading | no reading" in md
    assert not [t.get_text() for t in _texts(fig) if NAN.search(t.get_text())]
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 4 and fig.legends
    legends = [*fig.legends, *(ax.get_legend() for ax in panels if ax.get_legend())]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert not [ax.get_title() for ax in panels if box.overlaps(ax.get_window_extent(renderer))]
    for ax in panels:
        texts = [*ax.texts, ax.title, *(t for t in ax.get_xticklabels() if t.get_text())]
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
        assert not [(a, b) for i, (a, x) in enumerate(boxes) for b, y in boxes[i + 1:] if x.overlaps(y)], ax.title
    finding = panels[-1]
    assert "finding" in finding.get_title() and "smallest detectable" in " ".join(
        t.get_text() for legend in legends for t in legend.get_texts())
    assert [t.get_text().split("\n")[0] for t in finding.get_xticklabels()][:3] == \
        ["smollm-135m", "gemma-270m", "qwen-0.5b"] or \
        [t.get_text().split("\n")[0] for t in finding.get_xticklabels()][:2] == ["gemma-270m", "qwen-0.5b"]
    width, height = fig.get_size_inches() * 130
    assert 1400 <= width <= 2000 and height < 1.2 * width
