"""HealthBench on Inspect: samples, the rubric scorer and simple-evals' aggregation.

The scorer calls :func:`rareval.scoring.score_response` — the same code as the GRPO
reward — with the ``grader`` model role as judge. Aggregation follows simple-evals
(``healthbench_eval.py``, SPEC §4.3): per example ``Σ met points / Σ positive points``;
per rubric tag (``axis:``, ``level:``, ``cluster:``) the same formula restricted to
that tag's criteria; per example tag (``theme:``, ``physician_agreed_category:``) the
example scores of that tag; every metric the mean over examples **clipped to [0, 1]
after averaging**, with ``NAME:n_samples`` and ``NAME:bootstrap_std`` (the std of
1,000 clipped bootstrap means, seeded here) beside it, as simple-evals reports them.

What is simple-evals' and what is not:

* the same: the per-example and per-tag formulas, clipping after averaging, the
  bootstrap, the metric names;
* not the same by default: the grader. simple-evals asks its grader template (a JSON
  ``criteria_met`` with an explanation, one call per criterion, retried until
  readable); rareval's judge asks a short yes/no prompt and reads P(yes) from log
  probabilities (:mod:`rareval.judge`), asks a negated criterion in positive form, and
  uses the thresholds calibrated for the judge's weights. ``-T verdict_mode=json`` asks for
  simple-evals' JSON answer shape, still with rareval's prompt; ``-T grader=simple-evals``
  asks simple-evals' template itself, verbatim (:mod:`rareval.judge.simple_evals`);
* not the same by default: judge failures. simple-evals retries forever; rareval abstains after
  bounded retries (:func:`rareval.strategies.signed_ratio`), counts abstentions in
  ``judge_abstention_rate``, and leaves an example that could not be scored (every
  positive criterion or every pitfall abstained) **out of the means**, which are then
  over a selected subset: ``unscored`` counts those examples, split by reason in
  ``unscored:<reason>``, and ``score:n_samples`` says how many were averaged.
  ``-T on_failure=not_met`` (inspect_evals' rule) or ``retry:N`` (simple-evals', bounded) instead.

Other strategies (``-T strategy=``) score the same examples: every verdict strategy
(the example's rubric, or RaR-Predefined's fixed rubric) and the rating strategies
(Direct-Likert, RaR-Implicit with the example's rubric, Reference-Likert against the
physician's ideal completion where the row has one). Rubric-tag scores are reported
only where the verdicts line up with the example's rubric. ``verifiable`` is refused:
HealthBench has no answer to extract and match.

Optional length-adjusted score (simple-evals PR #108, SPEC §4.3), reported as
``score_length_adjusted``: ``score − penalty × (len(response chars) − center) / 500``
per example, with published defaults center 2000 and penalty 0.0299 (regular).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState

from rareval.data.healthbench import HealthBenchExample
from rareval.judge import Judge, JudgeConfig
from rareval.judge.config import judge_config
from rareval.judge.health import JudgeHealth
from rareval.rubric import Category, Rubric
from rareval.scoring import RubricScore, score_response
from rareval.stats import bootstrap_std
from rareval.strategies import STRATEGIES, get_strategy, score


def example_to_sample(example: HealthBenchExample) -> Sample:
    return Sample(id=example.prompt_id, input=[m.model_dump() for m in example.prompt],
                  metadata={"rubric": example.rubric.model_dump(mode="json"), "example_tags": list(example.example_tags),
                            "theme": example.theme, "ideal_completion": example.ideal_completion})


def healthbench_strategies() -> list[str]:
    """The strategies that can score a HealthBench example: all but those that match an extracted answer."""
    return sorted(name for name, s in STRATEGIES.items() if s.question != "check")


def grader_judge_config(grader_config: dict[str, Any] | str | None = None, *, positive_form: bool = True,
                        grader: str = "rareval", **fields: Any) -> JudgeConfig:
    """The grader's :class:`~rareval.judge.JudgeConfig` from the task's arguments, ``grader_config`` applied
    last; simple-evals' grader asks every criterion as written (no positive form)."""
    return judge_config(grader_config, positive_form=positive_form and grader != "simple-evals", grader=grader,
                        **fields)


def check_strategy(strategy: str) -> None:
    """A clear error for a strategy HealthBench cannot be scored with (unknown names: the registry's error)."""
    if get_strategy(strategy).question == "check":
        raise ValueError(f"strategy {strategy!r} matches an extracted answer against a reference, which "
                         f"HealthBench examples do not have; use one of: {', '.join(healthbench_strategies())}")


def unscored_reason(result: RubricScore) -> str | None:
    """Why an example got no score, as a metric-name suffix; None when it was scored."""
    if result.value is not None:
        return None
    if result.rating is not None:
        return "rating_abstained"
    positives = [c for c in result.criteria if c.category is not Category.PITFALL]
    if positives and all(c.verdict.abstained for c in positives):
        return "every_positive_abstained"
    if not positives:
        return "no_positive_criterion"
    return "every_pitfall_abstained"


def tag_scores(rubric: Rubric, verdicts: list[bool | None]) -> dict[str, float]:
    """simple-evals' rubric-level tag scores: the example formula on each tag's criteria."""
    out = {}
    for tag in sorted({t for c in rubric for t in c.tags}):
        idx = [i for i, c in enumerate(rubric) if tag in c.tags]
        if any(rubric[i].weight > 0 for i in idx):
            sub = Rubric(criteria=tuple(rubric[i] for i in idx))
            value = score("healthbench", sub, [verdicts[i] for i in idx])
            if value is not None:
                out[tag] = value
    return out


def length_adjusted(value: float | None, response: str, penalty: float | None, center: int = 2000
                    ) -> float | None:
    """``value − penalty × (len(response) − center) / 500``; None without a penalty or a value."""
    if value is None or penalty is None:
        return None
    return value - penalty * (len(response) - center) / 500


@metric
def healthbench_metrics(bootstrap_samples: int = 1000, seed: int = 0) -> Metric:
    """Every metric as simple-evals reports it: ``NAME`` (clipped mean), ``NAME:n_samples`` and
    ``NAME:bootstrap_std``, for the overall ``score``, every rubric tag and every example tag;
    plus ``unscored`` (with ``unscored:<reason>``), ``judge_abstention_rate`` and, with the
    defence asked, ``hacking_veto_rate`` (vetoes over the answers whose defence was judged)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        columns: dict[str, list[float]] = {}
        reasons: dict[str, int] = {}
        abstained = questions = 0
        vetoes: list[bool] = []
        for s in scores:
            meta = s.score.metadata or {}
            abstained += meta.get("abstained", 0)
            questions += meta.get("questions", 0)
            if meta.get("hacking_veto") is not None:
                vetoes.append(meta["hacking_veto"])
            if meta.get("overall") is None:
                reason = meta.get("unscored_reason") or "unknown"
                reasons[reason] = reasons.get(reason, 0) + 1
                continue
            columns.setdefault("score", []).append(meta["overall"])
            if meta.get("length_adjusted") is not None:
                columns.setdefault("score_length_adjusted", []).append(meta["length_adjusted"])
            for tag in meta.get("example_tags", []):
                columns.setdefault(tag, []).append(meta["overall"])
            for tag, v in meta.get("tags", {}).items():
                columns.setdefault(tag, []).append(v)
        out = {}
        for name, values in columns.items():
            out[name] = float(np.clip(np.mean(values), 0, 1))
            out[f"{name}:n_samples"] = float(len(values))
            out[f"{name}:bootstrap_std"] = bootstrap_std(values, n=bootstrap_samples, seed=seed, clip=(0, 1))
        out["unscored"] = float(sum(reasons.values()))
        out.update({f"unscored:{reason}": float(n) for reason, n in sorted(reasons.items())})
        out["judge_abstention_rate"] = abstained / questions if questions else 0.0
        if vetoes:
            out["hacking_veto_rate"] = sum(vetoes) / len(vetoes)
        return out

    return compute


@scorer(metrics=[healthbench_metrics()])
def healthbench_scorer(strategy: str = "healthbench", batched: bool = False, grader_role: str = "grader",
                       verdict_mode: str = "yesno", length_penalty: float | None = None,
                       length_center: int = 2000, batch_reading: str = "answers", positive_form: bool = True,
                       prompt_variant: str = "default", max_response_chars: int | None = None,
                       hacking_defence: bool = False, grader_config: dict[str, Any] | str | None = None,
                       fail_fast: int = 5, grader: str = "rareval", on_failure: str = "abstain"):
    """Judge every criterion (concurrently, or in one batched call read as ``batch_reading``,
    see :class:`~rareval.judge.JudgeConfig`) with the ``grader`` role, or ask the rating a
    rating strategy needs; see the module docstring for which strategies apply.

    ``max_response_chars`` cuts longer responses before the judge sees them (flagged per verdict);
    ``hacking_defence`` also asks the reward-hacking defence criterion and vetoes (``min(score, 0)``)
    an answer that tries to manipulate its grader (:mod:`rareval.defence`), reported as
    the ``hacking_veto_rate`` metric. ``grader_config``: further judge settings (:func:`judge_config`), applied
    last. ``fail_fast``: stop the evaluation, naming the judge's error, when its first this many samples
    abstained on every question (:mod:`rareval.judge.health`; 0: never). ``grader="simple-evals"`` asks
    every criterion with simple-evals' grader, verbatim (:mod:`rareval.judge.simple_evals`); ``on_failure``:
    abstain | not_met | retry:N (see :class:`~rareval.judge.JudgeConfig`)."""
    check_strategy(strategy)
    if grader == "simple-evals" and (batched or get_strategy(strategy).question != "verdicts"):
        raise ValueError("grader=simple-evals asks one criterion per call: use a verdict strategy "
                         f"(e.g. healthbench) without batched, not {strategy!r}" + (" batched" if batched else ""))
    health = JudgeHealth(window=fail_fast, first_only=True) if fail_fast else None
    judge = Judge(role=grader_role, config=grader_judge_config(
        grader_config, verdict_mode=verdict_mode, batch_reading=batch_reading, positive_form=positive_form,
        prompt_variant=prompt_variant, max_response_chars=max_response_chars, grader=grader, on_failure=on_failure))
    spec = get_strategy(strategy)
    tags_line_up = spec.question == "verdicts" and spec.fixed_rubric is None

    async def do_score(state: TaskState, target: Target) -> Score:
        rubric = Rubric.model_validate(state.metadata["rubric"])
        reference = state.metadata.get("ideal_completion")
        if spec.rating_context == "reference" and not reference:
            return Score(value="N", answer=state.output.completion,
                         explanation="no physician ideal completion to rate against",
                         metadata={"overall": None, "unscored_reason": "no_reference", "abstained": 0,
                                   "questions": 0})
        result = await score_response(strategy, judge, state.input, state.output.completion, rubric=rubric,
                                      reference=reference, batched=batched)
        if health is not None:
            health.check(result.questions, result.abstentions, result.judge_error)
        if hacking_defence:
            from rareval.defence import defend

            result = await defend(result, judge, state.input, state.output.completion)
        explanation = "\n".join(
            f"[{c.weight:g}] {'ABSTAINED' if c.verdict.met is None else 'met' if c.verdict.met else 'not met'}"
            f" — {c.text} ({c.verdict.error or c.verdict.explanation})" for c in result.criteria)
        if result.rating is not None:
            explanation = f"rating {result.rating.value} ({result.rating.error or 'read'})"
        veto = result.defence.verdict.met if result.defence is not None else None
        if result.defence is not None:
            explanation += (f"\nhacking defence: {'VETO' if veto else 'abstained' if veto is None else 'passed'}"
                            f" ({result.defence.verdict.error or result.defence.verdict.explanation})")
        # an unscored example keeps a sample score (NaN values are dropped before metrics run),
        # marked with Inspect's no-answer value "N"; the metrics read ``overall`` only
        return Score(value=result.value if result.value is not None else "N",
                     answer=state.output.completion, explanation=explanation,
                     metadata={"overall": result.value, "unscored_reason": unscored_reason(result),
                               "tags": tag_scores(rubric, result.verdicts) if tags_line_up else {},
                               "length_adjusted": length_adjusted(result.value, state.output.completion,
                                                                  length_penalty, length_center),
                               "example_tags": state.metadata.get("example_tags", []),
                               "verdicts": result.verdicts, "p_met": [c.verdict.p_met for c in result.criteria],
                               "p_raw": [c.verdict.p_raw for c in result.criteria],
                               "rating": result.rating.model_dump() if result.rating is not None else None,
                               "abstained": result.abstentions, "judge_error": result.judge_error,
                               "questions": len(result.criteria) + (result.rating is not None),
                               "hacking_veto": veto, "response_truncated": result.response_truncated,
                               "judge_usage": result.usage.model_dump()})

    return do_score
