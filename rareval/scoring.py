"""The one scoring path: (prompt, response, rubric, reference) → judge → strategy → score.

The GRPO reward (:mod:`rareval.reward`), the Inspect scorers (``tasks/``) and the
judge studies all call :func:`score_response`, so training and evaluation score a
response with the same code.
"""

from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, Field

from rareval.judge import Conversation, Judge, Rating, Verdict
from rareval.judge.text import render_response
from rareval.rubric import Category, Rubric
from rareval.strategies import exact_match, get_strategy, score
from rareval.judge.usage import Usage


class CriterionResult(BaseModel):
    """One criterion's outcome, for logs and per-criterion reports."""

    criterion_id: str
    text: str
    category: Category
    weight: float
    tags: tuple[str, ...] = ()
    verdict: Verdict


class RubricScore(BaseModel):
    """A scored response: the value plus everything needed to audit it."""

    value: float | None = Field(description="Strategy output; None when nothing could be judged.")
    strategy: str
    criteria: list[CriterionResult] = Field(default_factory=list)
    rating: Rating | None = None
    usage: Usage = Field(default_factory=Usage)
    options: dict[str, Any] = Field(default_factory=dict)
    defence: CriterionResult | None = Field(None, description="The reward-hacking defence's verdict, when it was "
                                            "asked (rareval.defence); present means vetoed.")

    @property
    def abstentions(self) -> int:
        return sum(r.verdict.abstained for r in self.criteria) + (
            self.rating is not None and self.rating.value is None)

    @property
    def questions(self) -> int:
        """Questions put to the judge: one per criterion, plus the rating."""
        return len(self.criteria) + (self.rating is not None)

    @property
    def judge_error(self) -> str | None:
        """Why the judge abstained, from the first question it abstained on (None: it answered all)."""
        errors = [r.verdict.error for r in self.criteria if r.verdict.abstained]
        if self.rating is not None and self.rating.value is None:
            errors.append(self.rating.error)
        return next((e for e in errors if e), None)

    @property
    def verdicts(self) -> list[bool | None]:
        return [r.verdict.met for r in self.criteria]

    @property
    def response_truncated(self) -> bool:
        """The judge saw only the start of the response for some question (see ``JudgeConfig``)."""
        return any(r.verdict.response_truncated for r in self.criteria) or (
            self.rating is not None and self.rating.response_truncated)


async def score_response(strategy: str, judge: Judge | None, conversation: Conversation, response: Any, *,
                         rubric: Rubric | None = None, reference: str | None = None, batched: bool = False,
                         extract: Callable[[str], str | None] | None = None, **options) -> RubricScore:
    """Ask the judge what ``strategy`` needs, then aggregate.

    ``batched=True`` asks for the whole rubric in one call. ``verifiable`` needs no
    judge: ``extract`` (default: the whole response) is compared with ``reference``.
    """
    s = get_strategy(strategy)
    judged = s.rubric_for(rubric)
    if s.question == "check":
        if reference is None or judged is None:
            raise ValueError("the verifiable strategy needs a reference and its one-criterion rubric")
        text = render_response(response)
        answer = extract(text) if extract else text
        verdicts = [Verdict(criterion_id=judged[0].id, met=exact_match(answer, reference),
                            explanation=f"extracted {answer!r}")]
        return _result(s.name, judged, verdicts, None, Usage(), options)
    if judge is None:
        raise ValueError(f"strategy {strategy!r} needs a judge")
    if s.question == "rating":
        if s.rating_context == "rubric" and rubric is None:
            raise ValueError(f"strategy {strategy!r} needs a rubric")
        if s.rating_context == "reference" and not reference:
            raise ValueError(f"strategy {strategy!r} needs a reference answer")
        rating, usage = await judge.rating(
            conversation, response, rubric=rubric if s.rating_context == "rubric" else None,
            reference=reference if s.rating_context == "reference" else None)
        return RubricScore(value=score(s.name, rating=rating.value, **options), strategy=s.name,
                           rating=rating, usage=usage, options=options)
    if judged is None:
        raise ValueError(f"strategy {strategy!r} needs a rubric")
    verdicts, usage = await judge.criteria(conversation, response, judged, batched=batched)
    return _result(s.name, judged, verdicts, None, usage, options)


def _result(strategy: str, rubric: Rubric, verdicts: list[Verdict], rating, usage: Usage, options) -> RubricScore:
    value = score(strategy, rubric, [v.met for v in verdicts], **options)
    criteria = [CriterionResult(criterion_id=c.id, text=c.text, category=c.category, weight=c.weight, tags=c.tags,
                                verdict=v) for c, v in zip(rubric, verdicts)]
    return RubricScore(value=value, strategy=strategy, criteria=criteria, rating=rating, usage=usage,
                       options=options)
