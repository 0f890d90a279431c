"""What the judge asks a provider for: the ``GenerateConfig`` of each question, fitted to the model.

A question states what it needs (a one-token verdict with logprobs, a JSON answer of
``max_tokens``, prompt log probabilities); :func:`generate_config` turns that into a
request the provider accepts:

* **never fewer tokens than the provider accepts** — OpenAI's Responses API rejects
  ``max_output_tokens`` below 16 (Inspect sends o-series and gpt-5.x models there), so
  a one-token verdict asks for 16 and is still read at its first answer token;
* **a reasoning judge** (:func:`reasons`) thinks before it answers, and its reasoning
  tokens count against the output budget: every answer gets
  ``JudgeConfig.reasoning_max_tokens``, no logprobs (reasoning models return none; the
  verdict is read from the final answer's word or JSON) and no temperature (the provider
  fixes it); ``reasoning_effort`` / ``reasoning_tokens`` are passed through;
* a combination that cannot work is refused before the first call
  (:class:`JudgeSetupError`): reading verdicts from prompt log probabilities
  (``batch_reading="prompt"``) needs a judge that does not reason first.
"""

from __future__ import annotations

import os
from typing import Any

from inspect_ai.model import GenerateConfig

from rareval.judge.config import JudgeConfig

#: OpenAI's Responses API: the fewest output tokens a request may ask for.
RESPONSES_API_MIN_TOKENS = 16


class JudgeSetupError(ValueError):
    """The judge's settings cannot work with its model; raised before any call is made."""


def reasons(config: JudgeConfig, api: Any) -> bool:
    """Whether the judge reasons before answering: ``config.reasoning``, or for ``"auto"`` a reasoning
    effort or budget set in the config, else what the provider says of the model (Inspect's
    ``always_reasons()`` / ``reasons_by_default()``, where it has them)."""
    if config.reasoning != "auto":
        return config.reasoning == "on"
    if config.reasoning_effort not in (None, "none") or config.reasoning_tokens:
        return True
    if config.reasoning_effort == "none":
        return False
    return any(callable(probe) and bool(probe()) for probe in
               (getattr(api, "always_reasons", None), getattr(api, "reasons_by_default", None)))


def min_output_tokens(config: JudgeConfig, api: Any) -> int:
    """``config.min_output_tokens``, else 16 for a model Inspect sends through OpenAI's Responses API, else 1."""
    if config.min_output_tokens is not None:
        return config.min_output_tokens
    return RESPONSES_API_MIN_TOKENS if getattr(api, "responses_api", False) is True else 1


def generate_config(config: JudgeConfig, api: Any, role: GenerateConfig | None = None, **asked: Any
                    ) -> GenerateConfig:
    """The request for a question that asks for ``asked`` (``max_tokens``, ``logprobs``, ``top_logprobs``,
    ``response_schema``, ``prompt_logprobs``), fitted to the judge's model ``api``; see the module docstring.
    ``role``: the model's own generation settings (a model role's ``reasoning_effort`` or
    ``reasoning_tokens``), used where ``config`` sets none."""
    inherited = {k: getattr(role, k) for k in ("reasoning_effort", "reasoning_tokens")
                 if role is not None and getattr(config, k) is None and getattr(role, k) is not None}
    config = config.model_copy(update=inherited) if inherited else config
    temperature: float | None = asked.pop("temperature", config.temperature)
    if reasons(config, api):
        if asked.get("prompt_logprobs"):
            raise JudgeSetupError("batch_reading='prompt' reads verdicts from prompt log probabilities, which a "
                                  "reasoning judge cannot give: use batch_reading='answers' or reasoning='off'")
        asked = {k: v for k, v in asked.items() if k not in ("logprobs", "top_logprobs")}
        answer_tokens = asked.get("max_tokens") or RESPONSES_API_MIN_TOKENS
        # the budget covers the thinking and the answer after it (Anthropic: max_tokens > budget_tokens)
        asked["max_tokens"] = max(answer_tokens, config.reasoning_max_tokens,
                                  (config.reasoning_tokens or 0) + answer_tokens)
        temperature = None
    if asked.get("max_tokens") is not None:
        asked["max_tokens"] = max(asked["max_tokens"], min_output_tokens(config, api))
    return GenerateConfig(temperature=temperature, max_retries=config.max_retries, attempt_timeout=config.timeout,
                          max_connections=config.max_connections,
                          reasoning_effort=config.reasoning_effort, reasoning_tokens=config.reasoning_tokens, **asked)


def endpoint(api: Any) -> str | None:
    """The server a provider's calls go to, as it is known before its first call, or None (in-process).

    Inspect's ``vllm/`` provider connects lazily: ``base_url`` is None until its first ``generate()``, which
    takes the ``base_url`` model argument, else ``VLLM_BASE_URL``, else a server it starts on a random port.
    Such a provider is keyed by what it was given (``_init_base_url``, else ``VLLM_BASE_URL``: what Inspect's
    own ``connection_key`` uses), never by the address it ends up at, so the first question has the key of
    every later one, and a server Inspect starts (a new port each run) keeps its verdicts across runs."""
    if hasattr(api, "_init_base_url"):
        given = api._init_base_url or os.environ.get("VLLM_BASE_URL")
        return str(given) if given else None
    return str(api.base_url) if getattr(api, "base_url", None) else None


def cache_key_parts(gen: GenerateConfig, api: Any) -> dict[str, Any]:
    """What the verdict cache key adds to the model, prompt and text: the endpoint (two servers that
    serve the same model name do not share verdicts, :func:`endpoint`) and
    the reasoning settings with the output budget of a reasoning judge. Only parts that are set are added,
    so an in-process judge that does not reason keeps the keys it always had."""
    parts: dict[str, Any] = {k: v for k in ("reasoning_effort", "reasoning_tokens")
                             if (v := getattr(gen, k)) is not None}
    if gen.temperature is None:  # a reasoning judge: its budget bounds the reasoning, and so the answer
        parts["max_tokens"] = gen.max_tokens
    if server := endpoint(api):
        parts["endpoint"] = server
    return parts
