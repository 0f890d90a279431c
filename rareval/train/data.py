"""Training rows for a preset: HealthBench prompts with the rubric and reference its reward reads.

Offline, HealthBench rows with physician rubrics and ideal completions (the union
file in ``../shared/data/healthbench/``, or any file in the official format) are the
training set. The split is by prompt id: rows of HealthBench-1k
(:func:`rareval.data.healthbench_1k.in_healthbench_1k`) are held out for evaluation and
never trained on, as in the paper (SPEC §1.7). :func:`training_rows` returns the
rows of both sides, and :func:`split_record` what the run directory records.

Rubrics by the preset's ``rubric_source``: ``physician`` — the row's own rubric;
``synthetic`` / ``synthetic_noref`` — a generated rubric per prompt id from a rubrics
file (JSONL ``{"prompt_id", "rubric"}``, rareval JSON or RaR items); ``none`` — no
instance rubric. ``rubric_view`` applies Table 2's ablations (:func:`rubric_view`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from rareval.data.healthbench import HealthBenchExample, load_healthbench
from rareval.data.healthbench_1k import SALT, in_healthbench_1k
from rareval.rubric import Category, Criterion, Rubric, RubricError
from rareval.train.estimate import CHARS_PER_TOKEN
from rareval.train.presets import Preset


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


def training_rows(preset: Preset, data: str | Path, rubrics: str | Path | None = None, *,
                  skip_bad_rows: bool = False) -> TrainingRows:
    """``(train_records, held_out_rows, skipped, held_out_records)`` for ``preset``.

    A train record has the columns TRL passes to the reward: ``prompt`` (the
    conversation), ``rubric`` (rareval JSON, or None), ``reference`` (the ideal
    completion, or ""), and ``prompt_id``. Rows the preset cannot use (no generated
    rubric, no criterion left after the view, no reference for Reference-Likert) are
    left out and counted by reason in ``skipped``, never silently. A malformed row stops with an
    error naming its line and field, unless ``skip_bad_rows``: then it is left out and counted too.
    """
    loaded = load_healthbench(path=data, skip_bad_rows=skip_bad_rows)
    rows = list(loaded)
    held_out = [r for r in rows if in_healthbench_1k(r.prompt_id)]
    pool = [r for r in rows if not in_healthbench_1k(r.prompt_id)]
    generated = None
    if preset.rubric_source in ("synthetic", "synthetic_noref"):
        if rubrics is None:
            raise TrainDataError(
                f"preset {preset.name!r} trains on generated rubrics ({preset.rubric_source}): pass --rubrics FILE "
                f"(JSONL of {{prompt_id, rubric}}), or use a physician-rubric preset such as rar-implicit-human")
        generated = load_generated_rubrics(rubrics)
    records, skipped = [], {BAD_ROW: len(loaded.skipped)} if loaded.skipped else {}
    for row in pool:
        record, reason = to_record(preset, row, generated)
        if record is None:
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            records.append(record)
    if not records:
        raise TrainDataError(f"{data}: no training rows for preset {preset.name!r} "
                             f"({len(pool)} in the training pool; skipped: {skipped or 'none'})")
    held_out_records = [r for r in (to_record(preset, row, generated)[0] for row in held_out) if r is not None]
    return TrainingRows(records, held_out, skipped, held_out_records)


def to_record(preset: Preset, row: HealthBenchExample, generated: dict[str, Rubric] | None
              ) -> tuple[dict[str, Any] | None, str]:
    """A row as the reward's columns, or ``(None, why it cannot be used)``.

    Besides ``prompt``, ``rubric``, ``reference`` and ``prompt_id``, a record keeps the
    row's ``physician_rubric`` (rareval JSON), which the reward-hacking monitor's gold judge reads.
    A conversation longer than the preset's prompt budget (``max_prompt_tokens``, at
    :data:`~rareval.train.estimate.CHARS_PER_TOKEN` characters a token) is skipped and counted.
    """
    chars = sum(len(m.content) for m in row.prompt)
    if chars > preset.hyper.max_prompt_tokens * CHARS_PER_TOKEN:
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
    return {"prompt": [m.model_dump() for m in row.prompt], "prompt_id": row.prompt_id,
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
                 skipped: dict[str, int]) -> dict[str, Any]:
    """What a run directory records about its data: source, rule, ids on each side."""
    return {"data": str(data), "rule": f"held out: HealthBench-1k by salted hash of prompt_id (salt {SALT!r})",
            "train_ids": [r["prompt_id"] for r in records], "held_out_ids": [r.prompt_id for r in held_out],
            "skipped": skipped}
