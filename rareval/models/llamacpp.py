"""Inspect model provider ``local/NAME``: rareval's embedded GGUF models, in-process.

``get_model("local/qwen-1.5b")``, ``--model local/smollm-135m`` and
``--model-role grader=local/qwen-1.5b`` run a catalog model (or
``local//abs/path/model.gguf``) with llama.cpp. Model arguments (``-M``):

* ``n_ctx`` — context length in tokens (default 8192);
* ``n_threads`` — CPU threads (default: every core; use 1 when another
  CPU job shares a 2-core machine);
* ``n_batch`` — prompt tokens per decode step (default 512);
* ``prefix_cache`` — reuse the KV cache of the prompt prefix shared with the
  previous call (default true). llama.cpp's kernels depend on the batch size,
  so reused and fresh prompts give slightly different logits; set it false
  when results must not depend on call order.

Each GGUF is loaded once per process and guarded by its own lock, and calls
run in a worker thread, so one model never runs two generations at once;
``max_connections()`` is 1. Honoured ``GenerateConfig`` fields: ``max_tokens``,
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

import asyncio
import json
from pathlib import Path
from typing import Any

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
        completion, prompt = await asyncio.to_thread(_locked_run, self.model, messages, params, self.prefix_cache)
        output = model_output(self.model_name, completion)
        request = {"model": str(self.path), "prompt": prompt, **params.__dict__}
        response = {"text": completion.text, "stop_reason": completion.stop_reason, "usage": output.usage}
        return output, ModelCall.create(request, response, time=completion.seconds)

    def max_connections(self) -> int:
        return 1

    def connection_key(self) -> str:
        return str(self.path)

    def max_tokens(self) -> int | None:
        return None


def _locked_run(
    model: LoadedModel, messages: list[dict[str, str]], params: SampleParams, prefix_cache: bool
) -> tuple[Completion, str]:
    with model.lock:
        tokens, stops = llama_engine.render(model, messages)
        completion = llama_engine.run(model, tokens, params, stops, prefix_cache)
        prompt = model.llama.detokenize(tokens, special=True).decode("utf-8", errors="replace")
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
