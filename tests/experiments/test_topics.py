"""RaR v2 Tables 6 and 9 (topic shares): the strict label parser, the LLM labeller through scripted Inspect
models and the verdict cache, the embedded stand-ins on small fixture files, rendering from stored results,
the paper-scale plan and a paper-scale run on a local RaR snapshot."""

import asyncio
import csv
import hashlib
import json
from pathlib import Path

import pytest
from inspect_ai.model import get_model

from rareval.judge.cache import VerdictCache
from rareval.cli import main as cli
from rareval.experiments import ARTIFACTS
from rareval.experiments.base import REPO, load_results
from rareval.experiments.topics import UNCLASSIFIED, label_topics, parse_topic, render_prompt, shares

MEDICAL = list(ARTIFACTS["table6"].paper)
STEM = list(ARTIFACTS["table9"].paper)
GPQA_COLUMNS = ["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3",
                "Subdomain", "Record ID", "High-level domain", "Canary String"]


@pytest.fixture
def dirs(tmp_path):
    return ["--out", str(tmp_path / "figs"), "--results", str(tmp_path / "results")]


def stored(tmp_path, key) -> dict:
    return json.loads((tmp_path / "results" / f"{key}.json").read_text())


def healthbench_fixture(path: Path) -> Path:
    """Four HealthBench-format rows: two `hedging`, one `global_health`, one without a theme tag."""
    tags = [["theme:hedging", "physician_agreed_category:x"], ["theme:global_health"], ["theme:hedging"], []]
    rows = [{"prompt_id": f"p{i}", "prompt": [{"role": "user", "content": f"question {i}"}],
             "rubrics": [{"criterion": "Says 'rest'.", "points": 5, "tags": []}], "example_tags": t}
            for i, t in enumerate(tags)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def gpqa_fixture(path: Path) -> Path:
    """Five generated GPQA-format rows (no real GPQA text): 3 Quantum Mechanics, 2 Genetics."""
    subs = [("Physics", "Quantum Mechanics")] * 3 + [("Biology", "Genetics")] * 2
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=GPQA_COLUMNS)
        writer.writeheader()
        for i, (domain, sub) in enumerate(subs):
            writer.writerow({"Question": f"Generated item {i} asks which option is marked right?",
                             "Correct Answer": f"right-{i}", "Incorrect Answer 1": "w1", "Incorrect Answer 2": "w2",
                             "Incorrect Answer 3": "w3", "Subdomain": sub, "Record ID": f"recGEN{i}",
                             "High-level domain": domain, "Canary String": f"gpqa:test:{i}"})
    return path


# --- counting and the strict parser ------------------------------------------------------------------------

def test_shares_count_everything_largest_first():
    got = shares(["b", "a", "b", UNCLASSIFIED])
    assert [(s.topic, s.count, s.percent) for s in got] == [("b", 2, 50.0), ("a", 1, 25.0),
                                                             (UNCLASSIFIED, 1, 25.0)]
    assert shares([]) == []


@pytest.mark.parametrize("answer, topic", [
    ("Quantum Mechanics", "Quantum Mechanics"), ("  quantum   mechanics \n", "Quantum Mechanics"),
    ("**Optics**", "Optics"), ("`Genetics`.", "Genetics"), ('"Astrophysics"', "Astrophysics"),
    ("Topic: Organic Chemistry", "Organic Chemistry"), ("**Topic:** Optics", "Optics"),
    ("\n\nElectromagnetics\n", "Electromagnetics"),
    ("Physics", None), ("Quantum Mechanics or Optics", None), ("The topic is Quantum Mechanics.", None),
    ("Quantum Mechanics\nbecause it is about spin", None), ("", None), ("Botany", None),
    ("Medical Diagnosis", None),  # a topic of the other table
])
def test_parse_topic_accepts_exactly_one_listed_name(answer, topic):
    assert parse_topic(answer, STEM) == topic


def test_parse_topic_knows_the_full_forms_of_the_abbreviated_medical_names():
    assert parse_topic("Medical Diagnosis and Management", MEDICAL) == "Medical Diag. and Mngmnt"
    assert parse_topic("Epidemiology and Public Health", MEDICAL) == "Epidemiology & Pub. Health"
    assert parse_topic("Medical Diag. and Mngmnt", MEDICAL) == "Medical Diag. and Mngmnt"
    assert parse_topic("Other", MEDICAL) == "Other" and parse_topic("Other", STEM) is None
    assert parse_topic("Epidemiology and Public Health", STEM) is None  # an alias only of a listed name


def test_the_prompt_lists_every_paper_topic_and_the_question():
    text = render_prompt("Which {braces} stay?", MEDICAL, "medical")
    assert all(f"\n- {t}\n" in text + "\n" for t in MEDICAL)
    assert "<question>\nWhich {braces} stay?\n</question>" in text and "exactly one topic" in text


# --- the LLM labeller through scripted Inspect models --------------------------------------------------------

def test_label_topics_reads_labels_and_caches_them(tmp_path):
    cache = VerdictCache(tmp_path / "v.sqlite")
    questions = ["q1", "q2", "q3"]
    model = get_model("scripted/policy", reply="Medical Diagnosis and Management", memoize=False)
    first = asyncio.run(label_topics(model, questions, MEDICAL, "medical", cache=cache))
    assert first.labels == ["Medical Diag. and Mngmnt"] * 3 and first.usage.calls == 3 and first.cached == 0
    assert first.unclassified == 0 and first.prompt_version.startswith("topic_label@")
    again = asyncio.run(label_topics(model, [*questions, "q4"], MEDICAL, "medical", cache=cache))
    assert again.cached == 3 and again.usage.calls == 1 and set(again.labels) == {"Medical Diag. and Mngmnt"}


@pytest.mark.parametrize("behaviour, reply, errors", [("policy", "Botany", 0), ("malformed", None, 0),
                                                      ("error", None, 2)])
def test_unreadable_labels_are_unclassified_counted_and_not_cached(tmp_path, behaviour, reply, errors):
    cache = VerdictCache(tmp_path / "v.sqlite")
    model = get_model(f"scripted/{behaviour}", memoize=False, **({"reply": reply} if reply else {}))
    got = asyncio.run(label_topics(model, ["q1", "q2"], STEM, "science", cache=cache, retries=1))
    assert got.labels == [UNCLASSIFIED] * 2 and got.unclassified == 2 and got.errors == errors
    assert got.usage.calls == (2 if errors else 4)  # a raised call is not asked again; an unreadable one is
    again = asyncio.run(label_topics(model, ["q1", "q2"], STEM, "science", cache=cache, retries=0))
    assert again.cached == 0 and again.usage.calls == 2


def test_retry_reads_a_second_answer():
    model = get_model("scripted/policy", reply="Genetics", fail_first=1, memoize=False)
    got = asyncio.run(label_topics(model, ["q1"], STEM, "science", retries=1))
    assert got.labels == ["Genetics"] and got.usage.calls == 2 and got.unclassified == 0


# --- embedded scale: the stand-ins on small fixture files -----------------------------------------------------

def test_table6_embedded_counts_healthbench_themes(dirs, tmp_path, capsys):
    source = healthbench_fixture(tmp_path / "hb.jsonl")
    assert cli(["reproduce", "--table", "6", "--source", str(source), *dirs]) == 0
    results = stored(tmp_path, "table6")
    assert results["scale"] == "embedded" and results["taxonomy"] == "HealthBench theme"
    assert results["n"] == 4 and results["unclassified"] == 1 and results["comparison"] == []
    assert [(r["topic"], r["count"], r["percent"]) for r in results["ours_topics"]] == [
        ("hedging", 2, 50.0), ("global_health", 1, 25.0), (UNCLASSIFIED, 1, 25.0)]
    assert results["paper_topics"][0] == {"topic": "Medical Diagnosis", "count": 10_147, "percent": 50.3}
    data = results["provenance"]["data"][0]
    assert data["rows"] == 4 and data["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    md = (tmp_path / "figs" / "table6.md").read_text()
    assert md == capsys.readouterr().out.split("table6: wrote")[0].rstrip("\n") + "\n"
    assert "**Taxonomies differ.**" in md and "no per-row differences are computed" in md
    assert "| 1 | Medical Diagnosis | 10,147 | 50.3 | hedging | 2 | 50.0 |" in md
    assert "| 4 | Medical Diag. and Mngmnt | 2,033 | 10.1 |  |  |  |" in md
    assert "| total | | 20,166 | | | 4 | |" in md and "ours − paper" not in md
    assert "**Scale: embedded**" in md and "stands in for RaR-Medicine" in md and "1 of 4 stand-in rows" in md


def test_table9_embedded_counts_gpqa_subdomains_and_writes_no_question_text(dirs, tmp_path, monkeypatch):
    source = gpqa_fixture(tmp_path / "gpqa_diamond.csv")
    monkeypatch.setenv("RAREVAL_GPQA_PATH", str(source))
    monkeypatch.setenv("RAREVAL_DATA_DIR", str(tmp_path / "data"))
    assert cli(["reproduce", "--table", "9", *dirs]) == 0
    results = stored(tmp_path, "table9")
    assert [(r["topic"], r["count"]) for r in results["ours_topics"]] == [("Quantum Mechanics", 3), ("Genetics", 2)]
    assert [(r["topic"], r["percent"]) for r in results["ours_domains"]] == [("Physics", 60.0), ("Biology", 40.0)]
    assert results["provenance"]["data"][0]["rows"] == 5
    md = (tmp_path / "figs" / "table9.md").read_text()
    assert "| 1 | General Chemistry | 3,163 | 15.3 | Quantum Mechanics | 3 | 60.0 |" in md
    assert "| 18 | Relativistic Mechanics | 46 | 0.2 |  |  |  |" in md
    assert "## GPQA-Diamond high-level domains (ours)" in md and "| Physics | 3 | 60.0 |" in md
    written = md + json.dumps(results)
    assert "Generated item" not in written and "right-0" not in written


# --- rendering from stored results ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["table6", "table9"])
def test_the_committed_markdown_renders_from_the_committed_results(key, tmp_path):
    results = load_results(REPO / "results" / "paper" / f"{key}.json")
    assert results is not None and results["scale"] == "embedded"
    path = ARTIFACTS[key].render(results, tmp_path)[0]
    assert path.read_text() == (REPO / "paper_figures" / f"{key}.md").read_text()


def test_a_paper_scale_results_file_renders_row_by_row_differences(tmp_path):
    from rareval.experiments.base import compare

    rows = [compare("Medical Diagnosis (count)", 10_147, 10_000), compare("Medical Diagnosis (%)", 50.3, 49.6)]
    results = {"title": "Table 6", "scale": "paper", "taxonomy": "paper", "comparison": rows,
               "ours_topics": [], "notes": ["n1"], "provenance": {"models": ["openai/x"], "seed": 0}}
    md = ARTIFACTS["table6"].render(results, tmp_path)[0].read_text()
    assert "| Medical Diagnosis (count) | 10,147 | 10,000 | -147 |" in md and "| ours − paper |" in md
    assert "Taxonomies differ" not in md and "- models: `openai/x`" in md


# --- paper scale ---------------------------------------------------------------------------------------------

def test_paper_scale_prints_the_plan_with_projected_calls_and_cost(dirs, tmp_path, capsys):
    assert cli(["reproduce", "--table", "6", "--scale", "paper", "--price-per-mtok", "1", *dirs]) == 0
    out = capsys.readouterr().out
    assert "one topic label per question by openai/gpt-4o-mini (prompt topic_label@" in out
    assert "(20,166 calls ×" in out and "20,166 judge calls" in out and "at $1/Mtok" in out
    assert "the paper does not name its topic classifier" in out and "plan only" in out
    assert not (tmp_path / "results").exists()
    plan = ARTIFACTS["table9"].plan(_options(classifier="scripted/keyword"))
    assert plan.judge_calls == 20_625 and plan.steps[1].judge == "scripted/keyword"
    assert plan.cost(2.0) == pytest.approx(plan.tokens * 2 / 1e6) and plan.steps[1].tokens_per_call > 100


def _options(**kw):
    from rareval.experiments import ReproduceOptions

    return ReproduceOptions(scale="paper", **kw)


def test_paper_scale_run_labels_a_local_rar_snapshot(dirs, tmp_path, capsys, monkeypatch):
    snapshot = tmp_path / "rar-medicine"
    snapshot.mkdir()
    rubric = [{"title": "t", "description": "Essential Criteria: says 'x'.", "weight": 5}]
    for split, n in [("train", 3), ("val", 1), ("test", 5)]:  # the paper counts train + val
        rows = [{"question": f"{split} question {i}", "reference_answer": "r", "rubric": rubric} for i in range(n)]
        (snapshot / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["reproduce", "--table", "6", "--scale", "paper", "--run", "--rar-path", str(snapshot),
            "--classifier", "scripted/policy", *dirs]
    assert cli(args) == 0  # the scripted reply names no topic: everything is unclassified, and counted
    results = stored(tmp_path, "table6")
    rows = {r["item"]: r for r in results["comparison"]}
    assert results["taxonomy"] == "paper" and results["n"] == 4 and results["unclassified"] == 4
    assert rows["examples"] == {"item": "examples", "paper": 20_166, "ours": 4, "diff": -20_162, "unit": ""}
    assert rows["Medical Diagnosis (count)"]["ours"] == 0 and rows[f"{UNCLASSIFIED} (count)"]["ours"] == 4
    assert results["provenance"]["models"] == ["scripted/policy"] and len(results["provenance"]["data"]) == 2
    assert "4 questions named no listed topic" in " ".join(results["notes"])
    monkeypatch.setattr("rareval.models.scripted.DEFAULT_REPLY", "Medical Treatment")
    assert cli(args) == 0
    rows = {r["item"]: r for r in stored(tmp_path, "table6")["comparison"]}
    assert rows["Medical Treatment (count)"] == {"item": "Medical Treatment (count)", "paper": 3_235, "ours": 4,
                                                 "diff": -3_231, "unit": ""}
    assert rows["Medical Treatment (%)"]["ours"] == 100.0 and f"{UNCLASSIFIED} (count)" not in rows
    md = (tmp_path / "figs" / "table6.md").read_text()
    assert "**Scale: paper**" in md and "| Medical Treatment (count) | 3,235 | 4 | -3,231 |" in md
