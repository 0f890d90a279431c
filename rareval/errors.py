"""Error messages that say where bad input is: file, line or row, and field."""

from __future__ import annotations

from pathlib import Path


def located(message: str, *, file: str | Path | None = None, n: int | None = None, field: str | None = None,
            unit: str = "row") -> str:
    """``"file F, row 3, field 'x': message"``, leaving out the parts that are unknown."""
    where = ", ".join(p for p in (
        f"file {file}" if file is not None else "",
        f"{unit} {n}" if n is not None else "",
        f"field '{field}'" if field is not None else "") if p)
    return f"{where}: {message}" if where else message


def one_line(error: BaseException) -> str:
    """An error for a command's ``error:`` message: a pydantic ``ValidationError`` (many lines) as one,
    ``field 'a.b': message`` for its first error and how many more; anything else its message as raised."""
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        errors = error.errors()
        field = ".".join(map(str, errors[0]["loc"]))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return located(errors[0]["msg"].removeprefix("Value error, "), field=field or None) + more
    return str(error.args[0]) if error.args else type(error).__name__


#: Environment variables whose values are secrets (API keys, tokens, passwords).
SECRET_NAMES = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def redact(text: str) -> str:
    """``text`` with the value of every secret-looking environment variable (``*_API_KEY``, ``*_TOKEN``,
    ``*_SECRET``, ``*_PASSWORD``; 8 characters or more) replaced by ``[redacted]``. Error messages from a
    provider or a gateway can echo the key they were sent; they are kept in logs and results."""
    import os

    for name, value in os.environ.items():
        if len(value) >= 8 and any(part in name.upper() for part in SECRET_NAMES) and value in text:
            text = text.replace(value, "[redacted]")
    return text
