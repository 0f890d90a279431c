"""Command errors: one line naming what is wrong, and an exit status, never a traceback."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from rareval.errors import command_errors, located, one_line, redact, secret_values


def test_command_errors_turns_the_named_exceptions_into_one_line(capsys):
    @command_errors(KeyError, FileNotFoundError)
    def command(what: str) -> int:
        if what == "key":
            raise KeyError("unknown preset 'x'; known: a, b")
        if what == "file":
            open("/nonexistent/rubrics.jsonl")
        if what == "other":
            raise RuntimeError("a bug")
        return 0

    assert command("ok") == 0
    assert command("key") == 2
    assert capsys.readouterr().err == "error: unknown preset 'x'; known: a, b\n"  # no quotes around a KeyError
    assert command("file") == 2
    assert capsys.readouterr().err == "error: file /nonexistent/rubrics.jsonl: No such file or directory\n"
    with pytest.raises(RuntimeError):  # anything not named is a bug: its traceback is kept
        command("other")
    assert command_errors(ValueError, code=1)(lambda: int("x"))() == 1


def test_one_line_of_a_validation_error():
    class Row(BaseModel):
        weight: float
        text: str

    with pytest.raises(Exception) as info:
        Row.model_validate({"weight": "heavy"})
    assert one_line(info.value) == "field 'weight': Input should be a valid number, unable to parse string as a " \
                                   "number (and 1 more)"
    assert located("bad", file="a.jsonl", n=3, field="rubric") == "file a.jsonl, row 3, field 'rubric': bad"


def test_secret_values_and_redact(monkeypatch):
    monkeypatch.setenv("MY_API_KEY", "sk-0123456789")
    monkeypatch.setenv("MY_TOKEN", "short")          # under 8 characters: not treated as a secret
    monkeypatch.setenv("MY_SETTING", "sk-abcdefghij")  # not a secret name
    assert "sk-0123456789" in secret_values() and "short" not in secret_values()
    assert "sk-abcdefghij" not in secret_values()
    assert redact("401 for sk-0123456789 (short)") == "401 for [redacted] (short)"
