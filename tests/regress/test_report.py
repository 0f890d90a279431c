"""The Markdown and JSON reports."""

import json

from rareval.regress.gate import compare
from rareval.regress.items import load_results
from rareval.regress.report import json_report, markdown
from rareval.regress.suite import Suite
from tests.regress.test_gate import results, rng_scores


def gate_pair():
    base = rng_scores(60)
    cand = base.copy()
    cand[:20] = 0.0  # a third of the items collapse
    c, b = results("cand", hb=cand, ll=([1] * 3, "binary")), results("base", hb=base, ll=([0] * 3, "binary"))
    return compare(c, b, Suite()), c, b


def test_markdown_has_the_verdicts_the_numbers_and_their_meaning():
    result, _, _ = gate_pair()
    text = markdown(result)
    assert text.startswith("## rareval regress: REGRESSED (exit 1)")
    assert "| metric | items | baseline | candidate | Δ (95% CI) | worse / better | p (Holm) |" in text
    hb = next(line for line in text.splitlines() if line.startswith("| hb |"))
    assert "60 graded" in hb and "**regressed**" in hb and "20 / 0" in hb
    ll = next(line for line in text.splitlines() if line.startswith("| ll |"))
    assert "3 binary" in ll and "none (needs ≥ 7 changed items)" in ll and "underpowered" in ll
    assert "Why `hb` moved" in text and "Lower for the candidate (20 items)" in text
    assert "*regressed* — significantly worse" in text and "*underpowered* — " in text
    assert "Holm over 2 metrics" in text and "hb: sign-flip (Monte Carlo)" in text
    assert markdown(result) == text  # no timestamps: an unchanged re-run prints the same report


def test_json_report_is_the_next_gates_baseline():
    result, cand, base = gate_pair()
    report = json.loads(json.dumps(json_report(result, cand, base)))
    assert report["format"] == "rareval.regress.report/1" and report["exit_code"] == 1
    assert report["status"] == "regressed"
    assert {m["name"]: m["verdict"] for m in report["gate"]["metrics"]} == {"hb": "regressed", "ll": "underpowered"}
    assert report["gate"]["metrics"][1]["mde"] is None  # "nothing detectable" is null, not Infinity


def test_a_stored_report_loads_as_its_candidates_results(tmp_path):
    result, cand, base = gate_pair()
    path = tmp_path / "report.json"
    path.write_text(json.dumps(json_report(result, cand, base)))
    assert load_results(path) == cand


def test_both_reports_count_each_sides_scored_abstained_and_refused_items():
    from rareval.regress.items import MetricItems, ResultSet

    def side(label, scored, abstained, refused):
        items = MetricItems(name="hb", kind="graded", scores={i: 0.5 for i in scored},
                            unscored=[*abstained, *refused], refused=list(refused))
        return ResultSet(label=label, metrics={"hb": items})

    ids = [f"e{k:02d}" for k in range(41)]
    # the baseline scored 40 items, its judge abstained on e40; the candidate scored 35 of the same 40, its
    # judge abstained on 3 and it refused 2, and its results do not hold e40 at all
    base = side("base", ids[:40], ids[40:], [])
    cand = side("cand", ids[:35], ids[35:38], ids[38:40])
    result = compare(cand, base, Suite(coverage_tolerance=0.1))
    text = markdown(result)
    assert "coverage tolerance 0.1" in text and "may fall at most 0.1 below the baseline's" in text
    assert "| hb | 41 | 40 · 1 · 0 | 35 · 3 · 2 (+1 absent) | 0.976 → 0.854 (-0.122) | **lost** |" in text
    assert "**regressed (coverage)** (paired: no detectable change)" in text and "*regressed (coverage)* — " in text
    coverage = json_report(result, cand, base)["gate"]["metrics"][0]["coverage"]
    # stored results without the reasons (written before MetricItems.lost) have none to give
    assert coverage["baseline"] == {"items": 41, "scored": 40, "abstained": 1, "refused": 0, "absent": 0,
                                    "share": 40 / 41, "lost": {}}
    assert coverage["candidate"] == {"items": 41, "scored": 35, "abstained": 3, "refused": 2, "absent": 1,
                                     "share": 35 / 41, "lost": {}}
    assert "Why items were not scored" not in text
    assert coverage["drop"] == 5 / 41 and coverage["lost"] and coverage["tolerance"] == 0.1
