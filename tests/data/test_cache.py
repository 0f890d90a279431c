import hashlib
import http.server
import threading
import time
import warnings
from pathlib import Path

import pytest

from rareval.data.cache import (
    ChecksumMismatch,
    DataError,
    DataUnavailable,
    data_dir,
    download,
    fetch,
    load_jsonl,
    read_jsonl,
    verify_sha256,
)

from .conftest import closed_port, write_jsonl


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/www on a local port; yields the base URL."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("RAREVAL_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    monkeypatch.delenv("RAREVAL_DATA_DIR")
    monkeypatch.setenv("RAREVAL_CACHE_DIR", str(tmp_path / "c"))
    assert data_dir() == tmp_path / "c" / "data"
    monkeypatch.delenv("RAREVAL_CACHE_DIR")
    assert data_dir() == Path.home() / ".cache" / "rareval" / "data"


def test_download_verifies_and_writes_atomically(http_server, tmp_path):
    base, root = http_server
    payload = b'{"a": 1}\n' * 1000
    (root / "f.jsonl").write_bytes(payload)
    dest = tmp_path / "out" / "f.jsonl"
    assert download(f"{base}/f.jsonl", dest, hashlib.sha256(payload).hexdigest()) == dest
    assert dest.read_bytes() == payload
    assert [p.name for p in dest.parent.iterdir()] == ["f.jsonl"]  # no temporary file left


def test_download_checksum_mismatch_leaves_nothing(http_server, tmp_path):
    base, root = http_server
    (root / "f.jsonl").write_bytes(b"tampered\n")
    dest = tmp_path / "out" / "f.jsonl"
    with pytest.raises(ChecksumMismatch, match="expected 0000") as e:
        download(f"{base}/f.jsonl", dest, "0" * 64)
    assert str(dest) in str(e.value)
    assert list(dest.parent.iterdir()) == []


def test_download_offline_fails_fast_with_where_to_put_it(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/healthbench/file.jsonl"
    dest = tmp_path / "cache" / "file.jsonl"
    t0 = time.monotonic()
    with pytest.raises(DataUnavailable) as e:
        download(url, dest, "0" * 64, timeout=2)
    assert time.monotonic() - t0 < 3
    msg = str(e.value)
    assert "file.jsonl is not available" in msg and url in msg and str(dest) in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__  # one message, no chained traceback
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_offline_switch_skips_the_network(monkeypatch, tmp_path):
    monkeypatch.setenv("RAREVAL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="offline mode"):
        download("http://203.0.113.1/never.jsonl", tmp_path / "never.jsonl")


def test_fetch_order_path_then_cache_then_download(tmp_path, http_server):
    base, root = http_server
    (root / "x.jsonl").write_bytes(b"{}\n")
    sha = hashlib.sha256(b"{}\n").hexdigest()
    own = write_jsonl(tmp_path / "mine.jsonl", [{"b": 2}])
    assert fetch("x.jsonl", f"{base}/x.jsonl", sha, path=own) == own  # explicit path, not checksummed
    got = fetch("x.jsonl", f"{base}/x.jsonl", sha)
    assert got == data_dir() / "x.jsonl" and got.read_bytes() == b"{}\n"
    (root / "x.jsonl").unlink()
    assert fetch("x.jsonl", f"{base}/x.jsonl", sha) == got  # served from the cache now


def test_fetch_rejects_corrupt_cache_and_missing_paths(tmp_path):
    (data_dir()).mkdir(parents=True)
    (data_dir() / "x.jsonl").write_text("truncated")
    with pytest.raises(ChecksumMismatch, match="sha256 is"):
        fetch("x.jsonl", "http://example.invalid/x.jsonl", "ab" * 32)
    with pytest.raises(DataUnavailable, match="no file at"):
        fetch("x.jsonl", None, None, path=tmp_path / "nope.jsonl")
    with pytest.raises(DataUnavailable) as e:
        fetch("y.jsonl", "http://example.invalid/y.jsonl", None, allow_download=False)
    assert str(data_dir() / "y.jsonl") in str(e.value) and "http://example.invalid/y.jsonl" in str(e.value)


def test_verify_sha256(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    assert verify_sha256(f, hashlib.sha256(b"abc").hexdigest().upper()) == f
    with pytest.raises(ChecksumMismatch):
        verify_sha256(f, hashlib.sha256(b"abd").hexdigest())


def test_read_jsonl_numbers_lines_and_names_the_bad_one(tmp_path):
    f = write_jsonl(tmp_path / "f.jsonl", [{"a": 1}, "", {"a": 2}, '{"a": 3', "[1, 2]"])
    rows = read_jsonl(f)
    assert next(rows) == (1, {"a": 1}) and next(rows) == (3, {"a": 2})
    with pytest.raises(DataError, match=r"f\.jsonl, line 4: malformed JSON") as e:
        next(rows)
    assert e.value.line == 4 and e.value.file == f
    skipped = []
    assert [n for n, _ in read_jsonl(f, skipped=skipped)] == [1, 3]
    assert [s.line for s in skipped] == [4, 5]
    assert "line 5: expected a JSON object, got list" in skipped[1].error


def test_load_jsonl_skip_bad_rows_counts_and_warns(tmp_path):
    f = write_jsonl(tmp_path / "f.jsonl", [{"v": 1}, '{"v":', {"v": "two"}, {"v": 3}, "7"])

    def parse(rec, n):
        if not isinstance(rec["v"], int):
            raise DataError("wrong type str", file=f, line=n, field="v")
        return rec["v"]

    with pytest.raises(DataError, match="line 2"):
        load_jsonl(f, parse)
    with pytest.warns(UserWarning, match="skipped 3 bad row") as w:
        rows = load_jsonl(f, parse, skip_bad_rows=True)
    assert rows == [1, 3] and rows.source == f
    assert [s.line for s in rows.skipped] == [2, 3, 5]
    assert "field 'v'" in rows.skipped[1].error
    assert len(w) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_jsonl(write_jsonl(tmp_path / "ok.jsonl", [{"v": 1}]), parse, skip_bad_rows=True).skipped == []


def test_records_end_at_newline_only(tmp_path):
    f = tmp_path / "f.jsonl"
    f.write_text('{"t": "a\u2028b"}\r\n{"t": "c\x85d"}\n', encoding="utf-8")
    assert [r["t"] for _, r in read_jsonl(f)] == ["a\u2028b", "c\x85d"]
