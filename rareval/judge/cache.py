"""Verdict cache: judge answers already paid for are never asked again.

Entries are keyed by the judge model, the sampling temperature, the prompt version (see
:mod:`rareval.prompts`), the question kind and the exact texts judged, so a
changed prompt, model or input is a miss. Only successful answers are stored —
an abstention is retried next time. One SQLite file under the rareval cache
directory (``RAREVAL_CACHE_DIR``, default ``~/.cache/rareval``), or the file named by
``RAREVAL_VERDICT_CACHE``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """rareval's cache root: ``$RAREVAL_CACHE_DIR`` or ``~/.cache/rareval``."""
    return Path(os.environ.get("RAREVAL_CACHE_DIR") or Path.home() / ".cache" / "rareval")


class VerdictCache:
    """A small persistent key → JSON store, safe to share between threads."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or os.environ.get("RAREVAL_VERDICT_CACHE") or cache_dir() / "verdicts.sqlite")
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT)")
        return self._db

    @staticmethod
    def key(**parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._conn().execute("SELECT value FROM verdicts WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            db = self._conn()
            db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?)", (key, json.dumps(value)))
            db.commit()

    def __getstate__(self) -> dict:  # picklable: reopen lazily in the child
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])
