"""Relative paths handed to the task files, as ``inspect eval`` runs them (the real CLI, in a fresh process).

Inspect loads and runs a task file from the file's folder (``tasks/``); a relative path the user gave,
in ``$RAREVAL_GPQA_PATH`` or a ``-T path=``, is read from the directory the command was run in.
GPQA items are generated here; the real zip is only checked by its sha256, never printed. Each run starts
the Inspect CLI (about 30 s on 2 cores): the environment-variable case runs in CI, the others are `slow`.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from rareval.data.gpqa import GPQA_SHA256
from tests.evals.test_gpqa import REAL_ZIP, synthetic_rows, write_csv
from tests.regress.conftest import write_rows

ROOT = Path(__file__).resolve().parents[2]
INSPECT = str(Path(sys.executable).with_name("inspect"))


def inspect_eval(task: Path | str, cwd: Path, log_dir: Path, *args: str, **env: str) -> dict:
    """Run ``inspect eval TASK --model scripted/policy --limit 1`` in ``cwd``; the log's task metadata."""
    environ = {k: v for k, v in os.environ.items() if k != "RAREVAL_GPQA_PATH"}
    environ.update({"RAREVAL_DATA_DIR": str(log_dir / "data"), "RAREVAL_OFFLINE": "1", **env})
    task = os.path.relpath(ROOT / task, cwd)  # Inspect globs the task file from cwd: it takes no absolute path
    run = subprocess.run([INSPECT, "eval", task, "--model", "scripted/policy", "--limit", "1", "--log-dir",
                          str(log_dir), "--display", "none", *args], cwd=cwd, env=environ, capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    [log_file] = log_dir.glob("*.eval")
    log = read_eval_log(str(log_file))
    assert log.status == "success" and len(log.samples) == 1
    return log.eval.metadata or {}


@pytest.fixture
def gpqa_csv(tmp_path):
    return write_csv(tmp_path / "gpqa_diamond.csv", synthetic_rows(3))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_relative_gpqa_path_in_the_environment_is_read_from_where_inspect_was_run(tmp_path, gpqa_csv):
    relative = os.path.relpath(gpqa_csv, ROOT)  # ../../tmp/…/gpqa_diamond.csv: from tasks/ it names nothing
    meta = inspect_eval("tasks/gpqa_diamond.py", ROOT, tmp_path / "logs", "-T", "runs=1",
                        RAREVAL_GPQA_PATH=relative)
    assert meta["data_sha256"] == sha256(gpqa_csv)


@pytest.mark.slow
def test_a_relative_gpqa_task_argument_is_read_from_where_inspect_was_run(tmp_path, gpqa_csv):
    meta = inspect_eval(ROOT / "tasks" / "gpqa_diamond.py", tmp_path, tmp_path / "logs", "-T", "runs=1",
                        "-T", f"path={gpqa_csv.name}")
    assert meta["data_sha256"] == sha256(gpqa_csv)


@pytest.mark.slow
def test_a_relative_healthbench_path_is_read_from_where_inspect_was_run(tmp_path):
    """Run outside the repository: the rows beside the user, not a file of that name in the repository."""
    write_rows(tmp_path / "rows.jsonl", questions=["My knee is swollen."])
    inspect_eval(ROOT / "tasks" / "healthbench.py", tmp_path, tmp_path / "logs", "-T", "path=rows.jsonl",
                 "--model-role", "grader=scripted/keyword")
    [log_file] = (tmp_path / "logs").glob("*.eval")
    assert read_eval_log(str(log_file)).samples[0].input[0].content == "My knee is swollen."


@pytest.mark.slow
@pytest.mark.skipif(not REAL_ZIP.is_file(), reason=f"GPQA zip not at {REAL_ZIP}")
def test_the_readmes_relative_zip_path_is_found(tmp_path):
    """``RAREVAL_GPQA_PATH=../shared/data/gpqa/gpqa_diamond.zip`` from the repository root, as the README
    suggests; only the unpacked file's sha256 is checked. A relative ``RAREVAL_DATA_DIR`` (where it is
    unpacked) is read from there too, not from ``tasks/``."""
    meta = inspect_eval("tasks/gpqa_diamond.py", ROOT, tmp_path / "logs", "-T", "runs=1",
                        RAREVAL_GPQA_PATH=os.path.relpath(REAL_ZIP, ROOT),
                        RAREVAL_DATA_DIR=os.path.relpath(tmp_path / "cache", ROOT))
    assert meta["data_sha256"] == GPQA_SHA256
    assert sha256(tmp_path / "cache" / "gpqa" / "gpqa_diamond.csv") == GPQA_SHA256


def test_a_relative_verdict_cache_is_written_where_inspect_was_run(tmp_path, monkeypatch):
    """``RAREVAL_VERDICT_CACHE=verdicts.sqlite`` (or a relative ``RAREVAL_CACHE_DIR``) names a file beside the
    user, not one under ``tasks/``, where Inspect runs the task file."""
    from rareval.data import cache as data_cache
    from rareval.judge.cache import VerdictCache, cache_dir

    monkeypatch.setattr(data_cache, "LAUNCH_DIR", tmp_path)
    (tmp_path / "tasks").mkdir()
    monkeypatch.chdir(tmp_path / "tasks")  # where Inspect runs a task file from
    monkeypatch.setenv("RAREVAL_VERDICT_CACHE", "verdicts.sqlite")
    assert VerdictCache().path == tmp_path / "verdicts.sqlite"
    monkeypatch.delenv("RAREVAL_VERDICT_CACHE")
    monkeypatch.setenv("RAREVAL_CACHE_DIR", "cache")
    assert VerdictCache().path == tmp_path / "cache" / "verdicts.sqlite"
    assert cache_dir() == tmp_path / "cache" and data_cache.data_dir() == tmp_path / "cache" / "data"


@pytest.mark.slow
def test_inspect_eval_writes_a_relative_verdict_cache_where_it_was_run(tmp_path):
    write_rows(tmp_path / "rows.jsonl", questions=["My knee is swollen."])
    inspect_eval(ROOT / "tasks" / "healthbench.py", tmp_path, tmp_path / "logs", "-T", "path=rows.jsonl",
                 "--model-role", "grader=scripted/keyword", RAREVAL_VERDICT_CACHE="verdicts.sqlite")
    assert (tmp_path / "verdicts.sqlite").is_file()
    assert not (ROOT / "tasks" / "verdicts.sqlite").exists()
