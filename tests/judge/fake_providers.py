"""Fake provider servers on 127.0.0.1 that follow a real provider's rules, for Inspect's real clients.

:class:`FakeReasoningOpenAI` plays an OpenAI reasoning model on the Responses API
(``POST /v1/responses``): it rejects ``max_output_tokens`` below 16 and the sampling
parameters reasoning models refuse (``temperature``, ``top_logprobs``), returns no logprobs,
spends ``reasoning_tokens`` of the output budget on reasoning (a budget too small for it
ends ``incomplete`` with only the reasoning item, as the real API does), and returns the
reasoning item before the message.

:class:`FakeAnthropic` plays Claude on the Messages API (``POST /v1/messages``): no
logprobs, temperature accepted and ignored.

:class:`FakeServedJudge` plays a judge served apart from training (vLLM's or llama.cpp's
OpenAI-compatible ``POST /v1/chat/completions``, ``GET /v1/models``): the answer token with its
top logprobs, and a count of the requests in flight at once; or, given ``replies``, those texts in turn
(a grader's answers as written). Given ``api_key``, a request without that bearer key is answered
``401`` as OpenAI answers a wrong key.

Each answers like a judge: ``yes``/``no`` (or the JSON the request's schema asks for),
deciding "met" when the criterion's last long word appears in the response. Both record every
request body and stop when their ``with`` block ends.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MIN_OUTPUT_TOKENS = 16


def judge_answer(prompt: str, schema: dict[str, Any] | None) -> str:
    """A deterministic judge: the criterion is met when its last long word occurs in the response."""
    response = re.search(r"<response>(.*?)</response>", prompt, re.DOTALL)
    criterion = re.search(r"<criterion>(.*?)</criterion>", prompt, re.DOTALL)
    words = re.findall(r"[a-z]{4,}", (criterion.group(1) if criterion else "").lower())
    met = bool(words and response) and words[-1] in response.group(1).lower()
    if schema is None:
        return "Yes" if met else "No"
    props = schema.get("properties", {})
    if "criteria_met" in props:
        return json.dumps({"explanation": "checked the response", "criteria_met": met})
    if "rating" in props:
        return json.dumps({"rating": 7 if met else 4})
    return json.dumps({k: "yes" if met else "no" for k in props})


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))


class _Server:
    """A threaded HTTP server on an ephemeral loopback port; subclasses answer ``path``."""

    path = ""
    model = "served-judge"
    #: the only key accepted (``Authorization: Bearer KEY``); None: any
    api_key: str | None = None

    def __init__(self):
        self.requests: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    return self._send(200, {"object": "list", "data": [{"id": owner.model, "object": "model"}]})
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                owner.requests.append(body)
                if not self.path.endswith(owner.path):
                    return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                if owner.api_key is not None and self.headers.get("authorization") != f"Bearer {owner.api_key}":
                    return self._send(401, {"error": {"message": "Incorrect API key provided.", "type":
                                                      "invalid_request_error", "param": None,
                                                      "code": "invalid_api_key"}})
                status, reply = owner.answer(body)
                self._send(status, reply)

            def _send(self, status: int, reply: Any):
                self.send_response(status)
                if isinstance(reply, list):  # server-sent events; the connection's close ends the stream
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for event in reply:
                        self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
                    return
                data = json.dumps(reply).encode()
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    @property
    def judged(self) -> list[dict[str, Any]]:
        """The requests that asked a judge question (Inspect also sends a one-off capability probe)."""
        return [b for b in self.requests if "<response>" in json.dumps(b)]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class FakeReasoningOpenAI(_Server):
    """An OpenAI reasoning model behind the Responses API; see the module docstring."""

    path = "/responses"

    def __init__(self, reasoning_tokens: int = 64):
        super().__init__()
        self.reasoning_tokens = reasoning_tokens

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reject(self, param: str, message: str) -> tuple[int, dict[str, Any]]:
        self.rejected.append(param)
        return 400, {"error": {"message": message, "type": "invalid_request_error", "param": param,
                               "code": "invalid_value"}}

    def answer(self, body):
        budget = body.get("max_output_tokens")
        if budget is not None and budget < MIN_OUTPUT_TOKENS:
            return self.reject("max_output_tokens", f"Invalid 'max_output_tokens': integer below minimum value. "
                               f"Expected a value >= {MIN_OUTPUT_TOKENS}, but got {budget} instead.")
        for param in ("temperature", "top_p", "top_logprobs"):
            if param in body:
                return self.reject(param, f"Unsupported parameter: '{param}' is not supported with this model.")
        items = body.get("input", [])
        prompt = "\n".join(_text_of(i.get("content", "")) for i in items if isinstance(i, dict))
        fmt = (body.get("text") or {}).get("format") or {}
        text = judge_answer(prompt, fmt.get("schema") if fmt.get("type") == "json_schema" else None)
        answer_tokens = max(1, len(text) // 4)
        reasoning = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "opaque"}
        complete = budget is None or budget >= self.reasoning_tokens + answer_tokens
        output = [reasoning] + ([{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                                  "content": [{"type": "output_text", "text": text, "annotations": []}]}]
                                if complete else [])
        used = self.reasoning_tokens + (answer_tokens if complete else 0)
        return 200, {
            "id": f"resp_{len(self.requests)}", "object": "response", "created_at": 0, "model": body.get("model"),
            "status": "completed" if complete else "incomplete",
            "incomplete_details": None if complete else {"reason": "max_output_tokens"},
            "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": len(prompt) // 4, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": used, "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
                      "total_tokens": len(prompt) // 4 + used}}


class FakeAnthropic(_Server):
    """Claude behind the Messages API: no logprobs, temperature accepted and ignored; with extended thinking
    (``thinking.budget_tokens``) ``max_tokens`` must exceed the budget, and a thinking block comes first."""

    path = "/messages"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, body):
        thinking = body.get("thinking") or {}
        budget = thinking.get("budget_tokens") if thinking.get("type") == "enabled" else None
        if budget is not None and body.get("max_tokens", 0) <= budget:
            self.rejected.append("max_tokens")
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message":
                         f"`max_tokens` must be greater than `thinking.budget_tokens` ({budget})"}}
        prompt = "\n".join(_text_of(m.get("content", "")) for m in body.get("messages", []))
        text = judge_answer(prompt, (body.get("output_format") or {}).get("schema"))
        blocks = [{"type": "text", "text": text}]
        if budget is not None:
            blocks.insert(0, {"type": "thinking", "thinking": "Weighing the criterion: yes or no?", "signature": "s"})
        usage = {"input_tokens": len(prompt) // 4, "output_tokens": max(1, len(text) // 4)}
        message = {"id": f"msg_{len(self.requests)}", "type": "message", "role": "assistant",
                   "model": body.get("model"),
                   "content": blocks, "stop_reason": "end_turn", "stop_sequence": None, "usage": usage}
        return 200, stream_events(message) if body.get("stream") else message


def stream_events(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The Messages API's server-sent events for ``message`` (Inspect streams requests that think)."""
    events = [{"type": "message_start", "message": {**message, "content": [], "stop_reason": None,
                                                    "usage": {**message["usage"], "output_tokens": 1}}}]
    for i, block in enumerate(message["content"]):
        kind = block["type"]
        empty = {"type": "thinking", "thinking": "", "signature": ""} if kind == "thinking" else {"type": "text",
                                                                                                 "text": ""}
        events.append({"type": "content_block_start", "index": i, "content_block": empty})
        if kind == "thinking":
            events += [{"type": "content_block_delta", "index": i,
                        "delta": {"type": "thinking_delta", "thinking": block["thinking"]}},
                       {"type": "content_block_delta", "index": i,
                        "delta": {"type": "signature_delta", "signature": block["signature"]}}]
        else:
            events.append({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta",
                                                                                 "text": block["text"]}})
        events.append({"type": "content_block_stop", "index": i})
    return events + [{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                      "usage": {"output_tokens": message["usage"]["output_tokens"]}}, {"type": "message_stop"}]


class FakeServedJudge(_Server):
    """A judge served on its own (vLLM / llama.cpp OpenAI-compatible chat completions); see the module docstring.
    Each answer takes ``delay`` seconds, so concurrent requests overlap; ``max_in_flight`` is the most at once."""

    path = "/chat/completions"

    def __init__(self, delay: float = 0.05, replies: list[str] | None = None, api_key: str | None = None,
                 model: str | None = None):
        super().__init__()
        self.delay, self.in_flight, self.max_in_flight = delay, 0, 0
        self.replies, self.api_key = list(replies or []), api_key
        # Inspect's vllm/ provider keeps one server per model name per process: a test that reaches a vllm/
        # judge in process names its own model, or a later test's judge would be sent to this server
        self.model = model or self.model
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answer(self, body):
        import math
        import time

        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            prompt = "\n".join(_text_of(m.get("content", "")) for m in body.get("messages", []))
            schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
            with self._lock:
                text = self.replies.pop(0) if self.replies else judge_answer(prompt, schema)
            logprobs = None
            if body.get("logprobs") and schema is None:
                yes = text == "Yes"
                alts = [{"token": "Yes", "logprob": math.log(0.9 if yes else 0.1), "bytes": None},
                        {"token": "No", "logprob": math.log(0.1 if yes else 0.9), "bytes": None}]
                alts.sort(key=lambda a: -a["logprob"])
                logprobs = {"content": [{**alts[0], "top_logprobs": alts}]}
            return 200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body.get("model"),
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": "stop", "logprobs": logprobs}],
                         "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 1,
                                   "total_tokens": len(prompt) // 4 + 1}}
        finally:
            with self._lock:
                self.in_flight -= 1
