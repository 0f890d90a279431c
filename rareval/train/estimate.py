"""What a run will cost the judge, before anything runs (``rareval train --estimate``).

Per step the policy writes ``completions_per_step`` completions; each costs one judge call
(rating strategies) or one per criterion (verdict strategies, RaR-Predefined's four).
A call's billed tokens ≈ the judge prompt (conversation + completion + criterion or
rubric + the prompt template) + one answer token; tokens are counted as characters / 4
and completions as the full ``max_completion_length`` — an upper bound. The verdict
cache makes repeated questions free, which this estimate does not assume.

The figures come from a :class:`DataShape`: measured on the training rows
(:func:`shape_of`), or, for the paper's RaR-Medicine and RaR-Science when their rows are
not on this machine, from their published statistics (:data:`PAPER_DATA`: rows, criteria
per rubric and question length, SPEC §1.3 / Tables 4 and 7), with the two lengths the
paper does not give assumed and said so.
"""

from __future__ import annotations

import json
from statistics import mean
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rareval.judge import RATING_PROMPTS
from rareval.prompts import load_prompt
from rareval.strategies import get_strategy
from rareval.train.presets import Preset

CHARS_PER_TOKEN = 4
CHARS_PER_WORD = 6  # an English word and its space, for statistics given in words


class DataShape(BaseModel):
    """The sizes of a training set that decide what judging it costs."""

    model_config = ConfigDict(frozen=True)

    rows: int = Field(description="Training rows.")
    prompt_chars: float = Field(description="Mean characters of a prompt (all turns).")
    criteria: float = Field(description="Mean criteria per rubric (0: no instance rubric).")
    criterion_chars: float = Field(description="Mean characters of a criterion.")
    reference_chars: float = Field(description="Mean characters of a reference answer.")
    source: str = Field(description="Where the figures come from.")
    assumed: tuple[str, ...] = Field(default=(), description="Figures assumed rather than measured.")

    @property
    def rubric_chars(self) -> float:
        """Characters of a whole rubric as the rating prompt shows it (a criterion a line)."""
        return self.criteria * (self.criterion_chars + 12)


#: Published statistics of the paper's training sets (SPEC §1.3; Tables 4 and 7 give criteria per
#: question and question length over train+val); the criterion and reference lengths are not published.
PAPER_DATA: dict[str, DataShape] = {
    name: DataShape(rows=rows, prompt_chars=words * CHARS_PER_WORD, criteria=7.5, criterion_chars=120,
                    reference_chars=1500, source=f"{name}: published statistics (SPEC §1.3, Table {table})",
                    assumed=("criterion length 120 characters (one sentence of ~20 words)",
                             "reference answer 1,500 characters"))
    for name, rows, words, table in (("rar-medicine", 17_926, 45.0, 4), ("rar-science", 18_333, 52.6, 7))}


def shape_of(records: list[dict[str, Any]], source: str) -> DataShape:
    """The :class:`DataShape` of training ``records`` (:func:`rareval.train.data.training_rows`)."""
    criteria = [c for r in records if r["rubric"] for c in json.loads(r["rubric"])["criteria"]]
    with_rubric = [r for r in records if r["rubric"]]
    return DataShape(rows=len(records), prompt_chars=mean(sum(len(m["content"]) for m in r["prompt"])
                                                          for r in records),
                     criteria=len(criteria) / len(with_rubric) if with_rubric else 0.0,
                     criterion_chars=mean(len(c["text"]) for c in criteria) if criteria else 0.0,
                     reference_chars=mean(len(r["reference"]) for r in records), source=source)


def estimate(preset: Preset, data: DataShape, judge_price: float = 0.0) -> dict[str, Any]:
    """Projected judge calls, billed tokens and cost (USD) of ``preset`` on ``data``, per step and per run."""
    h = preset.hyper
    spec = get_strategy(preset.strategy)
    completion_chars = h.max_completion_length * CHARS_PER_TOKEN
    if spec.question == "rating":
        template = load_prompt(RATING_PROMPTS[spec.rating_context]).text
        context = {"rubric": data.rubric_chars, "reference": data.reference_chars}.get(spec.rating_context, 0.0)
        calls_per_completion, chars_per_call = 1.0, len(template) + data.prompt_chars + completion_chars + context
    else:
        template = load_prompt("criterion_yesno").text
        if spec.fixed_rubric:
            calls_per_completion = float(len(list(spec.fixed_rubric)))
            criterion_chars = mean(len(c.text) for c in spec.fixed_rubric)
        else:
            calls_per_completion, criterion_chars = data.criteria, data.criterion_chars
        chars_per_call = len(template) + data.prompt_chars + completion_chars + criterion_chars
    tokens_per_call = chars_per_call / CHARS_PER_TOKEN + 1
    calls_per_step = h.completions_per_step * calls_per_completion
    per_step = {"completions": h.completions_per_step, "prompts": h.prompts_per_step, "judge_calls": calls_per_step,
                "billed_tokens": calls_per_step * tokens_per_call,
                "cost_usd": calls_per_step * tokens_per_call / 1e6 * judge_price}
    run = {k: v * h.max_steps for k, v in per_step.items()}
    return {"steps": h.max_steps, "batch": f"{h.effective_batch} {h.batch_unit}",
            "judge_calls_per_completion": calls_per_completion, "tokens_per_call": tokens_per_call,
            "per_step": per_step, "run": run, "epochs": run["prompts"] / data.rows if data.rows else None,
            "data": data.model_dump(), **{k: run[k] for k in ("completions", "judge_calls", "billed_tokens",
                                                               "cost_usd")}}


def report(preset: Preset, e: dict[str, Any], judge_price: float) -> str:
    """``--estimate``'s printout of :func:`estimate`'s figures."""
    d, s, r = e["data"], e["per_step"], e["run"]
    lines = [f"{preset.name} ({preset.size}), batch {e['batch']} × {preset.hyper.num_generations} rollouts; "
             f"data: {d['source']}, {d['rows']:,} training rows",
             f"  per step: {s['prompts']:,.0f} prompts, {s['completions']:,} completions, "
             f"{e['judge_calls_per_completion']:.1f} judge calls each = {s['judge_calls']:,.0f} calls, "
             f"≈ {s['billed_tokens']:,.0f} billed tokens, ≈ ${s['cost_usd']:,.2f}",
             f"  per run ({e['steps']} steps, {e['epochs']:.2f} epochs): {r['judge_calls']:,.0f} calls, "
             f"≈ {r['billed_tokens']:,.0f} billed tokens, ≈ ${r['cost_usd']:,.2f} at ${judge_price}/M tokens",
             f"  ≈ {e['tokens_per_call']:,.0f} tokens a call, completions counted at the full "
             f"max_completion_length ({preset.hyper.max_completion_length}): an upper bound"]
    if d["assumed"]:
        lines.append("  assumed (not published): " + "; ".join(d["assumed"]))
    return "\n".join(lines)
