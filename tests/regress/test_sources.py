"""What a --candidate / --baseline names."""

import json

import pytest

from rareval.regress.errors import RegressUsageError
from rareval.regress.items import ResultSet
from rareval.regress.sources import resolve_source


def test_files_folders_checkpoints_and_model_strings(tmp_path):
    (tmp_path / "results.json").write_text(ResultSet(label="x").model_dump_json())
    (tmp_path / "log.eval").write_bytes(b"PK")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.eval").write_bytes(b"PK")
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    (tmp_path / "run" / "final").mkdir(parents=True)
    (tmp_path / "run" / "config.json").write_text(json.dumps({"preset": {}}))  # a run's own config
    (tmp_path / "run" / "final" / "config.json").write_text(json.dumps({"model_type": "qwen2"}))

    def kind(spec):
        source = resolve_source(str(spec), "--candidate")
        return source.kind, source.path or source.model

    assert kind(tmp_path / "results.json") == ("results", str(tmp_path / "results.json"))
    assert kind(tmp_path / "log.eval") == ("logs", str(tmp_path / "log.eval"))
    assert kind(tmp_path / "logs") == ("logs", str(tmp_path / "logs"))
    assert kind(tmp_path / "ckpt") == ("checkpoint", str(tmp_path / "ckpt"))
    assert kind(tmp_path / "run") == ("checkpoint", str(tmp_path / "run" / "final"))
    assert kind("hf/HuggingFaceTB/SmolLM2-135M") == ("checkpoint", "HuggingFaceTB/SmolLM2-135M")
    assert kind("openai/gpt-4o-mini") == ("model", "openai/gpt-4o-mini")


@pytest.mark.parametrize("spec,message", [
    ("./nope", "no such file or folder"),
    ("missing.eval", "no such file or folder"),
    ("gpt4", "not a file, a folder or an Inspect model string"),
])
def test_what_cannot_be_resolved_is_named(spec, message):
    with pytest.raises(RegressUsageError, match=message) as err:
        resolve_source(spec, "--baseline")
    assert "field '--baseline'" in str(err.value)


def test_a_folder_with_nothing_usable(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RegressUsageError, match="neither Inspect logs nor a checkpoint"):
        resolve_source(str(tmp_path), "--candidate")
    with pytest.raises(RegressUsageError, match="notes.txt, field '--candidate': not an Inspect log"):
        resolve_source(str(tmp_path / "notes.txt"), "--candidate")
