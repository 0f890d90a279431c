"""Held-out evaluation of a policy: greedy answers to held-out prompts, scored by a rubric reward.

The question a training run must answer is whether the policy got better on prompts
it never trained on. :func:`evaluate_policy` answers the held-out prompts of a
preset's split (HealthBench-1k rows, :mod:`rareval.train.data`) greedily, with the
run's completion length, and scores every answer with one rubric reward — by
default RaR-Implicit on the physician rubric, so runs of different presets
(``direct-likert`` beside ``rar-implicit-human``) are graded on one yardstick. The
summary is the mean score with a 95 % bootstrap CI; :func:`~rareval.stats.paired_difference` compares
two evaluations of the same prompts (after − before) with a paired bootstrap CI.

A run on RaR-Science-style data is judged where the paper judges it: on GPQA-Diamond
(:func:`evaluate_gpqa`, ``rareval heldout --benchmark gpqa``), through the GPQA task of
:mod:`rareval.evals.gpqa` with the policy served by Inspect's ``hf`` provider; each sample
scores 1 when its answer letter is right, and the same paired comparison applies.

Scores go through the run's verdict cache, so the base policy's answers, graded once,
are free for every later run that evaluates the same base.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from rareval.judge.options import ModelArgs
from rareval.stats import bootstrap_ci, paired_difference
from rareval.train.policy import generation_ready, greedy_answers


class HeldOutConfig(BaseModel):
    """What a held-out evaluation grades, and how."""

    model_config = ConfigDict(frozen=True)

    judge: str = Field(description="Inspect model of the grading judge (use the training judge for a "
                       "before/after comparison).")
    judge_args: ModelArgs = Field(default_factory=dict, description="Model arguments of the grading judge "
                                       "(`--judge-arg`; default: the run's, when the judge is the run's).")
    judge_config: dict[str, Any] = Field(default_factory=dict, description="JudgeConfig settings of the grading "
                                         "judge (`--judge-config`; default: the run's, when the judge is the run's).")
    strategy: str = Field("implicit", description="Scoring strategy of the grade; 'implicit' (one call per answer) "
                          "or 'healthbench' (one call per criterion, HealthBench's arithmetic).")
    rows: int = Field(24, ge=2, description="Held-out prompts answered (the first N of the split).")
    max_new_tokens: int = Field(96, ge=1, description="Greedy answer length (the run's max_completion_length).")
    batch: int = Field(8, ge=1, description="Prompts generated at once.")


def summarise(scores: Sequence[float | None], seed: int = 0) -> dict[str, Any]:
    """Mean, 95 % bootstrap CI, and how many answers were scored / unscored (``None``)."""
    kept = [s for s in scores if s is not None]
    if not kept:
        return {"mean": None, "ci95": None, "n": 0, "unscored": len(scores)}
    low, high = bootstrap_ci(kept, seed=seed) if len(kept) > 1 else (kept[0], kept[0])
    return {"mean": float(np.mean(kept)), "ci95": [float(low), float(high)], "n": len(kept),
            "unscored": len(scores) - len(kept)}


def evaluate_policy(policy: str, records: list[dict[str, Any]], config: HeldOutConfig,
                    cache: str | Path | None = None) -> dict[str, Any]:
    """Answer the first ``config.rows`` held-out ``records`` with ``policy`` and grade them.

    ``records`` are the reward's columns (:func:`rareval.train.data.training_rows`'s
    ``held_out_records``; the grade reads ``physician_rubric``). Returns the summary,
    the per-prompt scores and answers (``items``) and the judge's usage."""
    from rareval.judge import Judge
    from rareval.judge.cache import VerdictCache
    from rareval.judge.config import judge_config
    from rareval.reward import RubricReward

    rows = [r for r in records if r.get("physician_rubric")][: config.rows]
    if len(rows) < 2:
        raise ValueError(f"only {len(rows)} held-out prompt(s) with a physician rubric; need at least 2")
    model, tokenizer = generation_ready(policy)
    answers = greedy_answers(model, tokenizer, [r["prompt"] for r in rows], config.max_new_tokens, config.batch)
    judge = Judge(config.judge, model_args=config.judge_args, config=judge_config(config.judge_config),
                  cache=VerdictCache(cache) if cache else None)
    reward = RubricReward(config.strategy, judge=judge, rubric_column="physician_rubric", name="heldout")
    columns = {k: [r.get(k) for r in rows] for k in ("physician_rubric", "reference")}
    scores = asyncio.run(reward([r["prompt"] for r in rows], answers, **columns))
    return {"policy": policy, "config": config.model_dump(), **summarise(scores),
            "judge_usage": {**reward.usage.model_dump(), "billed_tokens": reward.usage.billed_tokens},
            "items": [{"prompt_id": r["prompt_id"], "score": s, "answer": a}
                      for r, s, a in zip(rows, scores, answers)]}


def policy_model(policy: str) -> tuple[str, dict[str, Any]]:
    """The Inspect model (and model args) that serves ``policy`` greedily with transformers: ``hf/local`` on a
    checkpoint folder (an embedded ``local/NAME`` model's converted one), else ``hf/<Hub id>``. Inspect's ``hf``
    provider samples unless told ``do_sample=False``, and transformers rejects temperature 0 when sampling."""
    if policy.startswith("local/"):
        from rareval.models.policy import converted

        policy = str(converted(policy.split("/", 1)[1]))
    greedy = {"do_sample": False}
    return ("hf/local", {"model_path": policy, **greedy}) if Path(policy).is_dir() else (f"hf/{policy}", greedy)


def evaluate_gpqa(policy: str, rows: int, max_new_tokens: int, log_dir: str | Path, runs: int = 1,
                  path: str | Path | None = None) -> dict[str, Any]:
    """``policy``'s GPQA-Diamond accuracy on the first ``rows`` samples of ``runs`` permuted runs (greedy),
    through the Inspect task; the summary, per-sample scores and the eval log's location."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.scorer import CORRECT

    from rareval.evals.gpqa import gpqa_task

    model, args = policy_model(policy)
    log = inspect_eval(gpqa_task(runs=runs, path=path), model=model, model_args=args, limit=rows,
                       max_tokens=max_new_tokens, log_dir=str(log_dir), display="none", score_display=False)[0]
    if log.status != "success":
        raise RuntimeError(f"GPQA-Diamond on {policy}: eval {log.status}: {log.error.message if log.error else ''}")
    items = [{"id": s.id, "score": float(s.scores["gpqa_choice"].value == CORRECT), "answer": s.output.completion}
             for s in log.samples or []]
    return {"policy": policy, "benchmark": "gpqa_diamond", **summarise([i["score"] for i in items]),
            "log": log.location, "items": items}


def evaluate_run(run_dir: str | Path, cache: str | Path | None = None, benchmark: str = "rubric",
                 **settings: Any) -> dict[str, Any]:
    """Before vs after for a finished run: its base policy and ``final/`` on the run's held-out prompts.

    The grade defaults to RaR-Implicit on the physician rubric by the run's own judge,
    with the run's completion length; ``settings`` (``judge``, ``strategy``, ``rows``, … of
    :class:`HeldOutConfig`; ``None`` values ignored) change any of it; ``cache`` defaults to the run's verdict cache
    (share one file across runs of the same base so its answers are graded once).
    ``benchmark="gpqa"`` answers GPQA-Diamond instead (:func:`evaluate_gpqa`: ``rows`` samples, default 24, the
    run's completion length), the held-out evaluation of a RaR-Science run.
    Writes ``heldout.json`` in the run directory and returns it."""
    import json

    from rareval.data.cache import write_text_atomic
    from rareval.judge.options import REDACTED
    from rareval.train.data import grading_records, training_rows
    from rareval.train.run import RunConfig

    run_dir = Path(run_dir)
    config_file, final = run_dir / "config.json", run_dir / "final"
    if not config_file.exists() or not final.is_dir():
        raise FileNotFoundError(f"{run_dir}: not a finished run (needs config.json and final/)")
    run = RunConfig.model_validate(json.loads(config_file.read_text())["run"])
    given = {k: v for k, v in settings.items() if v not in (None, {}, [])}
    inherited = {} if given.get("judge", run.judge) != run.judge else {  # a redacted secret is not inherited
        "judge_args": {k: v for k, v in run.judge_args.items() if v != REDACTED}, "judge_config": run.judge_config}
    config = HeldOutConfig(**{"judge": run.judge, "max_new_tokens": run.preset.hyper.max_completion_length,
                              **inherited, **given})
    if benchmark == "gpqa":
        before, after = (evaluate_gpqa(policy, config.rows, config.max_new_tokens, run_dir / "heldout-logs")
                         for policy in (run.policy, str(final)))
    elif benchmark == "rubric":
        held_out = training_rows(run.preset, run.data, run.rubrics, skip_bad_rows=run.skip_bad_rows).held_out
        records = grading_records(run.preset, held_out)
        cache = cache or run_dir / "verdicts.sqlite"
        before = evaluate_policy(run.policy, records, config, cache)
        after = evaluate_policy(str(final), records, config, cache)
    else:
        raise ValueError(f"unknown held-out benchmark {benchmark!r}; choose rubric or gpqa")
    result = {"run": str(run_dir), "preset": run.preset.name, "size": run.preset.size, "benchmark": benchmark,
              "judge": None if benchmark == "gpqa" else config.judge,
              "strategy": None if benchmark == "gpqa" else config.strategy, "before": before, "after": after,
              "difference": paired_difference([i["score"] for i in before["items"]],
                                              [i["score"] for i in after["items"]])}
    write_text_atomic(run_dir / "heldout.json", json.dumps(result, indent=1, default=str))
    return result
