"""The judge: asks an Inspect model about a response and reads its answers.

Three questions (prompts in ``rareval/prompts/``):

* **one criterion** — is it met? HealthBench grader semantics: for a pitfall
  (negative points) "met" means the undesirable behaviour is *present*.
  ``verdict_mode="yesno"`` asks for a one-word answer and reads P(yes) from the
  first answer token's logprobs (case and spacing variants summed); the verdict is
  ``P(yes) >= threshold``. Where the provider returns no logprobs the word itself is
  read. ``verdict_mode="json"`` asks for ``{"explanation", "criteria_met"}``.
* **a whole rubric in one call** (batched) — a JSON object ``{"1. First words": "yes"|"no", …}``
  under a JSON schema; P(yes) per criterion from the logprobs of each answer token.

Two readings measured on graded HealthBench rows (``benchmarks/judge_quality.py``):
a negated criterion ("Fails to mention X") is asked in its positive form ("Mentions
X") and the answer inverted, since small judges misread negation; and the threshold
can depend on the kind of criterion (pitfall, positive, or a tag such as
``level:cluster``), calibrated per local model on development rows and stored in its
catalog entry. ``Verdict.p_met`` is then re-expressed so that 0.5 is the threshold
(``p_raw`` keeps the value as read).
* **a 1–10 rating** of the response, optionally given the rubric (RaR-Implicit) or
  a reference answer (Reference-Likert); the rating distribution is kept where the
  provider exposes logprobs.

Failure rules, written down: transport errors, timeouts and rate limits are
retried by Inspect (``max_retries``, ``timeout``); an unreadable answer is asked
again ``parse_retries`` times at ``retry_temperature``; a refusal or anything still
unreadable becomes an **abstention** (``met=None``), never a verdict. Every call's
token usage is counted, abstained or not. Prompts are ordered conversation →
response → criterion so servers that reuse a cached prompt prefix recompute only
the criterion's tokens.
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any, Callable, Literal, Mapping, Sequence, TypeVar

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageUser, GenerateConfig, Model, \
    ModelOutput, ResponseSchema, get_model
from pydantic import BaseModel, Field

from rareval.cache import VerdictCache
from rareval.parsing import first_word_verdict, p_yes, parse_json, parse_met, parse_rating, \
    verdict_positions, yes_no_word
from rareval.prompts import Prompt, load_prompt
from rareval.rubric import Criterion, Rubric
from rareval.usage import Usage

T = TypeVar("T")
Conversation = str | Sequence[Mapping[str, Any]]


class JudgeConfig(BaseModel):
    """How the judge asks and reads; recorded with every result."""

    verdict_mode: Literal["yesno", "json"] = Field(
        "yesno", description="Per-criterion answer format: one word with logprobs, or JSON with an explanation.")
    threshold: float | None = Field(
        None, ge=0, le=1, description="P(yes) at or above which a criterion counts as met, for every criterion; "
        "None: ``thresholds``.")
    thresholds: dict[str, float] | None = Field(
        None, description="Thresholds by kind of criterion ('pitfall', 'positive' or a tag such as "
        "'level:cluster'; 'default' for the rest). None: the calibrated thresholds stored with a local "
        "model's catalog entry, else 0.5.")
    temperature: float = Field(0.0, description="Sampling temperature of the first attempt.")
    parse_retries: int = Field(1, ge=0, le=5, description="Extra attempts when an answer cannot be read.")
    retry_temperature: float = Field(0.7, description="Temperature of those extra attempts.")
    max_retries: int = Field(3, ge=0, description="Inspect's transport retries per call (errors, rate limits).")
    timeout: float | None = Field(120, description="Seconds Inspect allows one attempt before abandoning and retrying it.")
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


class Verdict(BaseModel):
    """One criterion's verdict. ``met is None`` means the judge abstained."""

    criterion_id: str
    met: bool | None
    p_met: float | None = Field(None, description="P(met) read from logprobs where the provider exposes them, "
                                "calibrated so that 0.5 is the judge's threshold.")
    p_raw: float | None = Field(None, description="P(met) as read, before calibration.")
    explanation: str = ""
    error: str | None = Field(None, description="Why the judge abstained.")
    prompt_version: str = ""
    cached: bool = False

    @property
    def abstained(self) -> bool:
        return self.met is None


class Rating(BaseModel):
    """A 1–10 rating. ``value is None`` means the judge abstained."""

    value: int | None
    distribution: dict[int, float] | None = Field(None, description="P(rating) where logprobs are exposed.")
    error: str | None = None
    prompt_version: str = ""
    cached: bool = False


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

    @property
    def model(self) -> Model:
        if self._model is None:
            if isinstance(self._spec, str):
                self._model = get_model(self._spec, **self._model_args)
            else:
                self._model = get_model(role=self._role)
        return self._model

    @property
    def name(self) -> str:
        return str(self.model)

    @property
    def thresholds(self) -> dict[str, float]:
        """P(yes) thresholds by criterion kind (see :func:`criterion_kind`); ``"default"`` for the rest.

        The configured threshold, else the local model's calibrated ones, else 0.5.
        """
        if self.config.threshold is not None:
            return {"default": self.config.threshold}
        if self.config.thresholds is not None:
            return {"default": 0.5, **self.config.thresholds}
        return default_thresholds(self.name)

    def threshold_for(self, criterion: Criterion) -> float:
        thresholds = self.thresholds
        return thresholds.get(criterion_kind(criterion, thresholds), thresholds["default"])

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if not isinstance(self._spec, Model):
            state["_model"] = None
        return state

    # -- questions --------------------------------------------------------------------

    async def criterion(self, conversation: Conversation, response: Any, criterion: Criterion
                        ) -> tuple[Verdict, Usage]:
        """Is ``criterion`` met by ``response``? One call."""
        yesno = self.config.verdict_mode == "yesno"
        prompt = load_prompt("criterion_yesno" if yesno else "criterion_json")
        asked, inverted = self._asked(criterion)
        text = prompt.render(conversation=render_conversation(conversation), response=render_response(response),
                             criterion=asked, points=f"{criterion.weight:g}")
        if yesno:
            gen = self._gen(max_tokens=1 if self.config.top_logprobs else 3, logprobs=self.config.top_logprobs > 0,
                            top_logprobs=self.config.top_logprobs or None)
            read = _read_yesno
        else:
            gen = self._gen(max_tokens=self.config.max_tokens, response_schema=_MET_SCHEMA)
            read = _read_json_met
        value, error, cached, usage = await self._ask(prompt, text, gen, read)
        return self._verdict(criterion, prompt, _inverted(value) if inverted else value, error, cached,
                             asked if inverted else None), usage

    async def criteria(self, conversation: Conversation, response: Any, rubric: Rubric,
                       batched: bool = False) -> tuple[list[Verdict], Usage]:
        """A verdict per criterion: one call each (concurrently), or one batched call."""
        if batched:
            if self.config.batch_reading == "prompt":
                return await self._batched_slots(conversation, response, rubric)
            return await self._batched(conversation, response, rubric)
        results = await asyncio.gather(*(self.criterion(conversation, response, c) for c in rubric))
        return [v for v, _ in results], sum((u for _, u in results), Usage())

    async def rating(self, conversation: Conversation, response: Any, *, rubric: Rubric | None = None,
                     reference: str | None = None) -> tuple[Rating, Usage]:
        """A 1–10 rating: Direct-Likert, or with the rubric (RaR-Implicit) or reference."""
        if rubric is not None and reference is not None:
            raise ValueError("rate with a rubric or with a reference, not both")
        name = "rating_implicit" if rubric is not None else "rating_reference" if reference is not None \
            else "rating_direct"
        prompt = load_prompt(name)
        text = prompt.render(conversation=render_conversation(conversation), response=render_response(response),
                             rubric=render_rubric(rubric) if rubric is not None else "",
                             reference=reference or "")
        gen = self._gen(max_tokens=self.config.max_tokens, response_schema=_RATING_SCHEMA,
                        logprobs=self.config.top_logprobs > 0, top_logprobs=self.config.top_logprobs or None)
        value, error, cached, usage = await self._ask(prompt, text, gen, _read_rating)
        value = value or {}
        dist = value.get("distribution")
        return Rating(value=value.get("rating"), distribution={int(k): p for k, p in dist.items()} if dist else None,
                      error=error, prompt_version=prompt.version, cached=cached), usage

    # -- internals --------------------------------------------------------------------

    async def _batched(self, conversation, response, rubric: Rubric) -> tuple[list[Verdict], Usage]:
        prompt = load_prompt("rubric_batch")
        asked = [self._asked(c) for c in rubric]
        keys = [batch_key(i, a, self.config.batch_keys) for i, (a, _) in enumerate(asked)]
        text = prompt.render(
            conversation=render_conversation(conversation), response=render_response(response),
            criteria="\n".join(f"{i + 1}. {a}" for i, (a, _) in enumerate(asked)),
            keys=", ".join(f'"{k}": "yes" or "no"' for k in keys))
        schema = ResponseSchema(name="verdicts", strict=True, json_schema={
            "type": "object", "additionalProperties": False, "required": keys,
            "properties": {k: {"type": "string", "enum": ["yes", "no"]} for k in keys}})
        gen = self._gen(max_tokens=max(self.config.max_tokens, sum(len(k) for k in keys) + 12 * len(keys)),
                        response_schema=schema,
                        logprobs=self.config.top_logprobs > 0, top_logprobs=self.config.top_logprobs or None)
        value, error, cached, usage = await self._ask(prompt, text, gen, lambda out: _read_batch(out, keys))
        answers = value or {}
        verdicts = [self._verdict(c, prompt, _inverted(answers.get(k)) if inv else answers.get(k),
                                  None if k in answers else (error or f"no answer for {k}"), cached,
                                  a if inv else None)
                    for k, c, (a, inv) in zip(keys, rubric, asked)]
        return verdicts, usage

    async def _batched_slots(self, conversation, response, rubric: Rubric) -> tuple[list[Verdict], Usage]:
        """One call; P(yes) read at each criterion's answer slot from the prompt's log probabilities."""
        prompt = load_prompt("rubric_slots")
        asked = [self._asked(c) for c in rubric]
        text = prompt.render(conversation=render_conversation(conversation), response=render_response(response))
        slots = "".join(f"{i + 1}. {a}\n{slot_marker(i)}{SLOT_GAP}" for i, (a, _) in enumerate(asked))
        messages = [ChatMessageUser(content=text), ChatMessageAssistant(content=slots)] if SLOTS_AS_ASSISTANT \
            else [ChatMessageUser(content=text + "\n" + slots)]
        gen = self._gen(max_tokens=1, prompt_logprobs=self.config.top_logprobs or 20)
        value, error, cached, usage = await self._ask(prompt, text + "\n" + slots, gen,
                                                      lambda out: _read_slots(out, len(rubric)), messages)
        if value is None:
            error = ("the provider returned no prompt log probabilities; batch_reading='prompt' needs one that "
                     f"does (local/, vLLM) — {error}")
        answers = value or {}
        verdicts = [self._verdict(c, prompt, _inverted(answers.get(str(i))) if inv else answers.get(str(i)),
                                  error or f"no answer slot read for criterion {i + 1}", cached, a if inv else None)
                    for i, (c, (a, inv)) in enumerate(zip(rubric, asked))]
        return verdicts, usage

    def _asked(self, criterion: Criterion) -> tuple[str, bool]:
        """The criterion text put to the judge, and whether its answer must be inverted."""
        positive = positive_form(criterion.text) if self.config.positive_form else None
        return (positive, True) if positive else (criterion.text, False)

    def _verdict(self, criterion: Criterion, prompt: Prompt, value, error, cached, asked: str | None = None
                 ) -> Verdict:
        if value is None:
            return Verdict(criterion_id=criterion.id, met=None, error=error, prompt_version=prompt.version)
        met, p, explanation = value["met"], value["p"], value["explanation"]
        if p is not None:
            threshold = self.threshold_for(criterion)
            met = p >= threshold
            explanation = explanation or f"P(met) = {p:.3f}, threshold {threshold:g}"
        raw, p = p, None if p is None else calibrated(p, threshold)
        if asked:
            explanation = f"asked as {asked!r}, answer inverted; {explanation}"
        return Verdict(criterion_id=criterion.id, met=met, p_met=p, p_raw=raw, explanation=explanation,
                       prompt_version=prompt.version, cached=cached)

    def _gen(self, **kwargs) -> GenerateConfig:
        return GenerateConfig(temperature=self.config.temperature, max_retries=self.config.max_retries,
                              attempt_timeout=self.config.timeout, **kwargs)

    async def _ask(self, prompt: Prompt, text: str, gen: GenerateConfig, read: Callable[[ModelOutput], T | None],
                   messages: list[ChatMessage] | None = None) -> tuple[T | None, str | None, bool, Usage]:
        """Ask ``text`` (or ``messages``, whose text it is) until readable; returns (value, error, from_cache, usage)."""
        key = None
        if self._cache is not None:
            key = VerdictCache.key(model=self.name, prompt=prompt.version, text=text,
                                   mode=gen.response_schema is not None, logprobs=bool(gen.logprobs))
            hit = self._cache.get(key)
            if hit is not None:
                return hit, None, True, Usage(cached=1)
        usage, error = Usage(), None
        for attempt in range(1 + self.config.parse_retries):
            config = gen if attempt == 0 else gen.merge(GenerateConfig(temperature=self.config.retry_temperature))
            try:
                output = await self.model.generate(messages or text, config=config)
            except Exception as ex:  # Inspect already retried transport errors
                return None, f"{type(ex).__name__}: {ex}"[:300], False, usage + Usage(calls=1)
            usage += Usage.of(output)
            if output.stop_reason == "content_filter" or output.error:
                return None, f"refused: {output.error or output.completion[:120]}", False, usage
            value = read(output)
            if value is not None:
                if key is not None:
                    self._cache.put(key, value)
                return value, None, False, usage
            error = f"unreadable answer: {output.completion[:120]!r}"
        return None, error, False, usage


def default_thresholds(model_name: str) -> dict[str, float]:
    """A ``local/NAME`` catalog entry's calibrated thresholds (``judge_thresholds``), else 0.5 for all."""
    provider, _, name = model_name.partition("/")
    if provider == "local":
        from rareval.models import catalog

        try:
            return catalog.get(name).thresholds
        except (KeyError, ValueError):
            pass
    return {"default": 0.5}


def criterion_kind(criterion: Criterion, kinds: Mapping[str, Any] = ()) -> str:
    """The first of the criterion's tags that ``kinds`` names (e.g. ``level:cluster``), else
    ``"pitfall"`` for a negative weight, else ``"positive"``."""
    tag = next((t for t in criterion.tags if t in kinds), None)
    return tag or ("pitfall" if criterion.weight < 0 else "positive")


def calibrated(p: float, threshold: float) -> float:
    """P(met) with the threshold moved to 0.5: ``σ(logit p − logit threshold)``.

    The verdict is unchanged (``p ≥ threshold`` ⇔ result ≥ 0.5); P(met) of criteria of
    different kinds becomes comparable, so one ranking (AUC) can span them.
    """
    if threshold == 0.5:
        return p
    eps = 1e-9
    p, t = min(max(p, eps), 1 - eps), min(max(threshold, eps), 1 - eps)
    return 1 / (1 + math.exp(-(math.log(p / (1 - p)) - math.log(t / (1 - t)))))


_NEGATED = re.compile(r"^(?:the response\s+)?(?:fails to|does not|doesn't|did not|didn't|do not|don't)\s+"
                      r"([A-Za-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def positive_form(text: str) -> str | None:
    """'Fails to mention X.' → 'Mentions X.'; None when ``text`` is not a negated behaviour.

    The verb is put in the third person (``-es`` after s, x, z, ch, sh, o;
    consonant + y → ``-ies``); the rest of the sentence is kept as written.
    """
    m = _NEGATED.match(text.strip())
    if not m:
        return None
    verb, rest = m.group(1).lower(), m.group(2)
    if verb in _IRREGULAR:
        verb = _IRREGULAR[verb]
    elif verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        verb += "es"
    elif verb.endswith("y") and verb[-2:-1] not in "aeiou":
        verb = verb[:-1] + "ies"
    else:
        verb += "s"
    return verb.capitalize() + rest


_KEY_WORDS = re.compile(r"[A-Za-z0-9][A-Za-z0-9'()/%-]*")


def batch_key(index: int, criterion: str, style: str = "restate", words: int = 6) -> str:
    """JSON key of criterion ``index`` in a batched answer: ``"3"`` or ``"3. First words of it"``.

    Words that read as a verdict (yes/no/true/false) are left out of the key, so the
    only verdict tokens in the answer are the values.
    """
    if style == "index":
        return str(index + 1)
    kept = [w.strip("'") for w in _KEY_WORDS.findall(criterion) if yes_no_word(w) is None][:words]
    return f"{index + 1}. " + " ".join(kept)


SLOTS_AS_ASSISTANT = True
SLOT_GAP = " \n"  # follows each answer slot; a separate token after ":" in the tokenizers seen


def slot_marker(index: int) -> str:
    """The text before criterion ``index``'s answer slot in a batched prompt."""
    return f"Answer {index + 1}:"


def _inverted(value):
    """The answer to a criterion's positive form, turned into the answer to the criterion."""
    if value is None:
        return None
    return {**value, "met": not value["met"], "p": None if value["p"] is None else 1 - value["p"]}


# -- rendering --------------------------------------------------------------------------

def render_conversation(conversation: Conversation) -> str:
    """HealthBench style: ``role: content`` turns separated by blank lines."""
    if isinstance(conversation, str):
        return conversation
    return "\n\n".join(f"{_get(m, 'role')}: {_text(_get(m, 'content'))}" for m in conversation)


def render_response(response: Any) -> str:
    """A completion as text: a string, or the last message of a conversational completion."""
    if isinstance(response, str):
        return response
    if isinstance(response, Sequence) and response:
        return _text(_get(response[-1], "content"))
    return _text(_get(response, "content"))


def render_rubric(rubric: Rubric) -> str:
    """One line per criterion with its category label (the label carries the weight, RaR §3.3)."""
    return "\n".join(f"- {c.category.value.capitalize()}: {c.text}" for c in rubric)


def _get(message: Any, key: str) -> Any:
    return message[key] if isinstance(message, Mapping) else getattr(message, key)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "text", None) or (part.get("text", "") if isinstance(part, Mapping) else "")
                   for part in content)


# -- readers: ModelOutput -> value or None --------------------------------------------------

_MET_SCHEMA = ResponseSchema(name="verdict", strict=True, json_schema={
    "type": "object", "additionalProperties": False, "required": ["explanation", "criteria_met"],
    "properties": {"explanation": {"type": "string"}, "criteria_met": {"type": "boolean"}}})
_RATING_SCHEMA = ResponseSchema(name="rating", strict=True, json_schema={
    "type": "object", "additionalProperties": False, "required": ["rating"],
    "properties": {"rating": {"type": "integer", "minimum": 1, "maximum": 10}}})


def _read_yesno(output: ModelOutput):
    """P(yes) at the first yes/no token; else among the first token's alternatives; else the word."""
    logprobs = output.choices[0].logprobs if output.choices else None
    positions = verdict_positions(output) or (logprobs.content[:1] if logprobs else [])
    if positions:
        p = p_yes(positions[0])
        if p is not None:
            return _answer(p >= 0.5, p)
    met = first_word_verdict(output.completion)
    return None if met is None else _answer(met)


def _read_json_met(output: ModelOutput):
    parsed = parse_met(output.completion)
    return None if parsed is None else _answer(parsed[0], explanation=parsed[1])


def _read_batch(output: ModelOutput, keys: list[str]):
    obj = parse_json(output.completion)
    if obj is None:
        return None
    answers = {k: yes_no_word(str(obj.get(k, ""))) for k in keys}
    answers = {k: v for k, v in answers.items() if v is not None}
    if not answers:
        return None
    positions = verdict_positions(output)
    probs = [p_yes(p) for p in positions] if len(positions) == len(answers) else [None] * len(answers)
    return {k: _answer(v, p) for (k, v), p in zip(answers.items(), probs)}


def _read_slots(output: ModelOutput, n: int):
    """P(yes) at each answer slot of a batched prompt, from the prompt's log probabilities.

    The slots are found from the end of the prompt backwards (``Answer n:`` …
    ``Answer 1:``), so text in the conversation that looks like a slot is never read.
    A slot counts only where a token starts right after its marker; the distribution
    of that token's position is the judge's answer. ``None`` without prompt log
    probabilities; criteria whose slot cannot be read are left out.
    """
    prompt = output.choices[0].prompt_logprobs if output.choices else None
    if prompt is None or not prompt.content:
        return None
    starts, text = [], ""
    for position in prompt.content:
        starts.append(len(text))
        text += position.token
    index = {start: i for i, start in enumerate(starts)}
    answers, end = {}, len(text)
    for i in reversed(range(n)):
        at = text.rfind(slot_marker(i), 0, end)
        if at < 0:
            break
        end = at
        j = index.get(at + len(slot_marker(i)))
        p = p_yes(prompt.content[j]) if j is not None else None
        if p is not None:
            answers[str(i)] = _answer(p >= 0.5, p)
    return answers


def _read_rating(output: ModelOutput):
    value = parse_rating(output.completion)
    if value is None:
        return None
    return {"rating": value, "distribution": _rating_distribution(output)}


def _answer(met: bool, p: float | None = None, explanation: str = "") -> dict[str, Any]:
    """A readable answer, JSON-native so the verdict cache stores it as is."""
    return {"met": met, "p": p, "explanation": explanation}


def _rating_distribution(output: ModelOutput) -> dict[str, float] | None:
    logprobs = output.choices[0].logprobs if output.choices else None
    for position in (logprobs.content if logprobs else []):
        if position.token.strip().isdigit():
            mass: dict[str, float] = {}
            for alt in position.top_logprobs or [position]:
                tok = alt.token.strip()
                if tok.isdigit() and 1 <= int(tok) <= 10:
                    mass[str(int(tok))] = mass.get(str(int(tok)), 0.0) + math.exp(alt.logprob)
            total = sum(mass.values())
            return {k: v / total for k, v in mass.items()} if total else None
    return None
