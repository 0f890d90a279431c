"""Where a run's rows come from: HealthBench rows, or RaR rows (the paper's own training data).

``rareval train --data`` takes either format; :func:`data_format` tells them apart:

* **HealthBench** — JSONL in the official format (``prompt``, ``rubrics``, ``prompt_id``, …). Held
  out: the HealthBench-1k rows (:func:`rareval.data.healthbench_1k.in_healthbench_1k`), as in the
  paper (SPEC §1.7).
* **RaR** — RaR-Medicine / RaR-Science rows (``question``, ``reference_answer``,
  ``rubric: [{title, description, weight}]``; SPEC §1.3) as a JSONL or Parquet file, a folder of
  ``{split}.jsonl`` / ``{split}-*.parquet`` files (a snapshot of the dataset repository), or a
  folder written by ``datasets``' ``save_to_disk``. A folder's ``train`` split is trained on and its
  ``val`` split held out; a single file (or a folder without ``val``) holds out the questions whose
  salted hash falls in :data:`RAR_HELD_OUT` of the range. The ``test`` split is never read. The
  names ``rar-medicine`` / ``rar-science`` read the dataset from the rareval data cache or the Hub.
  A RaR row's rubric was generated with the reference answer, so presets on ``synthetic`` rubrics
  train on it without a ``--rubrics`` file.

RaR rows become the same rows HealthBench gives (:class:`~rareval.data.healthbench.HealthBenchExample`):
the question as the one user turn, the generated rubric as the rubric, the reference answer as the ideal
completion, and a ``prompt_id`` that is a hash of the normalised question, so a question keeps its id
across files. The rubric of a RaR row is the one the reward-hacking monitor's gold judge reads too.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple

from rareval.data.healthbench import HealthBenchExample, Message, load_healthbench
from rareval.data.healthbench_1k import SALT, in_healthbench_1k
from rareval.data.rar import RaRExample, has_split, load_rar, normalize_question

Format = Literal["healthbench", "rar"]

#: Share of a single RaR file's questions held out, by salted hash of the prompt id.
RAR_HELD_OUT = Fraction(1, 10)
RAR_SALT = "rareval/rar-held-out/v1"


#: ``--data`` names of the paper's datasets, read from the rareval data cache or the Hub (:func:`load_rar`).
RAR_NAMES = {"rar-medicine": "medicine", "rar-science": "science"}


class Source(NamedTuple):
    """A data source's rows: the training pool, the held-out rows, the split rule, malformed rows left out,
    and the format (a RaR row's rubric is a generated one, with the reference answer: ``synthetic``)."""

    pool: list[HealthBenchExample]
    held_out: list[HealthBenchExample]
    rule: str
    bad_rows: int
    format: Format = "healthbench"


def data_format(data: str | Path) -> Format:
    """``'rar'`` for a Parquet file, a folder, JSONL whose first row has ``question``, or a name of
    :data:`RAR_NAMES`; else ``'healthbench'``."""
    p = Path(data).expanduser()
    if str(data) in RAR_NAMES and not p.exists():
        return "rar"
    if p.is_dir() or p.suffix == ".parquet":
        return "rar"
    if p.is_file():
        with p.open("rb") as f:
            for raw in f:
                if raw.strip():
                    try:
                        first = json.loads(raw)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        return "healthbench"  # its loader names the line
                    return "rar" if isinstance(first, dict) and "question" in first else "healthbench"
    return "healthbench"


def rar_prompt_id(question: str) -> str:
    """A RaR question's id: ``rar-`` and 16 hex digits of the sha256 of its normalised text."""
    return "rar-" + hashlib.sha256(normalize_question(question).encode()).hexdigest()[:16]


def rar_held_out(prompt_id: str) -> bool:
    """Whether a RaR question of a single file is held out (:data:`RAR_HELD_OUT` of them, by salted hash)."""
    digest = hashlib.sha256(f"{RAR_SALT}:{prompt_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < RAR_HELD_OUT * 2**64


def rar_as_row(example: RaRExample) -> HealthBenchExample:
    """A RaR row as a one-turn conversation with its rubric and reference answer."""
    tags = tuple(t for t in (f"domain:{example.domain}" if example.domain else "",
                             f"source:{example.question_source}" if example.question_source else "") if t)
    return HealthBenchExample(prompt_id=rar_prompt_id(example.question),
                              prompt=(Message(role="user", content=example.question),), rubric=example.rubric,
                              ideal_completion=example.reference_answer or None, example_tags=tags)


def load_source(data: str | Path, skip_bad_rows: bool = False) -> Source:
    """The rows of ``data`` in either format, split into training pool and held-out rows (module docstring)."""
    if data_format(data) == "healthbench":
        loaded = load_healthbench(path=data, skip_bad_rows=skip_bad_rows)
        rows = list(loaded)
        return Source([r for r in rows if not in_healthbench_1k(r.prompt_id)],
                      [r for r in rows if in_healthbench_1k(r.prompt_id)],
                      f"held out: HealthBench-1k by salted hash of prompt_id (salt {SALT!r})", len(loaded.skipped))
    p = Path(data).expanduser()
    named = RAR_NAMES.get(str(data)) if not p.exists() else None
    folder = named is not None or p.is_dir()
    read = (lambda split: load_rar(named, split, skip_bad_rows=skip_bad_rows)) if named else (  # noqa: E731
        lambda split: load_rar(None, split, path=p, skip_bad_rows=skip_bad_rows))
    train = read("train")
    bad = len(train.skipped)
    pool = [rar_as_row(r) for r in train]
    if named or folder and has_split(p, "val"):
        val = read("val")
        held = [rar_as_row(r) for r in val]
        seen = {r.prompt_id for r in held}
        return Source([r for r in pool if r.prompt_id not in seen], held,
                      "held out: the 'val' split (train questions repeated in it are not trained on)",
                      bad + len(val.skipped), "rar")
    return Source([r for r in pool if not rar_held_out(r.prompt_id)], [r for r in pool if rar_held_out(r.prompt_id)],
                  f"held out: 1 in {RAR_HELD_OUT.denominator} RaR questions by salted hash of prompt_id "
                  f"(salt {RAR_SALT!r})", bad, "rar")
