"""How well a judge agrees with reference labels (a strong grader, physicians, preferences).

Used by the judge-quality benchmark (``benchmarks/judge_quality.py``), the
HealthBench meta-evaluation task and the judge-alignment task. Abstentions (``None``) are never counted as a
label: agreement, kappa and F1 are computed over the criteria the judge did
judge, and ``abstained`` says how many it did not.

* ``agreement`` — share of judged criteria where judge and reference agree;
* ``kappa`` — Cohen's kappa of the same pairs (:func:`rareval.stats.cohen_kappa`);
* ``auc`` — ROC AUC of the judge's P(met) against the reference, where the judge
  exposes P(met) (:func:`rareval.stats.roc_auc`); it does not depend on the threshold;
* ``macro_f1`` — mean of the F1 of "met" and the F1 of "not met", HealthBench's
  meta-evaluation metric (SPEC §4.4);
* ``pairwise accuracy`` — share of preference pairs where the chosen answer scores
  higher than the rejected one (RaR v2 Figure 3); a tie counts as wrong by default
  (``ties="wrong"``; the paper does not say, SPEC §1.8) or as half (``ties="half"``).

Fitting P(met) thresholds on development rows lives with the judge
(:mod:`rareval.judge.calibration`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from rareval.stats import bootstrap_ci, cohen_kappa, roc_auc

Ties = Literal["wrong", "half"]


class Agreement(BaseModel):
    """Agreement of a judge's verdicts with reference labels."""

    n: int = Field(description="Criteria with a reference label.")
    judged: int = Field(description="Criteria the judge gave a verdict on (n minus abstentions).")
    agreement: float = Field(description="Share of judged criteria where the verdict equals the label.")
    kappa: float = Field(description="Cohen's kappa over judged criteria (NaN when undefined).")
    auc: float | None = Field(description="ROC AUC of P(met) vs the label; None without P(met) or one class.")
    macro_f1: float = Field(description="Mean of the F1 scores of 'met' and 'not met'.")
    share_met: float = Field(description="Share of the judge's verdicts that are 'met'.")
    label_share_met: float = Field(description="Share of reference labels that are 'met'.")

    @property
    def abstained(self) -> int:
        return self.n - self.judged


def binary_f1(truth: Sequence[bool], pred: Sequence[bool], positive: bool = True) -> float:
    """F1 of one class: ``2·TP / (2·TP + FP + FN)``; 0 when the class never occurs on either side."""
    tp = sum(t == positive and p == positive for t, p in zip(truth, pred, strict=True))
    fp = sum(t != positive and p == positive for t, p in zip(truth, pred, strict=True))
    fn = sum(t == positive and p != positive for t, p in zip(truth, pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def macro_f1(truth: Sequence[bool], pred: Sequence[bool]) -> float:
    """``(F1(met) + F1(not met)) / 2``, HealthBench's meta-evaluation metric."""
    return (binary_f1(truth, pred, True) + binary_f1(truth, pred, False)) / 2


def verdict_agreement(truth: Sequence[bool], pred: Sequence[bool | None],
                      p_met: Sequence[float | None] | None = None) -> Agreement:
    """Compare verdicts (``None`` = abstained) with labels; see the module docstring."""
    if len(truth) != len(pred) or (p_met is not None and len(p_met) != len(truth)):
        raise ValueError(f"verdict_agreement needs aligned sequences, got {len(truth)} labels and {len(pred)} verdicts")
    pairs = [(t, p) for t, p in zip(truth, pred) if p is not None]
    t_j = [t for t, _ in pairs]
    p_j = [p for _, p in pairs]
    auc = None
    if p_met is not None:
        scored = [(t, p) for t, p in zip(truth, p_met) if p is not None]
        if scored and 0 < sum(t for t, _ in scored) < len(scored):
            auc = roc_auc([t for t, _ in scored], [p for _, p in scored])
    return Agreement(
        n=len(truth), judged=len(pairs),
        agreement=float(np.mean([t == p for t, p in pairs])) if pairs else math.nan,
        kappa=cohen_kappa(t_j, p_j) if pairs else math.nan, auc=auc,
        macro_f1=macro_f1(t_j, p_j) if pairs else math.nan,
        share_met=float(np.mean(p_j)) if pairs else math.nan,
        label_share_met=float(np.mean(truth)) if len(truth) else math.nan)


def preference_outcome(chosen: float, rejected: float, ties: Ties = "wrong") -> float:
    """1 when ``chosen > rejected``, 0 when lower; a tie is 0 (``"wrong"``) or 0.5 (``"half"``)."""
    if chosen == rejected:
        return 0.5 if ties == "half" else 0.0
    return float(chosen > rejected)


def pairwise_accuracy(outcomes: Sequence[float], level: float = 0.95, seed: int = 0
                      ) -> tuple[float, tuple[float, float]]:
    """Mean of per-pair outcomes with a percentile bootstrap interval (1,000 resamples)."""
    if not outcomes:
        return math.nan, (math.nan, math.nan)
    return float(np.mean(outcomes)), bootstrap_ci(outcomes, level=level, seed=seed)
