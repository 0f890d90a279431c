"""The gate: compare two models item by item, one verdict per metric, one exit code.

For each metric the items both models scored are paired, ``d_i = candidate_i −
baseline_i``, and:

* ``difference`` = mean ``d_i`` with a ``1 − α`` paired percentile bootstrap interval;
* ``p`` from McNemar's test (binary items) or the paired sign-flip test (graded
  items), :mod:`rareval.regress.stats`; Holm-adjusted across the gated metrics;
* ``mde`` — the smallest difference the items could detect with the suite's power
  at the strictest Holm level ``α / m`` (:func:`~rareval.regress.stats.minimum_detectable_effect`),
  planned with ``sd = max(sd(d), √(var(candidate) + var(baseline)))``: the spread of
  the differences as observed or as if the two models' scores were unrelated,
  whichever is larger. Identical answers on every item show no spread at all; the
  unpaired term keeps them from claiming a power they never demonstrated.

Verdicts, higher scores being better:

* **regressed** / **improved** — Holm-adjusted ``p < α`` and the difference is
  negative / positive;
* **no detectable change** — not significant, and the items could have detected a
  change of ``min_effect`` (``mde ≤ min_effect``);
* **underpowered** — not significant, and they could not (``mde > min_effect``);
  the report gives ``mde``, the smallest change they could have detected;
* **regressed (coverage)** — the candidate scored a share of the metric's items more
  than the suite's ``coverage_tolerance`` below the baseline's
  (:mod:`rareval.regress.coverage`: items lost to judge abstentions, refusals or
  errors). Decided before and whatever the paired statistics: the items a candidate
  loses are exactly the ones the pairs cannot see. ``paired_verdict`` keeps what
  the pairs alone said.

The exit code is 1 when any metric regressed (in score or coverage), else 0.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from rareval.regress.coverage import Coverage, coverage
from rareval.regress.errors import RegressUsageError
from rareval.regress.items import MetricItems, ResultSet
from rareval.regress.stats import (EXACT_FLIPS, holm, mcnemar, min_changed_items, minimum_detectable_effect,
                                   planning_sd, sign_flip_test)
from rareval.regress.suite import Suite
from rareval.regress.why import Diagnostics, diagnose
from rareval.stats import bootstrap_ci

__all__ = ["GateResult", "MetricResult", "PairedVerdict", "Verdict", "compare"]

PairedVerdict = Literal["regressed", "improved", "no detectable change", "underpowered"]
Verdict = Literal["regressed", "improved", "no detectable change", "underpowered", "regressed (coverage)"]
REGRESSED = ("regressed", "regressed (coverage)")


class MetricResult(BaseModel):
    """One gated metric: the paired comparison and its verdict."""

    name: str
    kind: Literal["graded", "binary"]
    test: str = Field(description="Test that gave p: 'sign-flip (exact)', 'sign-flip (Monte Carlo)', "
                      "'McNemar (exact)', 'McNemar (chi-square)', or 'none' when no item was scored by both.")
    items: int = Field(description="Items both models scored (the pairs compared).")
    only_candidate: int = Field(0, description="Items only the candidate scored (not compared).")
    only_baseline: int = Field(0, description="Items only the baseline scored (not compared).")
    baseline: float | None = Field(description="Baseline mean over the paired items (None: no pair).")
    candidate: float | None = Field(description="Candidate mean over the paired items (None: no pair).")
    difference: float | None = Field(description="Mean of candidate − baseline over the paired items "
                                     "(None: no pair).")
    ci_low: float | None
    ci_high: float | None
    ci_level: float
    worse: int = Field(description="Items that scored lower for the candidate (binary: right → wrong).")
    better: int = Field(description="Items that scored higher for the candidate (binary: wrong → right).")
    p_value: float
    p_holm: float
    mde: float | None = Field(description="Smallest detectable difference; None: no difference is detectable "
                              "with so few items.")
    min_items: int = Field(description="Fewest items an exact test needs, all moving one way, to reach α / m.")
    coverage: Coverage = Field(description="Each side's scored, abstained, refused and absent items.")
    paired_verdict: PairedVerdict = Field(description="What the paired statistics on the shared items alone say.")
    verdict: Verdict = Field(description="The gate's verdict: 'regressed (coverage)' when the candidate lost "
                             "coverage beyond the tolerance, else paired_verdict.")


class GateResult(BaseModel):
    """Everything the gate decided, and why."""

    candidate: str
    baseline: str
    suite: str
    alpha: float
    min_effect: float
    power: float
    coverage_tolerance: float = 0.02
    metrics: list[MetricResult]
    not_compared: dict[str, str] = Field(default_factory=dict, description="Metric → why it was not compared.")
    diagnostics: dict[str, Diagnostics] = Field(default_factory=dict)
    judge_calls: dict[str, int] = Field(default_factory=dict, description="'candidate' / 'baseline' → judge calls "
                                        "their scores cost (verdict-cache hits excluded).")
    judge_cached: dict[str, int] = Field(default_factory=dict)

    @property
    def regressed(self) -> list[str]:
        """Metrics that fail the gate: regressed in score or in coverage."""
        return [m.name for m in self.metrics if m.verdict in REGRESSED]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0


def _test(kind: str, cand: np.ndarray, base: np.ndarray, suite: Suite) -> tuple[float, str]:
    d = cand - base
    if kind == "binary":
        result = mcnemar(int(np.sum(d < 0)), int(np.sum(d > 0)), exact_below=suite.exact_below)
        return result.p_value, "McNemar (exact)" if result.exact else "McNemar (chi-square)"
    exact = int(np.count_nonzero(d)) <= EXACT_FLIPS
    return (sign_flip_test(d, resamples=suite.resamples, seed=suite.seed),
            "sign-flip (exact)" if exact else "sign-flip (Monte Carlo)")


def _unpaired(name: str, cand: MetricItems, base: MetricItems, cover: Coverage, suite: Suite, m: int
              ) -> MetricResult:
    """A metric with no item both sides scored, gated on coverage alone (the pairs have nothing to say)."""
    return MetricResult(
        name=name, kind="binary" if cand.kind == base.kind == "binary" else "graded", test="none", items=0,
        only_candidate=len(cand.scores), only_baseline=len(base.scores), baseline=None, candidate=None,
        difference=None, ci_low=None, ci_high=None, ci_level=1 - suite.alpha, worse=0, better=0, p_value=1.0,
        p_holm=1.0, mde=None, min_items=min_changed_items(suite.alpha / m), coverage=cover,
        paired_verdict="underpowered", verdict="underpowered")


def _metric(name: str, cand: MetricItems, base: MetricItems, suite: Suite, m: int) -> tuple[MetricResult, list[str]]:
    items = sorted(set(cand.scores) & set(base.scores))
    cover = coverage(cand, base, suite.coverage_tolerance)
    if not items:
        if cover.lost:  # a candidate that lost every item is the worst regression, not misuse
            return _unpaired(name, cand, base, cover, suite, m), []
        raise RegressUsageError(f"candidate and baseline scored no item in common (candidate: {len(cand.scores)}, "
                                f"baseline: {len(base.scores)})", field=f"metrics.{name}")
    kind = "binary" if cand.kind == base.kind == "binary" else "graded"
    c = np.array([cand.scores[i] for i in items])
    b = np.array([base.scores[i] for i in items])
    p, test = _test(kind, c, b, suite)
    low, high = bootstrap_ci(c - b, level=1 - suite.alpha, n=suite.resamples, seed=suite.seed)
    mde = minimum_detectable_effect(len(items), planning_sd(c, b), suite.alpha / m, suite.power,
                                    binary=kind == "binary")
    result = MetricResult(
        name=name, kind=kind, test=test, items=len(items), only_candidate=len(set(cand.scores) - set(items)),
        only_baseline=len(set(base.scores) - set(items)), baseline=float(b.mean()), candidate=float(c.mean()),
        difference=float((c - b).mean()), ci_low=low, ci_high=high, ci_level=1 - suite.alpha,
        worse=int(np.sum(c < b)), better=int(np.sum(c > b)), p_value=p, p_holm=p,
        mde=None if math.isinf(mde) else mde, min_items=min_changed_items(suite.alpha / m), coverage=cover,
        paired_verdict="no detectable change", verdict="no detectable change")
    return result, items


def _paired_verdict(result: MetricResult, suite: Suite) -> PairedVerdict:
    if result.difference and result.p_holm < suite.alpha:
        return "improved" if result.difference > 0 else "regressed"
    if result.mde is None or result.mde > suite.min_effect:
        return "underpowered"
    return "no detectable change"


def _verdict(result: MetricResult, suite: Suite) -> MetricResult:
    """The paired verdict, overruled by a coverage loss beyond the tolerance."""
    paired = _paired_verdict(result, suite)
    return result.model_copy(update={"paired_verdict": paired,
                                     "verdict": "regressed (coverage)" if result.coverage.lost else paired})


def _selected(candidate: ResultSet, baseline: ResultSet, suite: Suite) -> tuple[list[str], dict[str, str]]:
    if suite.tasks:
        for side, results in (("candidate", candidate), ("baseline", baseline)):
            missing = [t.name for t in suite.tasks if t.name not in results.metrics]
            if missing:
                raise RegressUsageError(f"the {side} has no results for suite task(s) {', '.join(missing)} "
                                        f"(it has: {', '.join(results.metrics) or 'none'})", file=results.label,
                                        field="tasks")
        names = [t.name for t in suite.tasks]
    else:
        names = [n for n in candidate.metrics if n in baseline.metrics]
    skipped = {n: f"only in the {side}" for side, res, other in (("candidate", candidate, baseline),
                                                                 ("baseline", baseline, candidate))
               for n in res.metrics if n not in other.metrics}
    if not names:
        raise RegressUsageError(f"no metric in common: candidate has {', '.join(candidate.metrics) or 'none'}, "
                                f"baseline has {', '.join(baseline.metrics) or 'none'}", field="metrics")
    return names, skipped


def _check_suite(results: ResultSet, suite: Suite) -> None:
    """Stored results must come from this suite (or say nothing about their suite)."""
    if not suite.tasks:
        return
    for name, items in results.metrics.items():
        if items.suite is not None and items.suite != suite.fingerprint():
            raise RegressUsageError(f"produced by suite {items.suite}, this gate pins {suite.fingerprint()}: "
                                    f"re-run it with this suite", file=items.source or results.label,
                                    field=f"metrics.{name}.suite")


def compare(candidate: ResultSet, baseline: ResultSet, suite: Suite) -> GateResult:
    """Gate ``candidate`` against ``baseline`` with the suite's decision rule."""
    for results in (candidate, baseline):
        _check_suite(results, suite)
    names, skipped = _selected(candidate, baseline, suite)
    pairs = []
    for name in names:
        result, items = _metric(name, candidate.metrics[name], baseline.metrics[name], suite, len(names))
        pairs.append((result, items))
    adjusted = holm([r.p_value for r, _ in pairs])
    metrics, diagnostics = [], {}
    for (result, items), p_holm in zip(pairs, adjusted, strict=True):
        result = _verdict(result.model_copy(update={"p_holm": p_holm}), suite)
        metrics.append(result)
        if result.worse or result.better:
            diagnostics[result.name] = diagnose(candidate.metrics[result.name], baseline.metrics[result.name],
                                                items, resamples=min(suite.resamples, 2_000), seed=suite.seed)
    return GateResult(candidate=candidate.label, baseline=baseline.label, suite=suite.fingerprint(),
                      alpha=suite.alpha, min_effect=suite.min_effect, power=suite.power,
                      coverage_tolerance=suite.coverage_tolerance, metrics=metrics,
                      not_compared=skipped, diagnostics=diagnostics,
                      judge_calls={"candidate": candidate.judge_calls, "baseline": baseline.judge_calls},
                      judge_cached={"candidate": candidate.judge_cached, "baseline": baseline.judge_cached})

