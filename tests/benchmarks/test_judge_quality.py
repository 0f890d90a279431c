"""The judge-quality benchmark's code path on two graded rows with the smallest embedded model."""

import importlib.util
import json
import math

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("judge_quality", REPO / "benchmarks/judge_quality.py")
judge_quality = importlib.util.module_from_spec(spec)
spec.loader.exec_module(judge_quality)


def test_benchmark_runs_on_two_rows(tmp_path, capsys):
    out = tmp_path / "jq.json"
    summaries = judge_quality.main(["--limit", "2", "--judge", "local/smollm-135m", "--modes", "per-criterion",
                                    "batched", "--calibrate", "--out", str(out), "--log-dir", str(tmp_path / "logs")])
    modes = [s["mode"] for s in summaries]
    assert modes == ["per-criterion", "batched", "per-criterion, cached rerun"]
    per, batched, rerun = summaries
    n = per["criteria"]
    assert n == batched["criteria"] > 0 and per["responses"] == 2
    assert 0 <= per["agreement"] <= 1 and 0 <= per["abstained"] <= n
    assert per["calls"] >= n / 2 and batched["calls"] >= 1
    assert per["billed_tokens"] > per["computed_tokens"] > 0  # prefix reuse is counted
    assert rerun["calls"] == 0 and rerun["cache_hits"] == per["calls"]  # the verdict cache
    assert rerun["agreement"] == per["agreement"]
    assert per["auc"] is None or 0 <= per["auc"] <= 1
    printed = capsys.readouterr().out
    assert "| local/smollm-135m | per-criterion |" in printed and "best threshold" in printed
    saved = json.loads(out.read_text())
    assert len(saved["results"][0]["samples"]) == 2 and not math.isnan(saved["summaries"][0]["seconds"])


def test_file_without_grader_verdicts_is_named(tmp_path):
    import pytest

    bad = tmp_path / "rows.jsonl"
    bad.write_text((REPO / "rareval/data/healthbench_sample.jsonl").read_text().splitlines()[0] + "\n")
    with pytest.raises(SystemExit, match=r"rows.jsonl: line 1 .*responses"):
        judge_quality.main(["--data", str(bad), "--limit", "1", "--modes", "per-criterion"])


def test_batched_slots_read_with_a_real_tokenizer(tmp_path):
    """One call per response; the answer slots are found in SmolLM2's own prompt tokens."""
    [slots] = judge_quality.main(["--offset", "8", "--limit", "1", "--judge", "local/smollm-135m",
                                 "--modes", "batched-slots", "--log-dir", str(tmp_path / "logs")])
    assert slots["mode"] == "batched-slots" and slots["calls"] == 1 and slots["criteria"] > 0
    assert slots["abstained"] < slots["criteria"]  # at least one slot read from prompt_logprobs
    assert slots["billed_tokens"] == slots["computed_tokens"] > 0  # the prompt is evaluated afresh
