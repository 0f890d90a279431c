"""``rareval reproduce`` for real: --list, Table 10 and the rubric tables at embedded scale, a CI-sized
Figure 3 through the real Inspect pipeline (scripted judge, 2 pairs), plans, caching and errors."""

import hashlib
import json
from pathlib import Path

import pytest

from rareval.cli import main as cli
from rareval.experiments.base import UNION
from tests.experiments.test_render import SPEC_ARTIFACTS


def sha256(path):
    """The file's sha256, computed here independently of the code under test."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def dirs(tmp_path):
    return ["--out", str(tmp_path / "figs"), "--results", str(tmp_path / "results")]


def stored(tmp_path, key) -> dict:
    return json.loads((tmp_path / "results" / f"{key}.json").read_text())


def test_list_shows_every_artifact_with_a_status(dirs, tmp_path, capsys):
    assert cli(["reproduce", "--table", "10", *dirs]) == 0
    capsys.readouterr()
    assert cli(["reproduce", "--list", *dirs]) == 0
    out = capsys.readouterr().out
    for key in SPEC_ARTIFACTS:
        assert f"\n{key} " in f"\n{out}"
    assert out.count("status: ") == len(SPEC_ARTIFACTS)
    assert "table10  Table 10" in out and "reproduced at embedded scale" in out
    assert "needs GRPO training runs" in out and "not run yet; runs at embedded, paper scale" in out


def test_table10_at_embedded_scale(dirs, tmp_path, capsys):
    assert cli(["reproduce", "--table", "10", *dirs]) == 0
    out = capsys.readouterr().out
    assert "| learning_rate (`learning_rate`) | 5e-06 | 5e-06 | +0 | 2e-05 |" in out
    results = stored(tmp_path, "table10")
    assert results["scale"] == "embedded"
    batch = next(r for r in results["comparison"] if r["item"].startswith("batch_size"))
    assert batch["ours"] == "96 prompts" and batch["diff"] == "read as prompts"  # never a bare "96 vs 96" match
    assert all(r["diff"] in (0, "same") for r in results["comparison"]
               if r is not batch and not r["item"].startswith("reading"))
    readings = results["batch_readings"]
    assert readings["prompts"]["completions_per_step"] == 1536 and readings["completions"]["prompts_per_run"] == 1800
    assert "1,536 / 96; 28,800; 1.61" in out and "96 / 6; 1,800; 0.10" in out
    assert {"commit", "date", "seed"} <= set(results["provenance"])
    assert (tmp_path / "figs" / "table10.md").read_text().count("|") > 40


@pytest.mark.parametrize("table, domain", [(4, "medicine"), (5, "medicine"), (7, "science"), (8, "science")])
def test_rubric_tables_at_embedded_scale(dirs, tmp_path, table, domain):
    assert cli(["reproduce", "--table", str(table), *dirs]) == 0
    results = stored(tmp_path, f"table{table}")
    data = results["provenance"]["data"][0]
    assert data["sha256"] == sha256(UNION) and data["rows"] == results["ours"]["examples"] > 0
    assert "stand in for RaR" in results["notes"][0]
    rows = {r["item"]: r for r in results["comparison"]}
    if table in (5, 8):
        counts = [rows[f"{c} (count)"]["ours"] for c in ("Important", "Essential", "Optional", "Pitfall")]
        assert sum(counts) == results["ours"]["criteria"]
        assert sum(rows[f"{c} (%)"]["ours"] for c in ("Important", "Essential", "Optional", "Pitfall")) == \
            pytest.approx(100, abs=0.05)
        pitfall = rows["Pitfall (%)"]
        assert pitfall["paper"] == (13.1 if table == 5 else 14.5)
        assert pitfall["diff"] == pytest.approx(pitfall["ours"] - pitfall["paper"], abs=0.01)
    else:
        assert rows["examples"]["paper"] == (20_166 if table == 4 else 20_625)


def test_figure3_ci_sized_through_the_real_pipeline(dirs, tmp_path, capsys, monkeypatch):
    args = ["reproduce", "--figure", "3", "--judges", "scripted/keyword", "--generator", "scripted/keyword",
            "--pairs", "2", "--conditions", "likert,rubric_ref,rubric_noref,explicit", *dirs]
    assert cli(args) == 0
    figs = tmp_path / "figs"
    assert all((figs / f"figure3.{ext}").stat().st_size > 1000 for ext in ("png", "pdf", "md"))
    results = stored(tmp_path, "figure3")
    assert results["settings"]["run"] == ["likert", "rubric_ref", "rubric_noref", "explicit"]
    assert results["settings"]["skipped"] == {}
    assert [r["n_scored"] + r["unscored"] for r in results["rows"]] == [2, 2, 2, 2]
    for r in results["rows"]:  # ties counted half sits between ties-wrong accuracy and ties counted right
        assert r["accuracy"] <= r["accuracy_half"] <= r["accuracy"] + r["ties"] + 1e-9
        assert r["accuracy_half"] == pytest.approx(r["accuracy"] + r["ties"] / 2)
        assert len(r["outcomes"]) == 2  # per-pair outcomes stored; a scripted judge's ratings have no logprobs:
        assert r["n_expected"] == 0 and "accuracy_expected" not in r  # no tie-free reading
    findings = [c for c in results["comparison"] if c["item"].startswith("finding")]
    assert findings and all(c["ours"] in ("yes", "no") or c["ours"].startswith("undecided") for c in findings)
    prov = results["provenance"]
    assert prov["models"] == ["scripted/keyword"] and prov["seed"] == 0 and prov["date"] and "commit" in prov
    pairs_file = tmp_path / "results" / "figure3_pairs.jsonl"
    assert prov["data"][0]["rows"] == 2 and prov["data"][0]["sha256"] == sha256(pairs_file)
    pairs = [json.loads(line) for line in pairs_file.read_text().splitlines()]
    assert len(pairs) == 2 and len({p["prompt_id"] for p in pairs}) == 2  # one pair per conversation
    for p in pairs:  # the generator's rubrics are saved with the pairs: the reference one from the ideal answer
        assert p["provenance"]["generator"] == "scripted/keyword" and not p["provenance"]["source"].startswith("/")
        ref_words = {c["text"].split("'")[1] for c in p["rubric_ref"]["criteria"]}
        assert ref_words and all(w in p["chosen"].lower() for w in ref_words)
        assert p["rubric_noref"]["criteria"]
    assert len(prov["inspect_logs"]) == 4 and all(Path(p).is_file() for p in prov["inspect_logs"])
    md = (figs / "figure3.md").read_text()
    assert "no number (image only)" in md and "written by scripted/keyword" in md
    # a rerun with the same settings renders from the stored rows without running a judge
    monkeypatch.setattr("rareval.evals.judge_alignment.sweep", lambda *a, **k: pytest.fail("recomputed"))
    capsys.readouterr()
    assert cli(args) == 0
    assert "every row is stored" in capsys.readouterr().out
    assert stored(tmp_path, "figure3")["provenance"]["date"] == prov["date"]
    assert cli(["reproduce", "--list", *dirs]) == 0
    assert "scripted judges only (plumbing check)" in capsys.readouterr().out


def test_figure3_building_its_pairs_keeps_every_pair_the_file_already_holds(dirs, tmp_path):
    """`<results>/figure3_pairs.jsonl` may hold pairs built otherwise (`alignment build --out`, another kind or
    generator, an hour of rubrics): a reproduce that builds its own pairs into it adds them, and drops none."""
    from rareval.data.alignment import load_pairs, save_pairs
    from rareval.data.healthbench import load_healthbench
    from rareval.data.rule_pairs import rule_pairs

    path = tmp_path / "results" / "figure3_pairs.jsonl"
    rows = [r for r in load_healthbench(path=UNION) if r.ideal_completion][:40]
    other = [p.model_copy(update={"provenance": p.provenance.model_copy(update={"source_sha256": "0" * 64})})
             for p in rule_pairs(rows, UNION, kind="removed_criteria")[:3]]  # built from another source file
    assert len(other) == 3
    save_pairs(other, path)
    assert cli(["reproduce", "--figure", "3", "--judges", "scripted/keyword", "--generator", "none", "--pairs", "2",
                "--conditions", "likert", *dirs]) == 0
    ids = [p.pair_id for p in load_pairs(path)]
    assert len(ids) == 5 and set(p.pair_id for p in other) <= set(ids)


def test_figure3_judge_settings_reach_the_judges_and_are_not_mixed_with_stored_rows(dirs, tmp_path, capsys):
    """`--judge-config` reaches every judge's task (its log records it); rows stored under other settings are
    not reused for it."""
    from inspect_ai.log import read_eval_log

    args = ["reproduce", "--figure", "3", "--judges", "scripted/keyword", "--generator", "none", "--pairs", "2",
            "--conditions", "likert", *dirs]
    assert cli(args) == 0
    assert cli([*args, "--judge-config", "parse_retries=0", "--judge-config", "max_tokens=64"]) == 0
    assert "every row is stored" not in capsys.readouterr().out  # recomputed under the new settings
    [row] = stored(tmp_path, "figure3")["rows"]
    assert row["judge_config"] == {"parse_retries": 0, "max_tokens": 64}
    recorded = read_eval_log(row["log"]).eval.metadata["judge_config"]
    assert (recorded["parse_retries"], recorded["max_tokens"]) == (0, 64)


def test_figure3_reuses_rows_whose_inputs_are_unchanged_and_draws_an_interrupted_run(dirs, tmp_path, capsys,
                                                                                    monkeypatch):
    """Adding rubrics to a pairs file keeps its Direct-Likert rows (what they read is unchanged); an interrupted
    run keeps its finished rows, --stored-only draws them without running a judge and names each judge ×
    condition not run (kept off the finding), and a rerun computes only what is missing."""
    from rareval.evals import judge_alignment

    plain, with_rubrics = tmp_path / "pairs.jsonl", tmp_path / "pairs_rubrics.jsonl"
    assert cli(["alignment", "build", "--source", str(UNION), "--kind", "removed", "--select", "2",
                "--max-chars", "3000", "--out", str(plain)]) == 0
    base = ["reproduce", "--figure", "3", "--judges", "scripted/keyword,scripted/malformed", "--pairs", "2", *dirs]
    assert cli([*base, "--pairs-file", str(plain), "--conditions", "likert"]) == 0
    likert_logs = [r["log"] for r in stored(tmp_path, "figure3")["rows"]]
    pairs = [json.loads(line) for line in plain.read_text().splitlines()]
    # the first pair's rubric_ref: its physician criteria of one line each (the scripted judge's rating rule reads
    # a rubric line by line; HealthBench's multi-line cluster criteria break it); the second pair's rubric "failed"
    one_line = [{"criteria": [c for c in p["physician_rubric"]["criteria"] if "\n" not in c["text"]]} for p in pairs]
    with_rubrics.write_text("".join(json.dumps(p | {"rubric_ref": one_line[k] if k == 0 else None}) + "\n"
                                    for k, p in enumerate(pairs)))

    real, ran = judge_alignment.sweep, []

    def interrupted(judges, conditions, **kwargs):
        if len(ran) == 1:
            raise KeyboardInterrupt
        ran.append((judges[0], conditions[0]))
        return real(judges, conditions, **kwargs)

    monkeypatch.setattr("rareval.evals.judge_alignment.sweep", interrupted)
    args = [*base, "--pairs-file", str(with_rubrics), "--conditions", "likert,rubric_ref"]
    with pytest.raises(KeyboardInterrupt):
        cli(args)
    assert ran == [("scripted/keyword", "rubric_ref")]  # the likert rows were not recomputed
    assert cli([*args, "--stored-only"]) == 0
    assert len(ran) == 1  # no judge ran
    results = stored(tmp_path, "figure3")
    assert results["settings"]["not_run"] == ["scripted/malformed · rubric_ref"]
    assert [r["log"] for r in results["rows"] if r["condition"] == "likert"] == likert_logs
    shown = {c["item"]: c["ours"] for c in results["comparison"]}
    assert shown["scripted/malformed · rubric_ref accuracy"] == "not run"
    assert shown["scripted/malformed: accuracy(rubric_ref) − accuracy(likert), tie-free, paired 95 % CI"] == "not run"
    assert shown["scripted/keyword: accuracy(rubric_ref) − accuracy(likert), tie-free, paired 95 % CI"] == \
        "no tie-free reading: the judge returned no logprobs"  # read (a pair without the rubric is unscored there,
    # not an error), but its integer ratings are no tie-free reading
    row = next(r for r in results["rows"] if r["condition"] == "rubric_ref")
    assert (row["n_scored"], row["unscored"]) == (1, 1)
    assert "rubric_ref: 1 of 2 pairs have none" in " ".join(results["notes"])
    assert "Not run (--stored-only" in (tmp_path / "figs" / "figure3.md").read_text()
    capsys.readouterr()
    assert cli(["reproduce", "--list", *dirs]) == 0
    assert "not run: scripted/malformed · rubric_ref" in capsys.readouterr().out
    monkeypatch.setattr("rareval.evals.judge_alignment.sweep", lambda j, c, **k: ran.append((j[0], c[0])) or
                        real(j, c, **k))
    assert cli(args) == 0
    assert ran[1:] == [("scripted/malformed", "rubric_ref")]
    assert "not_run" not in stored(tmp_path, "figure3")["settings"]


def test_figure3_paper_scale_prints_the_plan_only(dirs, tmp_path, capsys):
    assert cli(["reproduce", "--figure", "3", "--scale", "paper", "--price-per-mtok", "0.5", *dirs]) == 0
    out = capsys.readouterr().out
    assert "3,027 degraded pairs" in out and "vllm/Qwen/Qwen2.5-72B-Instruct · rubric_noref" in out
    assert "judge calls" in out and "at $0.5/Mtok" in out and "plan only" in out
    assert not (tmp_path / "results").exists()
    assert cli(["reproduce", "--figure", "3", "--plan", "--judges", "scripted/keyword", *dirs]) == 0
    out = capsys.readouterr().out
    assert "ideal ≻ reference pairs" in out and "rubric_ref + rubric_noref by local/qwen-1.5b" in out
    assert "judge scripted/keyword · rubric_noref" in out
    assert cli(["reproduce", "--figure", "3", "--plan", "--generator", "none", "--judges", "scripted/keyword",
                *dirs]) == 0
    assert "skipped with --generator none: rubric_ref, rubric_noref" in capsys.readouterr().out
    assert not (tmp_path / "results").exists()
    assert cli(["reproduce", "--figure", "3", "--scale", "paper", "--run", *dirs]) == 1
    assert "needs --pairs-file" in capsys.readouterr().err


def test_training_artifacts_render_the_paper_column_and_say_what_they_need(dirs, tmp_path, capsys):
    assert cli(["reproduce", "--table", "1", *dirs]) == 1
    err = capsys.readouterr().err
    assert "needs GRPO training runs" in err and "rar-implicit-human" in err
    assert "| RaR-Implicit-Synthetic | 35.9 | — | — |" in (tmp_path / "figs" / "table1.md").read_text()
    assert not (tmp_path / "results" / "table1.json").exists()
    assert cli(["reproduce", "--table", "11", "--scale", "paper", *dirs]) == 0
    assert "train --preset rar-implicit@paper" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--table", "12"], "unknown artifact 'table12'"), (["--figure", "1"], "overview diagram"),
    ([], "give --figure N"), (["--figure", "3", "--conditions", "likert,nope"], "unknown condition(s) nope"),
    (["--figure", "3", "--pairs", "0"], "--pairs:"), (["--figure", "3", "--pairs-file", "no.jsonl"], "no such file"),
])
def test_clear_one_line_errors(dirs, capsys, args, message):
    assert cli(["reproduce", *args, *dirs]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_rubric_table_at_paper_scale_from_a_local_rar_snapshot(dirs, tmp_path, capsys):
    snapshot = tmp_path / "rar-medicine"
    snapshot.mkdir()
    rubric = [{"title": "t", "description": f"{c} Criteria: mentions 'x{i}'.", "weight": w}
              for i, (c, w) in enumerate([("Essential", 5), ("Important", 3), ("Optional", 1), ("Pitfall", -2)])]
    for split, n in [("train", 3), ("val", 1), ("test", 5)]:  # the paper counts train + val
        rows = [{"question": "one two three four", "reference_answer": "r", "question_source": "s",
                 "rubric": rubric} for _ in range(n)]
        (snapshot / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["reproduce", "--table", "5", "--scale", "paper", "--rar-path", str(snapshot), *dirs]
    assert cli(args) == 0 and not (tmp_path / "results").exists()  # plan only
    assert cli([*args, "--run"]) == 0
    results = stored(tmp_path, "table5")
    assert results["scale"] == "paper" and results["ours"]["examples"] == 4
    assert [r["ours"] for r in results["comparison"][::2]] == [4, 4, 4, 4]
    assert len(results["provenance"]["data"]) == 2 and "stand in" not in " ".join(results["notes"])


def test_figure3_a_judge_that_reads_nothing_is_no_reading_not_an_error(dirs, tmp_path):
    """A judge whose every rating is unreadable (as Gemma-3-270M's) gives a row of unscored pairs, shown as
    "no reading" and kept off the finding; the other judges' rows are computed."""
    args = ["reproduce", "--figure", "3", "--judges", "scripted/malformed,scripted/keyword", "--generator", "none",
            "--pairs", "2", "--conditions", "likert", *dirs]
    assert cli(args) == 0
    results = stored(tmp_path, "figure3")
    mute = next(r for r in results["rows"] if r["judge"] == "scripted/malformed")
    assert mute["n_scored"] == 0 and mute["unscored"] == 2
    shown = {c["item"]: c["ours"] for c in results["comparison"]}
    assert shown["scripted/malformed · likert accuracy"] == "no reading"
    assert isinstance(shown["scripted/keyword · likert accuracy"], float)
