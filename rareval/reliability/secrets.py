"""Secret values out of Inspect logs: ``rareval redact-logs PATH...``.

rareval's own records never hold a key (:func:`rareval.errors.redact` cleans every abstention
message). Inspect, though, records a failed model call's error text verbatim in the sample
transcript (``ModelEvent.error`` and its traceback), so a server or gateway that echoes the
caller's key in its error answer puts that key into the ``.eval`` log, where rareval's code never
sees it. :func:`redact_log` rewrites such a log in place with the value of every secret-looking
environment variable (:func:`rareval.errors.secret_values`) replaced by ``[redacted]``: inside
each member of an ``.eval`` archive (JSON; key characters need no escaping there) or in a
``.json`` log. A log without any secret value is left untouched.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Iterable

from rareval.data.cache import write_bytes_atomic
from rareval.errors import secret_values

REDACTED = b"[redacted]"


def _redact(data: bytes, values: list[bytes]) -> tuple[bytes, int]:
    found = sum(data.count(v) for v in values)
    for v in values:
        data = data.replace(v, REDACTED)
    return data, found


def redact_log(path: str | Path, values: Iterable[str] | None = None) -> int:
    """Replace every secret value in the Inspect log ``path`` (``.eval`` or ``.json``), in place.

    Returns how many occurrences were replaced. The file is rewritten through a temporary file
    beside it and an atomic rename (:func:`~rareval.data.cache.write_bytes_atomic`), so an interruption leaves the old log, never half a log.
    """
    path = Path(path)
    needles = [v.encode() for v in (secret_values() if values is None else values) if v]
    if not needles:
        return 0
    if not zipfile.is_zipfile(path):
        data, found = _redact(path.read_bytes(), needles)
    else:
        with zipfile.ZipFile(path) as archive:
            members = [(info, *_redact(archive.read(info), needles)) for info in archive.infolist()]
        found = sum(n for _, _, n in members)
        if not found:
            return 0
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as rewritten:
            for info, member, _ in members:
                rewritten.writestr(info, member)  # the member's own name, date and compression
        data = buffer.getvalue()
    if found:
        write_bytes_atomic(path, data)
    return found


def log_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``.eval`` and ``.json`` logs among ``paths`` (folders searched recursively)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix in (".eval", ".json") and f.is_file())
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return out
