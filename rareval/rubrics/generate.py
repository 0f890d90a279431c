"""Model-written material: rubrics from (question, reference) and degraded answers.

* :func:`generate_rubric` — RaR's rubric synthesis (arXiv 2507.17746 v2 §3.2, SPEC §1.2):
  one call per question returns a JSON array of 7–20 items ``{title, description,
  weight}`` whose description starts with its category ("Essential Criteria: " …);
  with a reference answer (treated as a guide, not an exhaustive list) or without one
  (prompts ``rubric_generate`` / ``rubric_generate_noref``). The paper reports no
  post-generation repair; here an item that cannot be read (not an object, no
  category prefix, no numeric weight) is dropped and named in ``dropped``, extra keys
  are ignored, and a rubric with no positive item is an error.
* :func:`degrade` — the rejected side of a judge-alignment pair (RaR v2 Appendix A.9,
  SPEC §1.8): a strictly worse but plausible rewrite of a physician's ideal answer,
  in the template's ``[reasoning] [perturbed_completion] [chunks_added]
  [chunks_removed]`` fields. RaR used o3 and a manual screen; the generator here is any
  Inspect model, and nothing screens its output — say so when reporting results.
"""

from __future__ import annotations

import re

from inspect_ai.model import GenerateConfig, Model, get_model
from pydantic import BaseModel, Field

from rareval.judge.text import Conversation, render_conversation
from rareval.judge.parsing import parse_json
from rareval.prompts import load_prompt
from rareval.rubric import Rubric, RubricError
from rareval.judge.usage import Usage


class GenerationError(ValueError):
    """A generator's output could not be used (after its retries)."""


class GeneratedRubric(BaseModel):
    rubric: Rubric
    dropped: list[str] = Field(default_factory=list, description="Items left out, with the reason.")
    model: str = Field(description="Generator model.")
    prompt_version: str
    usage: Usage = Field(default_factory=Usage)
    attempts: int = Field(1, description="Generator calls it took (retries included).")


#: The generation prompt by (domain, with a reference answer): RaR v2 Appendix pp.18–19; the
#: science prompts paraphrase SPEC §1.2.
RUBRIC_PROMPTS = {("medicine", True): "rubric_generate", ("medicine", False): "rubric_generate_noref",
                  ("science", True): "rubric_generate_science", ("science", False): "rubric_generate_science_noref"}


class Degraded(BaseModel):
    text: str = Field(description="The perturbed (rejected) answer.")
    reasoning: str = ""
    chunks_added: str = ""
    chunks_removed: str = ""
    model: str = Field(description="Generator model.")
    prompt_version: str
    usage: Usage = Field(default_factory=Usage)


def parse_rubric_items(text: str) -> tuple[Rubric, list[str]]:
    """The first JSON array of rubric items in ``text`` → (rubric, dropped items with reasons)."""
    items = parse_json(text, list)
    if items is None:
        raise GenerationError(f"no JSON array in the generator's answer: {text[:120]!r}")
    kept, dropped = [], []
    for j, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise RubricError(f"expected an object, got {type(item).__name__}", field=f"[{j}]")
            clean = {k: item[k] for k in ("title", "description", "weight") if k in item}
            if isinstance(clean.get("weight"), str):
                clean["weight"] = float(clean["weight"])
            kept.append(Rubric.from_rar([clean]).criteria[0])
        except (RubricError, ValueError) as e:
            dropped.append(f"item {j}: {getattr(e, 'reason', e)}")
    if not any(c.weight > 0 for c in kept):
        raise GenerationError(f"no usable positive rubric item ({len(dropped)} dropped: {dropped[:3]})")
    return Rubric(criteria=tuple(kept)), dropped


async def generate_rubric(model: str | Model, conversation: Conversation, reference: str | None = None, *,
                          domain: str = "medicine", items: tuple[int, int] | None = None, max_tokens: int = 2048,
                          retries: int = 1) -> GeneratedRubric:
    """One RaR rubric for ``conversation``, grounded in ``reference`` when given, by the ``domain``'s
    prompt (:data:`RUBRIC_PROMPTS`). ``items=(low, high)`` also rejects an answer with fewer or more
    valid items (RaR asks for 7–20). An unusable answer is asked again (``retries``, at temperature
    0.7); after the last, :class:`GenerationError` names every attempt's failure and carries what
    they cost as ``.usage``."""
    prompt = load_prompt(RUBRIC_PROMPTS[(domain, bool(reference))])
    text = prompt.render(question=render_conversation(conversation), reference=reference or "")
    model = get_model(model) if isinstance(model, str) else model
    usage, errors = Usage(), []
    for attempt in range(1 + retries):
        out = await model.generate(text, config=GenerateConfig(temperature=0.0 if attempt == 0 else 0.7,
                                                              max_tokens=max_tokens))
        usage += Usage.of(out)
        try:
            rubric, dropped = parse_rubric_items(out.completion)
            if items and not items[0] <= len(rubric) <= items[1]:
                raise GenerationError(f"{len(rubric)} valid items, need {items[0]}-{items[1]}"
                                      + (f" ({len(dropped)} dropped: {'; '.join(dropped[:2])})" if dropped else ""))
        except GenerationError as e:
            errors.append(f"attempt {attempt + 1}: {e}")
            continue
        return GeneratedRubric(rubric=rubric, dropped=dropped, model=str(model), prompt_version=prompt.version,
                               usage=usage, attempts=attempt + 1)
    error = GenerationError("; ".join(errors))
    error.usage = usage  # what the failed attempts cost
    raise error


_FIELDS = ("reasoning", "perturbed_completion", "chunks_added", "chunks_removed")
_FIELD_RE = re.compile(r"\[(" + "|".join(_FIELDS) + r")\]\s*:?", re.IGNORECASE)


def parse_degraded(text: str) -> dict[str, str]:
    """The template's ``[field] value`` sections; ``perturbed_completion`` must be non-empty."""
    marks = list(_FIELD_RE.finditer(text))
    fields = {m.group(1).lower(): text[m.end():(marks[i + 1].start() if i + 1 < len(marks) else len(text))].strip()
              for i, m in enumerate(marks)}
    if not fields.get("perturbed_completion"):
        raise GenerationError(f"no [perturbed_completion] in the generator's answer: {text[:120]!r}")
    return fields


SAME = "the rewrite equals the ideal answer"
REFUSAL = re.compile(r"^\W*(i'?m sorry|i am sorry|i can(?:no|')t|as an ai)\b", re.IGNORECASE)


def screen(ideal: str, rewrite: str) -> str | None:
    """The automatic screen that stands in for the paper's manual one (SPEC §1.8): why ``rewrite`` is not a
    usable worse answer, or None. It checks what a reader would reject at a glance, not medical quality:

    * equal to the ideal answer, or nearly (``difflib`` similarity ≥ 0.98: a changed comma is not worse);
    * the template's field markers (``[reasoning]``, ``[chunks_added]``…) left in the answer;
    * under 30 % of the ideal's length (a stub or a truncation, trivially told apart) or over 150 % (a
      rewrite that adds that much may add content, so it need not be worse);
    * a refusal or an AI disclaimer where the ideal answer starts with none.
    """
    from difflib import SequenceMatcher

    a, b = ideal.strip(), rewrite.strip()
    if a == b:
        return SAME
    if _FIELD_RE.search(b):
        return "the rewrite carries the template's field markers"
    if not 0.3 <= len(b) / max(len(a), 1) <= 1.5:
        return f"the rewrite is {len(b) / max(len(a), 1):.0%} of the ideal's length (kept: 30-150 %)"
    if REFUSAL.search(b) and not REFUSAL.search(a):
        return "the rewrite is a refusal or an AI disclaimer"
    if SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.98:
        return "the rewrite is nearly identical to the ideal answer (similarity >= 0.98)"
    return None


async def degrade(model: str | Model, conversation: Conversation, ideal: str, *, max_tokens: int = 2048,
                  retries: int = 1, screened: bool = True) -> Degraded:
    """A strictly worse but plausible rewrite of ``ideal`` (the rejected answer of a pair). A rewrite cut off at
    ``max_tokens``, unreadable, or failing :func:`screen` (``screened=False``: only equal to ``ideal``) is rejected
    and asked again (``retries`` times), then raises :class:`GenerationError` naming why: it is never accepted."""
    prompt = load_prompt("degrade")
    text = prompt.render(conversation=render_conversation(conversation), ideal=ideal)
    model = get_model(model) if isinstance(model, str) else model
    usage, last = Usage(), None
    for attempt in range(1 + retries):
        out = await model.generate(text, config=GenerateConfig(temperature=0.7 if attempt else 0.0,
                                                              max_tokens=max_tokens))
        usage += Usage.of(out)
        if out.stop_reason == "max_tokens":  # a rewrite cut off is not a worse answer, only a shorter one
            last = GenerationError(f"the rewrite was cut off at max_tokens={max_tokens}")
            continue
        try:
            fields = parse_degraded(out.completion)
        except GenerationError as e:
            last = e
            continue
        rewrite = fields["perturbed_completion"]
        why = screen(ideal, rewrite) if screened else SAME if rewrite.strip() == ideal.strip() else None
        if why is not None:
            last = GenerationError(why)
            continue
        return Degraded(text=fields["perturbed_completion"], reasoning=fields.get("reasoning", ""),
                        chunks_added=fields.get("chunks_added", ""), chunks_removed=fields.get("chunks_removed", ""),
                        model=str(model), prompt_version=prompt.version, usage=usage)
    raise GenerationError(f"{model}: {last}")
