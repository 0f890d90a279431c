"""Reading the judge's answers: ``ModelOutput`` → a JSON-native value, or ``None`` when unreadable;
and what a failed call or an overflowed prompt means (:func:`failure`, :func:`overflowed`).

A verdict is ``{"met": bool, "p": P(yes) or None, "explanation": str}`` (what the
verdict cache stores); a batched reader returns one per criterion key. P(yes) comes
from log probabilities with case and spacing variants summed (:func:`rareval.judge.parsing.p_yes`).
"""

from __future__ import annotations

import math
from typing import Any

from inspect_ai.model import ModelOutput, ResponseSchema

from rareval.errors import redact
from rareval.judge.parsing import alternatives, final_answer, first_word_verdict, p_yes, parse_json, parse_met, \
    parse_rating, verdict_positions, yes_no_word
from rareval.judge.text import slot_marker


def inverted_answer(value):
    """The answer to a criterion's positive form, turned into the answer to the criterion."""
    if value is None:
        return None
    return {**value, "met": not value["met"], "p": None if value["p"] is None else 1 - value["p"]}


MET_SCHEMA = ResponseSchema(name="verdict", strict=True, json_schema={
    "type": "object", "additionalProperties": False, "required": ["explanation", "criteria_met"],
    "properties": {"explanation": {"type": "string"}, "criteria_met": {"type": "boolean"}}})
RATING_SCHEMA = ResponseSchema(name="rating", strict=True, json_schema={
    "type": "object", "additionalProperties": False, "required": ["rating"],
    "properties": {"rating": {"type": "integer", "minimum": 1, "maximum": 10}}})


def read_yesno(output: ModelOutput):
    """P(yes) at the first yes/no token; else among the first token's alternatives; else the word. A thinking
    model's inline reasoning is skipped: its answer is the word after it (its logprobs are not read)."""
    if final_answer(output.completion) != output.completion:
        met = first_word_verdict(final_answer(output.completion))
        return None if met is None else answer(met)
    logprobs = output.choices[0].logprobs if output.choices else None
    positions = verdict_positions(output) or (logprobs.content[:1] if logprobs else [])
    if positions:
        p = p_yes(positions[0])
        if p is not None:
            return answer(p >= 0.5, p)
    met = first_word_verdict(output.completion)
    return None if met is None else answer(met)


def read_json_met(output: ModelOutput):
    parsed = parse_met(final_answer(output.completion))
    return None if parsed is None else answer(parsed[0], explanation=parsed[1])


def read_batch(output: ModelOutput, keys: list[str]):
    """A verdict per criterion key of a batched JSON answer, matched by key, never by position.

    P(yes) comes from the logprobs of the yes/no tokens, which follow the order the judge
    *wrote* its entries in (not the order of ``keys``); they are used only when there is
    exactly one such token per yes/no entry. A key the judge left out is absent (its
    criterion abstains); an entry under a key that was not asked is ignored.
    """
    obj = parse_json(final_answer(output.completion))
    if obj is None:
        return None
    written = [(k, yes_no_word(str(v))) for k, v in obj.items()]  # in the order written
    written = [(k, v) for k, v in written if v is not None]
    if not any(k in keys for k, _ in written):
        return None
    positions = verdict_positions(output)
    probs = [p_yes(p) for p in positions] if len(positions) == len(written) else [None] * len(written)
    return {k: answer(v, p) for (k, v), p in zip(written, probs) if k in keys}


def read_slots(output: ModelOutput, n: int):
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
            answers[str(i)] = answer(p >= 0.5, p)
    return answers


def read_rating(output: ModelOutput):
    value = parse_rating(final_answer(output.completion))
    if value is None:
        return None
    return {"rating": value, "distribution": rating_distribution(output)}


def answer(met: bool, p: float | None = None, explanation: str = "") -> dict[str, Any]:
    """A readable answer, JSON-native so the verdict cache stores it as is."""
    return {"met": met, "p": p, "explanation": explanation}


def rating_distribution(output: ModelOutput) -> dict[str, float] | None:
    """P(rating) over 1–10 from the log probabilities at the rating's first digit.

    A rating is a whole number. Where the tokenizer writes "10" as one token it is
    read as 10; where it splits digits (Qwen, Llama 3: "1", "0") the mass of "1" is
    shared between 1 and 10 by what follows it. When "1" was the sampled token, the
    next position tells: ``P(10) = P("1")·q`` and ``P(1) = P("1")·(1 − q)`` with
    ``q = P("0") / (P("0") + P(a non-digit))`` there. When another digit was sampled,
    what would have followed a "1" is unknown; its mass goes to whichever of 1 and
    10 is nearer the sampled rating (a judge that answers 8 and considers "1…" is
    considering 10). Reading the first digit alone made a sure 10 a rating of 1.
    """
    content = output.choices[0].logprobs.content if output.choices and output.choices[0].logprobs else []
    for i, position in enumerate(content):
        first = position.token.strip()
        if not _digits(first):
            continue
        following = content[i + 1] if i + 1 < len(content) else None
        q = _p_zero_next(following) if first == "1" and following is not None else None
        sampled = 10 if first == "10" or (first == "1" and q is not None and q >= 0.5) else int(first)
        mass: dict[int, float] = {}
        for alt in alternatives(position):
            tok, p = alt.token.strip(), math.exp(alt.logprob)
            if not _digits(tok) or not 1 <= int(tok) <= 10:
                continue
            if tok == "1":
                share = q if q is not None else float(sampled > 5)
                mass[10] = mass.get(10, 0.0) + p * share
                mass[1] = mass.get(1, 0.0) + p * (1 - share)
            else:
                mass[int(tok)] = mass.get(int(tok), 0.0) + p
        total = sum(mass.values())
        return {str(k): v / total for k, v in sorted(mass.items()) if v > 0} if total else None
    return None


def _digits(token: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, but ``int("²")`` raises."""
    return token.isascii() and token.isdigit()


def _p_zero_next(position) -> float | None:
    """P("0") / (P("0") + P(a token that ends the number)) at the position after a "1"."""
    zero = end = 0.0
    for alt in alternatives(position):
        tok, p = alt.token.strip(), math.exp(alt.logprob)
        if tok == "0":
            zero += p
        elif not _digits(tok[:1]):
            end += p
    return zero / (zero + end) if zero + end > 0 else None


def failure(ex: BaseException) -> str:
    """Why a call failed, for an abstention: the last attempt's error when Inspect gave up retrying (its
    ``RetryError`` names only itself), the provider's own message where Inspect wraps it after a dump of
    the request, any secret it echoes redacted, at most 300 characters."""
    last = getattr(ex, "last_attempt", None)
    if last is not None and last.failed:
        ex = last.exception()
    return redact(f"{type(ex).__name__}: {getattr(ex, 'provider_message', None) or ex}")[:300]


#: How an abstention starts when an answer came back but could not be read, whole or for one criterion of a
#: batched answer: the only failure ``on_failure="not_met"`` scores as not met. A call that failed (an error
#: Inspect gave up retrying, a timeout, a wrong key), an answer without choices, a refusal or a prompt over the
#: context abstains.
UNREADABLE = ("unreadable answer", "no answer for ", "no answer slot read for ")


def unreadable(error: str | None) -> bool:
    """Whether an abstention's ``error`` says an answer came back unreadable (:data:`UNREADABLE`)."""
    return bool(error) and error.startswith(UNREADABLE)


#: How an abstention for a prompt too long for the judge's context starts
#: (see :meth:`rareval.judge.core.Judge._ask_fitted`).
CONTEXT_OVERFLOW = "the prompt exceeds the judge's context"


def overflowed(output: ModelOutput) -> bool:
    """The provider stopped for the context length before writing anything (local/: an empty completion;
    OpenAI-compatible servers: a ``context_length_exceeded`` error turned into output by Inspect)."""
    if not output.choices or output.stop_reason != "model_length":
        return False
    return output.usage is None or not output.usage.output_tokens
