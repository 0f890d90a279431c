"""Secrets: API keys never reach logs, results, run directories or error messages.

With fake keys in the environment, an evaluation and a training step run with the scripted
judge, and an evaluation with a judge behind a loopback server that echoes the request's bearer
token in its error answers (as a misconfigured gateway might); every file they wrote (inside
zip archives too: Inspect's .eval logs) and everything they printed is scanned for the keys.
"""

from __future__ import annotations

import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from rareval.cli import main as cli
from rareval.errors import redact
from tests.conftest import REPO

KEYS = {"OPENAI_API_KEY": "sk-test-FAKE-0123456789abcdefOPENAI", "ANTHROPIC_API_KEY": "sk-ant-test-FAKE-987654321",
        "HF_TOKEN": "hf_FAKEtoken0123456789", "LEAKY_API_KEY": "sk-test-FAKE-LEAKY-5555aaaa"}


class Echo(BaseHTTPRequestHandler):
    """Answers every request 500 with the caller's Authorization header in the error message."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": {"message": f"upstream rejected {self.headers.get('Authorization')}",
                                     "type": "server_error"}}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def leaky(monkeypatch):
    """A loopback server echoing the key; LEAKY_BASE_URL points the ``openai-api/leaky/`` provider at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LEAKY_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    from inspect_ai.model._providers.openai_compatible import OpenAICompatibleAPI
    from tenacity import wait_fixed

    monkeypatch.setattr(OpenAICompatibleAPI, "retry_wait", lambda self: wait_fixed(0.1))
    yield "openai-api/leaky/m"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_keys(monkeypatch):
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    return KEYS


def leaks(roots: list[Path], printed: str) -> list[str]:
    """Where any fake key (or its distinctive middle) appears: files under ``roots``, or the output."""
    needles = [v.encode() for v in KEYS.values()] + [v[8:20].encode() for v in KEYS.values()]
    found = [f"output: {n.decode()}" for n in needles if n in printed.encode()]
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file():
                for name, data in contents(path):
                    found += [f"{name}: {n.decode()}" for n in needles if n in data]
    return found


def contents(path: Path):
    """A file's bytes, and each member's of a zip file (Inspect's .eval logs are compressed zips)."""
    yield str(path), path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path}!{member}", archive.read(member)


def test_redact_replaces_secret_environment_values(fake_keys):
    text = f"401: Incorrect API key provided: {KEYS['OPENAI_API_KEY']} (Bearer {KEYS['LEAKY_API_KEY']})"
    assert redact(text) == "401: Incorrect API key provided: [redacted] (Bearer [redacted])"
    assert redact("nothing secret here") == "nothing secret here"


def test_evaluation_writes_no_key(fake_keys, leaky, tmp_path, monkeypatch, capfd, figures):
    """No key in any file of a scripted-judge evaluation; with a judge whose server echoes the key, none in
    what rareval records (scores, explanations, metadata, the verdict cache). Inspect's own transcript of
    the failed call keeps the server's error text verbatim: counted, and listed in RELIABILITY.md."""
    from inspect_ai.log import read_eval_log

    monkeypatch.chdir(REPO)
    clean, echoed = tmp_path / "clean", tmp_path / "echoed"
    log = inspect_eval("tasks/healthbench.py", model="scripted/policy", model_roles={"grader": "scripted/keyword"},
                       limit=2, log_dir=str(clean), display="none")[0]
    assert log.status == "success"
    assert leaks([clean, tmp_path / "cache"], "".join(capfd.readouterr())) == []

    log = inspect_eval("tasks/healthbench.py", model="scripted/policy",
                       model_roles={"grader": get_model(leaky, memoize=False)}, limit=1, log_dir=str(echoed),
                       display="none")[0]
    explanation = next(iter(log.samples[0].scores.values())).explanation
    assert "ABSTAINED" in explanation and "[redacted]" in explanation  # the echoed key, redacted
    found = leaks([tmp_path / "cache"], "".join(capfd.readouterr()))
    transcript = 0
    for path in echoed.glob("*.eval"):
        read = read_eval_log(str(path))
        transcript += sum(needle in event.model_dump_json() for sample in read.samples for event in sample.events
                          for needle in KEYS.values())
        for sample in read.samples:
            sample.events = []
        found += [f"{path} (less its transcript): {k}" for k in KEYS.values() if k in read.model_dump_json()]
    assert found == []
    assert transcript > 0  # the echoing server did reach Inspect's transcript

    # `rareval redact-logs` takes them out of the log, which still reads as before
    assert cli(["redact-logs", str(echoed)]) == 0
    assert "1 rewritten" in capfd.readouterr().out
    after = 0
    for path in echoed.glob("*.eval"):
        read = read_eval_log(str(path))
        assert read.status == "success" and len(read.samples) == 1
        after += sum(needle in event.model_dump_json() for sample in read.samples for event in sample.events
                     for needle in KEYS.values())
        assert "[redacted]" in read.model_dump_json()
    assert after == 0 and leaks([echoed], "") == []
    figures["secrets_evaluation"] = {"files_scanned": sum(1 for d in (clean, echoed, tmp_path / "cache")
                                                          for p in d.rglob("*") if p.is_file()),
                                     "leaks": len(found), "inspect_transcript_events_with_echoed_key": transcript,
                                     "after_redact_logs": after}


def test_training_step_writes_no_key(fake_keys, tmp_path, capfd, figures):
    from rareval.data.healthbench_1k import in_healthbench_1k
    from rareval.models.policy import PLAIN_CHAT_TEMPLATE
    from tests.test_reward_grpo import QUESTIONS, tiny_model

    model, tokenizer = tiny_model(tmp_path)
    tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    model.save_pretrained(tmp_path / "policy")
    tokenizer.save_pretrained(tmp_path / "policy")
    ids = [f"p{i}" for i in range(40) if not in_healthbench_1k(f"p{i}")][:len(QUESTIONS)]
    rubric = [{"criterion": "Mentions 'water'", "points": 5, "tags": []}]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"prompt_id": pid, "prompt": [{"role": "user", "content": q}],
                                        "rubrics": rubric}) + "\n" for pid, q in zip(ids, QUESTIONS)))
    run = tmp_path / "run"
    settings = ["rubric_source=physician", "max_steps=1", "effective_batch=4", "num_generations=2",
                "max_completion_length=8"]
    assert cli(["train", "--preset", "rar-explicit@tiny", *(a for s in settings for a in ("--set", s)),
                "--policy", str(tmp_path / "policy"), "--judge", "scripted/keyword", "--data", str(data),
                "--out", str(run)]) == 0
    assert json.loads((run / "status.json").read_text())["step"] == 1
    found = leaks([run, tmp_path / "cache"], "".join(capfd.readouterr()))
    assert found == []
    figures["secrets_training"] = {"files_scanned": sum(1 for d in (run, tmp_path / "cache") for p in d.rglob("*")
                                                        if p.is_file()), "leaks": len(found)}


def test_redact_log_rewrites_only_logs_holding_a_secret(fake_keys, tmp_path):
    from rareval.reliability.secrets import log_files, redact_log

    key = KEYS["OPENAI_API_KEY"]
    leaky_log, clean_log = tmp_path / "a.json", tmp_path / "sub" / "b.json"
    clean_log.parent.mkdir()
    leaky_log.write_text(json.dumps({"error": f"401: bad key {key}", "again": key}))
    clean_log.write_text(json.dumps({"error": "timeout"}))
    before = clean_log.stat().st_mtime_ns
    assert log_files([tmp_path]) == [leaky_log, clean_log]
    assert [redact_log(p) for p in (leaky_log, clean_log)] == [2, 0]
    assert json.loads(leaky_log.read_text()) == {"error": "401: bad key [redacted]", "again": "[redacted]"}
    assert clean_log.stat().st_mtime_ns == before and not list(tmp_path.glob("*.tmp"))
    with pytest.raises(FileNotFoundError, match="no such file"):
        log_files([tmp_path / "missing"])
