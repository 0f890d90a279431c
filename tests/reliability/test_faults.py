"""Fault injection: a real llama.cpp judge server behind the fault proxy, during evaluation and training.

Scenarios (SmolLM2-135M served by ``python -m llama_cpp.server`` on 127.0.0.1, reached through
Inspect's ``openai-api/`` provider and :class:`~rareval.reliability.faultproxy.FaultProxy`):

* a HealthBench evaluation (two real rows) whose judge answers are broken — timeouts, 5xx,
  resets, truncated, malformed and choice-less bodies — and whose server is killed mid-run,
  then restarted and the evaluation run again;
* RubricReward inside a GRPO step (the tiny test policy), with broken judge answers, then the
  same completions scored again once the faults stop.

What must hold: a failure is never a verdict (every verdict's P(yes) is one the server actually
delivered intact, and every abstention stays out of the score); abstentions are counted where
the evaluation and the reward report them; once the server is back, running again completes
with no verdict lost and no verdict paid twice (the verdict cache). The CI-sized tests shorten
Inspect's retry back-off to 0.2 s; the slow ones keep it.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from rareval.judge.cache import VerdictCache
from rareval.judge import Judge, JudgeConfig
from rareval.reliability.faultproxy import FAULT_KINDS, FaultPlan, FaultProxy
from rareval.rubric import Rubric
from rareval.strategies import score
from tests.conftest import REPO

SAMPLE = REPO / "rareval" / "data" / "healthbench_sample.jsonl"
#: The bundled sample's rows with the fewest criteria (3 each) and short prompts.
CI_ROWS = ("2fc9136c-4768-4965-b805-a98b9c571a05", "d6734413-af6d-4f02-99eb-f62d079b819e")
#: One of each fault among the first requests (the CI run is too short for rates to be reliable).
CI_SCHEDULE = ["status_5xx", "ok", "empty_choices", "truncated", "ok", "reset", "malformed", "timeout"]


@pytest.fixture
def quick_backoff(monkeypatch):
    """Inspect's retry back-off (3 s, doubling) shortened to 0.2 s for the CI-sized runs."""
    from inspect_ai.model._providers.openai_compatible import OpenAICompatibleAPI
    from tenacity import wait_fixed

    monkeypatch.setattr(OpenAICompatibleAPI, "retry_wait", lambda self: wait_fixed(0.2))


def grader(proxy: FaultProxy):
    """The judge model: the llama.cpp server through the proxy (no retries inside the OpenAI client)."""
    return get_model("openai-api/llamacpp/smollm", base_url=proxy.base_url, api_key="not-needed", max_retries=0,
                     memoize=False)


def rows_file(tmp_path, ids) -> str:
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").split("\n")
             if line.strip() and json.loads(line)["prompt_id"] in ids]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def delivered_p_yes(proxy: FaultProxy) -> list[float]:
    """P(yes) of every intact answer the proxy delivered, read as the judge reads it."""
    from inspect_ai.model import Logprob, TopLogprob

    from rareval.judge.parsing import p_yes

    out = []
    for answer in proxy.delivered_answers():
        content = ((answer.get("choices") or [{}])[0].get("logprobs") or {}).get("content") or []
        if content:
            first = content[0]
            p = p_yes(Logprob(token=first["token"], logprob=first["logprob"],
                              top_logprobs=[TopLogprob(token=t["token"], logprob=t["logprob"])
                                            for t in first.get("top_logprobs") or []]))
            if p is not None:
                out.append(p)
    return out


def from_delivered(p: float, delivered: list[float]) -> bool:
    """A verdict's P(met) is a delivered P(yes), or its complement (a criterion asked in positive form)."""
    return any(math.isclose(p, d, abs_tol=1e-6) or math.isclose(p, 1 - d, abs_tol=1e-6) for d in delivered)


def kill_after(server, proxy: FaultProxy, answers: int) -> threading.Thread:
    """Kill the server (SIGKILL) once it has computed ``answers`` answers."""

    def watch():
        deadline = time.monotonic() + 600
        while proxy.stats.upstream_answers < answers and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def healthbench_run(tmp_path, proxy, path, name):
    log = inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": grader(proxy)},
                       task_args={"path": path}, log_dir=str(tmp_path / name), display="none")[0]
    samples = [] if log.samples is None else log.samples
    metas = [next(iter(s.scores.values())).metadata for s in samples]
    values = [next(iter(s.scores.values())).value for s in samples]
    return log, samples, metas, values


def check_no_failure_scored(samples, metas, values, delivered):
    """Abstentions stay out of every score; every verdict made in this run was delivered intact."""
    for sample, meta, value in zip(samples, metas, values):
        rubric = Rubric.model_validate(sample.metadata["rubric"])
        expected = score("healthbench", rubric, meta["verdicts"])
        assert (value == "N") if expected is None else value == pytest.approx(expected), (meta["verdicts"], value)
        assert meta["abstained"] == sum(v is None for v in meta["verdicts"])
        for p in meta["p_raw"]:
            if p is not None and meta["judge_usage"]["calls"]:
                assert delivered is None or from_delivered(p, delivered), f"verdict P={p} was never delivered"


def evaluation_with_faults_and_a_kill(tmp_path, monkeypatch, server, rows, plan, kill_at):
    """Run 1: faults, then the server killed after ``kill_at`` answers; restart; run 2 on the same cache."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("RAREVAL_VERDICT_CACHE", str(tmp_path / "verdicts.sqlite"))
    path = rows_file(tmp_path, rows)
    with FaultProxy(server.url, plan) as proxy:
        killer = kill_after(server, proxy, kill_at)
        log1, samples1, metas1, values1 = healthbench_run(tmp_path, proxy, path, "run1")
        killer.join(timeout=1)
        during = proxy.stats
        assert log1.status == "success", log1.error  # the run completes: faults and the kill are abstentions
        delivered1 = delivered_p_yes(proxy)
        check_no_failure_scored(samples1, metas1, values1, delivered1)
        questions = sum(len(m["verdicts"]) for m in metas1)
        abstained = sum(m["abstained"] for m in metas1)
        metrics = {k: v.value for k, v in log1.results.scores[0].metrics.items()}
        assert metrics["judge_abstention_rate"] == pytest.approx(abstained / questions)
        assert server.process.poll() is not None and abstained > 0  # killed mid-run: some questions lost

        server.start()
        proxy.set_plan(FaultPlan())
        before = proxy.stats
        log2, samples2, metas2, values2 = healthbench_run(tmp_path, proxy, path, "run2")
        after = proxy.stats
        assert log2.status == "success"
        check_no_failure_scored(samples2, metas2, values2, delivered_p_yes(proxy))
        lost = sum(m["abstained"] for m in metas2)
        calls2 = sum(m["judge_usage"]["calls"] for m in metas2)
        cached2 = sum(m["judge_usage"]["cached"] for m in metas2)
        assert lost == 0                                    # 0 verdicts lost
        assert cached2 == questions - abstained             # what run 1 judged is not asked again ...
        assert after.requests - before.requests == calls2   # ... only what it lost is
        assert after.repeated_deliveries == 0               # 0 verdicts paid twice
        for m1, m2 in zip(metas1, metas2):                  # run 1's verdicts stand
            assert [v for v in m1["verdicts"] if v is not None] == \
                [v2 for v1, v2 in zip(m1["verdicts"], m2["verdicts"]) if v1 is not None]
    return {"rows": len(rows), "questions": questions, "requests": after.requests,
            "faults_injected": during.faults_injected, "faults": during.faults,
            "server_killed": 1, "upstream_unreachable": during.upstream_unreachable,
            "runs": 2, "runs_completed": int(log1.status == "success") + int(log2.status == "success"),
            "abstentions_run1": abstained, "verdicts_lost": lost, "calls_repeated": after.repeated_requests,
            "verdicts_paid_twice": after.repeated_deliveries, "rerun_calls": calls2, "rerun_cached": cached2}


def test_healthbench_evaluation_survives_faults_and_a_killed_server(llama_server, tmp_path, monkeypatch,
                                                                    quick_backoff, figures):
    start = time.monotonic()
    result = evaluation_with_faults_and_a_kill(tmp_path, monkeypatch, llama_server, CI_ROWS,
                                               FaultPlan(schedule=CI_SCHEDULE, hang_s=2), kill_at=3)
    figures["faults_healthbench_ci"] = {**result, "seconds": round(time.monotonic() - start, 1)}


# -- the proxy itself (no model) -----------------------------------------------------------------

ANSWER = {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "yes"}, "finish_reason": "stop"}]}


@pytest.fixture
def upstream():
    """A loopback server answering every POST with one chat completion."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Answer(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(ANSWER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes) -> tuple[int | str, bytes]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    except (http.client.HTTPException, OSError) as e:
        return type(e).__name__, b""
    finally:
        conn.close()


def test_the_proxy_breaks_requests_as_scheduled_and_counts_them(upstream):
    schedule = ["ok", "status_5xx", "reset", "truncated", "malformed", "empty_choices", "timeout", "ok"]
    with FaultProxy(upstream, FaultPlan(schedule=schedule, hang_s=0.5)) as proxy:
        bodies = [b'{"n": 0}'] + [b'{"n": 1}'] * 6 + [b'{"n": 0}']
        got = [post(proxy.base_url, body) for body in bodies]
        stats = proxy.stats
    assert got[0] == (200, json.dumps(ANSWER).encode()) and got[-1] == got[0]
    assert got[1][0] == 503 and got[2][0] in ("RemoteDisconnected", "ConnectionResetError")
    assert got[3][0] == "IncompleteRead" and got[6][0] in ("RemoteDisconnected", "ConnectionResetError")
    assert got[4][0] == 200 and not got[4][1].startswith(json.dumps(ANSWER)[:20].encode()) and b"garbage" in got[4][1]
    assert got[5][0] == 200 and json.loads(got[5][1])["choices"] == []
    assert stats.requests == 8 and stats.faults_injected == 6 and set(stats.faults) == set(FAULT_KINDS)
    assert stats.upstream_answers == 5  # ok ×2, truncated, malformed, empty_choices reached the server
    assert stats.distinct_requests == 2 and stats.repeated_requests == 6
    assert stats.delivered_total == 2 and stats.repeated_deliveries == 1  # '{"n": 0}' answered intact twice


def test_the_proxy_draws_faults_at_seeded_rates_and_fronts_only_loopback(upstream):
    plan = FaultPlan(rates={"status_5xx": 0.5}, seed=3)
    codes = []
    for _ in range(2):
        with FaultProxy(upstream, plan) as proxy:
            codes.append([post(proxy.base_url, b"{}")[0] for _ in range(20)])
            proxy.set_plan(FaultPlan(schedule=["status_5xx"]))
            assert post(proxy.base_url, b"{}")[0] == 503 and post(proxy.base_url, b"{}")[0] == 200
    assert codes[0] == codes[1] and 4 <= codes[0].count(503) <= 16
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("http://example.com:80")
    with pytest.raises(ValueError, match="sum to at most 1"):
        FaultPlan(rates={"reset": 0.7, "timeout": 0.6})


def test_the_proxy_answers_502_when_the_server_is_down():
    from tests.reliability.llama_server import free_port

    with FaultProxy(f"http://127.0.0.1:{free_port()}") as proxy:
        assert post(proxy.base_url, b"{}")[0] == 502
        assert proxy.stats.upstream_unreachable == 1 and proxy.stats.upstream_answers == 0


# -- GRPO ----------------------------------------------------------------------------------

GRPO_RUBRIC = [{"criterion": "Mentions 'water'", "points": 5, "tags": []},
               {"criterion": "Recommends 'antibiotics'", "points": -4, "tags": []}]


def grpo_under_faults(tmp_path, monkeypatch, server, plan, *, steps, batch, config):
    """``steps`` GRPO steps whose reward's judge sits behind the proxy; then the same completions rescored."""
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from rareval.reward import RubricReward
    from tests.test_reward_grpo import QUESTIONS, tiny_model

    scored, returned = [], []  # (prompt, completion, RubricScore) and the reward TRL got, in batch order

    class Recording(RubricReward):
        async def __call__(self, prompts, completions, **columns):
            self.batch = [None] * len(prompts)
            values = await super().__call__(prompts, completions, **columns)
            scored.extend(zip(prompts, completions, self.batch))
            returned.extend(values)
            return values

        async def _score(self, row, *args):
            self.batch[row] = await super()._score(row, *args)
            return self.batch[row]

    torch.set_num_threads(1)
    model, tokenizer = tiny_model(tmp_path)
    cache = tmp_path / "verdicts.sqlite"
    with FaultProxy(server.url, plan) as proxy:
        observed = Recording("healthbench", judge=Judge(grader(proxy), config=config, cache=VerdictCache(cache)))
        data = Dataset.from_list([{"prompt": q, "rubric": GRPO_RUBRIC} for q in QUESTIONS * 4])
        args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=batch, num_generations=2,
                          max_completion_length=8, learning_rate=1e-3, max_steps=steps, use_cpu=True, bf16=False,
                          logging_steps=1, report_to="none", save_strategy="no", seed=0, disable_tqdm=True)
        trainer = GRPOTrainer(model=model, reward_funcs=[observed], args=args, train_dataset=data,
                              processing_class=tokenizer)
        trainer.train()
        during = proxy.stats
        assert trainer.state.global_step == steps  # the step completed

        # a failure is never a reward: None exactly where the judge could not score the row
        assert [s.value for _, _, s in scored] == returned
        delivered = delivered_p_yes(proxy)
        abstained = 0
        for _, _, s in scored:
            abstained += s.abstentions
            for c in s.criteria:
                if c.verdict.p_raw is not None and not c.verdict.cached:
                    assert from_delivered(c.verdict.p_raw, delivered)
            expected = score("healthbench", Rubric.coerce(GRPO_RUBRIC), s.verdicts)
            assert s.value == expected
        logged = [row for row in trainer.state.log_history if "rubric/judge_failure_rate" in row]
        completions, questions = len(scored), len(scored) * len(GRPO_RUBRIC)
        assert sum(r["rubric/judge_failure_rate"] for r in logged) * questions / max(1, len(logged)) == \
            pytest.approx(abstained)
        # TRL leaves an unscored completion out of the reward it logs (never a 0)
        values = [v for v in returned if v is not None]
        if values and len(logged) == 1:
            assert logged[0]["reward"] == pytest.approx(sum(values) / len(values), abs=1e-5)

        # the same completions again, faults over: only what was lost is asked, nothing is paid twice
        proxy.set_plan(FaultPlan())
        before = proxy.stats
        again = RubricReward("healthbench", judge=Judge(grader(proxy), config=config, cache=VerdictCache(cache)))
        prompts, texts = [p for p, _, _ in scored], [c for _, c, _ in scored]
        values2 = asyncio.run(again(prompts, texts, rubric=[GRPO_RUBRIC] * len(prompts)))
        after = proxy.stats
        assert None not in values2                               # 0 verdicts lost
        assert after.requests - before.requests == again.usage.calls == abstained
        assert after.repeated_deliveries == 0                    # 0 verdicts paid twice
    return {"steps": steps, "completions": completions, "questions": questions, "requests": after.requests,
            "faults_injected": during.faults_injected, "faults": during.faults, "runs": 1,
            "runs_completed": int(trainer.state.global_step == steps), "abstentions": abstained,
            "unscored_completions": sum(v is None for v in returned), "verdicts_lost": 0,
            "calls_repeated": after.repeated_requests, "verdicts_paid_twice": after.repeated_deliveries,
            "rescore_calls": again.usage.calls}


def test_grpo_step_with_rubric_reward_survives_faults(llama_server, tmp_path, monkeypatch, quick_backoff, figures):
    start = time.monotonic()
    # no retries: every fault costs its question, so the step must carry abstentions through TRL
    plan = FaultPlan(schedule=["status_5xx", "ok", "truncated", "empty_choices"], hang_s=2)
    result = grpo_under_faults(tmp_path, monkeypatch, llama_server, plan, steps=1, batch=2,
                               config=JudgeConfig(max_retries=0, parse_retries=0, timeout=60))
    assert result["abstentions"] == 3
    figures["faults_grpo_ci"] = {**result, "seconds": round(time.monotonic() - start, 1)}


# -- longer variants -------------------------------------------------------------------------

SLOW_RATES = {kind: 0.06 for kind in FAULT_KINDS}  # 36 % of requests broken


@pytest.mark.slow
def test_healthbench_evaluation_under_fault_rates_slow(llama_server, tmp_path, monkeypatch, figures):
    """Every bundled row, seeded fault rates, Inspect's real back-off, the server killed half-way."""
    from rareval.data.healthbench import load_healthbench

    rows = tuple(r.prompt_id for r in load_healthbench("sample"))[:6]
    start = time.monotonic()
    result = evaluation_with_faults_and_a_kill(tmp_path, monkeypatch, llama_server, rows,
                                               FaultPlan(rates=SLOW_RATES, seed=20, hang_s=5), kill_at=20)
    figures["faults_healthbench_slow"] = {**result, "seconds": round(time.monotonic() - start, 1)}


@pytest.mark.slow
def test_grpo_steps_under_fault_rates_slow(llama_server, tmp_path, monkeypatch, figures):
    """Three steps of four completions; attempts time out for real (judge timeout 45 s, server held 50 s:
    above the slowest honest answer of a loaded 2-core machine, so only the injected hangs time out)."""
    start = time.monotonic()
    result = grpo_under_faults(tmp_path, monkeypatch, llama_server, FaultPlan(rates=SLOW_RATES, seed=20, hang_s=50),
                               steps=3, batch=4, config=JudgeConfig(max_retries=1, parse_retries=1, timeout=45))
    figures["faults_grpo_slow"] = {**result, "seconds": round(time.monotonic() - start, 1)}
