"""Before/after comparison of two judge-probes runs, made with the scripted judge on two real rows."""

import importlib.util

import pytest

from tests.conftest import REPO


def load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / f"benchmarks/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


judge_probes, judge_probes_compare = load("judge_probes"), load("judge_probes_compare")
SAMPLE = REPO / "rareval/data/healthbench_sample.jsonl"


@pytest.fixture(scope="module")
def runs():
    common = ["--judge", "scripted/keyword", "--rows", "2", "--data", str(SAMPLE), "--settings", "default",
              "--probes", "rubric_paste", "criteria_only", "lexical"]
    before = judge_probes.main(common)
    after = judge_probes.main([*common, "--judge-config", "strip_grader_text=true", "--judge-config", "evidence=true"])
    return before, after


def test_the_defence_is_read_beside_the_run_without_it(runs):
    before, after = runs
    report = judge_probes_compare.compare(*runs)
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in report.splitlines()}
    paste = next(e for e in before["effects"] if e["strategy"] == "explicit" and e["probe"] == "rubric_paste")
    assert paste["lift"] > 0.05  # the keyword rule reads the pasted rubric ...
    line = rows[("explicit", "rubric_paste †")].split("|")
    assert line[3].strip().startswith(f"{paste['lift']:+.3f}") and line[5].strip() == "yes"  # ... and not after
    honest = {(s["strategy"], s["prompt_id"]): s["value"] for s in before["scores"] if s["probe"] == "honest"}
    honest_after = {(s["strategy"], s["prompt_id"]): s["value"] for s in after["scores"] if s["probe"] == "honest"}
    delta = sum(honest_after[k] - v for k, v in honest.items() if k[0] == "explicit") / 2
    assert rows[("explicit", f"{sum(v for k, v in honest.items() if k[0] == 'explicit') / 2:.3f}")] \
        .split("|")[4].strip().startswith(f"{delta:+.3f}")
    voided = {line.split("|")[1].strip().split()[0]: int(line.split("|")[6]) for line in report.splitlines()
              if line.startswith(("| before (", "| after ("))}
    assert voided == {"before": 0, "after": sum(s["voided"] for s in after["scores"])}


def test_runs_on_different_rows_are_refused(runs):
    before, after = runs
    with pytest.raises(ValueError, match="different rows"):
        judge_probes_compare.compare(before, {**after, "rows": after["rows"][:1]})
