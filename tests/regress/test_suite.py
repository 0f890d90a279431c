"""Suite files: validation, errors that name the file and field, paths, fingerprints."""

import pytest

from rareval.regress.errors import RegressUsageError
from rareval.regress.suite import GPQALikelihoodTask, HealthBenchTask, Suite, load_suite
from tests.regress.conftest import write_suite


def test_a_suite_file_loads_with_paths_from_its_folder(tmp_path):
    suite = load_suite(write_suite(tmp_path, limit=4, extra_tasks="  - {kind: gpqa_likelihood, path: g.zip}\n"))
    hb, ll = suite.tasks
    assert isinstance(hb, HealthBenchTask) and hb.limit == 4 and hb.path == str(tmp_path / "rows.jsonl")
    assert isinstance(ll, GPQALikelihoodTask) and ll.name == "gpqa_likelihood" and ll.path == str(tmp_path / "g.zip")
    assert suite.verdict_cache == str(tmp_path / "verdicts.sqlite")
    assert suite.judge.model == "scripted/keyword" and suite.alpha == 0.05 and suite.min_effect == 0.2


def test_the_fingerprint_pins_what_decides_the_scores_not_the_decision_rule(tmp_path):
    a = load_suite(write_suite(tmp_path))
    assert a.fingerprint().startswith("tiny-gate@")
    assert a.fingerprint() == load_suite(write_suite(tmp_path)).fingerprint()
    assert load_suite(write_suite(tmp_path, min_effect=0.5)).fingerprint() == a.fingerprint()
    assert load_suite(write_suite(tmp_path, limit=3)).fingerprint() != a.fingerprint()
    assert a.model_copy(update={"seed": 1}).fingerprint() != a.fingerprint()
    assert a.model_copy(update={"alpha": 0.01, "resamples": 500}).fingerprint() == a.fingerprint()


@pytest.mark.parametrize("text,field,message", [
    ("tasks:\n  - {kind: healthbench, limit: 0}\njudge: {model: scripted/keyword}\n", "tasks.0.limit",
     "greater than or equal to 1"),
    ("alpha: 2\n", "alpha", "less than 1"),
    ("tasks:\n  - {kind: mmlu}\n", "tasks.0", "tag 'mmlu'"),
    ("tasks:\n  - {kind: healthbench}\n", "(top level)", "need a judge"),
    ("judge: {model: x/y, prompt_version: abc}\n", "judge.prompt_version", "Extra inputs"),
    ("tasks:\n  - {kind: gpqa_likelihood}\n  - {kind: gpqa_likelihood}\n", "(top level)", "unique"),
])
def test_bad_fields_are_named(tmp_path, text, field, message):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    with pytest.raises(RegressUsageError) as err:
        load_suite(path)
    assert f"file {path}" in str(err.value) and f"field '{field}'" in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(RegressUsageError, match="missing.yaml: cannot read the suite"):
        load_suite(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("tasks: [\n")
    with pytest.raises(RegressUsageError, match="bad.yaml: not valid YAML"):
        load_suite(tmp_path / "bad.yaml")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(RegressUsageError, match="a suite is a mapping"):
        load_suite(tmp_path / "list.json")


def test_defaults_need_no_file():
    suite = Suite()
    assert suite.tasks == [] and suite.judge is None and suite.alpha == 0.05 and suite.power == 0.8
    assert suite.task("x") is None


def test_the_ci_example_suite_is_valid_and_pins_the_installed_judge_prompt():
    import yaml

    from rareval.cli import build_parser
    from rareval.regress.run import check_prompt_versions
    from tests.conftest import REPO

    suite = load_suite(REPO / "examples" / "ci" / "suite.yaml")
    assert [t.kind for t in suite.tasks] == ["healthbench", "gpqa", "gpqa_likelihood"]
    check_prompt_versions(suite)  # fails when a judge prompt changes without re-pinning the example
    workflow = yaml.safe_load((REPO / "examples" / "ci" / "regress.yml").read_text())
    gate = next(s["run"] for s in workflow["jobs"]["gate"]["steps"] if s.get("id") == "gate")
    command = gate[gate.index("rareval regress"):].replace("\\\n", " ").split()
    args = build_parser().parse_args([a.strip('"') for a in command[1:]])
    assert args.suite == "examples/ci/suite.yaml" and args.json == "regress.json"


def test_judge_settings_are_pinned_and_where_it_is_served_is_not(tmp_path):
    import hashlib
    import json

    plain = load_suite(write_suite(tmp_path))
    # a suite without judge settings keeps the fingerprint it had before the judge took settings
    before = plain.model_dump(mode="json", include={"name", "seed", "judge", "tasks", "generation_batch"})
    del before["judge"]["config"], before["judge"]["args"]
    old = f"{plain.name}@{hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:10]}"
    assert plain.fingerprint() == old
    served = plain.model_copy(update={"judge": plain.judge.model_copy(update={"args": {"base_url": "http://x"}})})
    assert served.fingerprint() == plain.fingerprint()

    def with_judge_config(name: str, config: str):
        path = tmp_path / name
        path.write_text((tmp_path / "tiny-gate.yaml").read_text().replace("judge:\n", f"judge:\n  config: {config}\n"))
        return path

    set_up = load_suite(with_judge_config("set.yaml", "{on_failure: not_met}"))
    assert set_up.judge.config == {"on_failure": "not_met"} and set_up.fingerprint() != plain.fingerprint()
    with pytest.raises(RegressUsageError, match="on_falure"):
        load_suite(with_judge_config("bad.yaml", "{on_falure: not_met}"))


def test_the_coverage_tolerance_is_a_documented_decision_rule_not_pinned(tmp_path):
    suite = load_suite(write_suite(tmp_path, coverage_tolerance=0.1))
    assert suite.coverage_tolerance == 0.1 and Suite().coverage_tolerance == 0.02
    assert suite.fingerprint() == load_suite(write_suite(tmp_path)).fingerprint()
    assert "share of items scored" in Suite.model_fields["coverage_tolerance"].description
    (tmp_path / "bad.yaml").write_text("coverage_tolerance: -0.1\n")
    with pytest.raises(RegressUsageError, match="field 'coverage_tolerance'.*greater than or equal to 0"):
        load_suite(tmp_path / "bad.yaml")
