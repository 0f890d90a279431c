"""The judge-alignment task through the real Inspect runner, the sweep and the CLI."""

import json

import pytest
from inspect_ai import eval as inspect_eval

from rareval.cli import main as cli
from rareval.data.alignment import pair_chars, PreferencePair, Provenance, load_pairs, save_pairs
from rareval.data.healthbench import Message
from rareval.evals.judge_alignment import judge_size, sweep
from rareval.rubric import Rubric
from tests.conftest import REPO, SHARED, hb_rubric

UNION = SHARED / "data/healthbench/healthbench_offline_union.jsonl"


@pytest.fixture
def pairs_file(tmp_path):
    rubric = hb_rubric((8, "Advises 'rest'"), (5, "Advises 'fluids'"), (-6, "Recommends 'antibiotics'"))
    generated = Rubric.from_rar([{"title": "Rest", "description": "Essential Criteria: Advises 'rest'.", "weight": 5},
                                 {"title": "Fluids", "description": "Important Criteria: Advises 'fluids'.",
                                  "weight": 3},
                                 {"title": "Antibiotics", "description": "Pitfall Criteria: Recommends 'antibiotics'.",
                                  "weight": -2}])
    prov = Provenance(source="hand-written", source_sha256="0" * 64)
    pairs = [
        PreferencePair(pair_id=f"p{i}", prompt_id=f"q{i}", kind="degraded",
                       prompt=(Message(role="user", content="I have a cold. What should I do?"),),
                       chosen=chosen, rejected=rejected, physician_rubric=rubric, rubric_ref=generated,
                       rubric_noref=generated, provenance=prov)
        for i, (chosen, rejected) in enumerate([
            ("Get rest and drink fluids; call a doctor if it gets worse.", "Take antibiotics and rest."),
            ("Rest, fluids and honey tea help most colds.", "Fluids help."),
            ("Plenty of rest and fluids.", "Rest and fluids, and ask for antibiotics."),
        ])]
    return save_pairs(pairs, tmp_path / "pairs.jsonl")


@pytest.mark.parametrize("condition", ["explicit", "rubric_ref", "rubric_noref"])
def test_rubric_conditions_prefer_the_chosen_answers(pairs_file, tmp_path, monkeypatch, condition):
    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/judge_alignment.py", model="scripted/keyword", log_dir=str(tmp_path),
                       task_args={"pairs": str(pairs_file), "condition": condition}, display="none")[0]
    assert log.status == "success"
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert m["accuracy"] == 1.0 and m["n_scored"] == 3 and m["unscored"] == 0 and m["ties"] == 0
    assert m["auc"] == 1.0 and m["ci_low"] <= 1.0


def test_likert_ties_count_as_wrong_unless_half(pairs_file, tmp_path, monkeypatch):
    # scripted Direct-Likert rates by length; the third pair's answers rate the same
    monkeypatch.chdir(REPO)
    metrics = {}
    for ties in ("wrong", "half"):
        log = inspect_eval("tasks/judge_alignment.py", model="scripted/keyword", log_dir=str(tmp_path),
                           task_args={"pairs": str(pairs_file), "condition": "likert", "ties": ties},
                           display="none")[0]
        metrics[ties] = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert metrics["wrong"]["ties"] > 0
    assert metrics["half"]["accuracy"] == pytest.approx(metrics["wrong"]["accuracy"] + metrics["wrong"]["ties"] / 2)


def test_judge_abstentions_leave_pairs_unscored(pairs_file, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/judge_alignment.py", model="scripted/malformed", log_dir=str(tmp_path),
                       task_args={"pairs": str(pairs_file), "condition": "explicit"}, display="none")[0]
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert m["n_scored"] == 0 and m["unscored"] == 3


def test_reference_pairs_from_the_offline_rows_and_missing_rubrics(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/judge_alignment.py", model="scripted/keyword", log_dir=str(tmp_path), limit=4,
                       task_args={"source": str(UNION), "condition": "explicit"}, display="none")[0]
    assert log.status == "success" and len(log.samples) == 4
    assert all(s.metadata["kind"] == "reference" for s in log.samples)
    with pytest.raises(ValueError, match="no pair in .* has a rubric_ref: .*alignment build --rubrics"):
        inspect_eval("tasks/judge_alignment.py", model="scripted/keyword", log_dir=str(tmp_path), limit=1,
                     task_args={"source": str(UNION), "condition": "rubric_ref"}, display="none")


def test_sweep_writes_figures_and_plot(pairs_file, tmp_path):
    rows = sweep(["scripted/keyword", "scripted/malformed"], ["explicit"], pairs=pairs_file,
                 out=tmp_path / "fig3.json", plot=tmp_path / "fig3.png", log_dir=tmp_path / "logs")
    assert [r["accuracy"] for r in rows][0] == 1.0 and rows[1]["n_scored"] == 0
    assert json.loads((tmp_path / "fig3.json").read_text())["rows"][0]["condition"] == "explicit"
    assert (tmp_path / "fig3.png").stat().st_size > 1000


def test_cli_builds_reference_pairs(tmp_path, capsys):
    out = tmp_path / "pairs.jsonl"
    assert cli(["alignment", "build", "--kind", "reference", "--source", str(UNION), "--limit", "5",
                "--out", str(out)]) == 0
    assert len(load_pairs(out)) == 5 and "5 reference pairs" in capsys.readouterr().out
    rules = tmp_path / "rules.jsonl"  # rule-based pairs need no generator
    assert cli(["alignment", "build", "--kind", "removed_safety", "--source", str(UNION), "--limit", "4",
                "--out", str(rules)]) == 0
    assert {p.kind for p in load_pairs(rules)} == {"removed_safety"} and len(load_pairs(rules)) == 4
    both = tmp_path / "both.jsonl"  # both rule families, a seeded sample within a length budget
    args = ["alignment", "build", "--kind", "removed", "--source", str(UNION), "--select", "30", "--max-chars",
            "3000", "--seed", "1", "--out"]
    assert cli([*args, str(both)]) == 0 and cli([*args, str(tmp_path / "again.jsonl")]) == 0
    picked = load_pairs(both)
    assert len(picked) == 30 and {p.kind for p in picked} == {"removed_criteria", "removed_safety"}
    assert len({p.prompt_id for p in picked}) == 30 and max(map(pair_chars, picked)) <= 3000
    assert [p.pair_id for p in load_pairs(tmp_path / "again.jsonl")] == [p.pair_id for p in picked]
    assert all("rule-based: " + p.kind.replace("_", " ") in p.provenance.notes for p in picked)


def test_judge_size():
    assert judge_size("local/qwen-1.5b") == 1.5 and judge_size("local/smollm-135m") == pytest.approx(0.135)
    assert judge_size("openai/gpt-4o-mini") is None


def test_real_local_judge_rates_reference_pairs(tmp_path, monkeypatch):
    """End to end with a real embedded model as the judge (Direct-Likert, rating distribution kept)."""
    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/judge_alignment.py", model="local/smollm-135m", log_dir=str(tmp_path), limit=1,
                       task_args={"source": str(UNION), "condition": "likert"}, display="none")[0]
    assert log.status == "success" and len(log.samples) == 1
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    # the rating is grammar-constrained to an integer 1-10, so a real model's answer is always readable
    assert m["n_scored"] == 1 and m["unscored"] == 0
    meta = next(iter(log.samples[0].scores.values())).metadata
    assert meta["judge_usage"]["calls"] == 2 and meta["outcome"] is not None
    for side in ("chosen", "rejected"):  # the score and the ranking value on one scale, [0, 1]
        assert 0 <= meta[side] <= 1 and 0 <= meta[f"{side}_rank"] <= 1


def test_the_judge_writes_no_answer_of_its_own(pairs_file, tmp_path, monkeypatch):
    """The task's solver generates nothing: the only model calls are the scorer's two ratings per pair."""
    from inspect_ai.event import ModelEvent

    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/judge_alignment.py", model="scripted/keyword", log_dir=str(tmp_path),
                       task_args={"pairs": str(pairs_file), "condition": "likert"}, display="none")[0]
    assert log.status == "success"
    for sample in log.samples:
        assert sample.output.empty and len([e for e in sample.events if isinstance(e, ModelEvent)]) == 2
