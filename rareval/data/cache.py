"""One data cache, checksummed downloads and a JSONL reader whose errors name the line.

Files are looked up in this order by every loader: an explicit ``path``, the
cache directory, then a download (when online and allowed). The cache directory
is ``$RAREVAL_DATA_DIR``, else ``$RAREVAL_CACHE_DIR/data``, else
``~/.cache/rareval/data``.

Offline must fail fast and helpfully: downloads use a short socket timeout, are
skipped entirely when ``RAREVAL_OFFLINE`` or ``HF_HUB_OFFLINE`` is set, and every
failure becomes one :class:`DataUnavailable` that names the file, the exact
path to put it at, and the URL to fetch it from.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from rareval.errors import located

T = TypeVar("T")

#: Seconds to wait for a connection or for any single read before giving up.
DEFAULT_TIMEOUT_S = 5.0


def _cwd() -> Path | None:
    try:
        return Path.cwd()
    except OSError:  # the directory was removed
        return None


#: The working directory when rareval was first imported: the directory the command was run in. Inspect
#: loads rareval (its entry point, ``rareval._registry``) when an evaluation starts, and only then moves
#: into a task file's folder to load and run the task, so relative paths a user gave are read from here.
LAUNCH_DIR = _cwd()


def launch_path(path: str | Path) -> Path:
    """``path`` (``~`` expanded) as the user meant it: a relative path is read from the directory the
    command was run in (:data:`LAUNCH_DIR`), not from wherever the process is now — Inspect runs a task
    file from the file's folder (``tasks/``), where ``../data/x.zip`` would name another file."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else (LAUNCH_DIR or Path.cwd()) / path


def cache_dir() -> Path:
    """rareval's cache root (data, models, verdicts): ``$RAREVAL_CACHE_DIR`` (a relative setting read from the
    directory the command was run in, :func:`launch_path`) or ``~/.cache/rareval``."""
    root = os.environ.get("RAREVAL_CACHE_DIR")
    return launch_path(root) if root else Path.home() / ".cache" / "rareval"


def data_dir() -> Path:
    """The data cache: ``$RAREVAL_DATA_DIR`` (relative: :func:`launch_path`) or ``cache_dir()/data``."""
    if os.environ.get("RAREVAL_DATA_DIR"):
        return launch_path(os.environ["RAREVAL_DATA_DIR"])
    return cache_dir() / "data"


def offline() -> bool:
    """True when ``RAREVAL_OFFLINE`` or ``HF_HUB_OFFLINE`` asks for no network access."""
    return any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
               for v in ("RAREVAL_OFFLINE", "HF_HUB_OFFLINE"))


# -- errors -----------------------------------------------------------------------------

class DataUnavailable(RuntimeError):
    """A data file is neither local nor downloadable; the message says where to put it."""

    def __init__(self, name: str, dest: str | Path | None, url: str | None = None, reason: str = ""):
        self.name, self.dest, self.url, self.reason = name, dest, url, reason
        lines = [f"{name} is not available" + (f": {reason}" if reason else ".")]
        if url:
            lines.append(f"  download it from: {url}")
        if dest:
            lines.append(f"  and put it at:    {dest}")
        lines.append("  (or pass the file's location with path=...)")
        super().__init__("\n".join(lines))


class ChecksumMismatch(DataUnavailable):
    """A file's sha256 differs from the pinned one (truncated or altered download)."""


class DataError(ValueError):
    """A malformed record; the message names the file, the line (or row) and the field."""

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None, unit: str = "line"):
        super().__init__(located(message, file=file, n=line, field=field, unit=unit))
        self.file, self.line, self.field, self.reason = file, line, field, message


# -- checksums and downloads ------------------------------------------------------------

def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it, renamed into place: a
    crash never leaves a half-written file (results, pairs, run records)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """:func:`write_text_atomic` for bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_sha256(path: str | Path, sha256: str) -> Path:
    """Return ``path`` if its sha256 matches, else raise :class:`ChecksumMismatch`."""
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise ChecksumMismatch(Path(path).name, path, reason=f"sha256 is {actual}, expected {sha256}")
    return Path(path)


def download(url: str, dest: str | Path, sha256: str | None = None, *,
             timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """Download ``url`` to ``dest`` atomically, checking ``sha256`` when given.

    The bytes go to a temporary file beside ``dest`` and are renamed into place
    only once complete and verified, so an interrupted or corrupt download never
    leaves a file that a later run would trust. ``timeout`` bounds the connection
    and each read, so an offline machine fails within seconds.
    """
    dest = Path(dest)
    if offline():
        raise DataUnavailable(dest.name, dest, url, "offline mode (RAREVAL_OFFLINE / HF_HUB_OFFLINE)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                out.write(block)
                h.update(block)
        if sha256 and h.hexdigest() != sha256.lower():
            raise ChecksumMismatch(dest.name, dest, url,
                                   f"downloaded sha256 is {h.hexdigest()}, expected {sha256}")
        os.replace(tmp, dest)
    except DataUnavailable:
        raise
    except (urllib.error.URLError, OSError, ValueError) as e:  # ValueError: malformed URL
        reason = getattr(e, "reason", None) or e
        raise DataUnavailable(dest.name, dest, url, f"download failed ({reason})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def fetch(filename: str, url: str | None, sha256: str | None, *, path: str | Path | None = None,
          allow_download: bool = True, timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """Locate a data file: ``path`` if given, else the cache, else a download into the cache.

    A cached or downloaded file is checked against ``sha256``; an explicit ``path`` is
    trusted as given (users point it at their own edits and subsets).
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise DataUnavailable(filename, p, url, f"no file at {p}")
        return p
    dest = data_dir() / filename
    if dest.is_file():
        if sha256 and sha256_file(dest) != sha256.lower():
            raise ChecksumMismatch(filename, dest, url, f"the cached copy's sha256 is {sha256_file(dest)}, "
                                   f"expected {sha256}; delete it to download again")
        return dest
    if not allow_download or url is None:
        raise DataUnavailable(filename, dest, url, "not in the cache")
    return download(url, dest, sha256, timeout=timeout)


# -- JSONL reading ------------------------------------------------------------------------

class SkippedRow(BaseModel):
    """A record left out by ``skip_bad_rows``."""

    model_config = ConfigDict(frozen=True)

    line: int = Field(description="1-based line (JSONL) or row (table) number.")
    error: str = Field(description="Why it was rejected, naming the field.")


class Rows(list, Generic[T]):
    """A list of parsed records that also remembers its source and what was skipped."""

    def __init__(self, items: Iterable[T] = (), *, source: str | Path | None = None,
                 skipped: Iterable[SkippedRow] = ()):
        super().__init__(items)
        self.source = source
        self.skipped: list[SkippedRow] = list(skipped)


def read_jsonl(path: str | Path, *, skipped: list[SkippedRow] | None = None) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line (1-based numbers).

    A line that is not a JSON object raises :class:`DataError` naming the file and
    line, unless ``skipped`` is a list, in which case it is recorded there instead.
    """
    # read as bytes: records end at b"\n" only (U+2028 and stray "\r" inside text stay in the record),
    # and a line that is not UTF-8 is a bad record of its own, not the end of the file
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                try:
                    text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(f"not UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1})", file=path,
                                    line=n) from None
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as e:
                    raise DataError(f"malformed JSON ({e.msg} at column {e.colno})", file=path, line=n) from None
                if not isinstance(obj, dict):
                    raise DataError(f"expected a JSON object, got {type(obj).__name__}", file=path, line=n)
            except DataError as err:
                if skipped is None:
                    raise
                skipped.append(SkippedRow(line=n, error=str(err)))
                continue
            yield n, obj


def parse_records(records: Iterable[tuple[int, dict]], parse: Callable[[dict, int], T], *,
                  source: str | Path, skip_bad_rows: bool = False,
                  skipped: list[SkippedRow] | None = None) -> Rows[T]:
    """Apply ``parse(record, number)`` to each record; ``DataError`` raises or is skipped.

    With ``skip_bad_rows`` the bad records are collected in ``Rows.skipped`` and one
    warning gives their count and the first error.
    """
    skipped = skipped if skipped is not None else []
    out: list[T] = []
    for n, record in records:
        try:
            out.append(parse(record, n))
        except DataError as e:
            if not skip_bad_rows:
                raise
            skipped.append(SkippedRow(line=n, error=str(e)))
    if skipped:
        warnings.warn(f"{source}: skipped {len(skipped)} bad row(s); first: {skipped[0].error}",
                      stacklevel=3)
    return Rows(out, source=source, skipped=skipped)


def load_jsonl(path: str | Path, parse: Callable[[dict, int], T], *, skip_bad_rows: bool = False) -> Rows[T]:
    """Read a JSONL file and parse every line with ``parse(record, line_number)``."""
    skipped: list[SkippedRow] | None = [] if skip_bad_rows else None
    return parse_records(read_jsonl(path, skipped=skipped), parse, source=path,
                         skip_bad_rows=skip_bad_rows, skipped=skipped)


# -- field checks shared by the row parsers ---------------------------------------------

def require(record: dict, key: str, types: type | tuple[type, ...], *, file: Any, line: int,
            prefix: str = "", optional: bool = False, unit: str = "line") -> Any:
    """``record[key]`` checked against ``types``; a missing or wrong value raises :class:`DataError`."""
    field = f"{prefix}{key}"
    if key not in record or record[key] is None:
        if optional:
            return None
        raise DataError("missing", file=file, line=line, field=field, unit=unit)
    value = record[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise DataError("wrong type bool", file=file, line=line, field=field, unit=unit)
    if not isinstance(value, types):
        raise DataError(f"wrong type {type(value).__name__}", file=file, line=line, field=field, unit=unit)
    return value


def from_rubric_error(e: Exception, *, file: Any, line: int, unit: str = "line") -> DataError:
    """Re-state a :class:`~rareval.rubric.RubricError` raised without location as a :class:`DataError`."""
    return DataError(getattr(e, "reason", str(e)), file=file, line=line, field=getattr(e, "field", None), unit=unit)


def task_arg_path(path: str | Path | None, task_file: str | Path | None = None) -> str | None:
    """A ``-T path=...`` argument read as the user meant it.

    Inspect calls a task function from its file's directory (``tasks/``), so a relative path is
    read from the directory the command was run in (:func:`launch_path`); where nothing is there and the
    task came from ``task_file``, from that file's repository root (``inspect eval`` run elsewhere with a
    repository path). A task run by its registered name (``rareval/healthbench``) has no file.
    """
    if path is None:
        return None
    launched = launch_path(path)
    if task_file is None:
        return str(launched)
    repo = Path(task_file).resolve().parents[1] / Path(path).expanduser()
    return str(repo if not launched.exists() and repo.exists() else launched)
