"""Training rows for a preset: prompts with the rubric and reference its reward reads.

``--data`` is HealthBench JSONL (physician rubrics and ideal completions; offline, the union
file in ``../shared/data/healthbench/``) or the paper's own RaR-Medicine / RaR-Science rows
(generated rubrics and reference answers): :mod:`rareval.train.sources` reads either and
splits it. For HealthBench, rows of HealthBench-1k are held out for evaluation and never
trained on, as in the paper (SPEC §1.7). :func:`training_rows` returns the rows of both
sides, and :func:`split_record` what the run directory records.

Rubrics by the preset's ``rubric_source``: ``physician`` — the row's own rubric (a RaR row's
generated rubric); ``synthetic`` / ``synthetic_noref`` — a generated rubric per prompt id from a
rubrics file (JSONL ``{"prompt_id", "rubric"}``, rareval JSON or RaR items); ``none`` — no
instance rubric. ``rubric_view`` applies Table 2's ablations (:func:`rubric_view`).

Prompts over the preset's ``max_prompt_tokens`` are skipped and counted, measured as the
policy sees them (:func:`prompt_counter`: its tokenizer and chat template) when the run
passes one, else at :data:`~rareval.train.estimate.CHARS_PER_TOKEN` characters a token.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Callable
from typing import Any, NamedTuple

from rareval.data.healthbench import HealthBenchExample
from rareval.rubric import Category, Criterion, Rubric, RubricError
from rareval.train.estimate import CHARS_PER_TOKEN
from rareval.train.presets import Preset
from rareval.train.sources import load_source

#: Prompt tokens of a conversation (a list of ``{role, content}``) as the policy sees it.
TokenCounter = Callable[[list[dict[str, str]]], int]


class TrainDataError(ValueError):
    """Training data that cannot be used; the message names the file, row and field."""


def rubric_view(rubric: Rubric, view: str) -> Rubric | None:
    """Table 2's ablations of a rubric; None when nothing is left.

    * ``all`` — as written;
    * ``essential_only`` — the essential criteria only;
    * ``no_pitfalls`` — every criterion but the pitfalls;
    * ``no_category_labels`` — every positive criterion labelled alike (important,
      weight 1) and every pitfall weight −1, so neither label nor weight tells the judge
      (or RaR-Explicit's category weights) which criterion matters more. The paper
      removes the labels; a uniform label carries the same (no) information.
    """
    if view == "all":
        return rubric
    if view == "essential_only":
        kept = [c for c in rubric if c.category is Category.ESSENTIAL]
    elif view == "no_pitfalls":
        kept = [c for c in rubric if not c.is_pitfall]
    elif view == "no_category_labels":
        kept = [Criterion(text=c.text, tags=c.tags, title=c.title, avoidance=c.avoidance,
                          weight=-1.0 if c.is_pitfall else 1.0,
                          category=Category.PITFALL if c.is_pitfall else Category.IMPORTANT) for c in rubric]
    else:
        raise ValueError(f"unknown rubric view {view!r}")
    return Rubric(criteria=tuple(kept)) if kept else None


def load_generated_rubrics(path: str | Path) -> dict[str, Rubric]:
    """``{prompt_id: rubric}`` from a rubrics JSONL file; errors name the file, line and field."""
    out: dict[str, Rubric] = {}
    path = Path(path)
    if not path.is_file():
        raise TrainDataError(f"{path}: no rubrics file there (write one with `rareval rubrics generate`)")
    for n, raw in enumerate(path.read_bytes().split(b"\n"), 1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise TrainDataError(f"{path}: line {n}: not UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1})"
                                 ) from None
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise TrainDataError(f"{path}: line {n}: not JSON ({e.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("prompt_id"), str):
            raise TrainDataError(f"{path}: line {n}: field 'prompt_id': missing or not a string")
        try:
            out[record["prompt_id"]] = Rubric.coerce(record.get("rubric"))
        except (RubricError, TypeError, ValueError) as e:
            raise TrainDataError(f"{path}: line {n}: field 'rubric': {e}") from None
    return out


#: The ``skipped`` reason of a malformed data row (``skip_bad_rows``).
BAD_ROW = "malformed row (--skip-bad-rows)"


class TrainingRows(NamedTuple):
    """A preset's rows: what it trains on, what is held out, and what it could not use."""

    records: list[dict[str, Any]]
    held_out: list[HealthBenchExample]
    skipped: dict[str, int]
    held_out_records: list[dict[str, Any]]  # the held-out rows the reward can score (the monitor's)
    rule: str = ""  # how the held-out rows were chosen (rareval.train.sources)


def prompt_counter(tokenizer: Any) -> TokenCounter:
    """Prompt tokens as the policy reads them: its chat template applied with the generation prompt (the
    plain text of the turns where the tokenizer has no template)."""
    def count(messages: list[dict[str, str]]) -> int:
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            return len(ids["input_ids"] if hasattr(ids, "keys") else ids)
        return len(tokenizer("\n".join(m["content"] for m in messages))["input_ids"])
    return count


def training_rows(preset: Preset, data: str | Path, rubrics: str | Path | None = None, *,
                  skip_bad_rows: bool = False, count_tokens: TokenCounter | None = None) -> TrainingRows:
    """``(train_records, held_out_rows, skipped, held_out_records)`` for ``preset``.

    A train record has the columns TRL passes to the reward: ``prompt`` (the
    conversation), ``rubric`` (rareval JSON, or None), ``reference`` (the ideal
    completion, or ""), and ``prompt_id``. Rows the preset cannot use (no generated
    rubric, no criterion left after the view, no reference for Reference-Likert) are
    left out and counted by reason in ``skipped``, never silently. A malformed row stops with an
    error naming its line and field, unless ``skip_bad_rows``: then it is left out and counted too.
    """
    source = load_source(data, skip_bad_rows)
    pool, held_out = source.pool, source.held_out
    generated = None
    if source.format == "rar" and preset.rubric_source == "synthetic" and rubrics is None:
        preset = preset.model_copy(update={"rubric_source": "physician"})  # the row's own generated rubric
    if preset.rubric_source in ("synthetic", "synthetic_noref"):
        if rubrics is None:
            raise TrainDataError(
                f"preset {preset.name!r} trains on generated rubrics ({preset.rubric_source}): pass --rubrics FILE "
                f"(JSONL of {{prompt_id, rubric}}), or use a physician-rubric preset such as rar-implicit-human")
        generated = load_generated_rubrics(rubrics)
    records, skipped = [], {BAD_ROW: source.bad_rows} if source.bad_rows else {}
    for row in pool:
        record, reason = to_record(preset, row, generated, count_tokens)
        if record is None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            records.append(record)
    if not records:
        raise TrainDataError(f"{data}: no training rows for preset {preset.name!r} "
                             f"({len(pool)} in the training pool; skipped: {skipped or 'none'})")
    held_out_records = [r for r in (to_record(preset, row, generated, count_tokens)[0] for row in held_out)
                        if r is not None]
    return TrainingRows(records, held_out, skipped, held_out_records, source.rule)


def to_record(preset: Preset, row: HealthBenchExample, generated: dict[str, Rubric] | None,
              count_tokens: TokenCounter | None = None) -> tuple[dict[str, Any] | None, str]:
    """A row as the reward's columns, or ``(None, why it cannot be used)``.

    Besides ``prompt``, ``rubric``, ``reference`` and ``prompt_id``, a record keeps the
    row's ``physician_rubric`` (rareval JSON), which the reward-hacking monitor's gold judge reads.
    A conversation longer than the preset's prompt budget (``max_prompt_tokens``, counted by
    ``count_tokens``, else at :data:`~rareval.train.estimate.CHARS_PER_TOKEN` characters a token) is
    skipped and counted.
    """
    messages = [m.model_dump() for m in row.prompt]
    tokens = count_tokens(messages) if count_tokens else sum(len(m.content) for m in row.prompt) / CHARS_PER_TOKEN
    if tokens > preset.hyper.max_prompt_tokens:
        return None, f"prompt over max_prompt_tokens ({preset.hyper.max_prompt_tokens})"
    rubric = None
    if preset.rubric_source == "physician":
        rubric = row.rubric
    elif generated is not None:
        rubric = generated.get(row.prompt_id)
        if rubric is None:
            return None, "no generated rubric"
    if rubric is not None:
        rubric = rubric_view(rubric, preset.rubric_view)
        if rubric is None:
            return None, f"no criterion left in view {preset.rubric_view}"
    if preset.strategy == "reference_likert" and not row.ideal_completion:
        return None, "no reference answer"
    return {"prompt": messages, "prompt_id": row.prompt_id,
            "rubric": rubric.model_dump_json() if rubric is not None else None,
            "reference": row.ideal_completion or "", "physician_rubric": row.rubric.model_dump_json()}, ""


def grading_records(preset: Preset, rows: list[HealthBenchExample]) -> list[dict[str, Any]]:
    """Held-out ``rows`` as records for grading on their physician rubric (``rareval heldout``).

    The preset's prompt budget applies, as in training; its rubric source does not: a run on
    generated rubrics is graded on held-out prompts that have none, and every run of the same
    data is graded on the same prompts."""
    plain = preset.model_copy(update={"rubric_source": "none", "rubric_view": "all", "strategy": "implicit"})
    return [r for r in (to_record(plain, row, None)[0] for row in rows) if r is not None]


def split_record(data: str | Path, records: list[dict[str, Any]], held_out: list[HealthBenchExample],
                 skipped: dict[str, int], rule: str = "") -> dict[str, Any]:
    """What a run directory records about its data: source, rule, ids on each side."""
    return {"data": str(data), "rule": rule, "train_ids": [r["prompt_id"] for r in records],
            "held_out_ids": [r.prompt_id for r in held_out], "skipped": skipped}
