"""The leaderboard-mode cost projection on the real union file: counts add up and scale with the inputs."""

import importlib.util

import pytest

from tests.conftest import REPO, SHARED

spec = importlib.util.spec_from_file_location("healthbench_cost", REPO / "benchmarks/healthbench_cost.py")
healthbench_cost = importlib.util.module_from_spec(spec)
spec.loader.exec_module(healthbench_cost)
UNION = SHARED / "data/healthbench/healthbench_offline_union.jsonl"


def test_projection_counts_every_criterion_and_prices_tokens(capsys):
    base = healthbench_cost.main(["--data", str(UNION), "--rows", "1000"])
    assert base["rows_read"] == 754 and base["calls_per_row"] == pytest.approx(8989 / 754)
    assert base["calls"] == pytest.approx(1000 * 8989 / 754)
    # the template alone is ~800 tokens: every call costs more than that
    assert base["input_tokens_per_call"] > 800
    cost = base["input_tokens"] / 1e6 * 2.0 + base["output_tokens"] / 1e6 * 8.0
    assert base["cost_usd"] == pytest.approx(cost)
    longer = healthbench_cost.main(["--data", str(UNION), "--rows", "1000", "--response-chars", "8000"])
    assert longer["input_tokens"] > base["input_tokens"] and "projected to 1,000 rows" in capsys.readouterr().out
