"""Figure 3 through ``rareval reproduce`` for real (Inspect runner, scripted judges): a judge without logprobs
has no tie-free reading anywhere a reader looks (results JSON, Markdown, the figure, the paired finding), and a
stored row is reused only for the same judge arguments and judge prompts; the committed rows stay reusable."""

import json
import re
import shutil

import pytest

import tests.evals.rating_logprobs  # noqa: F401  registers ratinglogprobs/ (ratings with logprobs)
from rareval.cli import main as cli
from rareval.prompts import Prompt
from tests.conftest import REPO
from tests.experiments.test_reproduce import sha256, stored

NO_TIE_FREE = "no tie-free reading: the judge returned no logprobs"


@pytest.fixture
def dirs(tmp_path):
    return ["--out", str(tmp_path / "figs"), "--results", str(tmp_path / "results")]


@pytest.fixture
def figure_texts(monkeypatch):
    """Every text the saved Figure 3 shows (titles, notes, legends), collected as it is saved."""
    from rareval.experiments import figure3

    texts, real = [], figure3.save_figure

    def save(fig, out_dir, key):
        for ax in fig.axes:
            legend = ax.get_legend()
            texts.extend([ax.get_title(), *(t.get_text() for t in ax.texts),
                          *((t.get_text() for t in legend.get_texts()) if legend else ())])
        texts.extend(t.get_text() for t in fig.texts)
        return real(fig, out_dir, key)

    monkeypatch.setattr(figure3, "save_figure", save)
    return texts


def test_a_judge_without_logprobs_has_no_tie_free_reading_anywhere(dirs, tmp_path, figure_texts):
    """scripted/keyword rates without logprobs (as Claude or a reasoning judge would); ratinglogprobs/keyword
    rates with them. Only the second has a tie-free accuracy and a paired tie-free finding; the first is shown
    with its ties-wrong and ties-half accuracies and "no tie-free reading" where the tie-free one would be."""
    args = ["reproduce", "--figure", "3", "--judges", "ratinglogprobs/keyword,scripted/keyword", "--generator",
            "none", "--pairs", "14", "--conditions", "likert,rubric_human", *dirs]
    assert cli(args) == 0
    results = stored(tmp_path, "figure3")
    rows = {(r["judge"], r["condition"]): r for r in results["rows"]}
    for condition in ("likert", "rubric_human"):
        plain, dist = rows[("scripted/keyword", condition)], rows[("ratinglogprobs/keyword", condition)]
        assert plain["n_scored"] >= 10 and plain["n_expected"] == 0 and "accuracy_expected" not in plain
        assert {o["expected"] for o in plain["outcomes"].values()} == {None}
        assert dist["n_expected"] == dist["n_scored"] >= 10 and 0 <= dist["accuracy_expected"] <= 1
    shown = {c["item"]: c["ours"] for c in results["comparison"]}
    finding = "accuracy(rubric_human) − accuracy(likert), tie-free, paired 95 % CI"
    assert shown[f"scripted/keyword: {finding}"] == NO_TIE_FREE
    assert re.fullmatch(r"[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\] \(n=1\d; smallest detectable ±\d\.\d\d\)",
                        shown[f"ratinglogprobs/keyword: {finding}"])
    verdict = shown["finding: rubric_human > likert at every judge size"]
    assert verdict.startswith("undecided") or verdict.endswith("(on the 1 of 2 judges read)")
    md = (tmp_path / "figs" / "figure3.md").read_text()
    assert "tie-free (expected rating) [95% CI]" in md
    for line in (x for x in md.splitlines() if x.startswith("| scripted/keyword |")):
        assert NO_TIE_FREE in line
    for line in (x for x in md.splitlines() if x.startswith("| ratinglogprobs/keyword |")):
        assert "no tie-free" not in line
    shown_on_figure = "\n".join(figure_texts)
    assert "no tie-free reading\n(no logprobs)" in shown_on_figure  # one short label: panel and finding
    assert shown_on_figure.count("no tie-free reading") == 2


def _edited(real, name: str, extra: str):
    def load(asked: str, variant: str = "default") -> Prompt:
        prompt = real(asked, variant)
        return Prompt(prompt.name, prompt.text + extra) if prompt.name == name else prompt
    return load


def test_a_stored_row_is_reused_only_for_the_same_judge_args_and_prompts(dirs, tmp_path, capsys,
                                                                          monkeypatch):
    """Nothing changed: reused. An api_key: reused (a key is not a judge; never written). Another server
    (--judge-arg base_url): recomputed. The rating prompt edited: recomputed, and the judge reads the edit."""
    from inspect_ai.log import read_eval_log, resolve_sample_attachments

    import rareval.judge.core
    import rareval.prompts

    args = ["reproduce", "--figure", "3", "--judges", "scripted/keyword", "--generator", "none", "--pairs", "2",
            "--conditions", "likert", *dirs]

    def run(*extra) -> tuple[bool, dict]:
        capsys.readouterr()
        assert cli([*args, *extra]) == 0
        return "every row is stored" in capsys.readouterr().out, stored(tmp_path, "figure3")["rows"][0]

    _, first = run()
    assert run() == (True, first)
    assert run("--judge-arg", "api_key=sk-not-written")[0]
    assert "sk-not-written" not in (tmp_path / "results" / "figure3.json").read_text()
    server = ("--judge-arg", "base_url=http://127.0.0.1:9/v1")
    reused, other = run(*server)
    assert not reused and other["log"] != first["log"] and other["judge_args"] == {"base_url": "http://127.0.0.1:9/v1"}
    assert run(*server) == (True, other)
    edited = _edited(rareval.prompts.load_prompt, "rating_direct", "\nRate strictly.\n")
    monkeypatch.setattr(rareval.prompts, "load_prompt", edited)
    monkeypatch.setattr(rareval.judge.core, "load_prompt", edited)
    reused, changed = run(*server)
    assert not reused and changed["prompts"] != other["prompts"] and changed["prompts"][0].startswith("rating_direct@")
    samples = [resolve_sample_attachments(s, "full") for s in read_eval_log(changed["log"]).samples]
    inputs = [e.input[0].text for s in samples for e in s.events if e.event == "model"]
    assert inputs and all(text.endswith("Rate strictly.\n") for text in inputs)


def test_the_committed_figure3_rows_are_reused_by_make_figures(tmp_path, capsys, monkeypatch):
    """`make figures` draws results/paper/figure3.json with --stored-only: every committed row must still
    match its reuse key (pairs, judge settings, judge arguments, prompts), so no judge runs and none is left
    out. Run on a copy: the committed files are not touched."""
    committed = json.loads((REPO / "results/paper/figure3.json").read_text())
    pairs_sha = committed["provenance"]["data"][0]["sha256"]
    pairs = next((p for p in sorted((REPO / "results/paper").glob("*.jsonl")) if sha256(p) == pairs_sha), None)
    assert pairs, f"no pairs file under results/paper has the committed rows' sha256 {pairs_sha}"
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(REPO / "results/paper/figure3.json", results)
    monkeypatch.setattr("rareval.evals.judge_alignment.sweep", lambda *a, **k: pytest.fail("a judge ran"))
    s = committed["settings"]
    assert cli(["reproduce", "--figure", "3", "--pairs-file", str(pairs), "--pairs", str(s["pairs"]),
                "--conditions", ",".join(s["conditions"]), "--judges", ",".join(s["judges"]), "--stored-only",
                "--results", str(results), "--out", str(tmp_path / "figs")]) == 0
    assert "every row is stored" in capsys.readouterr().out
    assert "not_run" not in json.loads((results / "figure3.json").read_text())["settings"]
