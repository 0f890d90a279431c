"""Inspect model provider ``local/NAME``: rareval's embedded GGUF models, in-process.

``get_model("local/qwen-1.5b")``, ``--model local/smollm-135m`` and
``--model-role grader=local/qwen-1.5b`` run a catalog model (or
``local//abs/path/model.gguf``) with llama.cpp. Model arguments (``-M``):

* ``n_ctx`` — context length in tokens (default 8192);
* ``n_threads`` — CPU threads (default: ``RAREVAL_LOCAL_THREADS``, else every
  core; use 1 when another CPU job shares a 2-core machine);
* ``n_batch`` — prompt tokens per decode step (default 512);
* ``prefix_cache`` — reuse the KV cache of the prompt prefix shared with the
  previous call (default true). llama.cpp's kernels depend on the batch size,
  so reused and fresh prompts give slightly different logits; set it false
  when results must not depend on call order.

Each GGUF is loaded once per process and guarded by its own lock, and calls
run in a worker thread, so one model never runs two generations at once.

Concurrency and timeouts. What the provider guarantees under Inspect's runner:

* **Waiting for the model is not a timed attempt.** ``max_connections()`` is 1
  and ``connection_key()`` is the GGUF path, so every ``Model`` on one file
  shares one Inspect connection slot, and Inspect queues calls for that slot
  *before* it starts an attempt and its ``attempt_timeout`` clock. Inspect only
  honours ``max_connections()`` on its static path: adaptive connections (on by
  default) dispatch 10 to 100 calls at once (20 to start with), which would then
  queue on the model's lock inside their timed attempts. So the provider turns adaptive
  connections off in the model's config unless ``adaptive_connections`` was
  set explicitly. (The config object is the one ``get_model`` was given: when
  one eval lists several models, the others fall back to their providers'
  static ``max_connections()`` too.) An explicit ``--max-connections N`` above
  1, or explicit adaptive connections, lets calls queue inside their attempts
  again; the provider warns once when that meets an ``attempt_timeout``.
* **A cancelled attempt leaves no work behind.** When an attempt times out (or
  its sample is cancelled) the worker thread notices: a call still waiting for
  the model is dropped, and a running generation stops at its next token.
  The attempt returns only once the worker has stopped, so a retry never queues
  behind abandoned work. A single llama.cpp evaluation (the prompt, or one
  token) cannot be interrupted, so a timed-out attempt can outlast
  ``attempt_timeout`` by that much.

Honoured ``GenerateConfig`` fields: ``max_tokens``,
``temperature`` (default 1.0), ``top_p``, ``top_k``, ``seed``, ``stop_seqs``,
``frequency_penalty``, ``presence_penalty``, ``logprobs``/``top_logprobs``
(raw model log probabilities, before sampling filters and grammar),
``prompt_logprobs`` (vLLM's: each prompt token after the first with its top
alternatives; the prompt is then evaluated without prefix reuse), and
``response_schema`` (compiled to a llama.cpp grammar, so the output parses).
Tools are not supported. Usage reports prompt tokens reused from the previous
call's KV cache as ``input_tokens_cache_read``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelCall,
    ModelOutput,
    ModelUsage,
    TopLogprob,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from rareval.models import llama_engine
from rareval.models.llama_engine import Completion, LoadedModel, SampleParams, TokenLogprob

logger = logging.getLogger(__name__)


def model_file(model_name: str) -> Path:
    """GGUF path for a catalog name, or for a path to a ``.gguf`` file."""
    if model_name.endswith(".gguf"):
        path = Path(model_name).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"No GGUF file at {path}")
        return path
    from rareval.models.install import resolve

    return resolve(model_name)


@modelapi(name="local")
class LocalLlamaAPI(ModelAPI):
    """rareval's embedded local models served in-process by llama.cpp."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_batch: int = 512,
        prefix_cache: bool | str = True,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        # Inspect's Model shares this config object (get_model passes it to both). Without
        # this, adaptive connections would ignore max_connections() (see the module docstring).
        if config.adaptive_connections is None:
            config.adaptive_connections = False
        self._warned_concurrency = False
        if model_args:
            raise ValueError(f"Unknown model args for local/{model_name}: {sorted(model_args)}")
        llama_engine.llama_cpp_module()
        self.prefix_cache = str(prefix_cache).lower() not in ("false", "0", "no")
        self.path = model_file(model_name)
        self.model = llama_engine.load(self.path, int(n_ctx), int(n_threads) if n_threads else None, int(n_batch))

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> tuple[ModelOutput, ModelCall]:
        messages = [{"role": m.role, "content": m.text} for m in input]
        params = sample_params(config)
        self._warn_if_queued_in_attempt(config)
        try:
            # abandon_on_cancel=False: a cancelled call waits for its worker, which stops
            # at its next check (see _caller_cancelled), instead of leaving it running.
            completion, prompt = await anyio.to_thread.run_sync(
                _locked_run, self.model, messages, params, self.prefix_cache, _caller_cancelled)
        except llama_engine.Cancelled:
            await anyio.lowlevel.checkpoint()  # raises the pending cancellation that stopped the worker
            raise
        output = model_output(self.model_name, completion)
        request = {"model": str(self.path), "prompt": prompt, **params.__dict__}
        response = {"text": completion.text, "stop_reason": completion.stop_reason, "usage": output.usage}
        return output, ModelCall.create(request, response, time=completion.seconds)

    def max_connections(self) -> int:
        return 1

    def _warn_if_queued_in_attempt(self, config: GenerateConfig) -> None:
        """Warn once when Inspect may dispatch several calls at once and each attempt is timed."""
        if self._warned_concurrency or config.attempt_timeout is None:
            return
        if config.max_connections is not None:
            concurrent = config.max_connections > 1 and not config.batch
            how = f"max_connections={config.max_connections}"
        else:
            concurrent = config.adaptive_connections is not False and not config.batch
            how = "adaptive connections"
        if concurrent:
            self._warned_concurrency = True
            logger.warning(
                f"local/{self.model_name} runs one generation at a time, but with {how} Inspect sends it "
                f"several at once: they wait for the model inside their attempts, and the wait counts "
                f"against attempt_timeout={config.attempt_timeout}. Leave max_connections unset (or 1).")

    def connection_key(self) -> str:
        return str(self.path)

    def max_tokens(self) -> int | None:
        return None


LOCK_POLL_SECONDS = 0.05


def _caller_cancelled() -> bool:
    """In a worker thread of ``anyio.to_thread.run_sync``: whether the awaiting task's cancel
    scope (an attempt timeout, a cancelled sample) has been cancelled."""
    try:
        anyio.from_thread.check_cancelled()
    except RuntimeError:  # not an anyio worker thread: nobody to ask
        return False
    except BaseException:  # the event loop's cancellation exception (asyncio.CancelledError, trio.Cancelled)
        return True
    return False


def _locked_run(
    model: LoadedModel,
    messages: list[dict[str, str]],
    params: SampleParams,
    prefix_cache: bool,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[Completion, str]:
    """Run one call under the model's lock; a call cancelled while it waits for the lock is dropped."""
    while not model.lock.acquire(timeout=LOCK_POLL_SECONDS):
        if cancelled is not None and cancelled():
            raise llama_engine.Cancelled("cancelled while waiting for the model")
    try:
        tokens, stops = llama_engine.render(model, messages)
        completion = llama_engine.run(model, tokens, params, stops, prefix_cache, cancelled)
        prompt = model.llama.detokenize(tokens, special=True).decode("utf-8", errors="replace")
    finally:
        model.lock.release()
    return completion, prompt


def sample_params(config: GenerateConfig) -> SampleParams:
    """Translate Inspect's ``GenerateConfig`` into llama.cpp sampling settings."""
    schema = None
    if config.response_schema is not None:
        schema = json.dumps(config.response_schema.json_schema.model_dump(exclude_none=True))
    top_logprobs = config.top_logprobs or 0
    return SampleParams(
        max_tokens=config.max_tokens,
        temperature=1.0 if config.temperature is None else config.temperature,
        top_p=1.0 if config.top_p is None else config.top_p,
        top_k=config.top_k or 0,
        seed=config.seed,
        stop=list(config.stop_seqs or []),
        frequency_penalty=config.frequency_penalty or 0.0,
        presence_penalty=config.presence_penalty or 0.0,
        logprobs=bool(config.logprobs) or top_logprobs > 0,
        top_logprobs=top_logprobs,
        prompt_logprobs=config.prompt_logprobs or 0,
        json_schema=schema,
    )


def inspect_logprobs(tokens: list[TokenLogprob] | None) -> Logprobs | None:
    """Inspect ``Logprobs`` for the engine's per-token log probabilities."""
    if tokens is None:
        return None
    return Logprobs(
        content=[
            Logprob(
                token=t.token,
                logprob=t.logprob,
                bytes=list(t.bytes),
                top_logprobs=[TopLogprob(token=s, logprob=lp, bytes=list(b)) for s, b, lp in t.top] or None,
            )
            for t in tokens
        ]
    )


def model_output(model_name: str, completion: Completion) -> ModelOutput:
    """Inspect ``ModelOutput`` (with usage and log probabilities) for a completion."""
    usage = ModelUsage(
        input_tokens=completion.prompt_tokens - completion.cached_tokens,
        output_tokens=completion.output_tokens,
        total_tokens=completion.prompt_tokens + completion.output_tokens,
        input_tokens_cache_read=completion.cached_tokens or None,
    )
    message = ChatMessageAssistant(content=completion.text, model=model_name, source="generate")
    choice = ChatCompletionChoice(message=message, stop_reason=completion.stop_reason,
                                  logprobs=inspect_logprobs(completion.logprobs),
                                  prompt_logprobs=inspect_logprobs(completion.prompt_logprobs))
    return ModelOutput(model=model_name, choices=[choice], usage=usage, time=completion.seconds)
