"""In-process llama.cpp generation with exact per-token log probabilities.

llama-cpp-python is imported lazily: this module imports without it, and
:func:`load` raises an error naming the extra to install.

Why not ``Llama.create_chat_completion``: its log probabilities need
``logits_all=True`` (an ``n_ctx x n_vocab`` float matrix, 5 GB for Qwen at
8k context, plus logits for every prompt token) and it returns the top
tokens as a dict keyed by text, so two tokens that print alike collapse into
one. Here the prompt is rendered with the same Jinja chat template that
``create_chat_completion`` uses (read from the GGUF), ``Llama.generate``
evaluates and samples, and the log-softmax of the last position's logits is
read after each sampled token. The shared-prefix reuse of ``generate`` is done
up front so that the number of reused prompt tokens is known exactly.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

INSTALL_HINT = 'pip install "rareval[local]"'
BASE_ROLES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}


def llama_cpp_module() -> Any:
    """Import llama_cpp, or explain how to install it."""
    try:
        import llama_cpp
    except ImportError as error:
        raise ImportError(
            f"Local models run on llama-cpp-python, which is not installed. Install it with: {INSTALL_HINT}"
        ) from error
    return llama_cpp


@dataclass
class LoadedModel:
    """One llama.cpp model kept for the life of the process."""

    llama: Any
    path: Path
    n_ctx: int
    n_threads: int
    load_seconds: float
    formatter: Any | None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def has_chat_template(self) -> bool:
        return self.formatter is not None


@dataclass
class SampleParams:
    """Sampling settings; the defaults are plain temperature sampling (no top-k, no min-p)."""

    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    logprobs: bool = False
    top_logprobs: int = 0
    prompt_logprobs: int = 0
    json_schema: str | None = None


@dataclass
class TokenLogprob:
    token: str
    bytes: bytes
    logprob: float
    top: list[tuple[str, bytes, float]]


@dataclass
class Completion:
    text: str
    stop_reason: Literal["stop", "max_tokens", "model_length"]
    prompt_tokens: int
    cached_tokens: int
    output_tokens: int
    logprobs: list[TokenLogprob] | None
    seconds: float
    prompt_logprobs: list[TokenLogprob] | None = None


class Cancelled(Exception):
    """A generation stopped early because its ``cancelled`` check said the caller gave up on it."""


def _check(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled("generation cancelled by its caller")


_LOADED: dict[Path, LoadedModel] = {}
_LOAD_LOCK = threading.Lock()


@atexit.register
def _close_all() -> None:
    """Free the models while llama_cpp is still importable (not during interpreter teardown)."""
    with _LOAD_LOCK:
        for loaded in _LOADED.values():
            loaded.llama.close()
        _LOADED.clear()


def load(path: Path, n_ctx: int = 8192, n_threads: int | None = None, n_batch: int = 512) -> LoadedModel:
    """Load ``path`` once per process; later calls return the same model whatever their settings."""
    path = Path(path).resolve()
    with _LOAD_LOCK:
        if path in _LOADED:
            return _LOADED[path]
        llama_cpp = llama_cpp_module()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        threads = n_threads or os_threads()
        start = time.perf_counter()
        llama = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=n_batch,
            n_threads=threads,
            n_threads_batch=threads,
            logits_all=False,
            verbose=False,
        )
        template = llama.metadata.get("tokenizer.chat_template")
        formatter = None
        if template:
            eos, bos = llama.token_eos(), llama.token_bos()
            formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
            )
        loaded = LoadedModel(llama, path, n_ctx, threads, time.perf_counter() - start, formatter)
        _LOADED[path] = loaded
        return loaded


def os_threads() -> int:
    """Default thread count: ``RAREVAL_LOCAL_THREADS`` if set, else every CPU core. Set it to 1 where
    another CPU job shares a small machine: llama.cpp's threads spin while they wait for each other,
    and on an oversubscribed machine that spinning costs more than the second thread gains."""
    value = os.environ.get("RAREVAL_LOCAL_THREADS", "")
    if value:
        try:
            threads = int(value)
        except ValueError:
            raise ValueError(f"RAREVAL_LOCAL_THREADS must be a positive integer, got {value!r}") from None
        if threads < 1:
            raise ValueError(f"RAREVAL_LOCAL_THREADS must be a positive integer, got {value!r}")
        return threads
    return os.cpu_count() or 1


def render(model: LoadedModel, messages: list[dict[str, str]]) -> tuple[list[int], list[str]]:
    """Prompt tokens and extra stop strings for chat ``messages`` (``role``/``content`` dicts).

    With a chat template the GGUF's own template renders the conversation; a
    base model without one gets a plain ``User: ...`` / ``Assistant:`` transcript.
    """
    llama = model.llama
    if model.formatter is not None:
        result = model.formatter(messages=messages)
        tokens = llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        stops = [s for s in ([result.stop] if isinstance(result.stop, str) else result.stop or []) if s]
        return tokens, stops
    prompt = plain_transcript(messages)
    return llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=False), ["\nUser:"]


def plain_transcript(messages: list[dict[str, str]]) -> str:
    """``System: ...`` / ``User: ...`` / ``Assistant: ...`` lines ending in ``Assistant:``, for base models."""
    lines = [f"{BASE_ROLES.get(m['role'], 'User')}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def run(
    model: LoadedModel,
    tokens: list[int],
    params: SampleParams,
    extra_stop: Sequence[str] = (),
    prefix_cache: bool = True,
    cancelled: Callable[[], bool] | None = None,
) -> Completion:
    """Generate from prompt ``tokens``; the caller must hold ``model.lock``.

    With ``prefix_cache`` the KV cache of the prompt prefix shared with the
    previous call is reused, except when ``params.prompt_logprobs`` asks for the
    prompt's log probabilities (:func:`score_prompt` evaluates it afresh).
    llama.cpp picks its matrix kernels by batch size, so the logits then differ
    slightly from a fresh evaluation (up to ~0.6 in a logit was seen); pass
    ``prefix_cache=False`` for results that do not depend on the previous call.

    ``cancelled`` is polled before the prompt is evaluated, between prompt chunks
    when the prompt is scored, and after every generated token; once it returns
    true, :class:`Cancelled` is raised (the KV cache stays consistent, as after a
    stop sequence). A single llama.cpp evaluation cannot be interrupted, so the
    generation stops at most one prompt evaluation or one token later.
    """
    _check(cancelled)
    start = time.perf_counter()
    llama_cpp = llama_cpp_module()
    llama = model.llama
    room = llama.n_ctx() - len(tokens)
    if room <= 0:
        return Completion("", "model_length", len(tokens), 0, 0, [] if params.logprobs else None, 0.0)
    max_new = min(params.max_tokens or room, room)
    scored = None
    if params.prompt_logprobs:
        scored = score_prompt(model, tokens, params.prompt_logprobs, cancelled)
        cached, suffix = 0, list(tokens[-1:])
    elif prefix_cache:
        cached, suffix = _reuse_prefix(llama, tokens)
    else:
        llama.reset()
        cached, suffix = 0, list(tokens)
    llama.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
    grammar = _grammar(params.json_schema) if params.json_schema else None
    stops = [s for s in [*params.stop, *extra_stop] if s]
    vocab, n_vocab = llama._model.vocab, llama.n_vocab()
    generated: list[int] = []
    raw, text = b"", ""
    logprobs: list[TokenLogprob] | None = [] if params.logprobs else None
    stop_reason: Literal["stop", "max_tokens"] = "max_tokens"
    stream = llama.generate(
        suffix,
        reset=False,
        temp=params.temperature,
        top_p=params.top_p,
        top_k=params.top_k,
        min_p=0.0,
        repeat_penalty=1.0,
        frequency_penalty=params.frequency_penalty,
        presence_penalty=params.presence_penalty,
        grammar=grammar,
    )
    try:
        for token in stream:
            _check(cancelled)
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                stop_reason = "stop"
                break
            generated.append(token)
            piece = token_piece(llama, token)
            raw += piece
            if logprobs is not None:
                logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
                logprobs.append(_token_logprob(llama, logits, token, piece, params.top_logprobs))
            text = raw.decode("utf-8", errors="ignore")
            cut = min((text.find(s) for s in stops if s in text), default=-1)
            if cut >= 0:
                text, stop_reason = text[:cut], "stop"
                break
            if len(generated) >= max_new:
                break
    finally:
        stream.close()
    return Completion(text, stop_reason, len(tokens), cached, len(generated), logprobs, time.perf_counter() - start,
                      scored)


def score_prompt(model: LoadedModel, tokens: list[int], k: int,
                 cancelled: Callable[[], bool] | None = None) -> list[TokenLogprob]:
    """Log probability of each prompt token after the first, with its ``k`` top alternatives.

    Evaluates ``tokens[:-1]`` from an empty KV cache with logits at every position
    (vLLM's ``prompt_logprobs``): entry ``i`` is token ``i + 1`` given the tokens
    before it. The KV cache is left holding ``tokens[:-1]``, so a following
    :func:`run` on the same tokens evaluates only the last one. The caller must
    hold ``model.lock``. ``cancelled`` is polled between chunks (see :func:`run`).
    """
    llama = model.llama
    llama.reset()
    llama._ctx.kv_cache_seq_rm(-1, 0, -1)
    n_vocab, context = llama.n_vocab(), tokens[:-1]
    scored: list[TokenLogprob] = []
    llama._requires_eval = True
    for start in range(0, len(context), llama.n_batch):
        _check(cancelled)
        chunk = context[start : start + llama.n_batch]
        llama._batch.set_batch(batch=chunk, n_past=start, logits_all=True)
        llama._ctx.decode(llama._batch)
        llama.input_ids[start : start + len(chunk)] = chunk
        llama.n_tokens = start + len(chunk)
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(chunk), n_vocab))
        peak = logits.max(axis=1, keepdims=True)
        logprobs = logits - (peak + np.log(np.exp(logits - peak).sum(axis=1, keepdims=True)))
        best = np.argpartition(-logprobs, k, axis=1)[:, :k] if k else np.zeros((len(chunk), 0), dtype=int)
        for row, top, token in zip(logprobs, best, tokens[start + 1 : start + 1 + len(chunk)]):
            scored.append(_scored(llama, row, token, token_piece(llama, token, special=True), top))
    llama._requires_eval = True
    return scored


def _reuse_prefix(llama: Any, tokens: list[int]) -> tuple[int, list[int]]:
    """Keep the KV cache of the prompt prefix shared with the previous call.

    Mirrors ``Llama.generate``: at least one token is re-evaluated to refresh the
    logits, unless the whole prompt is cached with live logits. Returns the
    number of reused tokens and the tokens left to evaluate.
    """
    previous = llama.input_ids[: llama.n_tokens]
    n = min(len(previous), len(tokens))
    mismatch = np.flatnonzero(previous[:n] != np.asarray(tokens[:n], dtype=previous.dtype))
    common = int(mismatch[0]) if mismatch.size else n
    exact = common == len(tokens) == llama.n_tokens and not getattr(llama, "_requires_eval", True)
    reuse = common if exact else min(common, len(tokens) - 1)
    if reuse > 0 and (exact or llama._ctx.kv_cache_seq_rm(-1, reuse, -1)):
        if not exact:
            llama.n_tokens = reuse
            llama._requires_eval = True
        return reuse, list(tokens[reuse:])
    llama.reset()
    return 0, list(tokens)


def _token_logprob(llama: Any, logits: np.ndarray, token: int, piece: bytes, k: int) -> TokenLogprob:
    logits = logits.astype(np.float64)
    peak = logits.max()
    logprobs = logits - (peak + np.log(np.exp(logits - peak).sum()))
    best = np.argpartition(-logprobs, min(k, len(logprobs) - 1))[:k] if k > 0 else np.zeros(0, dtype=int)
    return _scored(llama, logprobs, token, piece, best)


def _scored(llama: Any, logprobs: np.ndarray, token: int, piece: bytes, best: np.ndarray) -> TokenLogprob:
    """``token``'s log probability with the alternatives ``best`` (token ids), most likely first."""
    top = []
    for index in best[np.argsort(-logprobs[best])]:
        raw = _piece(llama, int(index))
        top.append((raw.decode("utf-8", errors="replace"), raw, float(logprobs[index])))
    return TokenLogprob(piece.decode("utf-8", errors="replace"), piece, float(logprobs[token]), top)


def token_piece(llama: Any, token: int, special: bool = False) -> bytes:
    """The bytes a single token stands for (leading space included)."""
    llama_cpp = llama_cpp_module()
    size = 64
    while True:
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(llama._model.vocab, token, buffer, size, 0, special)
        if n >= 0:
            return buffer.raw[:n]
        size = -n


@lru_cache(maxsize=65536)
def _piece(llama: Any, token: int) -> bytes:
    return token_piece(llama, token, special=True)


@lru_cache(maxsize=64)
def _grammar(json_schema: str) -> Any:
    llama_cpp = llama_cpp_module()
    return llama_cpp.LlamaGrammar.from_json_schema(json_schema, verbose=False)
