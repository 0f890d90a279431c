"""The judge-alignment task through the real Inspect runner, the sweep and the CLI."""

import json

import pytest
from inspect_ai import eval as inspect_eval

from rareval.cli import main as cli
from rareval.data.alignment import pair_chars, PreferencePair, Provenance, load_pairs, save_pairs
from rareval.data.healthbench import Message
from rareval.evals.judge_alignment import judge_size, pair_outcomes, sweep
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
    """A judge that reads none of the pairs (fewer than the fail-fast window) is named as failed, not a row of
    NaN; with fail_fast=0 (Figure 3) its row of unscored pairs is a result."""
    from rareval.evals.judge_alignment import SweepFailed

    kwargs = {"pairs": pairs_file, "out": tmp_path / "fig3.json", "plot": tmp_path / "fig3.png",
              "log_dir": tmp_path / "logs"}
    with pytest.raises(SweepFailed, match="scripted/malformed · explicit failed: the judge read none of 3 pairs"):
        sweep(["scripted/keyword", "scripted/malformed"], ["explicit"], **kwargs)
    written = json.loads((tmp_path / "fig3.json").read_text())
    assert [(r["judge"], r["condition"], r["accuracy"]) for r in written["rows"]] == [
        ("scripted/keyword", "explicit", 1.0)]
    assert [f["judge"] for f in written["failed"]] == ["scripted/malformed"]
    assert (tmp_path / "fig3.png").stat().st_size > 1000
    rows = sweep(["scripted/keyword", "scripted/malformed"], ["explicit"], fail_fast=0, **kwargs)
    assert rows[0]["accuracy"] == 1.0 and rows[1]["n_scored"] == 0


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


def metrics_of(log) -> dict:
    return {k: v.value for k, v in log.results.scores[0].metrics.items()}


@pytest.mark.parametrize("judge", ["scripted", "anthropic"])
def test_a_judge_without_logprobs_shows_no_tie_free_accuracy(pairs_file, tmp_path, monkeypatch, judge):
    """A judge whose ratings come without logprobs (scripted; Claude through Inspect's real Anthropic client)
    has no tie-free reading: the metrics show accuracy with ties wrong and half, no accuracy_expected, and each
    sample says why; its integer ratings are never passed off as a tie-free reading."""
    from tests.judge.fake_providers import FakeAnthropic

    monkeypatch.chdir(REPO)
    with FakeAnthropic() as fake:
        model, url = ("scripted/keyword", None) if judge == "scripted" else ("anthropic/claude-sonnet-4-5",
                                                                            fake.base_url)
        log = inspect_eval("tasks/judge_alignment.py", model=model, model_base_url=url,
                           model_args={"api_key": "sk-test"} if url else {}, log_dir=str(tmp_path),
                           task_args={"pairs": str(pairs_file), "condition": "likert"}, display="none")[0]
    assert log.status == "success"
    m = metrics_of(log)
    assert m["n_scored"] == 3 and m["ties"] > 0  # ties that only a rating distribution could break
    assert m["n_expected"] == 0 and not {"accuracy_expected", "expected_ci_low", "expected_ci_high"} & set(m)
    assert m["accuracy_half"] == pytest.approx(m["accuracy"] + m["ties"] / 2)
    for sample in log.samples:
        score = next(iter(sample.scores.values()))
        assert score.explanation.endswith("no tie-free reading: the judge returned no logprobs")
        assert score.metadata["chosen_rank"] is None and score.metadata["rejected_rank"] is None
    assert {o["expected"] for o in pair_outcomes(log).values()} == {None}


def test_ratings_with_logprobs_give_the_tie_free_reading(pairs_file, tmp_path, monkeypatch):
    """With a rating distribution the expected rating breaks the ties the integer ratings leave: two pairs tie
    on the 1-10 scale (wrong, or half) and are read tie-free (here by length: the second pair's chosen answer,
    the third pair's rejected one)."""
    import tests.evals.rating_logprobs  # noqa: F401  registers ratinglogprobs/

    monkeypatch.chdir(REPO)
    log = inspect_eval("tasks/judge_alignment.py", model="ratinglogprobs/keyword", log_dir=str(tmp_path),
                       task_args={"pairs": str(pairs_file), "condition": "likert"}, display="none")[0]
    assert log.status == "success"
    m = metrics_of(log)
    assert m["n_expected"] == m["n_scored"] == 3 and m["ties"] == pytest.approx(2 / 3) and m["accuracy"] == 1 / 3
    assert m["accuracy_expected"] == pytest.approx(2 / 3) and m["expected_ci_low"] <= 2 / 3
    assert [o["expected"] for _, o in sorted(pair_outcomes(log).items())] == [1.0, 1.0, 0.0]
    assert all("tie-free" not in next(iter(s.scores.values())).explanation for s in log.samples)


def test_sweep_stops_a_broken_judge_after_a_working_one(tmp_path, capsys):
    """Each judge of a sweep has its own fail-fast tracker: a judge that answers nothing, run after one that
    answers, stops with its error; it is named as failed (exit 1), and no row of NaN goes into the JSON or the
    plot; the working judge's row is written."""
    out, plot = tmp_path / "fig3.json", tmp_path / "fig3.png"
    code = cli(["alignment", "sweep", "--judges", "scripted/keyword,scripted/error", "--conditions", "likert",
                "--source", str(UNION), "--limit", "6", "--out", str(out), "--plot", str(plot),
                "--log-dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert code == 1
    assert "scripted/error · likert failed:" in err and "the judge abstained on 100%" in err
    assert "scripted judge failure" in err  # the judge's own error, named
    written = json.loads(out.read_text())
    assert [r["judge"] for r in written["rows"]] == ["scripted/keyword"]
    assert written["rows"][0]["n_scored"] == 6
    assert [(f["judge"], f["condition"]) for f in written["failed"]] == [("scripted/error", "likert")]
    assert "NaN" not in out.read_text() and plot.stat().st_size > 1000


def test_sweep_reaches_a_served_judge_without_logprobs(pairs_file, tmp_path, capsys):
    """`--judge-arg base_url=…` reaches the judge (Inspect's eval() takes base_url apart from model_args: passed
    among them it raised "got multiple values for keyword argument 'base_url'"); a judge that returns no
    logprobs (Claude, through Inspect's real Anthropic client) is printed and written with no tie-free
    accuracy, its reason in its place."""
    from tests.judge.fake_providers import FakeAnthropic

    out = tmp_path / "fig3.json"
    with FakeAnthropic() as fake:
        code = cli(["alignment", "sweep", "--judges", "anthropic/claude-sonnet-4-5", "--judge-arg",
                    f"base_url={fake.base_url}", "--judge-arg", "api_key=sk-test", "--conditions", "likert",
                    "--pairs", str(pairs_file), "--out", str(out), "--plot", str(tmp_path / "fig3.png"),
                    "--log-dir", str(tmp_path / "logs")])
        asked = len(fake.judged)
    printed = capsys.readouterr().out
    assert code == 0 and asked == 6
    assert "accuracy (ties wrong)" in printed and "no tie-free reading: the judge returned no logprobs" in printed
    [row] = json.loads(out.read_text())["rows"]
    assert row["n_scored"] == 3 and row["n_expected"] == 0 and "accuracy_expected" not in row


def test_sweep_names_a_judge_that_cannot_start(pairs_file, tmp_path, capsys, monkeypatch):
    """A judge whose provider refuses to start (no API key) is named with its error, on one line and without
    Inspect's console markup; the working judge's row is written (before, the sweep ended in a traceback)."""
    for name in ("OPENAI_API_KEY", "AZUREAI_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "fig3.json"
    assert cli(["alignment", "sweep", "--judges", "scripted/keyword,openai/gpt-4o-mini", "--pairs", str(pairs_file),
                "--out", str(out), "--plot", str(tmp_path / "fig3.png"), "--log-dir", str(tmp_path / "logs")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: openai/gpt-4o-mini · likert failed:") and "No OPENAI_API_KEY" in err
    assert "[bold]" not in err
    written = json.loads(out.read_text())
    assert [r["judge"] for r in written["rows"]] == ["scripted/keyword"]
    assert written["failed"][0]["judge"] == "openai/gpt-4o-mini" and "No OPENAI_API_KEY" in written["failed"][0]["error"]
