"""The GRPO overhead benchmark's code path: both rewards through TRL's real trainer, a few steps."""

import importlib.util

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("grpo_overhead", REPO / "benchmarks/grpo_overhead.py")
grpo_overhead = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grpo_overhead)


def test_benchmark_runs_both_rewards(capsys):
    result = grpo_overhead.main(["--steps", "3"])
    assert result["trivial_step_s"] > 0 and result["rubric_step_s"] > 0
    assert result["judge_calls_per_step"] == 16 * 3  # 16 completions × 3 criteria, no verdict cache
    assert 0 < result["bare_inspect_call_s"] < 1  # what one bare Inspect call to the scripted judge costs
    out = capsys.readouterr().out
    assert "median step time" in out and "bare Inspect Model.generate" in out
