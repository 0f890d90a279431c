"""A whole rubric in one judge call (``batched=True``): the two readings of :class:`~rareval.judge.core.Judge`.

* :func:`ask_answers` — a JSON object ``{"1. First words": "yes"|"no", …}`` under a JSON schema; P(yes) per
  criterion from the logprobs of each answer token (``batch_reading="answers"``).
* :func:`ask_slots` — an answer slot after each criterion, P(yes) read at every slot from the prompt's log
  probabilities (``batch_reading="prompt"``; no verdict sees another's answer).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageUser, ResponseSchema

from rareval.judge.readers import read_batch, read_slots
from rareval.judge.text import SLOT_GAP, Conversation, batch_key, render_conversation, response_fence, slot_marker
from rareval.judge.usage import Usage
from rareval.judge.verdict import Verdict
from rareval.rubric import Rubric

#: ``judge`` below is the :class:`~rareval.judge.core.Judge` asking (its prompts, settings and call path);
#: typed ``Any`` since core imports this module.
Judge = Any

async def ask_answers(judge: Judge, conversation: Conversation, response: Any,
                      rubric: Rubric) -> tuple[list[Verdict], Usage]:
    """One call; a JSON object of yes/no answers under a schema, P(yes) per criterion from each answer token."""
    prompt = judge._prompt("rubric_batch")
    asked = [judge._asked(c) for c in rubric]
    keys = [batch_key(i, a, judge.config.batch_keys) for i, (a, _) in enumerate(asked)]
    shown_conversation = render_conversation(conversation)

    def build(shown: str) -> tuple[str, None]:
        return prompt.render(
            conversation=shown_conversation, response=shown, fence=response_fence(shown),
            criteria="\n".join(f"{i + 1}. {a}" for i, (a, _) in enumerate(asked)),
            keys=", ".join(f'"{k}": "yes" or "no"' for k in keys)), None
    schema = ResponseSchema(name="verdicts", strict=True, json_schema={
        "type": "object", "additionalProperties": False, "required": keys,
        "properties": {k: {"type": "string", "enum": ["yes", "no"]} for k in keys}})
    gen = judge._gen(max_tokens=max(judge.config.max_tokens, sum(len(k) for k in keys) + 12 * len(keys)),
                    response_schema=schema,
                    logprobs=judge.config.top_logprobs > 0, top_logprobs=judge.config.top_logprobs or None)
    value, error, cached, usage, cut = await judge._ask_fitted(response, build, prompt, gen,
                                                              lambda out: read_batch(out, keys))
    answers = value or {}
    verdicts = [judge._verdict(c, prompt, a, answers.get(k), error or f"no answer for {k}", cached, cut)
                for k, c, a in zip(keys, rubric, asked)]
    return verdicts, usage

async def ask_slots(judge: Judge, conversation: Conversation, response: Any,
                    rubric: Rubric) -> tuple[list[Verdict], Usage]:
    """One call; P(yes) read at each criterion's answer slot from the prompt's log probabilities."""
    prompt = judge._prompt("rubric_slots")
    asked = [judge._asked(c) for c in rubric]
    shown_conversation = render_conversation(conversation)
    slots = "".join(f"{i + 1}. {a}\n{slot_marker(i)}{SLOT_GAP}" for i, (a, _) in enumerate(asked))

    def build(shown: str) -> tuple[str, list[ChatMessage]]:
        text = prompt.render(conversation=shown_conversation, response=shown, fence=response_fence(shown))
        # the slots sit in the judge's own turn: on tuning rows 1–8 this ranked better (AUC 0.72)
        # than slots at the end of the user's message (AUC 0.63)
        return text + "\n" + slots, [ChatMessageUser(content=text), ChatMessageAssistant(content=slots)]

    gen = judge._gen(max_tokens=1, prompt_logprobs=judge.config.top_logprobs or 20)
    value, error, cached, usage, cut = await judge._ask_fitted(response, build, prompt, gen,
                                                              lambda out: read_slots(out, len(rubric)))
    if value is None:
        error = ("the provider returned no prompt log probabilities; batch_reading='prompt' needs one that "
                 f"does (local/, vLLM) — {error}")
    answers = value or {}
    verdicts = [judge._verdict(c, prompt, a, answers.get(str(i)),
                              error or f"no answer slot read for criterion {i + 1}", cached, cut)
                for i, (c, a) in enumerate(zip(rubric, asked))]
    return verdicts, usage
