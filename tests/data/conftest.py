import json
from pathlib import Path

import pytest

# The shared data folder sits beside the repository: <repo>/../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
HEALTHBENCH_DIR = SHARED_DATA / "healthbench"


@pytest.fixture
def healthbench_dir() -> Path:
    if not (HEALTHBENCH_DIR / "SHA256SUMS").is_file():
        pytest.skip(f"real HealthBench files not found at {HEALTHBENCH_DIR.resolve()} (../shared beside the repo)")
    return HEALTHBENCH_DIR


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """Each test has its own empty data cache and no offline switches from the caller's shell."""
    monkeypatch.setenv("RAREVAL_DATA_DIR", str(tmp_path / "data-cache"))
    for var in ("RAREVAL_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(var, raising=False)


def write_jsonl(path: Path, records) -> Path:
    """Write records (dicts, or raw strings written as-is) one per line."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def closed_port() -> int:
    """A local TCP port with nothing listening: connecting is refused at once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
