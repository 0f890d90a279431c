"""The GRPO overhead benchmark's code path: the three rewards through TRL's real trainer, a few steps."""

import importlib.util

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("grpo_overhead", REPO / "benchmarks/grpo_overhead.py")
grpo_overhead = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grpo_overhead)


def test_benchmark_runs_every_reward(capsys):
    result = grpo_overhead.main(["--steps", "3", "--batched"])
    assert result["policy"] == "tiny" and result["trivial_step_s"] > 0
    assert result["rubric"]["step_s"] > 0 and result["rubric-batched"]["step_s"] > 0
    assert result["rubric"]["judge_calls_per_step"] == 16 * 3  # 16 completions × 3 criteria, no verdict cache
    assert result["rubric-batched"]["judge_calls_per_step"] == 16  # one call per completion
    assert 0 < result["bare_inspect_call_s"] < 1  # what one bare Inspect call to the scripted judge costs
    out = capsys.readouterr().out
    assert "median step time" in out and "rubric-batched:" in out and "bare Inspect Model.generate" in out
