"""Reading the judge's answers: ``ModelOutput`` → a JSON-native value, or ``None`` when unreadable.

A verdict is ``{"met": bool, "p": P(yes) or None, "explanation": str}`` (what the
verdict cache stores); a batched reader returns one per criterion key. P(yes) comes
from log probabilities with case and spacing variants summed (:func:`rareval.parsing.p_yes`).
"""

from __future__ import annotations

import math
from typing import Any

from inspect_ai.model import ModelOutput, ResponseSchema

from rareval.judge_text import slot_marker
from rareval.parsing import first_word_verdict, p_yes, parse_json, parse_met, parse_rating, verdict_positions, \
    yes_no_word


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
    """P(yes) at the first yes/no token; else among the first token's alternatives; else the word."""
    logprobs = output.choices[0].logprobs if output.choices else None
    positions = verdict_positions(output) or (logprobs.content[:1] if logprobs else [])
    if positions:
        p = p_yes(positions[0])
        if p is not None:
            return answer(p >= 0.5, p)
    met = first_word_verdict(output.completion)
    return None if met is None else answer(met)


def read_json_met(output: ModelOutput):
    parsed = parse_met(output.completion)
    return None if parsed is None else answer(parsed[0], explanation=parsed[1])


def read_batch(output: ModelOutput, keys: list[str]):
    obj = parse_json(output.completion)
    if obj is None:
        return None
    answers = {k: yes_no_word(str(obj.get(k, ""))) for k in keys}
    answers = {k: v for k, v in answers.items() if v is not None}
    if not answers:
        return None
    positions = verdict_positions(output)
    probs = [p_yes(p) for p in positions] if len(positions) == len(answers) else [None] * len(answers)
    return {k: answer(v, p) for (k, v), p in zip(answers.items(), probs)}


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
    value = parse_rating(output.completion)
    if value is None:
        return None
    return {"rating": value, "distribution": rating_distribution(output)}


def answer(met: bool, p: float | None = None, explanation: str = "") -> dict[str, Any]:
    """A readable answer, JSON-native so the verdict cache stores it as is."""
    return {"met": met, "p": p, "explanation": explanation}


def rating_distribution(output: ModelOutput) -> dict[str, float] | None:
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
