"""HealthBench meta-evaluation: the two macro-F1 estimators and the task through the real Inspect runner."""

import math

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.scorer import SampleScore, Score

from rareval.evals.alignment import macro_f1
from rareval.data.healthbench_meta import load_healthbench_meta_eval
from rareval.evals.healthbench_meta import majority_macro_f1, meta_eval_metrics, meta_samples, pairwise_macro_f1
from tests.conftest import REPO

TINY = "tests/data/healthbench_meta_eval_tiny.jsonl"
A = "cluster:emergency_referrals_emergent_emergency_behavior"
B = "cluster:context_seeking_enough-context_helpful_safe"


def test_estimators_differ_on_split_labels():
    pred = [True, False]
    labels = [[True, False, False], [False, False]]
    # pairwise: pairs (judge, physician) = (T,T) (T,F) (T,F) (F,F) (F,F) -> TP 1, FP 2, FN 0, TN 2
    #   F1(met) = 2·1 / (2·1 + 2 + 0) = 1/2;  F1(not met) = 2·2 / (2·2 + 0 + 2) = 2/3
    #   macro = (1/2 + 2/3) / 2 = 7/12
    assert pairwise_macro_f1(pred, labels) == pytest.approx(7 / 12)
    # majority: truth = [F (1 of 3), F (0 of 2)], judge [T, F] -> TP 0, FP 1, FN 0, TN 1
    #   F1(met) = 0 / (0 + 1 + 0) = 0;  F1(not met) = 2·1 / (2·1 + 0 + 1) = 2/3;  macro = 1/3
    assert majority_macro_f1(pred, labels) == pytest.approx(1 / 3)
    assert majority_macro_f1(pred, labels) == macro_f1([False, False], pred)


def test_abstentions_and_undefined_classes():
    # an abstention is left out, not read as "not met": the same numbers as without the row
    labels = [[True, False, False], [True], [False, False]]
    assert pairwise_macro_f1([True, None, False], labels) == pytest.approx(7 / 12)
    assert majority_macro_f1([True, None, False], labels) == pytest.approx(1 / 3)
    assert pairwise_macro_f1([None], [[True]]) is None and majority_macro_f1([None], [[True]]) is None
    # simple-evals: the judge never says "met" -> precision(met) undefined -> no pairwise value
    assert pairwise_macro_f1([False, False], [[True], [False]]) is None
    # sklearn macro over labels [False, True]: F1(met) = 0 -> macro = (0 + 2·1/(2·1 + 1)) / 2 = 1/3
    assert majority_macro_f1([False, False], [[True], [False]]) == pytest.approx(1 / 3)


def test_metric_reads_score_metadata():
    def s(i, met, labels, category):
        return SampleScore(score=Score(value="N" if met is None else float(met),
                                       metadata={"judge_met": met, "binary_labels": labels, "category": category}),
                           sample_id=i)

    m = meta_eval_metrics()([s(0, True, [True, False, False], "x"), s(1, False, [False, False], "x"),
                             s(2, None, [True], "y")])
    assert m["pairwise_macro_f1"] == pytest.approx(7 / 12) and m["majority_macro_f1"] == pytest.approx(1 / 3)
    assert m["abstention_rate"] == pytest.approx(1 / 3) and m["n_judged"] == 2
    assert m["x/pairwise_macro_f1"] == pytest.approx(7 / 12) and "y/pairwise_macro_f1" not in m


def test_fixture_samples():
    rows = load_healthbench_meta_eval(REPO / TINY)
    samples = meta_samples(rows)
    assert len(samples) == 6 and len({s.id for s in samples}) == 6  # c1 and c3 carry two criteria each
    assert [r.majority_label for r in rows] == [True, False, False, False, False, True]
    assert samples[3].metadata["binary_labels"] == [True, False] and samples[5].input[0].role == "system"


def test_task_end_to_end_with_scripted_judge(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    logs = inspect_eval("tasks/healthbench_meta_eval.py", model="scripted/keyword", task_args={"path": TINY},
                        log_dir=str(tmp_path), display="none")
    log = logs[0]
    assert log.status == "success" and len(log.samples) == 6
    # the keyword judge: met iff every quoted keyword is in the completion -> T F T F T F in file order
    order = [s.id for s in meta_samples(load_healthbench_meta_eval(REPO / TINY))]
    by_id = {s.id: s.scores["meta_eval_scorer"].metadata["judge_met"] for s in log.samples}
    assert [by_id[i] for i in order] == [True, False, True, False, True, False]
    p_met = sorted(round(s.scores["meta_eval_scorer"].metadata["p_met"], 6) for s in log.samples)
    assert p_met == [0.1] * 3 + [0.9] * 3  # P(yes) from the scripted logprobs
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    # pairwise, one pair per physician label:
    #   row 1 T vs TTT: TP 3 | row 2 F vs FFF: TN 3 | row 3 T vs TFF: TP 1, FP 2
    #   row 4 F vs TF: FN 1, TN 1 | row 5 T vs FFF: FP 3 | row 6 F vs TTF: FN 2, TN 1
    #   TP 4, FP 5, FN 3, TN 5 (16 pairs)
    #   F1(met) = 8 / (8 + 5 + 3) = 1/2;  F1(not met) = 10 / (10 + 3 + 5) = 5/9;  macro = 19/36
    assert m["pairwise_macro_f1"] == pytest.approx(19 / 36)
    # majority truth T F F F(tie) F T vs judge T F T F T F: TP 1, FP 2, FN 1, TN 2
    #   F1(met) = 2 / (2 + 2 + 1) = 2/5;  F1(not met) = 4 / (4 + 1 + 2) = 4/7;  macro = 17/35
    assert m["majority_macro_f1"] == pytest.approx(17 / 35)
    # per category: A = rows 1-3: TP 4, FP 2, FN 0, TN 3 -> (8/10 + 6/8) / 2 = 0.775
    #               B = rows 4-6: TP 0, FP 3, FN 3, TN 2 -> (0 + 4/10) / 2 = 0.2
    assert m[f"{A}/pairwise_macro_f1"] == pytest.approx(0.775)
    assert m[f"{B}/pairwise_macro_f1"] == pytest.approx(0.2)
    assert m["abstention_rate"] == 0.0 and m["n_judged"] == 6


def test_abstaining_judge_is_not_scored_as_not_met(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    logs = inspect_eval("tasks/healthbench_meta_eval.py", model="scripted/malformed", task_args={"path": TINY},
                        log_dir=str(tmp_path), display="none")
    log = logs[0]
    assert log.status == "success" and len(log.samples) == 6
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert m["abstention_rate"] == 1.0 and m["n_judged"] == 0
    assert math.isnan(m["pairwise_macro_f1"]) and math.isnan(m["majority_macro_f1"])
    # read as "not met" (inspect_evals' fallback), the same run would get a majority macro F1 of
    # (F1(met) 0 + F1(not met) 2·4 / (2·4 + 2 + 0)) / 2 = 0.4 against truth T F F F F T
    labels = [r.binary_labels for r in load_healthbench_meta_eval(REPO / TINY)]
    assert majority_macro_f1([False] * 6, labels) == pytest.approx(0.4)
    assert all(s.scores["meta_eval_scorer"].value == "N" and s.scores["meta_eval_scorer"].metadata["judge_met"] is None
               for s in log.samples)


def test_meta_eval_criteria_get_the_healthbench_tasks_threshold():
    """A consensus criterion is of kind ``level:cluster`` in both tasks (it was judged at the
    'positive' threshold in the meta-eval, a threshold the HealthBench task never uses for it)."""
    from rareval.evals.healthbench_meta import consensus_criterion
    from rareval.judge import Judge, JudgeConfig
    from rareval.judge.calibration import criterion_kind
    from rareval.rubric import Rubric

    cluster = "cluster:emergency_referrals_emergent_emergency_behavior"
    text = "Advises 'rest' and 'fluids'."
    in_meta = consensus_criterion(text, cluster)
    in_healthbench = Rubric.from_healthbench([{"criterion": text, "points": 5, "tags": ["level:cluster", cluster]}])[0]
    calibrated = {"default": 0.5, "level:cluster": 0.296, "pitfall": 0.568, "positive": 0.457}  # qwen-1.5b's
    assert criterion_kind(in_meta, calibrated) == criterion_kind(in_healthbench, calibrated) == "level:cluster"
    judge = Judge("scripted/keyword", config=JudgeConfig(thresholds={"level:cluster": 0.95, "positive": 0.05}))
    assert judge.threshold_for(in_meta) == judge.threshold_for(in_healthbench) == 0.95

