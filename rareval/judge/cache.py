"""Verdict cache: judge answers already paid for are never asked again.

Entries are keyed by the judge model, the sampling temperature, the prompt version (see
:mod:`rareval.prompts`), the question kind and the exact texts judged, so a
changed prompt, model or input is a miss. Only successful answers are stored —
an abstention is retried next time. One SQLite file under the rareval cache
directory (``RAREVAL_CACHE_DIR``, default ``~/.cache/rareval``), or the file named by
``RAREVAL_VERDICT_CACHE``; a relative setting is read from the directory the command was run in
(:func:`rareval.data.cache.launch_path`), not from ``tasks/``, where Inspect runs a task file.

Several processes may share the file (the ranks of a training run, parallel evaluations): it is
opened in WAL mode (readers never wait for a writer) with a busy timeout, and a read or write that
still finds the file locked is retried, then given up — a miss, or a verdict not stored — with one
warning. A lock is never an error of the run that uses the cache: the cache only saves calls.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from rareval.data.cache import cache_dir, launch_path  # cache_dir: the root, named here for the judge's users

logger = logging.getLogger(__name__)


class VerdictCache:
    """A small persistent key → JSON store, safe to share between threads and processes."""

    def __init__(self, path: str | Path | None = None, timeout_s: float = 30.0, attempts: int = 3):
        env = os.environ.get("RAREVAL_VERDICT_CACHE")
        self.path = Path(path) if path else launch_path(env) if env else cache_dir() / "verdicts.sqlite"
        self.timeout_s, self.attempts = timeout_s, attempts
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._warned = False

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, timeout=self.timeout_s)
            db.execute("PRAGMA journal_mode=WAL")  # kept in the file: every process reads beside a writer
            db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT)")
            self._db = db
        return self._db

    def _locked(self, action: str, run: Any) -> Any:
        """``run(connection)``, retried while another process holds the file locked; None once given up."""
        for attempt in range(self.attempts):
            try:
                with self._lock:
                    return run(self._conn())
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.05 * 2 ** attempt)
        if not self._warned:
            logger.warning("%s: the verdict cache stayed locked by another process; %s skipped (further ones "
                           "are skipped silently)", self.path, action)
            self._warned = True
        return None

    @staticmethod
    def key(**parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        row = self._locked("a read", lambda db: db.execute("SELECT value FROM verdicts WHERE key = ?",
                                                          (key,)).fetchone())
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        def write(db: sqlite3.Connection) -> bool:
            with db:  # commits, or rolls back a write that failed
                db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?)", (key, json.dumps(value)))
            return True

        self._locked("a write", write)

    def __getstate__(self) -> dict:  # picklable: reopen lazily in the child
        return {"path": self.path, "timeout_s": self.timeout_s, "attempts": self.attempts}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state.get("timeout_s", 30.0), state.get("attempts", 3))
