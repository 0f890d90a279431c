"""HealthBench meta-evaluation on Inspect: a judge's verdicts against physician labels.

Each sample is one ``(conversation, completion, consensus criterion)`` labelled
"met"/"not met" by one or more physicians (:mod:`rareval.data.healthbench_meta`).
The model under evaluation is the judge: the scorer asks it the criterion with
:meth:`rareval.judge.Judge.criterion` and keeps its verdict, P(met) and the
physician labels in the score's metadata; :func:`meta_eval_metrics` aggregates.

Two estimators of macro F1 are reported, because the two reference
implementations differ (SPEC §4.4; HealthBench, Arora et al. 2025, arXiv 2505.08775):

* ``pairwise_macro_f1`` — simple-evals (``healthbench_meta_eval.py``, headline
  ``pairwise_model_f1_balanced``); see :func:`pairwise_macro_f1`;
* ``majority_macro_f1`` — inspect_evals (``healthbench/meta_evaluation.py``):
  the majority of physician labels as truth; see :func:`majority_macro_f1`.

A judge abstention (``met is None``) is never a "not met": abstained samples are
left out of both F1s and counted in ``abstention_rate``. (inspect_evals counts a
failed judge call as "not met"; simple-evals retries until it can read one.)
Not reported: simple-evals' leave-one-out physician-vs-physician agreement.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

from inspect_ai.dataset import Sample
from inspect_ai.model import get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState

from rareval.data.healthbench_meta import MetaEvalExample
from rareval.evals.alignment import macro_f1
from rareval.judge import Judge
from rareval.judge.cache import VerdictCache
from rareval.judge.config import judge_config
from rareval.rubric import Criterion, healthbench_category

#: Every HealthBench consensus (``level:cluster``) criterion is worth 5 points; the
#: meta-eval records carry the criterion text only.
CONSENSUS_POINTS = 5.0


def meta_sample(example: MetaEvalExample, id: str | None = None) -> Sample:
    """A sample: the conversation as input; completion, criterion and labels in metadata.

    The default id is ``completion_id:sha256(criterion)[:8]`` (one completion is
    labelled on several criteria).
    """
    crit = hashlib.sha256(example.criterion.encode()).hexdigest()[:8]
    return Sample(id=id or f"{example.completion_id}:{crit}", input=[m.model_dump() for m in example.prompt],
                  target="met" if example.majority_label else "not met",
                  metadata={"prompt_id": example.prompt_id, "completion_id": example.completion_id,
                            "completion": example.completion, "criterion": example.criterion,
                            "category": example.category, "binary_labels": list(example.binary_labels),
                            "physician_ids": list(example.physician_ids)})


def meta_samples(examples: Sequence[MetaEvalExample]) -> list[Sample]:
    """:func:`meta_sample` for each example; a repeated id gets a ``#n`` suffix."""
    seen: dict[str, int] = {}
    out = []
    for ex in examples:
        sample = meta_sample(ex)
        n = seen.get(str(sample.id), 0)
        seen[str(sample.id)] = n + 1
        if n:
            sample.id = f"{sample.id}#{n}"
        out.append(sample)
    return out


# -- estimators -----------------------------------------------------------------------------

def pairwise_macro_f1(pred: Sequence[bool | None], labels: Sequence[Sequence[bool]]) -> float | None:
    """simple-evals' pairwise macro F1 of a judge against physicians.

    Each judged sample *i* (``pred[i]`` not None) with physician labels
    ``y_i1 … y_ik`` contributes *k* pairs ``(ŷ_i, y_ij)`` — one per physician label.
    Over all pairs, for class *c* ∈ {met, not met}::

        precision_c = #{ŷ = c, y = c} / #{ŷ = c}     (over the judge's predictions)
        recall_c    = #{ŷ = c, y = c} / #{y = c}     (over the physicians' labels)
        F1_c        = 2·P·R / (P + R) = 2·TP_c / (2·TP_c + FP_c + FN_c)
        macro F1    = (F1_met + F1_not_met) / 2

    As in simple-evals, ``F1_c`` is undefined (``None``) when the judge never
    predicts *c* or no physician label is *c*, and then so is the macro F1. A
    sample with more physicians weighs more.
    """
    pairs = [(p, y) for p, ys in zip(pred, labels, strict=True) if p is not None for y in ys]
    truth = [y for _, y in pairs]
    guess = [p for p, _ in pairs]
    if not pairs or any(c not in guess or c not in truth for c in (True, False)):
        return None
    return macro_f1(truth, guess)


def majority_macro_f1(pred: Sequence[bool | None], labels: Sequence[Sequence[bool]]) -> float | None:
    """inspect_evals' macro F1 against the physicians' majority vote.

    Truth per judged sample: ``m_i = Σ_j y_ij > k_i / 2`` (strictly more than half
    say met; a tie is "not met"). Then, over samples, with sklearn's
    ``f1_score(m, ŷ, labels=[False, True], average="macro")`` semantics::

        F1_c     = 2·TP_c / (2·TP_c + FP_c + FN_c)   (0 when c occurs on neither side)
        macro F1 = (F1_met + F1_not_met) / 2

    ``None`` when no sample was judged (inspect_evals reports 0.0 there).
    """
    judged = [(p, sum(ys) * 2 > len(ys)) for p, ys in zip(pred, labels, strict=True) if p is not None]
    if not judged:
        return None
    return macro_f1([m for _, m in judged], [p for p, _ in judged])


def consensus_criterion(text: str, cluster: str) -> Criterion:
    """A meta-eval criterion as the HealthBench task sees it: a 5-point ``level:cluster`` criterion
    tagged with its cluster, so the judge applies the same per-kind threshold in both tasks."""
    return Criterion(text=text, weight=CONSENSUS_POINTS, category=healthbench_category(CONSENSUS_POINTS),
                     tags=("level:cluster", cluster))


# -- Inspect metric and scorer --------------------------------------------------------------

def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


@metric
def meta_eval_metrics() -> Metric:
    """``pairwise_macro_f1``, ``majority_macro_f1``, ``abstention_rate``, ``n_judged`` and
    ``<category>/pairwise_macro_f1`` (simple-evals' per-category breakdown, where defined).

    An undefined F1 (nothing judged; pairwise also: a class never predicted or never labelled) is NaN;
    undefined per-category values are left out.
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        metas = [s.score.metadata or {} for s in scores]
        pred = [m.get("judge_met") for m in metas]
        labels = [m.get("binary_labels", []) for m in metas]
        n_judged = sum(p is not None for p in pred)
        out = {"pairwise_macro_f1": _nan(pairwise_macro_f1(pred, labels)),
               "majority_macro_f1": _nan(majority_macro_f1(pred, labels)),
               "abstention_rate": (len(scores) - n_judged) / len(scores) if scores else 0.0,
               "n_judged": float(n_judged)}
        for category in sorted({m.get("category", "") for m in metas} - {""}):
            idx = [i for i, m in enumerate(metas) if m.get("category") == category]
            value = pairwise_macro_f1([pred[i] for i in idx], [labels[i] for i in idx])
            if value is not None:
                out[f"{category}/pairwise_macro_f1"] = value
        return out

    return compute


@scorer(metrics=[meta_eval_metrics()])
def meta_eval_scorer(verdict_mode: str = "yesno", threshold: float | None = None,
                     grader_config: dict[str, Any] | str | None = None):
    """The task's model judges the sample's criterion on its completion (one call).

    The judge is ``Judge(get_model(), role=None)``: inside a sample, ``get_model()``
    is the model under evaluation (``--model``). The consensus criterion is judged
    as the HealthBench task judges it (:func:`consensus_criterion`: 5 points, tagged
    ``level:cluster``, hence the same calibrated threshold); ``threshold`` overrides
    the P(yes) cut-off for every criterion. Score value: 1 met,
    0 not met, ``"N"`` abstained; the metrics read the metadata only, so run with one
    epoch (Inspect's epoch reducers do not combine metadata). ``grader_config``: further judge
    settings (:func:`~rareval.judge.config.judge_config`), applied last.
    """
    config = judge_config(grader_config, verdict_mode=verdict_mode, threshold=threshold)
    cache = VerdictCache() if config.cache else None

    async def do_score(state: TaskState, target: Target) -> Score:
        meta = state.metadata
        judge = Judge(get_model(), role=None, config=config, cache=cache)
        criterion = consensus_criterion(meta["criterion"], meta["category"])
        verdict, usage = await judge.criterion(state.input, meta["completion"], criterion)
        labels = [bool(y) for y in meta["binary_labels"]]
        said = "abstained" if verdict.met is None else "met" if verdict.met else "not met"
        return Score(value="N" if verdict.met is None else float(verdict.met), answer=said,
                     explanation=f"judge: {said} ({verdict.error or verdict.explanation}); physicians: "
                                 + ", ".join("met" if y else "not met" for y in labels),
                     metadata={"judge_met": verdict.met, "p_met": verdict.p_met, "binary_labels": labels,
                               "majority_label": sum(labels) * 2 > len(labels), "category": meta["category"],
                               "verdict": verdict.model_dump(), "judge_usage": usage.model_dump()})

    return do_score
