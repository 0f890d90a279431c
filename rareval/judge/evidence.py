"""Evidence-grounded verdicts (``JudgeConfig.evidence``): the judge quotes what meets the criterion, and a
verdict that would earn points on evidence the response does not give the user is voided.

**The question.** ``criterion_evidence`` (``criterion_evidence_hardened`` with ``prompt_variant="hardened"``)
asks one criterion per call, as ``verdict_mode="json"`` does, for ``{"quote", "criteria_met"}`` under a
JSON schema (:data:`EVIDENCE_SCHEMA`): the quote is the span of the response that shows the behaviour.
The quote comes first and there is no free-text explanation: the judge finds the span, then decides. With
an explanation first, an Explicit question took Qwen2.5-1.5B 5.4 s, against 1.8 s per question of a yes/no
run (RELIABILITY.md §3), and the explanation often argued its way to a quote from the user's message.
A negated criterion is asked in its positive form, as always (:mod:`rareval.judge.core`).

**Where a quote must be found** (:func:`void_reason`). The quote is cut into pieces at gaps (``...``,
``…``, ``[...]``); each piece is normalised (:func:`~rareval.judge.sanitize.normalise`: NFKC, case-folded,
curly quotes and dashes made plain, markdown marks and whitespace runs as one space) and stripped of
surrounding quote marks and punctuation; empty pieces are dropped. The quote is *found* in a text when
at least one piece is left and every piece occurs in the normalised text, in order. It is looked for in the
response without its grader-addressed text (:func:`~rareval.judge.sanitize.strip_grader_text`, given the
rubric's criteria, so a restated criterion is grader text): found there, the verdict stands; otherwise the
reason is :data:`NO_QUOTE` (nothing quoted), :data:`QUOTE_IN_GRADER_TEXT` (found only inside a note to the
grader, a verdict block, a pasted rubric line, a self-grading claim) or :data:`QUOTE_NOT_FOUND`.

**Which verdicts are voided** (:func:`credited`). Only a "yes" to the question as asked that would *earn*
points: a positive criterion met, or a negated pitfall ("Fails to mention X", asked as "Mentions X") or an
avoidance-phrased one ("Avoids X") answered yes, i.e. the mistake absent. Such a "yes" without a grounded
quote becomes "no" — the criterion not met, or the pitfall present — and ``Verdict.voided`` records why;
the judge's quote is kept in ``Verdict.quote``. A "yes" that *costs* points (a pitfall's mistake
present; a positive criterion asked in its negated positive form) is never voided, whatever its quote:
voiding it would raise the score, and a defence must never raise a score. A "no" is never voided
(absence has no span to quote), so a manipulation that talks the judge *out* of finding a pitfall is
left to ``strip_grader_text``. Voiding is applied after the verdict cache (which keeps the judge's answer
and quote), so it costs no call: one call per criterion, as ``verdict_mode="json"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from inspect_ai.model import ModelOutput, ResponseSchema

from rareval.judge.parsing import final_answer, parse_json, parse_met
from rareval.judge.readers import answer
from rareval.judge.sanitize import normalise, strip_grader_text
from rareval.judge.text import render_conversation, render_response, response_fence
from rareval.judge.usage import Usage
from rareval.judge.verdict import Verdict
from rareval.rubric import Criterion, Rubric

#: The per-criterion prompt with evidence.
PROMPT = "criterion_evidence"
EVIDENCE_SCHEMA = ResponseSchema(name="evidence", strict=True, json_schema={
    "type": "object", "additionalProperties": False, "required": ["quote", "criteria_met"],
    "properties": {"quote": {"type": "string"}, "criteria_met": {"type": "boolean"}}})

#: Why a verdict was voided (``Verdict.voided``).
NO_QUOTE = "no_quote"
QUOTE_NOT_FOUND = "quote_not_found"
QUOTE_IN_GRADER_TEXT = "quote_in_grader_text"

#: Why a batched question cannot carry evidence.
NOT_BATCHED = ("evidence=true asks one criterion per call (a quote for each verdict); ask without batched, "
               "or turn evidence off")

_GAP = re.compile(r"\[\s*(?:\.\.\.|\u2026)\s*\]|\.{3,}|\u2026")
_EDGES = "\"'`.,;:!?()[]{}<>- "


def read_evidence(output: ModelOutput) -> dict[str, Any] | None:
    """An evidence answer: :func:`~rareval.judge.readers.answer` with ``"quote"`` (a list of quotes is joined
    as pieces, ``""`` where none) whose explanation is the quote (or an ``"explanation"`` the judge added);
    ``None`` without a readable ``criteria_met``."""
    text = final_answer(output.completion)
    parsed = parse_met(text)
    if parsed is None:
        return None
    quote = (parse_json(text) or {}).get("quote")
    if isinstance(quote, list):
        quote = " ... ".join(str(q) for q in quote)
    quote = quote if isinstance(quote, str) else ""
    return {**answer(parsed[0], explanation=parsed[1] or f"quote: {quote!r}"), "quote": quote}


def quote_pieces(quote: str) -> list[str]:
    """The normalised pieces of ``quote`` that must be found (see the module docstring).

    >>> quote_pieces('"Call 911 ... do **not** drive yourself."')
    ['call 911', 'do not drive yourself']
    """
    return [p for p in (normalise(piece).strip(_EDGES) for piece in _GAP.split(quote or "")) if p]


def found(pieces: list[str], text: str) -> bool:
    """Every piece in the normalised ``text``, in order (at least one piece)."""
    at, haystack = 0, normalise(text)
    for piece in pieces:
        at = haystack.find(piece, at)
        if at < 0:
            return False
        at += len(piece)
    return bool(pieces)


def void_reason(quote: str, response: str, criteria: Iterable[str] = ()) -> str | None:
    """Why a verdict resting on ``quote`` is not grounded in ``response`` (None: it is); ``criteria``: the
    texts of the rubric, whose restated lines count as grader-addressed text."""
    pieces = quote_pieces(quote)
    if not pieces:
        return NO_QUOTE
    if found(pieces, strip_grader_text(response, criteria).text):
        return None
    return QUOTE_IN_GRADER_TEXT if found(pieces, response) else QUOTE_NOT_FOUND


def credited(criterion: Criterion, inverted: bool) -> bool:
    """Whether a "yes" to ``criterion`` as asked earns points: a positive criterion asked as written, or a
    pitfall whose answer is inverted (asked in its positive form, or avoidance-phrased)."""
    return (not criterion.is_pitfall) != inverted


async def ask(judge: Any, conversation: Any, response: Any, criterion: Criterion,
              rubric: Rubric | None = None) -> tuple[Verdict, Usage]:
    """``criterion`` asked of ``judge`` (a :class:`~rareval.judge.core.Judge`, whose request, reading and fitting
    it uses; not imported, as the core imports this module) with evidence: one call; a credited "yes" whose quote is not
    grounded in the response voided to "no" (``Verdict.voided``)."""
    prompt = judge._prompt(PROMPT)
    asked = judge._asked(criterion)
    points = -criterion.weight if asked[0] != criterion.text else criterion.weight
    shown_conversation = render_conversation(conversation)

    def build(shown: str) -> tuple[str, None]:
        return prompt.render(conversation=shown_conversation, response=shown, criterion=asked[0],
                             fence=response_fence(shown), points=f"{points:g}"), None

    gen = judge._gen(max_tokens=judge.config.max_tokens, response_schema=EVIDENCE_SCHEMA)
    value, error, cached, usage, cut = await judge._ask_fitted(response, build, prompt, gen, read_evidence)
    quote = value.get("quote") if value is not None else None
    reason = None
    if value is not None and value["met"] and credited(criterion, asked[1]):
        texts = [c.text for c in rubric] if rubric is not None else [criterion.text]
        reason = void_reason(quote or "", render_response(response), texts)
        if reason is not None:
            value = {**value, "met": False, "explanation": f"voided ({reason}): the judge said yes quoting "
                     f"{(quote or '')[:200]!r}; {value['explanation']}"}
    verdict = judge._verdict(criterion, prompt, asked, value, error, cached, cut)
    return verdict.model_copy(update={"quote": quote, "voided": reason}), usage
