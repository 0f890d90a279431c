"""The verdict cache shared by real processes: concurrent writers lose nothing, a lock is never an error."""

import multiprocessing
import sqlite3

from rareval.judge.cache import VerdictCache


def write_many(path: str, start: int, n: int) -> None:
    cache = VerdictCache(path)
    for i in range(start, start + n):
        cache.put(f"k{i}", {"met": i % 2 == 0, "p": None, "explanation": ""})
        assert cache.get(f"k{i}")["met"] == (i % 2 == 0)


def test_two_processes_write_one_file_at_once_and_lose_nothing(tmp_path):
    path = str(tmp_path / "verdicts.sqlite")
    VerdictCache(path).put("warm", 1)  # the file and its WAL mode exist before the race
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=write_many, args=(path, k * 300, 300)) for k in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    cache = VerdictCache(path)
    assert all(cache.get(f"k{i}") is not None for i in range(600))
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_locked_by_another_writer_skips_the_write_and_still_reads(tmp_path, caplog):
    path = tmp_path / "verdicts.sqlite"
    VerdictCache(path).put("k", {"met": True})
    holder = sqlite3.connect(path, timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file for longer than we wait
    cache = VerdictCache(path, timeout_s=0.05, attempts=2)
    cache.put("k2", {"met": False})  # not stored, not raised
    assert cache.get("k") == {"met": True}  # WAL: a reader does not wait for the writer
    holder.rollback()
    assert cache.get("k") == {"met": True} and cache.get("k2") is None
    assert sum("stayed locked" in r.message for r in caplog.records) == 1  # one warning, not one per call
