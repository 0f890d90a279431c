"""Small statistics helpers: bootstrap, across-run intervals, agreement, AUC.

All functions are pure (numpy/scipy), seeded where random, and take plain
sequences of numbers or labels.

* :func:`bootstrap_std` — simple-evals HealthBench's ``bootstrap_std``
  (``healthbench_eval._compute_clipped_stats``): the standard deviation
  (``ddof=0``) of ``n`` bootstrap means, each mean clipped to ``clip``. Upstream
  draws from the global ``np.random``; here the generator is seeded.
* :func:`bootstrap_ci` — percentile bootstrap interval of the mean.
* :func:`mean_ci_across_runs` — Student-t interval across independent runs, the
  way RaR reports GPQA-Diamond ("mean of 10 runs with 95% CI"; RaR v2 §4).
* :func:`cohen_kappa` — chance-corrected agreement of two raters.
* :func:`roc_auc` — area under the ROC curve from ranks (Mann–Whitney U).
* :func:`spearman` — rank correlation, undefined (None) without variation.
* :func:`paired_difference` — mean of ``after − before`` over the items both have, with a paired
  bootstrap interval (items resampled together).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats as _sp

__all__ = [
    "RunSummary",
    "bootstrap_ci",
    "bootstrap_std",
    "cohen_kappa",
    "mean_ci_across_runs",
    "paired_difference",
    "roc_auc",
    "spearman",
]


def _as_array(values: Sequence[float], what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{what} needs at least one value")
    return arr


def _bootstrap_means(arr: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Means of ``n`` resamples (with replacement, same size as ``arr``)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n, arr.size))
    return arr[idx].mean(axis=1)


def bootstrap_std(values: Sequence[float], n: int = 1000, seed: int = 0,
                  clip: tuple[float, float] | None = None) -> float:
    """Standard deviation of ``n`` bootstrap means.

    ``std = sqrt(mean_b (m_b - mean(m))^2)`` with ``m_b = clip(mean(resample_b))``.
    Pass ``clip=(0, 1)`` to match simple-evals' HealthBench score, whose means
    are clipped to ``[0, 1]``.

    >>> bootstrap_std([1.0, 1.0, 1.0])
    0.0
    """
    means = _bootstrap_means(_as_array(values, "bootstrap_std"), n, seed)
    if clip is not None:
        means = np.clip(means, clip[0], clip[1])
    return float(np.std(means))


def bootstrap_ci(values: Sequence[float], level: float = 0.95, n: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval ``(low, high)`` of the mean.

    ``low``/``high`` are the ``(1-level)/2`` and ``(1+level)/2`` quantiles of
    ``n`` bootstrap means (Efron & Tibshirani 1993, §13.3).

    >>> bootstrap_ci([2.0, 2.0])
    (2.0, 2.0)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    means = _bootstrap_means(_as_array(values, "bootstrap_ci"), n, seed)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


class RunSummary(NamedTuple):
    """Mean over runs with a t-interval: ``mean ± half_width``."""

    mean: float
    half_width: float
    std: float
    n: int


def mean_ci_across_runs(run_means: Sequence[float], level: float = 0.95) -> RunSummary:
    """Student-t interval of the mean across independent runs.

    ``half_width = t_{(1+level)/2, n-1} · s / sqrt(n)`` with ``s`` the sample
    standard deviation (``ddof=1``) of the per-run means. With one run the
    spread is unknown and ``half_width`` and ``std`` are NaN.

    >>> s = mean_ci_across_runs([0.5, 0.7])  # t_{0.975,1} = 12.706, s/sqrt(2) = 0.1
    >>> round(s.mean, 6), round(s.half_width, 4), s.n
    (0.6, 1.2706, 2)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    arr = _as_array(run_means, "mean_ci_across_runs")
    n = int(arr.size)
    mean = float(arr.mean())
    if n < 2:
        return RunSummary(mean, math.nan, math.nan, n)
    std = float(arr.std(ddof=1))
    t = float(_sp.t.ppf((1 + level) / 2, df=n - 1))
    return RunSummary(mean, t * std / math.sqrt(n), std, n)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa ``(p_o - p_e) / (1 - p_e)`` of two raters (Cohen 1960).

    ``p_o`` is the observed agreement; ``p_e = Σ_k p_a(k) · p_b(k)`` the
    agreement expected from each rater's label frequencies. Labels may be any
    hashable values. When ``p_e = 1`` (both raters used one and the same label
    throughout) kappa is undefined and NaN is returned, as scikit-learn does.

    >>> cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0])
    0.5
    """
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs equal lengths, got {len(a)} and {len(b)}")
    if len(a) == 0:
        raise ValueError("cohen_kappa needs at least one pair")
    labels = sorted(set(a) | set(b), key=repr)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    table /= table.sum()
    p_o = float(np.trace(table))
    p_e = float(table.sum(axis=1) @ table.sum(axis=0))
    if math.isclose(p_e, 1.0):
        return math.nan
    return (p_o - p_e) / (1 - p_e)


def roc_auc(labels: Sequence[bool | int], scores: Sequence[float]) -> float:
    """Area under the ROC curve from average ranks (ties count one half).

    ``AUC = (R_+ - n_+ (n_+ + 1) / 2) / (n_+ · n_-)`` where ``R_+`` is the sum
    of the positives' ranks among all scores (Mann–Whitney U / (n_+ n_-);
    Hanley & McNeil 1982). Labels are 0/1 or booleans; both classes must occur.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"roc_auc needs two equal-length 1-d sequences, got {y.shape} and {s.shape}")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("roc_auc labels must be 0/1 or booleans")
    pos = y.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc needs at least one positive and one negative label")
    ranks = _sp.rankdata(s)  # average ranks for ties
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman rank correlation; None when either side is constant or there are fewer than 3 points."""
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return float(_sp.spearmanr(xs, ys).statistic)


def paired_difference(before: Sequence[float | None], after: Sequence[float | None], n: int = 2000,
                      seed: int = 0, level: float = 0.95) -> dict:
    """``after − before`` on the items both scored (``None`` on either side leaves the item out): the mean
    difference, a paired percentile bootstrap interval (the same items drawn for both sides), and how many
    items were better / worse / tied.

    >>> d = paired_difference([0, 1, 0, 1], [1, 1, 1, 1])
    >>> d["mean"], d["better"], d["worse"], d["tied"], d["n"]
    (0.5, 2, 0, 2, 4)
    """
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if b is not None and a is not None]
    if not pairs:
        return {"mean": None, "ci95": None, "n": 0}
    diff = np.array([a - b for b, a in pairs], dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1)
    tail = (1 - level) / 2
    return {"mean": float(diff.mean()), "ci95": [float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))],
            "n": len(diff), "better": int((diff > 0).sum()), "worse": int((diff < 0).sum()),
            "tied": int((diff == 0).sum())}
