"""HealthBench-1k: a deterministic held-out split defined by a salted hash of ``prompt_id``.

RaR evaluates its ablations on "HealthBench-1k", a random 1,000-prompt subset, and
trains on the rest (SPEC §1.7); the paper's ID list was never released. rareval
defines its own split so that any run, on any machine, agrees on membership:

    member(prompt_id)  ⇔  u64(sha256(SALT + ":" + prompt_id)[:8]) < 0.2 · 2⁶⁴

with ``SALT = "rareval/healthbench-1k/v1"`` and ``u64`` the first 8 digest bytes read
big-endian. Each id is in the test split with probability 0.2, independently of
every other id, so the 5,000-row official file gives about 1,000 test prompts
(binomial, s.d. ≈ 28) and the rest form the training pool. Because the rule looks
at one id at a time, a partial copy of HealthBench (such as the offline union of
redistributed rows) splits exactly as those rows would in the full file.

:func:`write_1k_ids` records the resulting id list from the full file in
``healthbench_1k_ids.txt`` for comparison with other harnesses; the rule above
remains the definition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

SALT = "rareval/healthbench-1k/v1"
TEST_FRACTION = Fraction(1, 5)
IDS_PATH = Path(__file__).with_name("healthbench_1k_ids.txt")

R = TypeVar("R")


def in_healthbench_1k(prompt_id: str) -> bool:
    """Whether ``prompt_id`` belongs to the HealthBench-1k test split (see the module rule)."""
    digest = hashlib.sha256(f"{SALT}:{prompt_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < TEST_FRACTION * 2**64


def _prompt_id(row: Any) -> str:
    if isinstance(row, str):
        return row
    if isinstance(row, dict):
        return row["prompt_id"]
    return row.prompt_id


def split_1k(rows: Iterable[R]) -> tuple[list[R], list[R]]:
    """``(test_rows, train_pool_rows)``, keeping the input order within each part.

    ``rows`` may be :class:`~rareval.data.healthbench.HealthBenchExample` objects,
    raw dict records or plain prompt-id strings.
    """
    test: list[R] = []
    train: list[R] = []
    for row in rows:
        (test if in_healthbench_1k(_prompt_id(row)) else train).append(row)
    return test, train


def write_1k_ids(rows: Iterable[Any], dest: str | Path = IDS_PATH, *, source: str = "") -> list[str]:
    """Write the sorted test-split ids of ``rows`` to ``dest``, one per line; return them.

    Pass the official full file's rows (``load_healthbench("full")``) to produce the
    list shipped with rareval. ``source`` is noted in the file's ``#`` header.
    """
    ids = sorted({_prompt_id(r) for r in rows if in_healthbench_1k(_prompt_id(r))})
    header = [f"# HealthBench-1k test split: sha256('{SALT}:' + prompt_id)[:8] < 2^64 / 5",
              f"# {len(ids)} ids" + (f" from {source}" if source else "")]
    Path(dest).write_text("\n".join(header + ids) + "\n", encoding="utf-8")
    return ids


def read_1k_ids(path: str | Path = IDS_PATH) -> list[str]:
    """The ids in a file written by :func:`write_1k_ids` (``#`` lines are comments)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]
