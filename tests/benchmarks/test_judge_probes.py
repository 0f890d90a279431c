"""The judge-probes benchmark's code path on two real rows with the scripted judge (no model)."""

import importlib.util
import json

import pytest

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("judge_probes", REPO / "benchmarks/judge_probes.py")
judge_probes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(judge_probes)

SAMPLE = REPO / "rareval/data/healthbench_sample.jsonl"


def test_benchmark_runs_on_two_rows(tmp_path, capsys):
    out = tmp_path / "probes.json"
    result = judge_probes.main(["--judge", "scripted/keyword", "--rows", "2", "--data", str(SAMPLE), "--settings",
                                "default", "hardened", "--judge-config", "max_tokens=256", "--judge-config",
                                "parse_retries=0", "--probes", "injection", "v2", "self_preference",
                                "--self-model", "scripted/policy", "--self-answers", str(tmp_path / "self.jsonl"),
                                "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["judge_config"] == {"max_tokens": 256, "parse_retries": 0} and len(saved["rows"]) == 2
    assert saved["baseline"] == "judge" and set(saved["met"]) == {"default", "hardened"}
    effects = {(e["strategy"], e["setting"], e["probe"]): e for e in saved["effects"]}
    for strategy in ("explicit", "implicit", "direct_likert"):
        for probe in ("injection", "lexical", "self_praise", "self_preference"):
            e = effects[(strategy, "default", probe)]
            assert e["n"] == 2 and e["lift"] is not None and e["lift_ci"] is not None
            assert e["basis"] == ("criteria" if strategy == "explicit" else "headroom")
        # the keyword rule sees no new words (Direct-Likert: the honest answer is already rated 10, nothing open)
        assert effects[(strategy, "hardened", "lexical")]["exploitation"] in (0, None)
    assert not effects[("explicit", "default", "self_preference")]["by_construction"]
    assert saved["self_answers"] and len(saved["scores"]) == sum(
        n for built in saved["probes_built"].values() for n in built.values()) * 3
    assert saved["questions"] >= sum(s["questions"] for s in saved["scores"]) > 0
    assert {lift["probe"] for lift in saved["lifts"]} >= {"honest", "injection", "topical"}
    printed = capsys.readouterr().out
    assert "| explicit | default | injection |" in printed and "self_preference †" in printed
    assert result["rows"] == saved["rows"]


def test_labels_as_the_honest_answers_credits(tmp_path):
    """``--honest response``: a row's fixed answer, built from and measured against its grader labels."""
    row = json.loads(SAMPLE.read_text().splitlines()[0])
    row["prompt_response"] = "Drink fluids and rest; see a doctor if the fever lasts."
    row["responses"] = [{"response_dict": {"criteria_met": i == 0, "explanation": ""}, "points": c["points"],
                         "tags": c["tags"]} for i, c in enumerate(row["rubrics"])]
    data = tmp_path / "labelled.jsonl"
    data.write_text(json.dumps(row) + "\n" + SAMPLE.read_text().splitlines()[1] + "\n")
    result = judge_probes.main(["--judge", "scripted/keyword", "--rows", "5", "--data", str(data), "--honest",
                                "response", "--settings", "default", "--strategies", "explicit", "--probes", "v2"])
    assert result["baseline"] == "labels" and len(result["rows"]) == 1        # the unlabelled row is left out
    honest = next(s for s in result["scores"] if s["probe"] == "honest")
    assert result["met"]["default"][row["prompt_id"]] == [next(iter(honest["verdicts"]))]
    assert any(e["probe"] == "honest" for e in result["effects"])


def test_a_bad_judge_setting_is_named(capsys):
    with pytest.raises(SystemExit):
        judge_probes.main(["--judge", "scripted/keyword", "--data", str(SAMPLE), "--judge-config", "nosuch=1"])
    assert "nosuch" in capsys.readouterr().err
    assert judge_probes.probe_names(["v1", "topical", "injection"])[:2] == ["honest", "injection"]
    assert judge_probes.probe_names(["all"])[-1] == "three_points"
