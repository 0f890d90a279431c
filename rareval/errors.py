"""Error messages that say where bad input is: file, line or row, and field."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., int])


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
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"file {error.filename}: {error.strerror}"  # as open() raises it: args[0] is the errno
    return str(error.args[0]) if error.args else type(error).__name__


def command_errors(*errors: type[BaseException], code: int = 2) -> Callable[[F], F]:
    """Decorator for a CLI command ``fn(args) -> exit status``: bad input raised as one of ``errors``
    ends the command with one ``error: …`` line on stderr (:func:`one_line`) and exit status ``code``,
    not a traceback.

    >>> @command_errors(KeyError)
    ... def show(args): return {"a": 0}[args]
    >>> show("b")
    2
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args, **kwargs) -> int:
            try:
                return fn(*args, **kwargs)
            except errors as error:
                print(f"error: {one_line(error)}", file=sys.stderr)
                return code

        return run  # type: ignore[return-value]

    return wrap


#: Environment variables whose values are secrets (API keys, tokens, passwords).
SECRET_NAMES = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def secret_name(name: str) -> bool:
    """Whether a variable or argument called ``name`` holds a secret (``OPENAI_API_KEY``, ``api_key``, ``token``).

    >>> secret_name("OPENAI_API_KEY"), secret_name("api_key"), secret_name("base_url")
    (True, True, False)
    """
    return any(part in name.upper() for part in SECRET_NAMES)


def redact(text: str) -> str:
    """``text`` with the value of every secret-looking environment variable (``*_API_KEY``, ``*_TOKEN``,
    ``*_SECRET``, ``*_PASSWORD``; 8 characters or more) replaced by ``[redacted]``. Error messages from a
    provider or a gateway can echo the key they were sent; they are kept in logs and results."""
    for value in secret_values():
        text = text.replace(value, "[redacted]")
    return text


def secret_values() -> list[str]:
    """The values of the secret-looking environment variables :func:`redact` replaces, longest first."""
    import os

    return sorted({v for name, v in os.environ.items() if len(v) >= 8 and secret_name(name)}, key=len, reverse=True)
