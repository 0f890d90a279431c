"""A `vllm/` judge reached at a server's base_url keys its verdicts with that server from its first question on.

Inspect's vllm provider connects lazily, inside its first ``generate()``; a key read before then has no endpoint.
The same question then gets two keys (asked, and paid, twice), and two servers of one model name share the
verdicts keyed before their first call. Each run below is its own process, as a rank or a resumed run is: Inspect
keeps one connection per vLLM model name per process.
"""

import asyncio
import json
import os
import subprocess
import sys

import pytest
from inspect_ai.model import GenerateConfig

from rareval.judge import Judge
from rareval.judge.cache import VerdictCache
from tests.conftest import REPO, SHARED, hb_rubric
from tests.judge.fake_providers import FakeServedJudge

GRADED = SHARED / "data" / "healthbench" / "github_m42_sample_judge_responses_dev50.jsonl"
CONVERSATION = [{"role": "user", "content": "I have a fever, what should I drink?"}]


def test_the_first_question_is_keyed_with_the_server(tmp_path, monkeypatch):
    """One judge asks one question twice, the second time after its first call: the server answers it once."""
    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    criterion = hb_rubric((5, "Recommends drinking water"))[0]
    with FakeServedJudge(model="cache-key-judge") as server:
        judge = Judge(f"vllm/{server.model}", model_args={"base_url": server.base_url},
                      cache=VerdictCache(tmp_path / "verdicts.sqlite"))

        async def twice():
            first, _ = await judge.criterion(CONVERSATION, "Drink plenty of water.", criterion)
            again, _ = await judge.criterion(CONVERSATION, "Drink plenty of water.", criterion)
            return first, again
        first, again = asyncio.run(twice())
    assert first.met is True and not first.cached
    assert again.met is True and again.cached and len(server.judged) == 1


def calibrate_run(server: FakeServedJudge, cache, out) -> subprocess.CompletedProcess:
    """`rareval judge calibrate` with ``server`` as a vllm/ judge, in a process of its own, sharing ``cache``."""
    env = {**os.environ, "RAREVAL_VERDICT_CACHE": str(cache)}
    env.pop("VLLM_BASE_URL", None)
    return subprocess.run([sys.executable, "-m", "rareval.cli", "judge", "calibrate", "--judge",
                           f"vllm/{server.model}", "--judge-arg", f"base_url={server.base_url}", "--data", str(GRADED),
                           "--limit", "2", "--fit-rows", "1", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow  # three processes of `rareval judge calibrate`: ~1-2 min on 2 shared cores
def test_two_servers_of_one_model_name_do_not_share_verdicts_and_a_rerun_asks_nothing(tmp_path):
    cache = tmp_path / "verdicts.sqlite"
    with FakeServedJudge(delay=0.01) as one, FakeServedJudge(delay=0.01) as two:
        first = calibrate_run(one, cache, tmp_path / "one.json")
        assert first.returncode == 0, first.stderr
        questions = len(one.judged)
        assert questions == json.loads((tmp_path / "one.json").read_text())["fitted_on"]["criteria"] + json.loads(
            (tmp_path / "one.json").read_text())["reported_on"]["criteria"]
        other = calibrate_run(two, cache, tmp_path / "two.json")  # the same model name on another server
        assert other.returncode == 0, other.stderr
        assert len(two.judged) == questions  # every question asked of it: none answered by the first server
        rerun = calibrate_run(one, cache, tmp_path / "again.json")  # --resume, or the same run again
        assert rerun.returncode == 0, rerun.stderr
        assert len(one.judged) == questions  # nothing asked again


def test_a_server_inspect_starts_is_keyed_by_what_it_was_given_not_its_random_port(monkeypatch):
    """With no base_url and no VLLM_BASE_URL, Inspect starts a vLLM server on a random port (30000-40000) at the
    first call: a key with that port would differ on every run and every rank, so nothing would be reused."""
    from inspect_ai.model import get_model

    from rareval.judge.generation import cache_key_parts, endpoint

    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    gen = GenerateConfig(temperature=0.0)
    started = get_model("vllm/started-by-inspect").api
    before = cache_key_parts(gen, started)
    started.base_url = "http://localhost:39413/v1"  # what _ensure_server_started sets once it has started one
    assert cache_key_parts(gen, started) == before and endpoint(started) is None
    monkeypatch.setenv("VLLM_BASE_URL", "http://gpu-node:8000/v1")
    assert endpoint(get_model("vllm/from-the-environment").api) == "http://gpu-node:8000/v1"
    given = get_model("vllm/given", base_url="http://127.0.0.1:8001/v1").api
    assert endpoint(given) == "http://127.0.0.1:8001/v1"
