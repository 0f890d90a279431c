"""The judge: asks an Inspect model about a response and reads its answers.

Three questions (prompts in ``rareval/prompts/``):

* **one criterion** — is it met? HealthBench grader semantics: for a pitfall
  (negative points) "met" means the undesirable behaviour is *present*.
  ``verdict_mode="yesno"`` asks for a one-word answer and reads P(yes) from the
  first answer token's logprobs (case and spacing variants summed); the verdict is
  ``P(yes) >= threshold``. Where the provider returns no logprobs the word itself is
  read. ``verdict_mode="json"`` asks for ``{"explanation", "criteria_met"}``.
* **a whole rubric in one call** (batched) — a JSON object ``{"1. First words": "yes"|"no", …}``
  under a JSON schema; P(yes) per criterion from the logprobs of each answer token. Or,
  with ``batch_reading="prompt"``, an answer slot after each criterion and P(yes) read
  at every slot from the prompt's log probabilities (no verdict sees another's answer).

Two readings measured on graded HealthBench rows (``benchmarks/judge_quality.py``):
a negated criterion ("Fails to mention X") is asked in its positive form ("Mentions
X") and the answer inverted, since small judges misread negation; and the threshold
can depend on the kind of criterion (pitfall, positive, or a tag such as
``level:cluster``), calibrated per judge on development rows (:mod:`rareval.judge.calibration`).
``Verdict.p_met`` is then re-expressed so that 0.5 is the threshold
(``p_raw`` keeps the value as read).
* **a 1–10 rating** of the response, optionally given the rubric (RaR-Implicit) or
  a reference answer (Reference-Likert); the rating distribution is kept where the
  provider exposes logprobs.

What the judge is shown is built in :mod:`rareval.judge.text`; its answers are read by
:mod:`rareval.judge.readers`; each request is fitted to the model by :mod:`rareval.judge.generation`
(a provider's token minimum, a reasoning judge's budget, no logprobs asked of a model that gives
none). ``grader="simple-evals"`` asks each criterion with simple-evals' grader instead
(:mod:`rareval.judge.simple_evals`).

Failure rules, written down: transport errors, timeouts and rate limits are retried by Inspect
(``max_retries``, ``timeout``); an unreadable answer (including one without choices, or one a reader
fails on) is asked again ``parse_retries`` times at ``retry_temperature``; a refusal or anything still
unreadable becomes an **abstention** (``met=None``), never a verdict. ``on_failure="not_met"`` scores an
answer that came back unreadable not met instead, as inspect_evals does, and says so in the explanation;
a call that failed, came back empty or was refused still abstains under it, so fail-fast still stops a
run whose judge cannot be reached (a wrong key). A prompt longer than the judge's context is asked again
with the response cut (``fit_attempts``; or cut up front at ``max_response_chars``), and the verdict
records ``response_truncated``. Every call's token usage is counted, abstained or not.
Prompts are ordered conversation → response → criterion so servers that reuse a cached prompt prefix
recompute only the criterion's tokens.

``prompt_variant="hardened"`` selects prompts (``NAME_hardened.txt``) that fence the response as data
and tell the judge to ignore instructions inside it. Against a response that games its judge,
``strip_grader_text`` removes grader-addressed text first (:mod:`rareval.judge.sanitize`) and ``evidence``
voids a verdict not grounded in a quote of the response (:mod:`rareval.judge.evidence`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, TypeVar

from inspect_ai.model import ChatMessage, GenerateConfig, Model, ModelOutput, get_model

from rareval.errors import redact
from rareval.judge import calibration, evidence, simple_evals
from rareval.judge.batched import ask_answers, ask_slots
from rareval.judge.cache import VerdictCache
from rareval.judge.config import JudgeConfig
from rareval.judge.generation import JudgeSetupError, cache_key_parts, generate_config
from rareval.judge.readers import (
    CONTEXT_OVERFLOW,
    MET_SCHEMA,
    RATING_SCHEMA,
    failure,
    inverted_answer,
    overflowed,
    read_json_met,
    read_rating,
    read_yesno,
    unreadable,
)
from rareval.judge.sanitize import shown_response
from rareval.judge.text import (
    Conversation,
    cut_response,
    positive_form,
    render_conversation,
    render_response,
    render_rubric,
    response_fence,
)
from rareval.judge.usage import Usage
from rareval.judge.verdict import Rating, Verdict
from rareval.prompts import Prompt, load_prompt
from rareval.rubric import Criterion, Rubric

T = TypeVar("T")

#: The rating prompt by what the judge is shown beside the response (a strategy's ``rating_context``).
RATING_PROMPTS = {"none": "rating_direct", "rubric": "rating_implicit", "reference": "rating_reference"}


class Judge:
    """Asks one Inspect model (a provider string, a model role, or a ``Model``).

    Picklable: the model is resolved lazily and re-resolved after unpickling, so a
    ``Judge`` can travel into TRL's reward workers.
    """

    def __init__(self, model: str | Model | None = None, *, role: str | None = "grader",
                 config: JudgeConfig | None = None, model_args: dict[str, Any] | None = None,
                 cache: VerdictCache | None = None):
        if model is None and role is None:
            raise ValueError("Judge needs a model or a model role")
        self._spec = model
        self._role = role
        self._model_args = dict(model_args or {})
        self._model: Model | None = model if isinstance(model, Model) else None
        self.config = config or JudgeConfig()
        self._cache = (cache or VerdictCache()) if self.config.cache else None
        self._inflight: dict[str, asyncio.Future] = {}  # cache key → the answer of the same question in flight
        if self._model is not None:
            self._check_calibration(self._model)

    @property
    def model(self) -> Model:
        if self._model is None:
            model = get_model(self._spec, **self._model_args) if isinstance(self._spec, str) else \
                get_model(role=self._role)
            self._model = self._check_calibration(model)
        return self._model

    def _check_calibration(self, model: Model) -> Model:
        """``model``, once a calibration file is known to be fitted for it: one fitted for another judge is
        refused (:class:`calibration.CalibrationMismatch`) before any question, and at every question after,
        even for a judge whose verdicts use no threshold."""
        if self.config.calibration is not None:
            self._thresholds_of(str(model))
        return model

    @property
    def name(self) -> str:
        return str(self.model)

    @property
    def thresholds(self) -> dict[str, float]:
        """P(yes) thresholds by criterion kind; ``"default"`` for the rest (:func:`calibration.thresholds`):
        the configured ones, else those calibrated for this judge, else 0.5."""
        return self._thresholds_of(self.name)

    def _thresholds_of(self, name: str) -> dict[str, float]:
        return calibration.thresholds(name, self.config.threshold, self.config.thresholds,
                                      self.config.calibration, self.config.calibration_any_judge)

    def threshold_for(self, criterion: Criterion) -> float:
        return calibration.threshold_for(criterion, self.thresholds)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_inflight"] = {}
        if not isinstance(self._spec, Model):
            state["_model"] = None
        return state

    # -- questions --------------------------------------------------------------------

    async def criterion(self, conversation: Conversation, response: Any, criterion: Criterion,
                        rubric: Rubric | None = None) -> tuple[Verdict, Usage]:
        """Is ``criterion`` met by ``response``? One call (two with ``phrasings=2``); ``rubric``: the rubric it
        comes from, shown as context with ``rubric_context``."""
        response = shown_response(self.config.strip_grader_text, response, rubric or [criterion])
        if self.config.grader == "simple-evals":
            return await self._simple_evals(conversation, response, criterion)
        if self.config.evidence:
            return await evidence.ask(self, conversation, response, criterion, rubric)
        yesno = self.config.verdict_mode == "yesno"
        context = yesno and self.config.rubric_context and rubric is not None
        prompt = self._prompt("criterion_yesno_context" if context else
                              "criterion_yesno" if yesno else "criterion_json")
        listed = "\n".join(f"- {c.text}" for c in rubric) if context else ""
        asked = self._asked(criterion)
        shown_conversation = render_conversation(conversation)
        # a negated criterion asked in its positive form carries the points of what it now describes
        points = -criterion.weight if asked[0] != criterion.text else criterion.weight

        def builder(asking: Prompt) -> Callable[[str], tuple[str, None]]:
            return lambda shown: (asking.render(conversation=shown_conversation, response=shown, criterion=asked[0],
                                                fence=response_fence(shown), points=f"{points:g}", rubric=listed), None)
        build = builder(prompt)
        if yesno:
            gen = self._gen(max_tokens=1 if self.config.top_logprobs else 3, logprobs=self.config.top_logprobs > 0,
                            top_logprobs=self.config.top_logprobs or None)
            read = read_yesno
        else:
            gen = self._gen(max_tokens=self.config.max_tokens, response_schema=MET_SCHEMA)
            read = read_json_met
        value, error, cached, usage, cut = await self._ask_fitted(response, build, prompt, gen, read)
        if yesno and self.config.phrasings == 2 and not context and value is not None and value["p"] is not None:
            alt = self._prompt("criterion_yesno_alt")
            second, _, hit, used, _ = await self._ask_fitted(response, builder(alt), alt, gen, read)
            usage += used
            if second is not None and second["p"] is not None:  # P(yes) averaged over the two phrasings
                p = (value["p"] + second["p"]) / 2
                value, cached = {**value, "met": p >= 0.5, "p": p}, cached and hit
        return self._verdict(criterion, prompt, asked, value, error, cached, cut), usage

    async def criteria(self, conversation: Conversation, response: Any, rubric: Rubric,
                       batched: bool = False) -> tuple[list[Verdict], Usage]:
        """A verdict per criterion: one call each (concurrently), or one batched call."""
        if batched:
            if self.config.evidence:
                raise JudgeSetupError(evidence.NOT_BATCHED)
            response = shown_response(self.config.strip_grader_text, response, rubric)
            ask = ask_slots if self.config.batch_reading == "prompt" else ask_answers
            return await ask(self, conversation, response, rubric)
        results = await asyncio.gather(*(self.criterion(conversation, response, c, rubric) for c in rubric))
        return [v for v, _ in results], sum((u for _, u in results), Usage())

    async def rating(self, conversation: Conversation, response: Any, *, rubric: Rubric | None = None,
                     reference: str | None = None) -> tuple[Rating, Usage]:
        """A 1–10 rating: Direct-Likert, or with the rubric (RaR-Implicit) or reference."""
        if rubric is not None and reference is not None:
            raise ValueError("rate with a rubric or with a reference, not both")
        prompt = self._prompt(RATING_PROMPTS["rubric" if rubric is not None else
                                             "reference" if reference is not None else "none"])
        response = shown_response(self.config.strip_grader_text, response, rubric or ())
        shown_conversation = render_conversation(conversation)
        shown_rubric = render_rubric(rubric) if rubric is not None else ""

        def build(shown: str) -> tuple[str, None]:
            return prompt.render(conversation=shown_conversation, response=shown, fence=response_fence(shown),
                                 rubric=shown_rubric, reference=reference or ""), None

        gen = self._gen(max_tokens=self.config.max_tokens, response_schema=RATING_SCHEMA,
                        logprobs=self.config.top_logprobs > 0, top_logprobs=self.config.top_logprobs or None)
        value, error, cached, usage, cut = await self._ask_fitted(response, build, prompt, gen, read_rating)
        value = value or {}
        dist = value.get("distribution")
        return Rating(value=value.get("rating"), distribution={int(k): p for k, p in dist.items()} if dist else None,
                      error=error, prompt_version=prompt.version, cached=cached, response_truncated=cut), usage

    # -- internals --------------------------------------------------------------------

    async def _simple_evals(self, conversation, response, criterion: Criterion) -> tuple[Verdict, Usage]:
        """One criterion asked with simple-evals' grader, verbatim (:mod:`rareval.judge.simple_evals`)."""
        prompt = load_prompt(simple_evals.PROMPT)
        temperature = self.config.temperature if "temperature" in self.config.model_fields_set else None
        gen = self._gen(**simple_evals.sampler(temperature))

        def build(shown: str) -> tuple[str, None]:
            return simple_evals.grader_prompt(prompt, conversation, shown, criterion), None
        value, error, cached, usage, cut = await self._ask_fitted(response, build, prompt, gen,
                                                                  simple_evals.read_grade)
        return self._verdict(criterion, prompt, (criterion.text, False), value, error, cached, cut), usage

    def _asked(self, criterion: Criterion) -> tuple[str, bool]:
        """The criterion text put to the judge, and whether its answer must be inverted to mean "met".

        Inverted: a negated criterion asked in its positive form, and an avoidance-phrased pitfall
        ("Avoids confusing X"; its "met" means the mistake is present) — both at once cancel out.
        """
        positive = positive_form(criterion.text) if self.config.positive_form else None
        return (positive, not criterion.avoidance) if positive else (criterion.text, criterion.avoidance)

    def _verdict(self, criterion: Criterion, prompt: Prompt, asked: tuple[str, bool], value, error, cached,
                 truncated: bool = False) -> Verdict:
        """The verdict from the answer ``value`` to ``asked`` (see :meth:`_asked`), inverted where
        the criterion was asked in its positive form; an abstention (with ``error``) without one."""
        text, inverted = asked
        if inverted:
            value = inverted_answer(value)
        if value is None and self.config.on_failure == "not_met" and unreadable(error):  # inspect_evals' rule
            return Verdict(criterion_id=criterion.id, met=False, explanation=f"scored not met: the judge's answer "
                           f"could not be read (on_failure=not_met): {error}", prompt_version=prompt.version,
                           response_truncated=truncated)
        if value is None:
            return Verdict(criterion_id=criterion.id, met=None, error=error, prompt_version=prompt.version,
                           response_truncated=truncated)
        met, p, explanation = value["met"], value["p"], value["explanation"]
        if p is not None:
            threshold = self.threshold_for(criterion)
            met = p >= threshold
            explanation = explanation or f"P(met) = {p:.3f}, threshold {threshold:g}"
        raw, p = p, None if p is None else calibration.calibrated(p, threshold)
        if inverted:
            explanation = f"asked as {text!r}, answer inverted; {explanation}"
        return Verdict(criterion_id=criterion.id, met=met, p_met=p, p_raw=raw, explanation=explanation,
                       prompt_version=prompt.version, cached=cached, response_truncated=truncated)

    def _prompt(self, name: str) -> Prompt:
        """The prompt ``name`` in the configured variant (``JudgeConfig.prompt_variant``)."""
        return load_prompt(name, self.config.prompt_variant)

    async def _ask_fitted(self, response: Any, build: Callable[[str], tuple[str, list[ChatMessage] | None]],
                          prompt: Prompt, gen: GenerateConfig, read: Callable[[ModelOutput], T | None]
                          ) -> tuple[T | None, str | None, bool, Usage, bool]:
        """:meth:`_ask` the text ``build(shown response)``: the response cut to ``max_response_chars``, and
        cut again while the judge reports that the prompt exceeds its context (``fit_attempts`` times), to
        1/2, then 1/4, 1/16, 1/256 of what was shown: a response many times the context fits in a few calls.
        Returns ``_ask``'s answer and whether the response was cut."""
        full = render_response(response)
        limit = self.config.max_response_chars
        usage = Usage()
        for attempt in range(1 + self.config.fit_attempts):
            shown = cut_response(full, limit)
            text, messages = build(shown)
            value, error, cached, used = await self._ask(prompt, text, gen, read, messages)
            usage += used
            if not (error or "").startswith(CONTEXT_OVERFLOW) or not full:
                break
            limit = len(shown) // 2 ** 2 ** attempt or 1
        return value, error, cached, usage, shown != full

    def _gen(self, **asked) -> GenerateConfig:
        """The request for a question that asks for ``asked``, fitted to the model (:mod:`rareval.judge.generation`)."""
        return generate_config(self.config, self.model.api, self.model.config, **asked)

    async def _ask(self, prompt: Prompt, text: str, gen: GenerateConfig, read: Callable[[ModelOutput], T | None],
                   messages: list[ChatMessage] | None = None) -> tuple[T | None, str | None, bool, Usage]:
        """Ask ``text`` (or ``messages``, whose text it is) until readable; returns (value, error, from_cache, usage).

        With the verdict cache on, a question already answered is not asked, and one asked again while
        its first asking is still in flight (identical completions in a GRPO group) waits for that answer
        instead of paying for it twice; if the first asking fails, the second asks itself.
        """
        if self._cache is None:
            return await self._call(None, text, gen, read, messages)
        key = VerdictCache.key(model=self.name, prompt=prompt.version, text=text, mode=gen.response_schema is not None,
                               logprobs=bool(gen.logprobs), temperature=gen.temperature,
                               **cache_key_parts(gen, self.model.api), **self.config.cache_key_parts())
        hit = self._cache.get(key)
        if hit is not None:
            return hit, None, True, Usage(cached=1)
        loop = asyncio.get_running_loop()
        pending = self._inflight.get(key)
        if pending is not None and pending.get_loop() is loop:
            value = await asyncio.shield(pending)
            if value is not None:
                return value, None, True, Usage(cached=1)
        future = self._inflight[key] = loop.create_future()
        result: tuple = (None, "cancelled", False, Usage())
        try:
            result = await self._call(key, text, gen, read, messages)
            return result
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]
            future.set_result(result[0])

    def _retry_temperature(self, first: float) -> float:
        """The temperature a question is asked again at: ``retry_temperature``; with simple-evals' grader the
        first attempt's (simple-evals samples every attempt alike, with its one sampler at 0.5) unless
        ``retry_temperature`` is set."""
        official = self.config.grader == "simple-evals" and "retry_temperature" not in self.config.model_fields_set
        return first if official else self.config.retry_temperature

    async def _call(self, key: str | None, text: str, gen: GenerateConfig, read: Callable[[ModelOutput], T | None],
                    messages: list[ChatMessage] | None) -> tuple[T | None, str | None, bool, Usage]:
        """Call the model until its answer is readable (``parse_retries``); a readable answer is cached."""
        usage, error = Usage(), None
        retries = self.config.parse_retries
        if self.config.on_failure.startswith("retry:"):
            retries = int(self.config.on_failure.split(":")[1])
        for attempt in range(1 + retries):
            retry = attempt and gen.temperature is not None  # a reasoning judge's temperature is the provider's
            config = gen.merge(GenerateConfig(temperature=self._retry_temperature(gen.temperature))) if retry else gen
            try:
                output = await self.model.generate(messages or text, config=config)
            except Exception as ex:  # Inspect already retried transport errors
                return None, failure(ex), False, usage + Usage(calls=1)
            usage += Usage.of(output)
            if overflowed(output):  # nothing generated: the prompt did not fit the judge's context
                return None, f"{CONTEXT_OVERFLOW} ({output.completion[:120]!r})", False, usage
            if output.error or (output.choices and output.stop_reason == "content_filter"):
                return None, redact(f"refused: {output.error or output.completion[:120]}"), False, usage
            if not output.choices:  # a server answer without choices: nothing to read, ask again
                error = "empty answer: the provider returned no choices"
                continue
            try:
                value = read(output)
            except Exception as ex:  # a reader must never end a run: the answer is unreadable
                value, error = None, f"unreadable answer ({type(ex).__name__}: {ex})"[:300]
                continue
            if value is not None:
                if key is not None:
                    self._cache.put(key, value)
                return value, None, False, usage
            error = f"unreadable answer: {output.completion[:120]!r}"
        return None, error, False, usage
