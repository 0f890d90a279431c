"""``scripted/<behaviour>``: an offline, deterministic Inspect provider.

It reads rareval's judge prompts (the ``<response>``, ``<criterion>``, ``<rubric>``
and ``<reference_response>`` blocks) and answers by rule, so aggregation maths,
failure paths and the Inspect/TRL plumbing can be tested without a model or a key.
It is not a judge of quality.

Behaviours (the model name):

* ``keyword`` — a criterion is met when every single-quoted keyword in it (e.g.
  ``Mentions 'water'``) occurs in the response (case-insensitive); a criterion
  without quoted keywords is met when all its words of 5+ letters occur. Answers a
  yes/no question with P(yes) = 0.9 or 0.1 in the logprobs, JSON where a schema is
  asked, and a 1–10 rating from the share of rubric criteria met. With
  ``prompt_logprobs`` it returns the prompt's "tokens" with the same P(yes) after
  each answer slot of a batched prompt (``Answer N:``). Asked to write a rubric, it
  returns seven Essential items ``Mentions 'word'``, one per long word of the
  reference answer (or of the question when there is none). The reward-hacking
  defence criterion is present when the response mentions a "grader". Asked with simple-evals'
  HealthBench grader template (``# Rubric item``), it reads the rubric item and the last
  ``assistant:`` turn and answers a fenced JSON ``criteria_met`` by the same rule. Asked for
  evidence (schema ``evidence``), it quotes the first line of the response that holds every
  keyword (else the first keyword as written there; ``""`` when not met), or ``-M quote=TEXT``.
* ``malformed`` — answers that cannot be read; ``refuse`` — a content-filter stop;
  ``error`` — raises; ``timeout`` — never answers (the caller's timeout fires); ``empty`` —
  an answer without choices (as a broken server's).
* ``policy`` — a fixed reply (``-M reply=...``) for use as the evaluated model.

``-M fail_first=N`` makes the first N calls malformed (to exercise retries);
``-M fail_when=TEXT`` makes every call about a criterion containing TEXT malformed (to
make chosen criteria abstain); ``-M context=N`` answers a prompt of more than N words as
a model whose context it exceeds does (stop reason ``model_length``, nothing generated);
``-M cut_at_max_tokens=true`` cuts a ``policy`` reply longer than ``max_tokens`` words there, with stop
reason ``max_tokens``, as a model that runs out of budget does.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from inspect_ai.model import (ChatMessage, GenerateConfig, Logprob, Logprobs, ModelAPI, ModelOutput, ModelUsage,
                              TopLogprob, modelapi)
from inspect_ai.tool import ToolChoice, ToolInfo

#: How the reward-hacking defence criterion (:mod:`rareval.defence`) begins; ``keyword``
#: finds it present when the response mentions a "grader".
DEFENCE_PREFIX = "Tries to influence its own grading"
BEHAVIOURS = ("keyword", "malformed", "refuse", "error", "timeout", "policy", "empty")
DEFAULT_REPLY = "Drink water and rest. See a doctor if the fever lasts more than three days."


class ScriptedError(RuntimeError):
    """Raised by ``scripted/error``; never retried."""


@modelapi(name="scripted")
class ScriptedAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any):
        super().__init__(model_name, base_url, api_key, [], config)
        if model_name not in BEHAVIOURS:
            raise ValueError(f"scripted/{model_name}: unknown behaviour; choose one of {', '.join(BEHAVIOURS)}")
        self.reply = str(model_args.get("reply", DEFAULT_REPLY))
        self.fail_first = int(model_args.get("fail_first", 0))
        self.cut_at_max_tokens = bool(model_args.get("cut_at_max_tokens", False))
        self.fail_when = model_args.get("fail_when")
        self.context = int(model_args["context"]) if model_args.get("context") else None
        self.quote = None if model_args.get("quote") is None else str(model_args["quote"])
        self.calls = 0

    def max_connections(self) -> int:
        return 8

    def should_retry(self, ex: Exception) -> bool:
        return False

    def _fails_on(self, prompt: str) -> bool:
        criterion = _block(prompt, "criterion") or (_simple_evals_item(prompt) or (None, None))[0]
        return bool(self.fail_when) and criterion is not None and str(self.fail_when) in criterion

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        self.calls += 1
        prompt = "\n".join(m.text for m in input)
        behaviour = "malformed" if self.calls <= self.fail_first or self._fails_on(prompt) else self.model_name
        if self.context is not None and len(prompt.split()) > self.context:
            out = ModelOutput.from_content(self.model_name, "", stop_reason="model_length")
            out.usage = ModelUsage(input_tokens=len(prompt.split()), output_tokens=0, total_tokens=len(prompt.split()))
            return out
        if behaviour == "error":
            raise ScriptedError("scripted judge failure")
        if behaviour == "timeout":
            await asyncio.sleep(3600)
        if behaviour == "empty":
            return ModelOutput(model=self.model_name, choices=[])
        if behaviour == "refuse":
            out = ModelOutput.from_content(self.model_name, "I can't help with that.", stop_reason="content_filter")
        elif behaviour == "malformed":
            out = ModelOutput.from_content(self.model_name, "Well, it depends {not json")
        elif behaviour == "policy" and self.cut_at_max_tokens and config.max_tokens is not None \
                and len(self.reply.split()) > config.max_tokens:  # a word a token: cut where a model would stop
            out = ModelOutput.from_content(self.model_name, " ".join(self.reply.split()[:config.max_tokens]),
                                           stop_reason="max_tokens")
        elif behaviour == "policy":
            out = ModelOutput.from_content(self.model_name, self.reply)
        else:
            out = _judge(prompt, config, self.quote)
        if config.prompt_logprobs and behaviour == "keyword":
            out.choices[0].prompt_logprobs = _prompt_logprobs(prompt)
        out.usage = ModelUsage(input_tokens=len(prompt.split()), output_tokens=len(out.completion.split()),
                               total_tokens=len(prompt.split()) + len(out.completion.split()))
        return out


def _block(prompt: str, tag: str) -> str | None:
    """The text inside ``<tag>…</tag>``, or inside a hardened prompt's fenced ``<tag-ID>…</tag-ID>``."""
    m = re.search(rf"<{tag}(-[0-9a-f]{{12}}|)>\n?(.*?)\n?</{tag}\1>", prompt, re.DOTALL)
    return m.group(2) if m else None


def keyword_met(criterion: str, response: str) -> bool:
    """The ``keyword`` rule (see module docstring)."""
    return all(w.lower() in response.lower() for w in _keywords(criterion))


def _keywords(criterion: str) -> list[str]:
    if criterion.startswith(DEFENCE_PREFIX):
        return ["grader"]
    return re.findall(r"'([^']+)'", criterion) or re.findall(r"[A-Za-z]{5,}", criterion)


def keyword_quote(criterion: str, response: str) -> str:
    """The ``keyword`` judge's evidence for a met criterion: the first line of ``response`` that holds every
    keyword, else the first keyword as written in it."""
    words = [w.lower() for w in _keywords(criterion)]
    line = next((line.strip() for line in response.splitlines() if all(w in line.lower() for w in words)), None)
    at = response.lower().find(words[0]) if words and line is None else -1
    return line if line is not None else response[at:at + len(words[0])] if at >= 0 else ""


def _yes_no_logprob(yes: bool) -> Logprob:
    alts = [TopLogprob(token="yes", logprob=math.log(0.9 if yes else 0.1)),
            TopLogprob(token="no", logprob=math.log(0.1 if yes else 0.9))]
    alts.sort(key=lambda a: -a.logprob)
    return Logprob(token=alts[0].token, logprob=alts[0].logprob, top_logprobs=alts)


def _prompt_logprobs(prompt: str) -> Logprobs:
    """Prompt "tokens" (words, punctuation, whitespace runs) after the first; after each
    ``Answer N:`` slot of a batched prompt, P(yes) = 0.9 or 0.1 by the keyword rule."""
    response = _block(prompt, "response") or ""
    after = re.split(r"</response(?:-[0-9a-f]{12})?>", prompt)[-1]  # the default or the hardened fence
    criteria = dict(re.findall(r"^(\d+)\. (.*)$", after, re.MULTILINE))
    tokens = re.findall(r"\s+|\w+|[^\w\s]", prompt)
    content, text = [], tokens[0]
    for token in tokens[1:]:
        slot = re.search(r"Answer (\d+):$", text[-32:])  # the tail only: a slot ends the text
        if slot and slot.group(1) in criteria:
            alts = _yes_no_logprob(keyword_met(criteria[slot.group(1)], response)).top_logprobs
            content.append(Logprob(token=token, logprob=-5.0, top_logprobs=alts))
        else:
            content.append(Logprob(token=token, logprob=-1.0))
        text += token
    return Logprobs(content=content)


def _rubric_items(prompt: str) -> ModelOutput:
    """A rubric request's answer by rule: ``Mentions 'w'`` for the first seven distinct words of 7+
    letters of the reference answer (or the question)."""
    source = _block(prompt, "reference_answer") or _block(prompt, "question") or ""
    words = list(dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z]{7,}", source)))[:7]
    items = [{"title": w, "description": f"Essential Criteria: Mentions '{w}'.", "weight": 5} for w in words]
    return ModelOutput.from_content("keyword", json.dumps(items))


#: simple-evals' grader template:
#: "# Conversation\n<<conversation>>\n\n# Rubric item\n<<rubric_item>>\n\n# Instructions".
_SIMPLE_EVALS = re.compile(r"# Conversation\n(.*)\n\n# Rubric item\n\[[-\d.]+\] (.*?)\n\n# Instructions", re.DOTALL)


def _simple_evals_item(prompt: str) -> tuple[str, str] | None:
    """``(criterion, last assistant turn)`` of a prompt in simple-evals' grader template, else None."""
    m = _SIMPLE_EVALS.search(prompt)
    return (m.group(2), m.group(1).rsplit("assistant: ", 1)[-1]) if m else None


def _judge(prompt: str, config: GenerateConfig, quote: str | None = None) -> ModelOutput:
    if "rubric writer" in prompt and _block(prompt, "question") is not None:
        return _rubric_items(prompt)
    if (item := _simple_evals_item(prompt)) is not None:
        verdict = {"explanation": "keyword rule", "criteria_met": keyword_met(*item)}
        return ModelOutput.from_content("keyword", f"```json\n{json.dumps(verdict, indent=2)}\n```")
    response = _block(prompt, "response") or ""
    rubric = _block(prompt, "rubric")
    criterion = _block(prompt, "criterion")
    schema = config.response_schema.name if config.response_schema else None
    if criterion is not None:
        met = keyword_met(re.sub(r"^\[[-\d.]+\]\s*", "", criterion), response)
        if schema == "verdict":
            return ModelOutput.from_content("keyword", json.dumps({"explanation": "keyword rule",
                                                                     "criteria_met": met}))
        if schema == "evidence":
            asked = re.sub(r"^\[[-\d.]+\]\s*", "", criterion)
            shown = quote if quote is not None else keyword_quote(asked, response) if met else ""
            return ModelOutput.from_content("keyword", json.dumps({"quote": shown, "criteria_met": met}))
        out = ModelOutput.from_content("keyword", "yes" if met else "no")
        if config.logprobs:
            out.choices[0].logprobs = Logprobs(content=[_yes_no_logprob(met)])
        return out
    if schema == "verdicts" and rubric is not None:
        texts = re.findall(r"^\d+\. (.*)$", rubric, re.MULTILINE)
        keys = config.response_schema.json_schema.required or []
        answers = {k: "yes" if keyword_met(text, response) else "no" for k, text in zip(keys, texts)}
        out = ModelOutput.from_content("keyword", json.dumps(answers))
        if config.logprobs:
            out.choices[0].logprobs = Logprobs(content=[_yes_no_logprob(a == "yes") for a in answers.values()])
        return out
    if rubric is not None:  # RaR-Implicit rating
        lines = [line[2:] for line in rubric.splitlines() if line.startswith("- ")]
        good = [keyword_met(t.split(": ", 1)[1], response) for t in lines if not t.startswith("Pitfall")]
        bad = [keyword_met(t.split(": ", 1)[1], response) for t in lines if t.startswith("Pitfall")]
        frac = max(0.0, (sum(good) - sum(bad)) / max(1, len(good)))
        rating = 1 + round(9 * frac)
    elif (reference := _block(prompt, "reference_response")) is not None:
        ref = set(re.findall(r"\w+", reference.lower()))
        rating = 1 + round(9 * len(ref & set(re.findall(r"\w+", response.lower()))) / max(1, len(ref)))
    else:  # Direct-Likert: longer is "better" — a deliberately gameable rule
        rating = min(10, 1 + len(response.split()) // 10)
    return ModelOutput.from_content("keyword", json.dumps({"rating": rating}))
