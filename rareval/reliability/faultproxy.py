"""A loopback HTTP proxy that breaks some requests on their way to an OpenAI-compatible server.

It sits between a judge (Inspect's ``openai-api/`` provider) and a model server (llama.cpp's
``python -m llama_cpp.server``), forwards every request, and answers a chosen share of
``POST`` requests with a fault instead of the server's answer:

* ``timeout`` — holds the connection without answering for ``hang_s``, then closes it;
* ``status_5xx`` — answers ``503`` with an OpenAI-style error body, without asking the server;
* ``reset`` — closes the connection without any answer;
* ``truncated`` — asks the server, then sends its headers and only the first half of its body;
* ``malformed`` — asks the server, then answers ``200`` with a body that is not JSON;
* ``empty_choices`` — asks the server, then answers ``200`` with its JSON minus every choice.

Faults are drawn from a seeded generator (``FaultPlan.rates``), or follow an explicit
``FaultPlan.schedule`` (one entry per ``POST``, ``"ok"`` for none), so a run is repeatable.
:class:`FaultStats` counts what happened: requests, faults by kind, answers the server
computed (``upstream_answers``, what a paid API would bill), and ``delivered`` — intact
answers handed back — by request body, so a question answered twice shows as
``repeated_deliveries``. When the server is down the proxy answers ``502``.

Loopback only: the proxy binds ``127.0.0.1`` and refuses any other upstream host.

    with FaultProxy("http://127.0.0.1:8080", FaultPlan(rates={"status_5xx": 0.2})) as proxy:
        ...  # point the client at proxy.base_url ("http://127.0.0.1:PORT/v1")
    print(proxy.stats)
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, model_validator

FaultKind = Literal["timeout", "status_5xx", "reset", "truncated", "malformed", "empty_choices"]
FAULT_KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class FaultPlan(BaseModel):
    """Which requests the proxy breaks, and how."""

    rates: dict[FaultKind, float] = Field(
        default_factory=dict, description="Probability of each fault per POST request (their sum at most 1); "
        "the rest are forwarded intact.")
    schedule: list[FaultKind | Literal["ok"]] | None = Field(
        None, description="Explicit fault per POST request, in arrival order; past its end, ``rates`` apply.")
    seed: int = Field(0, description="Seed of the fault draw.")
    hang_s: float = Field(5.0, gt=0, description="How long a 'timeout' fault holds the connection before "
                          "closing it; set it above the client's per-attempt timeout.")
    upstream_timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for the server's answer.")

    @model_validator(mode="after")
    def _rates_are_probabilities(self) -> "FaultPlan":
        if sum(self.rates.values()) > 1 + 1e-9 or any(r < 0 for r in self.rates.values()):
            raise ValueError(f"fault rates must be non-negative and sum to at most 1, got {self.rates}")
        return self


class FaultStats(BaseModel):
    """What the proxy saw and did."""

    requests: int = Field(0, description="POST requests received.")
    distinct_requests: int = Field(0, description="Distinct POST bodies among them; the rest are repeats "
                                   "(a client retrying after a fault, or asking again what it was answered).")
    faults: dict[str, int] = Field(default_factory=dict, description="Faults injected, by kind.")
    upstream_answers: int = Field(0, description="Answers the server computed (including those then broken).")
    upstream_unreachable: int = Field(0, description="Requests answered 502 because the server was down.")
    delivered: dict[str, int] = Field(default_factory=dict, description="Intact 200 answers handed back, "
                                      "by sha256 of the request body.")

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    @property
    def delivered_total(self) -> int:
        return sum(self.delivered.values())

    @property
    def repeated_requests(self) -> int:
        """POST requests whose body had been sent before."""
        return self.requests - self.distinct_requests

    @property
    def repeated_deliveries(self) -> int:
        """Intact answers to a request body that had already been answered intact (paid twice)."""
        return sum(n - 1 for n in self.delivered.values() if n > 1)


class FaultProxy:
    """A threaded HTTP proxy on ``127.0.0.1`` in front of ``upstream`` (see the module docstring)."""

    def __init__(self, upstream: str, plan: FaultPlan | None = None, port: int = 0):
        parts = urlsplit(upstream)
        if parts.hostname not in LOOPBACK:
            raise ValueError(f"the fault proxy only fronts a loopback server, got {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port or 80
        self.plan = plan or FaultPlan()
        self._rng = random.Random(self.plan.seed)
        self._plan_start = 0  # the request count when the plan was set: its schedule starts there
        self._lock = threading.Lock()
        self._stats = FaultStats()
        self._delivered: Counter[str] = Counter()
        self._seen: set[str] = set()
        self._answers: list[bytes] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL to give a client (``…/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def stats(self) -> FaultStats:
        with self._lock:
            return self._stats.model_copy(update={"delivered": dict(self._delivered),
                                                  "faults": dict(self._stats.faults),
                                                  "distinct_requests": len(self._seen)})

    def delivered_answers(self) -> list[dict]:
        """Every intact 200 answer handed back to a POST, parsed, in order."""
        with self._lock:
            return [json.loads(a) for a in self._answers]

    def set_plan(self, plan: FaultPlan) -> None:
        """Use another plan from the next request on (e.g. no faults for a clean re-run)."""
        with self._lock:
            self.plan, self._rng, self._plan_start = plan, random.Random(plan.seed), self._stats.requests

    def start(self) -> "FaultProxy":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- called by the handler ---------------------------------------------------------

    def _draw(self, body: bytes) -> str:
        with self._lock:
            self._seen.add(hashlib.sha256(body).hexdigest())
            n = self._stats.requests - self._plan_start
            self._stats.requests += 1
            schedule = self.plan.schedule or []
            if n < len(schedule):
                kind = schedule[n]
            else:
                x, kind = self._rng.random(), "ok"
                for k, rate in self.plan.rates.items():
                    if x < rate:
                        kind = k
                        break
                    x -= rate
            if kind != "ok":
                self._stats.faults[kind] = self._stats.faults.get(kind, 0) + 1
            return kind

    def _count(self, field: str) -> None:
        with self._lock:
            setattr(self._stats, field, getattr(self._stats, field) + 1)

    def _delivered_ok(self, body: bytes, answer: bytes) -> None:
        with self._lock:
            self._delivered[hashlib.sha256(body).hexdigest()] += 1
            self._answers.append(answer)


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._safely(b"", "ok")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._safely(body, proxy._draw(body))

        def _safely(self, body: bytes, fault: str) -> None:
            try:
                self._forward(body, fault)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its own timeout)
                self.close_connection = True

        def _forward(self, body: bytes, fault: str) -> None:
            if fault == "timeout":
                time.sleep(proxy.plan.hang_s)
                self.close_connection = True
                return
            if fault == "reset":
                self.close_connection = True
                return
            if fault == "status_5xx":
                self._send(503, json.dumps({"error": {"message": "injected fault: service unavailable",
                                                      "type": "server_error", "code": 503}}).encode())
                return
            try:
                status, headers, answer = self._upstream(body)
            except OSError as e:
                proxy._count("upstream_unreachable")
                self._send(502, json.dumps({"error": {"message": f"upstream unreachable: {type(e).__name__}",
                                                      "type": "server_error", "code": 502}}).encode())
                return
            if self.command == "POST":
                proxy._count("upstream_answers")
            if fault == "truncated":
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer[: len(answer) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if fault == "malformed":
                answer = b'{"id": "chatcmpl-broken", "choices": [{"message": ' + answer[:40] + b"\x00\xff garbage"
            elif fault == "empty_choices":
                try:
                    answer = json.dumps({**json.loads(answer), "choices": []}).encode()
                except ValueError:
                    pass
            elif status == 200 and self.command == "POST":
                proxy._delivered_ok(body, answer)
            self._send(status, answer, headers.get("Content-Type", "application/json"))

        def _upstream(self, body: bytes) -> tuple[int, dict, bytes]:
            conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port,
                                              timeout=proxy.plan.upstream_timeout_s)
            try:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "accept-encoding")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                return resp.status, dict(resp.getheaders()), resp.read()
            finally:
                conn.close()

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
