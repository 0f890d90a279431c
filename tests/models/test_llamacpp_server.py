"""A real llama.cpp OpenAI-compatible server, reached through Inspect's `openai-api/` provider.

`python -m llama_cpp.server` needs the server extra: pip install "llama-cpp-python[server]".
"""

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from inspect_ai.model import GenerateConfig, get_model

READY_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(smollm_path, tmp_path_factory):
    pytest.importorskip(
        "sse_starlette", reason='llama.cpp server extra missing: pip install "llama-cpp-python[server]"'
    )
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--model_alias",
        "smollm",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server not ready after {READY_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_openai_api_provider_reads_logprobs_from_the_server(llama_server, monkeypatch):
    monkeypatch.setenv("LLAMACPP_BASE_URL", llama_server)
    monkeypatch.setenv("LLAMACPP_API_KEY", "not-needed")
    model = get_model("openai-api/llamacpp/smollm")
    config = GenerateConfig(max_tokens=1, temperature=0, logprobs=True, top_logprobs=5)
    output = asyncio.run(model.generate("Is Paris the capital of France? Answer yes or no.", config=config))
    [first] = output.choices[0].logprobs.content
    assert first.token == output.completion and len(first.top_logprobs) == 5
    assert {t.token.strip().lower() for t in first.top_logprobs} & {"yes", "no"}
    assert output.usage.input_tokens > 10 and output.usage.output_tokens == 1


def test_server_and_in_process_provider_agree(llama_server, monkeypatch):
    monkeypatch.setenv("LLAMACPP_BASE_URL", llama_server)
    monkeypatch.setenv("LLAMACPP_API_KEY", "not-needed")
    config = GenerateConfig(max_tokens=1, temperature=0, logprobs=True, top_logprobs=3)
    prompt = "Is Berlin the capital of France? Answer yes or no."
    served = asyncio.run(get_model("openai-api/llamacpp/smollm").generate(prompt, config=config))
    local = asyncio.run(get_model("local/smollm-135m", n_ctx=2048, prefix_cache=False).generate(prompt, config=config))
    assert served.completion == local.completion
    served_lp = served.choices[0].logprobs.content[0].logprob
    assert local.choices[0].logprobs.content[0].logprob == pytest.approx(served_lp, abs=0.05)
