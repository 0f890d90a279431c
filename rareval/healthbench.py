"""HealthBench on Inspect: samples, the rubric scorer and simple-evals' aggregation.

The scorer calls :func:`rareval.scoring.score_response` — the same code as the GRPO
reward — with the ``grader`` model role as judge. Aggregation follows simple-evals
(``healthbench_eval.py``, SPEC §4.3): per example ``Σ met points / Σ positive points``;
per rubric tag (``axis:``, ``level:``, ``cluster:``) the same formula restricted to
that tag's criteria; the mean over examples **clipped to [0, 1] after averaging**;
``bootstrap_std`` the std of 1,000 clipped bootstrap means (seeded here). Judge
failures abstain (see :func:`rareval.strategies.signed_ratio`), are counted in
``abstained``, and an example that could not be scored is left out of the means.

Optional length-adjusted score (simple-evals PR #108, SPEC §4.3), reported as
``score_length_adjusted``: ``score − penalty × (len(response chars) − center) / 500``
per example, with published defaults center 2000 and penalty 0.0299 (regular).
"""

from __future__ import annotations

import numpy as np
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState

from rareval.data.healthbench import HealthBenchExample
from rareval.judge import Judge, JudgeConfig
from rareval.rubric import Rubric
from rareval.scoring import score_response
from rareval.stats import bootstrap_std
from rareval.strategies import score


def example_to_sample(example: HealthBenchExample) -> Sample:
    return Sample(id=example.prompt_id, input=[m.model_dump() for m in example.prompt],
                  metadata={"rubric": example.rubric.model_dump(mode="json"), "example_tags": list(example.example_tags),
                            "theme": example.theme})


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
    """Clipped mean and bootstrap std of the overall score and of every tag score."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        columns: dict[str, list[float]] = {}
        abstained = questions = unscored = 0
        for s in scores:
            meta = s.score.metadata or {}
            abstained += meta.get("abstained", 0)
            questions += meta.get("questions", 0)
            if meta.get("overall") is None:
                unscored += 1
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
            if name == "score":
                out["bootstrap_std"] = bootstrap_std(values, n=bootstrap_samples, seed=seed, clip=(0, 1))
        out["n_scored"] = float(len(columns.get("score", [])))
        out["unscored"] = float(unscored)
        out["judge_abstention_rate"] = abstained / questions if questions else 0.0
        return out

    return compute


@scorer(metrics=[healthbench_metrics()])
def healthbench_scorer(strategy: str = "healthbench", batched: bool = False, grader_role: str = "grader",
                       verdict_mode: str = "yesno", length_penalty: float | None = None,
                       length_center: int = 2000, batch_reading: str = "answers"):
    """Judge every criterion (concurrently, or in one batched call read as ``batch_reading``,
    see :class:`~rareval.judge.JudgeConfig`) with the ``grader`` role."""
    judge = Judge(role=grader_role, config=JudgeConfig(verdict_mode=verdict_mode, batch_reading=batch_reading))

    async def do_score(state: TaskState, target: Target) -> Score:
        rubric = Rubric.model_validate(state.metadata["rubric"])
        result = await score_response(strategy, judge, state.input, state.output.completion, rubric=rubric,
                                      batched=batched)
        verdicts = result.verdicts
        explanation = "\n".join(
            f"[{c.weight:g}] {'ABSTAINED' if c.verdict.met is None else 'met' if c.verdict.met else 'not met'}"
            f" — {c.text} ({c.verdict.error or c.verdict.explanation})" for c in result.criteria)
        # an unscored example keeps a sample score (NaN values are dropped before metrics run),
        # marked with Inspect's no-answer value "N"; the metrics read ``overall`` only
        return Score(value=result.value if result.value is not None else "N",
                     answer=state.output.completion, explanation=explanation,
                     metadata={"overall": result.value, "tags": tag_scores(rubric, verdicts),
                               "length_adjusted": length_adjusted(result.value, state.output.completion,
                                                                  length_penalty, length_center),
                               "example_tags": state.metadata.get("example_tags", []),
                               "verdicts": verdicts, "p_met": [c.verdict.p_met for c in result.criteria],
                               "p_raw": [c.verdict.p_raw for c in result.criteria],
                               "abstained": result.abstentions, "questions": len(result.criteria),
                               "judge_usage": result.usage.model_dump()})

    return do_score
