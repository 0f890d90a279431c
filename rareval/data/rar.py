"""RaR-Medicine and RaR-Science (Gunjal et al. 2025, arXiv 2507.17746; SPEC §1.3).

Hugging Face datasets ``ScaleAI/RaR-Medicine`` and ``ScaleAI/RaR-Science``, splits
``train`` / ``val`` / ``test``, fields ``question``, ``reference_answer``,
``question_source``, ``rubric`` (list of ``{description, title, weight}`` whose
description starts with a category prefix such as ``"Essential Criteria:"``),
``rubric_list`` and ``rubric_count``.

:func:`load_rar` reads, in order: an explicit ``path`` (a parquet or JSONL file, a
directory holding ``{split}-*.parquet`` / ``{split}.jsonl``, such as a downloaded
snapshot of the dataset repository, or a folder written by ``datasets``' ``save_to_disk``), the cache directory
``<data_dir>/rar-{domain}/``, then the Hub through ``datasets.load_dataset``. The
Hub is probed with a short connection timeout first so that an offline machine
fails in seconds with a message naming the ``path`` option; with
``HF_HUB_OFFLINE=1`` only the ``datasets`` cache is read.

Caveats of the released data handled here (third-party forensics, SPEC §1.3):

* malformed category prefixes ("Esssential", "Importance", …) are mapped by
  :meth:`rareval.rubric.Rubric.from_rar`; an unknown prefix is an error naming the row;
* empty reference answers (≈9.5 % of science rows) set ``reference_missing``;
* test questions that also appear in train (≈12.3 % science, 3.6 % medicine) are
  removed by :func:`dedupe_against_train` before evaluation;
* pitfall polarity differs between rows (medicine pitfalls mostly describe the
  mistake, science pitfalls often the avoidance): it is decided per criterion from
  its wording (:func:`rareval.rubric.avoidance_phrased`, ``Criterion.avoidance``),
  so a verdict on a pitfall always means "the mistake is present". ``domain`` is
  kept on every row as provenance.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field

from rareval.data.cache import (
    DataError,
    DataUnavailable,
    Rows,
    SkippedRow,
    data_dir,
    from_rubric_error,
    offline,
    parse_records,
    read_jsonl,
    require,
)
from rareval.rubric import Rubric, RubricError

Domain = Literal["medicine", "science"]
RaRSplit = Literal["train", "val", "test"]

#: A RaR-Science-shaped folder (train/val JSONL) of questions written for tests and CPU demos.
RAR_SCIENCE_FIXTURE = Path(__file__).with_name("rar_science_fixture")

RAR_DATASETS: dict[str, str] = {"medicine": "ScaleAI/RaR-Medicine", "science": "ScaleAI/RaR-Science"}
HUB_PROBE_TIMEOUT_S = 3.0


class RaRExample(BaseModel):
    """One RaR prompt with its reference answer and generated rubric."""

    model_config = ConfigDict(frozen=True)

    question: str = Field(min_length=1, description="The open-ended question given to the policy.")
    reference_answer: str = Field(default="", description="Expert reference answer; '' when missing.")
    rubric: Rubric = Field(description="Criteria with category from the description prefix.")
    question_source: str = Field(default="", description="Origin dataset, e.g. 'medical-o1-reasoning-SFT'.")
    reference_missing: bool = Field(default=False, description="True when the row has no reference answer.")
    domain: Domain | None = Field(default=None, description="'medicine' or 'science'.")


def parse_rar_row(record: dict, number: int, *, file: str | Path | None = None, domain: Domain | None = None,
                  unit: str = "row") -> RaRExample:
    """Validate one RaR record; errors name ``file``, the row/line ``number`` and the field."""
    where = dict(file=file, line=number, unit=unit)
    question = require(record, "question", str, **where)
    if not question.strip():
        raise DataError("empty", field="question", **where)
    reference = require(record, "reference_answer", str, optional=True, **where) or ""
    try:
        rubric = Rubric.from_rar(require(record, "rubric", list, **where))
    except RubricError as e:
        raise from_rubric_error(e, file=file, line=number, unit=unit) from None
    return RaRExample(question=question, reference_answer=reference, rubric=rubric,
                      question_source=require(record, "question_source", str, optional=True, **where) or "",
                      reference_missing=not reference.strip(), domain=domain)


def normalize_question(question: str) -> str:
    """Whitespace-collapsed, case-folded text used to detect repeated questions."""
    return " ".join(question.split()).casefold()


def dedupe_against_train(test_rows: Iterable[RaRExample],
                         train_rows: Iterable[RaRExample]) -> tuple[list[RaRExample], int]:
    """``(kept_test_rows, n_removed)``: drop test rows whose question also appears in train.

    Questions are compared after :func:`normalize_question`.
    """
    test = list(test_rows)
    seen = {normalize_question(r.question) for r in train_rows}
    kept = [r for r in test if normalize_question(r.question) not in seen]
    return kept, len(test) - len(kept)


# -- sources ------------------------------------------------------------------------------

def _split_files(directory: Path, split: str) -> list[Path]:
    for d in (directory, directory / "data"):
        for pattern in (f"{split}-*.parquet", f"{split}.parquet", f"{split}-*.jsonl", f"{split}.jsonl"):
            found = sorted(d.glob(pattern))
            if found:
                return found
    return []


def _records(file: Path, skipped: list[SkippedRow] | None) -> tuple[Iterator[tuple[int, dict]], str]:
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        return enumerate(pq.read_table(file).to_pylist(), 1), "row"
    return read_jsonl(file, skipped=skipped), "line"


def _hub_reachable(timeout: float) -> bool:
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a proxy decides; let the datasets client try
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _from_hub(repo: str, split: str, cache_dest: Path, timeout: float):
    dest = f"{cache_dest}/{split}-*.parquet (or {split}.jsonl)"
    hint = (f"{repo} split '{split}'", dest, f"https://huggingface.co/datasets/{repo}")
    # Without this probe an offline datasets client retries for ~25 s; with HF_HUB_OFFLINE
    # it reads only its own cache, so that case goes straight to load_dataset.
    if not offline() and not _hub_reachable(timeout):
        raise DataUnavailable(*hint, reason="the Hugging Face Hub is unreachable "
                              "(with HF_HUB_OFFLINE=1 the datasets cache is read instead)")
    import datasets

    try:
        return datasets.load_dataset(repo, split=split)
    except (OSError, ValueError) as e:  # ConnectionError, FileNotFoundError, unknown split
        raise DataUnavailable(*hint, reason=str(e).splitlines()[0][:300]) from None


def is_saved_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``datasets``' ``save_to_disk`` (a Dataset or a DatasetDict)."""
    return path.is_dir() and any((path / name).is_file() for name in ("dataset_dict.json", "state.json"))


def has_split(path: str | Path, split: str) -> bool:
    """Whether the folder ``path`` holds ``split`` (split files, or a saved DatasetDict with that split)."""
    p = Path(path).expanduser()
    if (p / "dataset_dict.json").is_file():
        import json

        return split in json.loads((p / "dataset_dict.json").read_text()).get("splits", [])
    return p.is_dir() and bool(_split_files(p, split))


def _from_saved_dataset(path: Path, split: str, domain: Domain | None, skip_bad_rows: bool) -> Rows[RaRExample]:
    import datasets

    saved = datasets.load_from_disk(str(path))
    if isinstance(saved, datasets.DatasetDict):
        if split not in saved:
            raise DataUnavailable(f"RaR split '{split}'", path, reason=f"the saved dataset has splits "
                                  f"{', '.join(saved)}, not '{split}'")
        saved = saved[split]
    source = f"{path}[{split}]"
    parse = partial(parse_rar_row, file=source, domain=domain, unit="row")
    return parse_records(enumerate(saved, 1), parse, source=source, skip_bad_rows=skip_bad_rows)


def load_rar(domain: Domain | None = "medicine", split: RaRSplit = "train", path: str | Path | None = None, *,
             skip_bad_rows: bool = False, timeout: float = HUB_PROBE_TIMEOUT_S) -> Rows[RaRExample]:
    """Load one split of RaR-Medicine or RaR-Science as validated :class:`RaRExample` rows.

    ``path`` may also be a folder saved by ``datasets``' ``save_to_disk``. ``domain`` may be None only with a
    ``path`` (rows of unknown domain, e.g. a file in the RaR format for training).

    With ``skip_bad_rows`` invalid rows are left out, listed in ``.skipped`` and
    counted in one warning. See the module docstring for where data is looked for.
    """
    if domain not in RAR_DATASETS and (path is None or domain is not None):
        raise ValueError(f"unknown RaR domain {domain!r}; choose from {sorted(RAR_DATASETS)}")
    cache_dest = data_dir() / f"rar-{domain}"
    if path is not None:
        p = Path(path).expanduser()
        if is_saved_dataset(p):
            return _from_saved_dataset(p, split, domain, skip_bad_rows)
        files = _split_files(p, split) if p.is_dir() else [p] if p.is_file() else []
        if not files:
            raise DataUnavailable(f"RaR-{domain or 'data'} split '{split}'", p, reason=f"nothing to read at {p}")
    else:
        files = _split_files(cache_dest, split) if cache_dest.is_dir() else []
    if not files:
        repo = RAR_DATASETS[domain]
        source = f"{repo}[{split}]"
        records = enumerate(_from_hub(repo, split, cache_dest, timeout), 1)
        parse = partial(parse_rar_row, file=source, domain=domain, unit="row")
        return parse_records(records, parse, source=source, skip_bad_rows=skip_bad_rows)
    out: Rows[RaRExample] = Rows(source=files[0] if len(files) == 1 else files[0].parent)
    for file in files:
        file_skipped: list[SkippedRow] | None = [] if skip_bad_rows else None
        records, unit = _records(file, file_skipped)
        parse = partial(parse_rar_row, file=file, domain=domain, unit=unit)
        part = parse_records(records, parse, source=file, skip_bad_rows=skip_bad_rows, skipped=file_skipped)
        out.extend(part)
        out.skipped.extend(part.skipped)
    return out
