import os
from pathlib import Path

import pytest

import rareval._registry  # noqa: F401  (registers scripted/ and local/ providers in-process)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own verdict cache and Inspect log dir."""
    monkeypatch.setenv("RAREVAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INSPECT_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("RAREVAL_VERDICT_CACHE", raising=False)


def hb_rubric(*points_and_texts):
    from rareval.rubric import Rubric
    return Rubric.from_healthbench([{"criterion": t, "points": p, "tags": []} for p, t in points_and_texts])
