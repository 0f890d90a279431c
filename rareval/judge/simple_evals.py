"""simple-evals' HealthBench grader, as published: the leaderboard-comparable way to grade.

``JudgeConfig(grader="simple-evals")`` (``-T grader=simple-evals``) asks every criterion with
``GRADER_TEMPLATE`` of openai/simple-evals ``healthbench_eval.py``, copied verbatim to
``rareval/prompts/simple_evals_grader.txt`` (MIT; ``SIMPLE_EVALS_LICENSE.txt`` beside it):

* the conversation and the response as ``role: content`` turns joined by blank lines, the
  rubric item as ``[points] criterion``, the criterion as written (no positive form);
* simple-evals' sampler: system message "You are a helpful assistant.", temperature 0.5
  (its ``ChatCompletionSampler`` default; a temperature set in the config wins),
  ``max_tokens`` 2048 (its grading sampler);
* the answer read as simple-evals reads it (``parse_json_to_dict``): a leading ```` ```json ```` and a
  trailing ```` ``` ```` stripped, JSON parsed, ``criteria_met`` a boolean — no logprobs, no threshold. A
  grade in an unlabelled fence (```` ``` ```` then the JSON) is not read, as simple-evals does not read it:
  it is asked again. inspect_evals 0.26 strips that fence too and reads it; on the other grade forms that
  ``tests/evals/test_simple_evals_parity.py`` lists, the two references read alike;
* a grade not read is asked again at the first attempt's temperature (simple-evals samples every attempt
  with its one sampler), not at ``retry_temperature`` unless that is set.

What happens when no boolean comes back is ``JudgeConfig.on_failure``: simple-evals asks again
until one does (``retry:N`` bounds that), inspect_evals scores the criterion "not met" after three
attempts (``not_met``), rareval abstains (``abstain``). A call that fails (an error, a timeout, a wrong
key) is no grade: it abstains under every rule, where inspect_evals scores it "not met".
"""

from __future__ import annotations

import json
import re
from typing import Any

from inspect_ai.model import ModelOutput

from rareval.judge.text import Conversation, render_conversation
from rareval.prompts import Prompt
from rareval.rubric import Criterion

PROMPT = "simple_evals_grader"
#: simple-evals' grading sampler (``healthbench_eval.py``: ``ChatCompletionSampler(model="gpt-4.1-2025-04-14",
#: system_message=OPENAI_SYSTEM_MESSAGE_API, max_tokens=2048)``, temperature default 0.5).
SYSTEM_MESSAGE = "You are a helpful assistant."
TEMPERATURE = 0.5
MAX_TOKENS = 2048
_FENCE = re.compile(r"^```json\s*|\s*```$")


def grader_prompt(template: Prompt, conversation: Conversation, response: str, criterion: Criterion) -> str:
    """The template filled as simple-evals fills it (``str.replace`` of ``<<conversation>>`` and
    ``<<rubric_item>>``); points as JSON writes them (``7``, ``-2.5``)."""
    convo = render_conversation(conversation)
    convo = f"{convo}\n\nassistant: {response}" if convo else f"assistant: {response}"
    return template.text.strip().replace("<<conversation>>", convo).replace(
        "<<rubric_item>>", f"[{criterion.weight:g}] {criterion.text}")


def sampler(temperature: float | None) -> dict[str, Any]:
    """The request settings of a simple-evals grading call; ``temperature``: one set in the judge's config."""
    return {"max_tokens": MAX_TOKENS, "system_message": SYSTEM_MESSAGE,
            "temperature": TEMPERATURE if temperature is None else temperature}


def read_grade(output: ModelOutput) -> dict[str, Any] | None:
    """simple-evals' ``parse_json_to_dict`` and its check: a verdict when ``criteria_met`` is a boolean."""
    try:
        parsed = json.loads(_FENCE.sub("", output.completion.strip()))
    except json.JSONDecodeError:
        return None
    met = parsed.get("criteria_met") if isinstance(parsed, dict) else None
    if met is not True and met is not False:
        return None
    return {"met": met, "p": None, "explanation": str(parsed.get("explanation", ""))}
