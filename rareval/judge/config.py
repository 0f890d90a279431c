"""How the judge asks and reads: :class:`JudgeConfig`, recorded with every result.

Every field documents itself; the question each one shapes is described in
:mod:`rareval.judge.core`, the thresholds in :mod:`rareval.judge.calibration`, the
request to the provider in :mod:`rareval.judge.generation`. :func:`judge_config` builds
one from ``KEY=VALUE`` settings (``--judge-config``, ``-T grader_config=``) and names a
bad key or value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator


class JudgeConfig(BaseModel):
    """How the judge asks and reads; recorded with every result."""

    grader: Literal["rareval", "simple-evals"] = Field(
        "rareval", description="Per-criterion question: rareval's prompts (verdict_mode, positive_form), or "
        "simple-evals' HealthBench grader verbatim (its template, sampler settings and JSON reading; criteria as "
        "written) for numbers comparable to published HealthBench scores (rareval.judge.simple_evals).")
    on_failure: str = Field(
        "abstain", pattern=r"^(abstain|not_met|retry:\d+)$", description="A question whose answer came back "
        "unreadable after parse_retries: 'abstain' (left out of the score), 'not_met' (scored not met, as "
        "inspect_evals does), or 'retry:N' (asked up to N more times, then abstain; simple-evals asks until it gets "
        "one). A call that failed (an error, a timeout, a wrong key), came back empty or was refused abstains "
        "under every rule, so fail-fast still stops a run with the judge's error.")
    verdict_mode: Literal["yesno", "json"] = Field(
        "yesno", description="Per-criterion answer format: one word with logprobs, or JSON with an explanation.")
    threshold: float | None = Field(
        None, ge=0, le=1, description="P(yes) at or above which a criterion counts as met, for every criterion; "
        "None: ``thresholds``.")
    thresholds: dict[str, float] | None = Field(
        None, description="Thresholds by kind of criterion ('pitfall', 'positive' or a tag such as "
        "'level:cluster'; 'default' for the rest). None: a calibration file, else the thresholds stored for this "
        "judge's weights (rareval/judge/calibrations.json), else 0.5.")
    calibration: str | None = Field(
        None, description="A calibration file written by `rareval judge calibrate` (per-kind thresholds fitted on "
        "graded rows); used in place of the stored calibration. `--judge-calibration FILE`. A file fitted for "
        "another judge (another identity: the weights' name) is refused before the first question.")
    calibration_any_judge: bool = Field(
        False, description="Apply the calibration file even when it records another judge than this one.")
    temperature: float = Field(0.0, description="Sampling temperature of the first attempt.")
    parse_retries: int = Field(1, ge=0, le=5, description="Extra attempts when an answer cannot be read.")
    retry_temperature: float = Field(0.7, description="Temperature of those extra attempts; with "
                                     "grader='simple-evals', unless set, the first attempt's (simple-evals' 0.5).")
    max_connections: int | None = Field(
        None, ge=1, description="Concurrent calls to the judge from this process (Inspect's max_connections); in a "
        "multi-rank run it is per rank, so N ranks make up to N × this many. None: the provider's default.")
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
    phrasings: Literal[1, 2] = Field(
        1, description="Per-criterion yes/no questions asked in this many phrasings (criterion_yesno and "
        "criterion_yesno_alt, which share everything but the final question, so a prefix-caching server recomputes "
        "only that); P(yes) is their mean. Where an answer has no P(yes) (no logprobs), the first phrasing's word "
        "decides. Thresholds are fitted to one setting: calibrate again when changing it. With the embedded "
        "Qwen-1.5B it did not lift AUC on the development rows (benchmarks/README.md).")
    rubric_context: bool = Field(
        False, description="Show each per-criterion yes/no question the whole rubric it comes from, for context "
        "(criterion_yesno_context): it comes after the response and is the same for every criterion, so a "
        "prefix-caching server computes it once per response. Not combined with phrasings=2. With the "
        "embedded Qwen-1.5B it cost 13 points of AUC on the development rows (benchmarks/README.md).")
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
        "the response cut to 1/2 of the characters shown, then 1/4, 1/16, 1/256 of what was shown, up to this "
        "many times (recorded as response_truncated); 0: abstain instead.")
    strip_grader_text: bool = Field(
        False, description="Remove text addressed to the grader from the response before the judge reads it, for "
        "every question: notes and instructions to a grader, verdict blocks and lines, lines restating the rubric's "
        "criteria, claims that criteria are met, self-grading ('This answer is complete and accurate'); the rules are "
        "rareval.judge.sanitize. A response without such text is judged byte-identical (all 655 physician answers "
        "of the shipped HealthBench data).")
    evidence: bool = Field(
        False, description="Ask each criterion with evidence (prompt criterion_evidence, in place of verdict_mode): "
        "the judge answers JSON with a quote of the response, and a 'yes' that would earn points whose quote is "
        "not in the response, or only in grader-addressed text, is voided to 'no' (Verdict.voided; rules in "
        "rareval.judge.evidence). One call per criterion, as verdict_mode='json' (phrasings and rubric_context, "
        "yes/no settings, do not apply); not batched, not with grader='simple-evals'; ratings are unaffected.")

    @model_validator(mode="after")
    def _evidence_has_its_own_grader(self) -> "JudgeConfig":
        if self.evidence and self.grader == "simple-evals":
            raise ValueError("evidence=true asks rareval's criterion_evidence question; simple-evals' grader "
                             "asks its own, verbatim: use one or the other")
        return self

    def cache_key_parts(self) -> dict[str, Any]:
        """What the verdict cache key adds for these settings: the response defences that are on
        (``strip_grader_text``, ``evidence``). Off adds nothing, so a judge without them keeps its keys."""
        return {k: True for k in ("strip_grader_text", "evidence") if getattr(self, k)}


class JudgeSettingsError(ValueError):
    """A judge setting that names no field of :class:`JudgeConfig`, or a value the field refuses."""


def parse_settings(settings: str | Mapping[str, Any] | Iterable[str] | None, what: str = "setting"
                   ) -> dict[str, Any]:
    """``KEY=VALUE`` settings as a dict: from a list (repeated command options), one comma-separated
    string (``"reasoning_effort=low,max_tokens=1024"``) or a mapping (a ``-T`` argument Inspect read as
    YAML). Values are read as JSON where they parse (numbers, ``true``, ``null``), else kept as text.

    >>> parse_settings(["max_tokens=1024", "reasoning_effort=low"])
    {'max_tokens': 1024, 'reasoning_effort': 'low'}
    >>> parse_settings("temperature=0.2,cache=false")
    {'temperature': 0.2, 'cache': False}
    """
    if settings is None:
        return {}
    if isinstance(settings, Mapping):
        return dict(settings)
    pairs = settings.split(",") if isinstance(settings, str) else list(settings)
    out: dict[str, Any] = {}
    for pair in (p.strip() for p in pairs if p.strip()):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise JudgeSettingsError(f"a {what} is KEY=VALUE, got {pair!r}")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def judge_config(settings: str | Mapping[str, Any] | Iterable[str] | None = None, **fields: Any) -> JudgeConfig:
    """A :class:`JudgeConfig` from ``fields`` (``None`` values left at their defaults), then ``settings``
    (:func:`parse_settings`) on top; an unknown key or a refused value raises :class:`JudgeSettingsError`
    naming it."""
    update = {k: v for k, v in fields.items() if v is not None} | parse_settings(settings, "judge setting")
    unknown = sorted(set(update) - set(JudgeConfig.model_fields))
    if unknown:
        raise JudgeSettingsError(f"unknown judge setting(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(JudgeConfig.model_fields)}")
    try:
        return JudgeConfig.model_validate(update)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}" for err in e.errors())
        raise JudgeSettingsError(f"judge settings: {problems}") from None


def grader_settings(grader_config: str | Mapping[str, Any] | None = None, grader_max_tokens: int | None = None,
                    grader_temperature: float | None = None, grader_reasoning_effort: str | None = None,
                    grader_calibration: str | None = None) -> dict[str, Any]:
    """The judge settings of an Inspect task's ``-T`` arguments: ``grader_config`` (``KEY=VALUE,…`` or a
    YAML mapping) with the shortcuts ``grader_max_tokens`` / ``grader_temperature`` /
    ``grader_reasoning_effort`` / ``grader_calibration`` (a ``rareval judge calibrate`` file) on top.
    The grader's model arguments travel with its model role
    (``--model-role 'grader={model: openai/o4-mini, model_args: {base_url: URL}}'``)."""
    shortcuts = {"max_tokens": grader_max_tokens, "temperature": grader_temperature,
                 "reasoning_effort": grader_reasoning_effort, "calibration": grader_calibration}
    return {**parse_settings(grader_config, "grader_config value"),
            **{k: v for k, v in shortcuts.items() if v is not None}}
