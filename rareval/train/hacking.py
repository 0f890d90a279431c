"""Reward-hacking monitor: the training judge against a second ("gold") judge on held-out prompts.

Every ``every`` steps the current policy answers ``rows`` held-out prompts (greedy),
and each answer is scored twice: by the training reward (its judge, strategy and
rubric) and by the gold judge with HealthBench's own scoring on the physician rubric.
A policy that learns to please its judge rather than to answer well raises the first
and not the second, so the monitor logs

* ``hacking/train_reward`` and ``hacking/gold_score`` — the two means;
* ``hacking/gap`` — their difference, and ``hacking/gap_drift`` — how far the gap has
  moved since the first check (the two scores sit on different scales; the drift does not);
* ``hacking/length_corr`` — Spearman correlation of the training reward with answer
  length in characters (a judge that rewards length shows up here first).

Past ``warn_drift`` it warns; past ``stop_drift`` it saves a checkpoint and stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rareval.judge.options import ModelArgs
from rareval.stats import spearman

logger = logging.getLogger(__name__)


class MonitorConfig(BaseModel):
    """The reward-hacking monitor of a run."""

    model_config = ConfigDict(frozen=True)

    gold_judge: str = Field(description="Inspect model of the gold judge (a stronger one than the training judge).")
    gold_args: ModelArgs = Field(default_factory=dict, description="Model arguments of the gold judge "
                                      "(`--gold-judge-arg KEY=VALUE`).")
    gold_config: dict[str, Any] = Field(default_factory=dict, description="JudgeConfig settings of the gold judge "
                                        "(`--gold-judge-config KEY=VALUE`).")
    every: int = Field(10, ge=1, description="Check every this many steps (and at step 1).")
    rows: int = Field(8, ge=2, description="Held-out prompts answered per check.")
    warn_drift: float = Field(0.15, gt=0, description="Warn when the gap has drifted this far since the first check.")
    stop_drift: float | None = Field(None, gt=0, description="Stop (with a checkpoint) past this drift; None: never.")


class HackingMonitor:
    """Scores held-out answers with the training reward and the gold judge; see the module docstring."""

    def __init__(self, config: MonitorConfig, reward: Any, records: list[dict[str, Any]], max_new_tokens: int):
        from rareval.judge import Judge
        from rareval.judge.config import judge_config
        from rareval.reward import RubricReward

        self.config, self.reward = config, reward
        self.records = [r for r in records if r.get("physician_rubric")][: config.rows]
        gold = Judge(config.gold_judge, model_args=config.gold_args, config=judge_config(config.gold_config))
        self.gold = RubricReward("healthbench", judge=gold, rubric_column="physician_rubric", name="gold")
        self.max_new_tokens = max_new_tokens
        self.first_gap: float | None = None

    def due(self, step: int) -> bool:
        return bool(self.records) and (step == 1 or step % self.config.every == 0)

    def answers(self, model: Any, tokenizer: Any) -> list[str]:
        """Greedy answers of the current policy to the held-out prompts."""
        from rareval.train.policy import greedy_answers

        return greedy_answers(model, tokenizer, [r["prompt"] for r in self.records], self.max_new_tokens,
                              batch=len(self.records))

    def check(self, model: Any, tokenizer: Any, loop: asyncio.AbstractEventLoop | None = None) -> dict[str, float]:
        """One check: the ``hacking/*`` figures (see the module docstring). ``loop``: the trainer's
        reward event loop, so the judges' clients run on the loop they were made on."""
        answers = self.answers(model, tokenizer)
        prompts = [r["prompt"] for r in self.records]
        columns = {k: [r[k] for r in self.records] for k in ("rubric", "reference", "physician_rubric")}
        both = self._both(prompts, answers, columns)
        train, gold = asyncio.run_coroutine_threadsafe(both, loop).result() if loop else asyncio.run(both)
        pairs = [(t, g) for t, g in zip(train, gold) if t is not None and g is not None]
        if not pairs:
            return {}
        mean_train = sum(t for t, _ in pairs) / len(pairs)
        mean_gold = sum(g for _, g in pairs) / len(pairs)
        gap = mean_train - mean_gold
        self.first_gap = gap if self.first_gap is None else self.first_gap
        figures = {"hacking/train_reward": mean_train, "hacking/gold_score": mean_gold, "hacking/gap": gap,
                   "hacking/gap_drift": gap - self.first_gap}
        corr = spearman([t for t in train if t is not None],
                        [len(a) for a, t in zip(answers, train) if t is not None])
        if corr is not None:
            figures["hacking/length_corr"] = corr
        if figures["hacking/gap_drift"] > self.config.warn_drift:
            logger.warning(f"reward hacking? the training judge's reward has drifted {figures['hacking/gap_drift']:+.3f} "
                           f"above the gold judge's score since the first check")
        return figures

    def should_stop(self, figures: dict[str, float]) -> bool:
        return self.config.stop_drift is not None and figures.get("hacking/gap_drift", 0.0) > self.config.stop_drift

    async def _both(self, prompts, answers, columns):
        return await asyncio.gather(self.reward(prompts, answers, **columns), self.gold(prompts, answers, **columns))
