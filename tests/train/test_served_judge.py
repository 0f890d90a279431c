"""A judge served apart from training: `rareval train` reaches it through --judge-arg base_url and never starts
one, for Inspect's vllm/ and openai-api/ providers; --judge-config max_connections bounds each rank's calls."""

import json

import pytest

from rareval.cli import main as cli
from rareval.train.monitor import read_metrics
from tests.judge.fake_providers import FakeServedJudge
from tests.train.test_run import save_tiny_policy, write_train_rows


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    save_tiny_policy(root / "policy")
    return root, write_train_rows(root / "rows.jsonl")


@pytest.mark.parametrize("provider", ["vllm", "openai-api/served"])
def test_a_served_judge_is_reached_not_started(setup, provider, monkeypatch):
    root, data = setup
    monkeypatch.setenv("SERVED_API_KEY", "sk-served")  # openai-api/<service>/ reads <SERVICE>_API_KEY
    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    out = root / provider.replace("/", "-")
    with FakeServedJudge() as server:
        assert cli(["train", "--preset", "rar-explicit@tiny", "--set", "rubric_source=physician", "--policy",
                    str(root / "policy"), "--judge", f"{provider}/{server.model}", "--judge-arg",
                    f"base_url={server.base_url}", "--judge-config", "max_connections=2", "--data", str(data),
                    "--out", str(out), "--set", "max_steps=2"]) == 0
    metrics = read_metrics(out / "metrics.jsonl")
    calls = metrics[-1]["judge/calls"]
    # every judge call of the run went to the server: 2 steps × 8 completions × 3 criteria, less repeats
    assert 0 < calls == len(server.judged) and calls + metrics[-1]["judge/cached"] == 2 * 8 * 3
    assert server.max_in_flight == 2  # concurrent, and never more than this rank's max_connections
    assert all(b["logprobs"] and b["max_tokens"] == 1 for b in server.judged)  # the yes/no question, read by P(yes)
    recorded = json.loads((out / "config.json").read_text())["run"]
    assert recorded["judge_args"] == {"base_url": server.base_url} and recorded["judge_config"] == {
        "max_connections": 2}
    assert metrics[-1]["rubric/judge_failure_rate"] == 0
