"""What a run will cost the judge, before anything runs (``rareval train --estimate``).

Per step the policy writes ``completions_per_step`` completions; each costs one judge call
(rating strategies) or one per criterion (verdict strategies, RaR-Predefined's four).
A call's billed tokens ≈ the judge prompt (conversation + completion + criterion or
rubric + the prompt template) + one answer token; tokens are counted as characters / 4
and completions as the full ``max_completion_length`` — an upper bound. The verdict
cache makes repeated questions free, which this estimate does not assume.
"""

from __future__ import annotations

import json
from statistics import mean
from typing import Any

from rareval.judge import RATING_PROMPTS
from rareval.prompts import load_prompt
from rareval.strategies import get_strategy
from rareval.train.presets import Preset

CHARS_PER_TOKEN = 4


def estimate(preset: Preset, records: list[dict[str, Any]], judge_price: float = 0.0) -> dict[str, float]:
    """Projected judge calls, billed tokens and cost (USD) of ``preset`` on ``records``."""
    h = preset.hyper
    spec = get_strategy(preset.strategy)
    prompt_chars = mean(sum(len(m["content"]) for m in r["prompt"]) for r in records)
    completion_chars = h.max_completion_length * CHARS_PER_TOKEN
    if spec.question == "rating":
        template = load_prompt(RATING_PROMPTS[spec.rating_context]).text
        context = mean(len(r["rubric"] or "") if spec.rating_context == "rubric" else len(r["reference"])
                       if spec.rating_context == "reference" else 0 for r in records)
        calls_per_completion, chars_per_call = 1.0, len(template) + prompt_chars + completion_chars + context
    else:
        template = load_prompt("criterion_yesno").text
        rubrics = [spec.fixed_rubric] if spec.fixed_rubric else [
            json.loads(r["rubric"])["criteria"] for r in records if r["rubric"]]
        sizes = [len(list(rb)) for rb in rubrics]
        criterion_chars = mean(len(c.text if hasattr(c, "text") else c["text"]) for rb in rubrics for c in rb)
        calls_per_completion = mean(sizes)
        chars_per_call = len(template) + prompt_chars + completion_chars + criterion_chars
    completions = h.max_steps * h.completions_per_step
    calls = completions * calls_per_completion
    tokens = calls * (chars_per_call / CHARS_PER_TOKEN + 1)
    return {"steps": h.max_steps, "completions": completions, "judge_calls_per_completion": calls_per_completion,
            "judge_calls": calls, "billed_tokens": tokens, "cost_usd": tokens / 1e6 * judge_price}
