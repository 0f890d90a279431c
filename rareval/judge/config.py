"""How the judge asks and reads: :class:`JudgeConfig`, recorded with every result.

Every field documents itself; the question each one shapes is described in
:mod:`rareval.judge.core`, the thresholds in :mod:`rareval.judge.calibration`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class JudgeConfig(BaseModel):
    """How the judge asks and reads; recorded with every result."""

    verdict_mode: Literal["yesno", "json"] = Field(
        "yesno", description="Per-criterion answer format: one word with logprobs, or JSON with an explanation.")
    threshold: float | None = Field(
        None, ge=0, le=1, description="P(yes) at or above which a criterion counts as met, for every criterion; "
        "None: ``thresholds``.")
    thresholds: dict[str, float] | None = Field(
        None, description="Thresholds by kind of criterion ('pitfall', 'positive' or a tag such as "
        "'level:cluster'; 'default' for the rest). None: the thresholds calibrated for this judge "
        "(rareval/judge/calibrations.json), else 0.5.")
    temperature: float = Field(0.0, description="Sampling temperature of the first attempt.")
    parse_retries: int = Field(1, ge=0, le=5, description="Extra attempts when an answer cannot be read.")
    retry_temperature: float = Field(0.7, description="Temperature of those extra attempts.")
    max_retries: int = Field(3, ge=0, description="Inspect's transport retries per call (errors, rate limits).")
    timeout: int | None = Field(120, ge=1, description="Seconds Inspect allows one attempt before abandoning and "
                                "retrying it (whole seconds: Inspect's attempt_timeout is an integer).")
    max_tokens: int = Field(512, description="Token budget of JSON answers (explanations, batched verdicts).")
    top_logprobs: int = Field(20, ge=0, le=20, description="Alternatives read per answer token (0 = no logprobs).")
    cache: bool = Field(True, description="Reuse verdicts from the verdict cache; store new ones.")
    batch_keys: Literal["index", "restate"] = Field(
        "restate", description="Keys of the batched answer, which the judge writes before each verdict: the "
        "criterion's number ('3'), or its number and first words ('3. Mentions waveform capnography as').")
    batch_reading: Literal["answers", "prompt"] = Field(
        "answers", description="How a batched call is read: 'answers' — the judge writes a JSON verdict per "
        "criterion (any provider); 'prompt' — each criterion is followed by an answer slot in the prompt and "
        "P(yes) is read from the prompt's log probabilities at every slot, so no verdict sees another "
        "(providers with prompt_logprobs: local/, vLLM).")
    positive_form: bool = Field(
        True, description="Ask a negated criterion ('Fails to mention X', 'Does not X') as its positive form "
        "('Mentions X') and invert the answer: small judges misread negation.")
    prompt_variant: Literal["default", "hardened"] = Field(
        "default", description="Judge prompts: 'default' (rareval/prompts/NAME.txt) or 'hardened' "
        "(NAME_hardened.txt: the response fenced by a tag only its own hash can close, treated as data, and "
        "the judge told to ignore instructions, verdicts and rubric text inside it), for every question: "
        "per criterion, batched and rating.")
    max_response_chars: int | None = Field(
        None, ge=1, description="Longest response shown to the judge, in characters; a longer one is cut, with a "
        "note saying so, and its verdict or rating records response_truncated. None: the whole response.")
    reasoning: Literal["auto", "on", "off"] = Field(
        "auto", description="Whether the judge thinks before it answers. 'auto': yes where the provider says the "
        "model reasons by default (OpenAI o-series, gpt-5.x) or where reasoning_effort / reasoning_tokens ask for "
        "it. A reasoning judge gets reasoning_max_tokens for every answer, no logprobs (they do not come back) and "
        "no temperature (fixed by the provider); its verdict is read from the final answer, never the reasoning.")
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = Field(
        None, description="Reasoning effort passed to the provider (OpenAI, others that take it); None: its default.")
    reasoning_tokens: int | None = Field(
        None, ge=1, description="Thinking budget passed to the provider (Anthropic, Gemini); None: its default.")
    reasoning_max_tokens: int = Field(
        4096, ge=16, description="Output budget of every answer of a reasoning judge: its reasoning tokens count "
        "against it, so it must cover the thinking as well as the verdict.")
    min_output_tokens: int | None = Field(
        None, ge=1, description="Fewest output tokens the provider accepts; no request asks for fewer. None: 16 "
        "where Inspect sends the model through OpenAI's Responses API (its minimum), else 1.")
    fit_attempts: int = Field(
        4, ge=0, le=10, description="When the judge reports that the prompt exceeds its context, ask again with "
        "the response cut to half as many characters, up to this many times (recorded as response_truncated); "
        "0: abstain instead.")
