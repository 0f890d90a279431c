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
