"""RubricReward: a TRL reward function built on the one scoring path.

>>> reward = RubricReward("explicit", judge="scripted/keyword")
>>> reward.__name__
'rubric_explicit'

TRL's ``GRPOTrainer`` calls it as ``reward(prompts=..., completions=..., **columns)``
with every dataset column (``rubric``, ``reference``, …) as a list, and runs async
reward functions concurrently on its own event loop. Both conversational
(``[{"role", "content"}]``) and plain-text prompts and completions work. A row the
judge could not score returns ``None``, which TRL excludes from the advantage
(it never becomes a 0 reward).

Logged through TRL's ``log_metric`` each call: per-category criterion pass rates
(``rubric/pass_rate/<category>``; for pitfalls the rate at which the behaviour was
present), ``rubric/judge_failure_rate``, ``rubric/unscored_rate``, judge
``calls``/``billed_tokens`` per completion, and with ``hacking_defence`` the share of
completions it vetoed (``rubric/hacking_veto_rate``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Sequence

from rareval.errors import located
from rareval.judge import Judge, JudgeConfig
from rareval.judge.health import JudgeHealth
from rareval.judge.usage import Usage
from rareval.rubric import Criterion, Rubric, RubricError
from rareval.scoring import RubricScore, score_response
from rareval.strategies import get_strategy


class RubricReward:
    """An async, picklable TRL reward: ``(prompts, completions, **columns) -> list[float | None]``.

    Args:
        strategy: a name in :data:`rareval.strategies.STRATEGIES`.
        judge: a :class:`Judge` or an Inspect model string (``"openai/gpt-4o-mini"``,
            ``"local/qwen-1.5b"``); not needed for ``verifiable``.
        rubric_column / reference_column: dataset columns holding the rubric (rareval
            JSON, HealthBench or RaR items) and the reference answer.
        batched: judge the whole rubric in one call per completion.
        extract: answer extractor for ``verifiable``.
        hacking_defence: also ask the reward-hacking defence criterion (True, or a
            :class:`~rareval.rubric.Criterion` to ask instead) and zero the reward of a completion the
            judge finds manipulating its grading (:mod:`rareval.defence`).
        health: a :class:`~rareval.judge.health.JudgeHealth` that records each call's abstentions (a
            training run reads it to stop on a failing judge).
        **options: strategy options (``weights``, ``pitfall_polarity``, ``normalise`` …).
    """

    def __init__(self, strategy: str = "explicit", judge: Judge | str | None = None, *,
                 rubric_column: str = "rubric", reference_column: str = "reference", batched: bool = False,
                 extract: Callable[[str], str | None] | None = None, judge_config: JudgeConfig | None = None,
                 name: str | None = None, hacking_defence: bool | Criterion = False,
                 health: JudgeHealth | None = None, **options: Any):
        self.strategy = get_strategy(strategy).name
        self.judge = Judge(judge, config=judge_config) if isinstance(judge, str) else judge
        self.rubric_column, self.reference_column = rubric_column, reference_column
        self.batched, self.extract, self.options = batched, extract, options
        self.hacking_defence = hacking_defence
        self.__name__ = name or f"rubric_{self.strategy}"
        self.usage = Usage()  # what the judge cost over every call of this reward
        self.health = health

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], *,
                       log_metric: Callable[[str, float], None] | None = None, **columns: Any
                       ) -> list[float | None]:
        rubrics = columns.get(self.rubric_column) or [None] * len(prompts)
        references = columns.get(self.reference_column) or [None] * len(prompts)
        rubrics = [self._rubric(rubric, i) for i, rubric in enumerate(rubrics)]
        scores = await asyncio.gather(*(
            self._score(i, prompt, completion, rubric, reference)
            for i, (prompt, completion, rubric, reference) in enumerate(zip(prompts, completions, rubrics,
                                                                            references))))
        if self.hacking_defence:
            from rareval.defence import defend

            criterion = self.hacking_defence if isinstance(self.hacking_defence, Criterion) else None
            scores = await asyncio.gather(*(defend(s, self.judge, prompt, completion, criterion)
                                            for s, prompt, completion in zip(scores, prompts, completions)))
        self.usage += sum((s.usage for s in scores), Usage())
        if self.health is not None:
            self.health.record(sum(s.questions for s in scores), sum(s.abstentions for s in scores),
                               next((s.judge_error for s in scores if s.judge_error), None))
        if log_metric is not None:
            for name, value in reward_metrics(scores).items():
                log_metric(name, value)
        return [s.value for s in scores]


    def _rubric(self, value: Any, row: int) -> Rubric | None:
        """A row's rubric column as a Rubric; a malformed one is an error naming the batch row and column."""
        try:
            return Rubric.coerce(value) if value is not None else None
        except RubricError as e:
            raise RubricError(str(e), row=row, field=self.rubric_column) from None

    async def _score(self, row: int, prompt, completion, rubric, reference) -> RubricScore:
        try:
            return await score_response(self.strategy, self.judge, prompt, completion, rubric=rubric,
                                        reference=reference, batched=self.batched, extract=self.extract,
                                        **self.options)
        except ValueError as e:  # a row the strategy cannot score (no rubric, no reference): say which
            raise ValueError(located(str(e), n=row)) from None


def reward_metrics(scores: Sequence[RubricScore]) -> dict[str, float]:
    """Per-category pass rates, judge failure and cost figures for one batch."""
    met: dict[str, list[bool]] = {}
    questions = failures = 0
    for s in scores:
        for c in s.criteria:
            questions += 1
            if c.verdict.met is None:
                failures += 1
            else:
                met.setdefault(c.category.value, []).append(c.verdict.met)
        if s.rating is not None:
            questions += 1
            failures += s.rating.value is None
    n = max(1, len(scores))
    metrics = {f"rubric/pass_rate/{cat}": sum(v) / len(v) for cat, v in sorted(met.items())}
    metrics["rubric/judge_failure_rate"] = failures / questions if questions else 0.0
    metrics["rubric/unscored_rate"] = sum(s.value is None for s in scores) / n
    defended = [s.defence.verdict.met for s in scores if s.defence is not None]
    if defended:
        metrics["rubric/hacking_veto_rate"] = sum(v is True for v in defended) / len(defended)
    metrics["rubric/judge_calls"] = sum(s.usage.calls for s in scores) / n
    metrics["rubric/judge_billed_tokens"] = sum(s.usage.billed_tokens for s in scores) / n
    return metrics
