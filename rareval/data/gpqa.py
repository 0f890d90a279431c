"""GPQA-Diamond loader (Rein et al. 2023, CC-BY-4.0; 198 questions).

The official CSV is the one simple-evals and inspect_evals download,
``https://openaipublic.blob.core.windows.net/simple-evals/gpqa_diamond.csv``
(sha256 pinned below). The GPQA authors ask that the questions never appear in
plain text online, so the file is only ever read from a local path or unpacked
into the data cache (:func:`rareval.data.cache.data_dir`), never into the
repository. Record ``repr`` hides the question and answers.

Where the CSV comes from (:func:`gpqa_csv_path`), first match wins:

1. ``path`` argument, else ``$RAREVAL_GPQA_PATH`` (relative: to the directory the command
   was run in, also under ``inspect eval``, which runs a task from ``tasks/``): a ``.csv`` is read as is; a
   ``.zip`` (password ``deserted-untie-orchid``, as the GPQA authors distribute
   it) is unpacked into ``<data dir>/gpqa/`` and its sha256 checked;
2. an already verified copy in ``<data dir>/gpqa/gpqa_diamond.csv``;
3. a download of the official CSV (5 s timeout, none when ``RAREVAL_OFFLINE``
   is set), sha256 checked; otherwise :class:`DataUnavailable` says where the
   file goes and where to get it.

Answer order: the raw rows list the correct answer first, so choices must be
shuffled. :func:`choice_permutation` draws one permutation per (seed, run,
record), as simple-evals does per repeated copy (``rng.sample(range(4), 4)``)
and RaR does per run; it depends on nothing else, so ``limit`` or a different
row order never changes which options a sample shows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import zipfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from rareval.data.cache import (
    DataError,
    DataUnavailable,
    data_dir,
    download,
    launch_path,
)

__all__ = [
    "GPQA_SHA256",
    "GPQA_URL",
    "GPQADataError",
    "GPQARecord",
    "choice_permutation",
    "gpqa_csv_path",
    "gpqa_samples",
    "load_gpqa_diamond",
    "read_gpqa_csv",
    "record_to_sample",
]

GPQA_URL = "https://openaipublic.blob.core.windows.net/simple-evals/gpqa_diamond.csv"
GPQA_SHA256 = "41d1213cd7a4998605a26c2798500652572007161b3a92817ba46b35befcd305"
GPQA_CSV_NAME = "gpqa_diamond.csv"
GPQA_ZIP_PASSWORD = b"deserted-untie-orchid"
LETTERS = "ABCD"

# CSV column -> GPQARecord field
_COLUMNS = {
    "Record ID": "record_id",
    "Question": "question",
    "Correct Answer": "correct",
    "Incorrect Answer 1": "incorrect_1",
    "Incorrect Answer 2": "incorrect_2",
    "Incorrect Answer 3": "incorrect_3",
    "High-level domain": "domain",
    "Subdomain": "subdomain",
    "Canary String": "canary",
}


class GPQADataError(DataError):
    """Bad GPQA input; the message names the file, line and field."""


class GPQARecord(BaseModel):
    """One GPQA question with its correct answer first, as in the raw data."""

    model_config = ConfigDict(frozen=True)

    record_id: str = Field(min_length=1, description="The CSV's `Record ID`, e.g. 'rec06pnAkLOr2t2mp'.")
    question: str = Field(min_length=1, repr=False, description="Question text (never log or commit it).")
    correct: str = Field(min_length=1, repr=False, description="The correct answer's text.")
    incorrect: tuple[str, str, str] = Field(repr=False, description="The three distractors, in CSV order.")
    domain: str = Field(min_length=1, description="High-level domain: Biology, Chemistry or Physics.")
    subdomain: str = Field(min_length=1, description="One of the 13 GPQA subdomains.")
    canary: str = Field(min_length=1, description="Per-row canary GUID `gpqa:xxxx:<uuid>` for leak detection.")

    @property
    def options(self) -> list[str]:
        """Answer texts, correct first: ``[correct, *incorrect]``."""
        return [self.correct, *self.incorrect]


def _cache_path() -> Path:
    return data_dir() / "gpqa" / GPQA_CSV_NAME


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_verified(data: bytes, source: str) -> Path:
    """Check ``data`` against the pinned sha256 and store it in the cache."""
    if (digest := _sha256(data)) != GPQA_SHA256:
        raise GPQADataError(f"sha256 {digest} differs from the pinned official GPQA-Diamond CSV "
                            f"{GPQA_SHA256}", file=source)
    dest = _cache_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
    return dest


def _cached_csv() -> Path | None:
    dest = _cache_path()
    if dest.is_file() and _sha256(dest.read_bytes()) == GPQA_SHA256:
        return dest
    return None


def _unzip(path: Path) -> Path:
    if (cached := _cached_csv()) is not None:
        return cached
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.endswith(GPQA_CSV_NAME)]
            if not members:
                raise GPQADataError(f"no member named {GPQA_CSV_NAME}", file=path)
            data = zf.read(members[0], pwd=GPQA_ZIP_PASSWORD)
    except (zipfile.BadZipFile, RuntimeError) as err:  # RuntimeError: bad password
        raise GPQADataError(f"cannot unpack: {err}", file=path) from err
    return _write_verified(data, f"{path}!{members[0]}")


def _download() -> Path:
    try:
        return download(GPQA_URL, _cache_path(), GPQA_SHA256)
    except DataUnavailable as err:
        raise DataUnavailable(
            GPQA_CSV_NAME, _cache_path(), GPQA_URL,
            f"{err.reason}; or set RAREVAL_GPQA_PATH (or pass path=...) to the CSV or to the GPQA "
            f"authors' password-protected zip") from None


def gpqa_env_path() -> Path | None:
    """``$RAREVAL_GPQA_PATH``, a relative one read from the directory the command was run in."""
    value = os.environ.get("RAREVAL_GPQA_PATH")
    return launch_path(value) if value else None


def gpqa_csv_path(path: str | Path | None = None) -> Path:
    """Local path of the GPQA-Diamond CSV: given, unpacked from a zip, cached or downloaded."""
    chosen = Path(path).expanduser() if path is not None else gpqa_env_path()
    if chosen is None:
        return _cached_csv() or _download()
    if not chosen.is_file():
        raise DataUnavailable(GPQA_CSV_NAME, chosen, GPQA_URL, f"no file at {chosen} (expected the CSV "
                              f"or a zip holding it)")
    return _unzip(chosen) if chosen.suffix.lower() == ".zip" else chosen


def read_gpqa_csv(path: str | Path) -> list[GPQARecord]:
    """Parse a GPQA CSV; a missing column, empty field or repeated id names file, line and field."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise GPQADataError(f"not UTF-8 text ({err.reason} at byte {err.start})", file=path) from err
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise GPQADataError("empty file", file=path, line=1)
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise GPQADataError("missing column", file=path, line=1, field=missing[0])
    index = {column: header.index(column) for column in _COLUMNS}
    records: list[GPQARecord] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            if len(row) != len(header):
                raise GPQADataError(f"{len(row)} cells, header has {len(header)}", file=path, line=line)
            values = {}
            for column, name in _COLUMNS.items():
                values[name] = row[index[column]]
                if not values[name].strip():
                    raise GPQADataError("empty value", file=path, line=line, field=column)
            if values["record_id"] in seen:
                raise GPQADataError(f"repeats the id first seen on line {seen[values['record_id']]}",
                                    file=path, line=line, field="Record ID")
            seen[values["record_id"]] = line
            incorrect = (values.pop("incorrect_1"), values.pop("incorrect_2"), values.pop("incorrect_3"))
            records.append(GPQARecord(incorrect=incorrect, **values))
        line = reader.line_num + 1
    return records


def load_gpqa_diamond(path: str | Path | None = None) -> list[GPQARecord]:
    """GPQA-Diamond records from ``path``, ``$RAREVAL_GPQA_PATH``, the cache or the official URL."""
    return read_gpqa_csv(gpqa_csv_path(path))


def choice_permutation(record_id: str, run: int, seed: int = 0) -> list[int]:
    """Order of ``record.options`` shown in ``run``: ``perm[k]`` is the option at letter ``k``.

    Drawn with ``random.Random("<seed>:<run>:<record_id>").sample(range(4), 4)``;
    string seeds are hashed with SHA-512, so the result is the same in every process.
    """
    return random.Random(f"{seed}:{run}:{record_id}").sample(range(4), 4)


def record_to_sample(record: GPQARecord, run: int = 0, seed: int = 0, shuffle: bool = True):
    """Inspect ``Sample`` for one record in one run: permuted choices, target letter, metadata.

    ``input`` is the bare question; the prompt template is applied by the solver
    (:func:`rareval.evals.gpqa.gpqa_prompt`). Without ``shuffle`` the correct answer is
    always ``A`` — useful only for debugging.
    """
    from inspect_ai.dataset import Sample

    perm = choice_permutation(record.record_id, run, seed) if shuffle else [0, 1, 2, 3]
    options = record.options
    return Sample(
        id=f"{record.record_id}-r{run}",
        input=record.question,
        choices=[options[i] for i in perm],
        target=LETTERS[perm.index(0)],
        metadata={"record_id": record.record_id, "run": run, "domain": record.domain,
                  "subdomain": record.subdomain, "permutation": perm},
    )


def gpqa_samples(records: list[GPQARecord], runs: int = 10, seed: int = 0, shuffle: bool = True) -> list:
    """``runs × len(records)`` samples, record-major: each record's runs sit together,
    so ``limit=k·runs`` evaluates ``k`` whole records in every run."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    return [record_to_sample(r, run, seed, shuffle) for r in records for run in range(runs)]
