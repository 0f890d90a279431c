"""Verdicts on synthetic item scores: improved, regressed, no change, underpowered, Holm, misuse."""

import numpy as np
import pytest

from rareval.regress.errors import RegressUsageError
from rareval.regress.gate import compare
from rareval.regress.items import MetricItems, ResultSet
from rareval.regress.suite import GPQALikelihoodTask, Suite


def results(label, **metrics):
    """``metrics``: name → list of scores (items i0, i1, ...) or (scores, kind)."""
    out = {}
    for name, scores in metrics.items():
        scores, kind = scores if isinstance(scores, tuple) else (scores, "graded")
        out[name] = MetricItems(name=name, kind=kind, scores={f"i{k:03d}": float(v) for k, v in enumerate(scores)})
    return ResultSet(label=label, metrics=out)


def rng_scores(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, n)


def verdict(cand, base, **suite):
    return {m.name: m.verdict for m in compare(cand, base, Suite(**suite)).metrics}


def test_graded_improvement_and_regression():
    base = rng_scores(200)
    better = np.clip(base + 0.15, 0, 1)
    assert verdict(results("c", hb=better), results("b", hb=base)) == {"hb": "improved"}
    gate = compare(results("c", hb=base), results("b", hb=better), Suite())
    (m,) = gate.metrics
    assert m.verdict == "regressed" and gate.exit_code == 1 and gate.regressed == ["hb"]
    assert m.difference < 0 and m.ci_high < 0 and m.test == "sign-flip (Monte Carlo)"
    assert m.worse > 0 and m.better == 0


def test_identical_scores_on_enough_items_are_no_detectable_change():
    base = rng_scores(400)
    gate = compare(results("c", hb=base), results("b", hb=base), Suite(min_effect=0.1))
    (m,) = gate.metrics
    assert m.verdict == "no detectable change" and gate.exit_code == 0
    assert m.p_value == 1.0 and m.difference == 0 and m.mde <= 0.1


def test_the_power_check_plans_as_if_unpaired_when_answers_did_not_move():
    base = rng_scores(40)
    # identical answers: no observed spread, but 40 items with sd ~0.29 each cannot promise 0.05
    (m,) = compare(results("c", hb=base), results("b", hb=base), Suite(min_effect=0.05)).metrics
    assert m.verdict == "underpowered" and m.mde == pytest.approx(
        (1.959964 + 0.841621) * np.sqrt(2 * np.var(base, ddof=1)) / np.sqrt(40), rel=1e-4)


def test_few_items_are_underpowered_whatever_they_show():
    (m,) = compare(results("c", hb=[1, 1, 1]), results("b", hb=[0, 0, 0]), Suite()).metrics
    assert m.verdict == "underpowered" and m.mde is None and m.min_items == 6
    assert m.p_value == pytest.approx(0.25)


def test_binary_items_use_mcnemar():
    base = [1] * 30 + [0] * 30
    cand = [1] * 30 + [1] * 12 + [0] * 18  # 12 wrong → right, none right → wrong
    gate = compare(results("c", ll=(cand, "binary")), results("b", ll=(base, "binary")), Suite())
    (m,) = gate.metrics
    assert m.kind == "binary" and m.test == "McNemar (exact)" and m.better == 12 and m.worse == 0
    assert m.p_value == pytest.approx(2 * 0.5 ** 12) and m.verdict == "improved"
    assert gate.diagnostics["ll"].better_total == 12


def test_holm_across_metrics_can_undo_a_marginal_result():
    base = [0] * 8
    cand = [1] * 6 + [0] * 2  # exact p = 2 / 64 = 0.031: significant alone, not beside a second metric
    alone = compare(results("c", a=cand), results("b", a=base), Suite()).metrics[0]
    assert alone.verdict == "improved"
    pair = compare(results("c", a=cand, z=rng_scores(8)), results("b", a=base, z=rng_scores(8)), Suite()).metrics
    a = next(m for m in pair if m.name == "a")
    assert a.p_holm == pytest.approx(2 * a.p_value) and a.verdict == "underpowered"


def test_only_common_items_are_paired_and_counted():
    cand = ResultSet(label="c", metrics={"m": MetricItems(name="m", kind="graded", scores={"a": 1, "b": 1, "x": 0})})
    base = ResultSet(label="b", metrics={"m": MetricItems(name="m", kind="graded", scores={"a": 0, "b": 0, "y": 1})})
    (m,) = compare(cand, base, Suite()).metrics
    assert m.items == 2 and m.only_candidate == 1 and m.only_baseline == 1 and m.difference == 1


def test_metrics_missing_or_disjoint_are_misuse():
    suite = Suite(tasks=[GPQALikelihoodTask()])
    with pytest.raises(RegressUsageError, match="candidate has no results for suite task.*gpqa_likelihood"):
        compare(results("c", hb=[1]), results("b", gpqa_likelihood=[1]), suite)
    with pytest.raises(RegressUsageError, match="no metric in common"):
        compare(results("c", hb=[1]), results("b", other=[1]), Suite())
    disjoint = ResultSet(label="b", metrics={"hb": MetricItems(name="hb", kind="graded", scores={"zz": 1})})
    with pytest.raises(RegressUsageError, match="field 'metrics.hb'.*no item in common"):
        compare(results("c", hb=[1]), disjoint, Suite())


def test_metrics_on_one_side_only_are_listed_without_a_suite():
    gate = compare(results("c", hb=[1] * 8, extra=[1]), results("b", hb=[1] * 8), Suite())
    assert [m.name for m in gate.metrics] == ["hb"] and gate.not_compared == {"extra": "only in the candidate"}


def test_a_gate_is_deterministic():
    base, cand = rng_scores(100, 1), rng_scores(100, 2)
    one = compare(results("c", hb=cand), results("b", hb=base), Suite())
    two = compare(results("c", hb=cand), results("b", hb=base), Suite())
    assert one == two
