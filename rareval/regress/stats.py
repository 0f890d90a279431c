"""Paired tests for the regression gate: sign-flip, McNemar, Holm, minimum detectable effect.

Two checkpoints answer the same items, so every comparison is paired item by item
(``d_i = candidate_i − baseline_i``):

* graded items (a score per item): the **paired sign-flip randomization test** of
  the mean difference (Fisher 1935, §21; Good 2005, §3.1) — under "no change" each
  ``d_i`` is as likely to have come out as ``−d_i``. Exact by enumeration for up to
  :data:`EXACT_FLIPS` nonzero differences, else Monte Carlo with the
  ``(1 + hits) / (1 + B)`` estimate (Phipson & Smyth 2010). The interval reported
  beside it is the paired percentile bootstrap of the mean difference
  (:func:`rareval.stats.bootstrap_ci` on the ``d_i``);
* binary items (right or wrong): **McNemar's test** on the discordant pairs
  (McNemar 1947) — exact binomial when there are few (``b + c < exact_below``),
  else chi-square with Edwards' continuity correction. On 0/1 items the exact
  sign-flip test *is* the exact McNemar test, so the two kinds agree;
* several metrics: **Holm's step-down correction** (Holm 1979);
* power: :func:`minimum_detectable_effect`, the smallest mean difference the items
  could detect at a given level and power.

All functions are pure and seeded where random.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats as _sp

__all__ = [
    "EXACT_FLIPS",
    "McNemarResult",
    "holm",
    "mcnemar",
    "minimum_detectable_effect",
    "min_changed_items",
    "planning_sd",
    "sign_flip_test",
]

#: Up to this many nonzero differences the sign-flip test enumerates all ``2^k`` sign patterns.
EXACT_FLIPS = 16


def sign_flip_test(differences: Sequence[float], resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided p-value of the paired sign-flip test that the mean difference is zero.

    ``p = P(|Σ s_i |d_i|| ≥ |Σ d_i|)`` over independent random signs ``s_i = ±1``; zero
    differences carry no sign and drop out. With ``k ≤ EXACT_FLIPS`` nonzero differences
    all ``2^k`` patterns are counted (smallest possible p: ``2 / 2^k``); otherwise
    ``resamples`` patterns are drawn and ``p = (1 + hits) / (1 + resamples)``.

    >>> sign_flip_test([0.5] * 6)  # all six moved the same way: 2 of 64 patterns
    0.03125
    >>> sign_flip_test([0.0, 0.0])
    1.0
    """
    d = np.asarray(differences, dtype=float).ravel()
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    observed = abs(d.sum())
    tol = 1e-9 * max(1.0, float(np.abs(d).sum()))  # equal sums must count as "as extreme"
    magnitudes = np.abs(d)
    if d.size <= EXACT_FLIPS:
        patterns = ((np.arange(2 ** d.size)[:, None] >> np.arange(d.size)) & 1) * 2 - 1
        sums = np.abs(patterns @ magnitudes)
        return float(np.mean(sums >= observed - tol))
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, resamples, 2_000):  # bounded memory for long suites
        signs = rng.choice((-1.0, 1.0), size=(min(2_000, resamples - start), d.size))
        hits += int(np.sum(np.abs(signs @ magnitudes) >= observed - tol))
    return (1 + hits) / (1 + resamples)


class McNemarResult(NamedTuple):
    """McNemar's test on ``b`` (right → wrong) and ``c`` (wrong → right) discordant pairs."""

    p_value: float
    statistic: float
    exact: bool


def mcnemar(b: int, c: int, exact_below: int = 25) -> McNemarResult:
    """McNemar's test of equal discordant counts (McNemar 1947).

    Exact (``b + c < exact_below``): ``p = min(1, 2 · P(X ≤ min(b, c)))`` with
    ``X ~ Binomial(b + c, 1/2)``, the statistic ``min(b, c)`` — the same p-value as
    ``scipy.stats.binomtest(b, b + c, 0.5)``. Otherwise chi-square with Edwards'
    continuity correction, ``χ² = max(|b − c| − 1, 0)² / (b + c)`` on one degree of
    freedom. No discordant pair gives ``p = 1``.

    >>> mcnemar(0, 6).p_value
    0.03125
    >>> round(mcnemar(10, 30).p_value, 5)  # chi-square: (20 - 1)^2 / 40 = 9.025
    0.00266
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return McNemarResult(1.0, 0.0, True)
    if n < exact_below:
        k = min(b, c)
        return McNemarResult(float(min(1.0, 2 * _sp.binom.cdf(k, n, 0.5))), float(k), True)
    chi2 = max(abs(b - c) - 1, 0) ** 2 / n
    return McNemarResult(float(_sp.chi2.sf(chi2, 1)), float(chi2), False)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (Holm 1979).

    With ``p_(1) ≤ … ≤ p_(m)`` sorted, ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))``;
    rejecting every hypothesis with ``p̃ < α`` controls the family-wise error at ``α``.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = round(running, 15)
    return adjusted


def min_changed_items(alpha: float) -> int:
    """Fewest items that must all move the same way before a two-sided exact paired test
    can reach ``p ≤ alpha``: the smallest ``k`` with ``2 · 2^−k ≤ alpha``.

    >>> min_changed_items(0.05)
    6
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return max(1, math.ceil(math.log2(2 / alpha) - 1e-12))


def planning_sd(after: Sequence[float], before: Sequence[float]) -> float:
    """The spread of paired differences to plan a detectable effect with: the larger of the observed
    standard deviation of ``after − before`` and the one the two sides would give if unrelated
    (``√(var(after) + var(before))``), so a few identical pairs do not promise a tiny effect. 0 below 2 pairs.

    >>> planning_sd([1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0])  # identical pairs: planned as if unrelated
    0.816496580927726
    """
    a, b = np.asarray(after, dtype=float), np.asarray(before, dtype=float)
    if a.size < 2:
        return 0.0
    return float(max(np.std(a - b, ddof=1), math.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1))))


def minimum_detectable_effect(n: int, sd: float, alpha: float, power: float = 0.8, binary: bool = False) -> float:
    """Smallest mean difference ``n`` paired items detect with probability ``power`` at level ``alpha``.

    Normal approximation for a paired comparison (Cohen 1988, §2.3; for McNemar,
    Connor 1987): ``δ = (z_{1−α/2} + z_{power}) · sd / √n``, where ``sd`` is the
    standard deviation of the per-item differences to plan with. Two floors from the
    exact tests: with fewer than :func:`min_changed_items` items no effect can be
    detected (``inf``), and on binary items at least that many must flip, so
    ``δ ≥ min_changed_items(alpha) / n``.

    >>> round(minimum_detectable_effect(100, 0.5, 0.05), 4)  # (1.96 + 0.8416) * 0.5 / 10
    0.1401
    >>> minimum_detectable_effect(5, 0.5, 0.05)
    inf
    """
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power}")
    floor = min_changed_items(alpha)
    if n < floor:
        return math.inf
    z = float(_sp.norm.ppf(1 - alpha / 2) + _sp.norm.ppf(power))
    effect = z * max(sd, 0.0) / math.sqrt(n)
    return max(effect, floor / n) if binary else effect
