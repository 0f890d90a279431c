"""Reading judge outputs: JSON (fenced or bare), yes/no probabilities from logprobs, ratings.

Every reader returns ``None`` when the output cannot be read; the judge turns that
into a retry and finally an abstention. Nothing here guesses a verdict.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from inspect_ai.model import Logprob, ModelOutput

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_YES = {"yes", "true"}
_NO = {"no", "false"}


def parse_json(text: str, kind: type = dict) -> Any | None:
    """The first JSON value of ``kind`` (object by default, or ``list``) in ``text``: inside a
    ``` fence (labelled or not) or bare."""
    opener = "[" if kind is list else "{"
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for cand in candidates:
        start = cand.find(opener)
        while start != -1:
            try:
                obj, _ = json.JSONDecoder().raw_decode(cand[start:])
                if isinstance(obj, kind):
                    return obj
            except json.JSONDecodeError:
                pass
            start = cand.find(opener, start + 1)
    return None


def yes_no_word(token: str) -> bool | None:
    """True/False for a token that spells yes/no (any case, spacing or quotes), else None."""
    word = token.strip().strip("\"'").strip().lower()
    return True if word in _YES else False if word in _NO else None


def alternatives(position: Logprob) -> list:
    """The top alternatives at a token position, with the sampled token itself, each token once."""
    seen: set[str] = set()
    out = []
    for alt in [*(position.top_logprobs or []), position]:
        if alt.token not in seen:
            seen.add(alt.token)
            out.append(alt)
    return out


def p_yes(position: Logprob) -> float | None:
    """P(yes) / (P(yes) + P(no)) at one token position, summing case and spacing variants.

    Uses the top-k alternatives (and the sampled token itself). ``None`` when
    neither a yes nor a no variant is among them.
    """
    mass = {True: 0.0, False: 0.0}
    for alt in alternatives(position):
        word = yes_no_word(alt.token)
        if word is not None:
            mass[word] += math.exp(alt.logprob)
    total = mass[True] + mass[False]
    return mass[True] / total if total > 0 else None


def verdict_positions(output: ModelOutput) -> list[Logprob]:
    """Token positions whose sampled token is a yes/no word, in order."""
    logprobs = output.choices[0].logprobs if output.choices else None
    if logprobs is None:
        return []
    return [lp for lp in logprobs.content if yes_no_word(lp.token) is not None]


_THINK = re.compile(r"\s*<think>.*?</think>", re.DOTALL)


def final_answer(text: str) -> str:
    """The answer after a thinking model's inline reasoning (``<think>…</think>``, as Qwen3 and R1 served
    without a reasoning parser write it); an unclosed block is reasoning cut off, with no answer yet.

    >>> final_answer("<think>Is it met? Yes, I think so... no wait.</think>\\nNo")
    '\\nNo'
    >>> final_answer("<think>still thinking"), final_answer("Yes")
    ('', 'Yes')
    """
    if not text.lstrip().startswith("<think>"):
        return text
    m = _THINK.match(text)
    return text[m.end():] if m else ""


def first_word_verdict(text: str) -> bool | None:
    """Verdict from the first word of a free-text answer ("Yes." → True)."""
    m = re.match(r"\W*(\w+)", text)
    return yes_no_word(m.group(1)) if m else None


def parse_rating(text: str, low: int = 1, high: int = 10) -> int | None:
    """The integer ``rating`` of a JSON answer, within [low, high]; else None."""
    obj = parse_json(text)
    if obj is None or "rating" not in obj:
        return None
    value = obj["rating"]
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():  # not "²": int() refuses it
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value):  # JSON's Infinity and NaN parse as floats
        return None
    return int(value) if low <= value <= high else None


def parse_met(text: str) -> tuple[bool, str] | None:
    """(criteria_met, explanation) from a HealthBench-style JSON answer; None if absent."""
    obj = parse_json(text)
    if obj is None:
        return None
    met = obj.get("criteria_met")
    if isinstance(met, str):
        met = yes_no_word(met)
    if not isinstance(met, bool):
        return None
    return met, str(obj.get("explanation", ""))
