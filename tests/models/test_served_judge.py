"""A judge served by llama.cpp's OpenAI-compatible server, reached through Inspect's `openai-api/` provider,
judges as the same GGUF in process (`local/NAME`): the same verdicts, with the same thresholds.

SmolLM2-135M runs in CI; Qwen2.5-1.5B (calibrated thresholds) runs with `-m slow` once installed
(`rareval models install qwen-1.5b`).
"""

import asyncio
from pathlib import Path

import pytest
from inspect_ai.model import get_model

from rareval.data.healthbench import load_healthbench
from rareval.judge import Judge, JudgeConfig
from tests.conftest import SHARED
from tests.reliability.llama_server import LlamaServer

GRADED = SHARED / "data" / "healthbench" / "github_m42_sample_judge_responses_dev50.jsonl"


def judge_rows(judge: Judge, rows) -> list:
    async def all_rows():
        out = []
        for row in rows:  # one row at a time: the server answers one request at a time
            verdicts, _ = await judge.criteria([m.model_dump() for m in row.prompt], row.prompt_response, row.rubric)
            out += verdicts
        return out
    return asyncio.run(all_rows())


def compare(name: str, rows: int, tmp_path) -> tuple[Judge, Judge, list, list]:
    from rareval.models.catalog import get
    from rareval.models.install import ModelNotInstalledError, resolve

    try:
        path = resolve(name)
    except ModelNotInstalledError:
        pytest.skip(f"{name} is not installed: rareval models install {name}")
    by_length = sorted(load_healthbench(path=GRADED), key=lambda r: sum(len(m.content) for m in r.prompt)
                       + len(r.prompt_response))
    data = by_length[:rows]  # the shortest: every criterion is a full prompt on one llama.cpp thread
    local = Judge(f"local/{name}", config=JudgeConfig(cache=False), model_args={"n_threads": 1})
    in_process = judge_rows(local, data)
    with_server = LlamaServer(path, tmp_path / "server.log", alias=get(name).file, n_ctx=4096).start()
    try:
        served = Judge(get_model(f"openai-api/llamacpp/{get(name).file}", base_url=f"{with_server.url}/v1",
                                 api_key="not-needed"), config=JudgeConfig(cache=False))
        over_http = judge_rows(served, data)
    finally:
        with_server.stop()
    return local, served, in_process, over_http


def agreement(a: list, b: list) -> float:
    assert len(a) == len(b) and all(v.met is not None for v in a + b)
    return sum(x.met == y.met for x, y in zip(a, b)) / len(a)


def test_a_served_smollm_judges_as_in_process(tmp_path):
    local, served, in_process, over_http = compare("smollm-135m", 2, tmp_path)
    assert served.thresholds == local.thresholds
    assert agreement(in_process, over_http) >= 0.99
    assert all(abs(x.p_raw - y.p_raw) < 0.02 for x, y in zip(in_process, over_http))


@pytest.mark.slow
def test_a_served_qwen_keeps_its_calibration_and_its_verdicts(tmp_path, monkeypatch):
    monkeypatch.setenv("RAREVAL_CACHE_DIR", str(Path.home() / ".cache" / "rareval"))  # where it is installed
    local, served, in_process, over_http = compare("qwen-1.5b", 2, tmp_path)
    assert served.thresholds == local.thresholds != {"default": 0.5}  # the calibration came with the weights
    assert agreement(in_process, over_http) >= 0.99
