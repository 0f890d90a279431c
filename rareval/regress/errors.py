"""The gate's one error type: misuse (bad arguments, unreadable or invalid files)."""

from __future__ import annotations

from pathlib import Path

from rareval.errors import located


class RegressUsageError(Exception):
    """The gate cannot run as asked; ``rareval regress`` prints the one-line message and exits 2.

    The message names the file and the field where there is one.
    """

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None):
        super().__init__(located(message, file=file, field=field))
