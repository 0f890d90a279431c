"""The gate's report: Markdown for a CI log or a PR comment, JSON for machines.

The JSON report holds the decision (:class:`~rareval.regress.gate.GateResult`) and
both sides' per-item results, so it can be handed to the next gate as
``--baseline``: its candidate becomes that gate's baseline. Neither report holds a
timestamp, so an unchanged re-run writes the same bytes.

Both give, per metric and side, the items scored, abstained (the judge abstained,
or the score is missing or NaN) and refused (the model under test refused or
errored), as :mod:`rareval.regress.coverage` defines them, and why each unscored item
was lost (the sample's error, the model's refusal, the judge's reason); the JSON report
in each metric's ``coverage``.
"""

from __future__ import annotations

import json
from typing import Any

from rareval.regress.coverage import Coverage, SideCoverage
from rareval.regress.gate import GateResult, MetricResult
from rareval.regress.items import ResultSet
from rareval.regress.why import Diagnostics

__all__ = ["REPORT_FORMAT", "json_report", "markdown"]

REPORT_FORMAT = "rareval.regress.report/1"

MEANINGS = {
    "regressed": "significantly worse after Holm correction — the gate fails (exit 1)",
    "improved": "significantly better after Holm correction",
    "no detectable change": "no significant change, and the items could have detected one of the minimum effect",
    "underpowered": "no significant change, but the items could not have detected the minimum effect either: "
                    "the smallest detectable change is given; add items",
    "regressed (coverage)": "the candidate scored a share of the items more than the coverage tolerance below "
                            "the baseline's (lost to judge abstentions, refusals or errors) — the gate fails "
                            "(exit 1) whatever the paired statistics on the shared items say",
}


def _signed(x: float) -> str:
    return f"{x:+.3f}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


def _mde(m: MetricResult) -> str:
    return f"none (needs ≥ {m.min_items} changed items)" if m.mde is None else f"{m.mde:.3f}"


def _mean(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _verdict(m: MetricResult) -> str:
    if m.verdict == "regressed (coverage)":
        return f"**{m.verdict}** (paired: {m.paired_verdict})"
    return f"**{m.verdict}**" if m.verdict in ("regressed", "improved") else m.verdict


def _metric_row(m: MetricResult) -> str:
    if m.difference is None or m.ci_low is None or m.ci_high is None:
        change = "– (no item scored by both)"
    else:
        change = f"{_signed(m.difference)} [{_signed(m.ci_low)}, {_signed(m.ci_high)}]"
    return (f"| {m.name} | {m.items} {m.kind} | {_mean(m.baseline)} | {_mean(m.candidate)} | {change} "
            f"| {m.worse} / {m.better} | {_p(m.p_value)} ({_p(m.p_holm)}) | {_mde(m)} | {_verdict(m)} |")


def _counts(side: SideCoverage) -> str:
    absent = f" (+{side.absent} absent)" if side.absent else ""
    return f"{side.scored} · {side.abstained} · {side.refused}{absent}"


def _coverage_row(name: str, c: Coverage) -> str:
    state = "**lost**" if c.lost else "kept"
    change = _signed(c.candidate.share - c.baseline.share)
    return (f"| {name} | {c.baseline.items} | {_counts(c.baseline)} | {_counts(c.candidate)} | "
            f"{c.baseline.share:.3f} → {c.candidate.share:.3f} ({change}) | {state} |")


def _lost(name: str, side: str, lost: dict[str, str], shown: int = 6) -> list[str]:
    """One line per reason a side lost items of a metric, its items named (the first ``shown``)."""
    by_reason: dict[str, list[str]] = {}
    for item, why in lost.items():
        by_reason.setdefault(why, []).append(item)
    return [f"- `{name}`, {side}: {len(items)} item{'s' * (len(items) != 1)} — {why} "
            f"({', '.join(f'`{i}`' for i in items[:shown])}{' …' if len(items) > shown else ''})"
            for why, items in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _coverage(result: GateResult) -> list[str]:
    lines = [f"Coverage — items scored · abstained (judge abstained, score missing or NaN) · refused (the model "
             f"refused or errored); the candidate's share scored may fall at most {result.coverage_tolerance:g} "
             f"below the baseline's:", "",
             "| metric | items | baseline | candidate | share scored | coverage |", "|---|---|---|---|---|---|",
             *(_coverage_row(x.name, x.coverage) for x in result.metrics), ""]
    lost = [line for x in result.metrics for side in ("candidate", "baseline")
            for line in _lost(x.name, side, getattr(x.coverage, side).lost)]
    return lines + (["Why items were not scored:", "", *lost, ""] if lost else [])


def _why(name: str, d: Diagnostics, kind: str) -> list[str]:
    lines = [f"### Why `{name}` moved", ""]
    if d.categories:
        lines += ["Rubric categories (paired criterion verdicts; for pitfalls *met* means the mistake is made):", "",
                  "| category | verdicts | baseline met | candidate met | Δ | newly met | newly unmet |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {c.category}{' (lower is better)' if c.lower_is_better else ''} | {c.judgements} | "
                  f"{c.baseline_met:.2f} | {c.candidate_met:.2f} | {_signed(c.candidate_met - c.baseline_met)} | "
                  f"{c.newly_met} | {c.newly_unmet} |" for c in d.categories]
        lines.append("")
    if d.tags:
        lines += ["HealthBench axes and other rubric tags (exploratory, not corrected):", "",
                  "| tag | items | baseline | candidate | Δ (95% CI) |", "|---|---|---|---|---|"]
        lines += [f"| {t.tag} | {t.items} | {t.baseline:.3f} | {t.candidate:.3f} | {_signed(t.difference)} "
                  f"[{_signed(t.ci_low)}, {_signed(t.ci_high)}] |" for t in d.tags]
        lines.append("")
    if kind == "binary":
        for label, items, total in (("Right → wrong", d.worse_items, d.worse_total),
                                    ("Wrong → right", d.better_items, d.better_total)):
            if total:
                shown = ", ".join(f"`{c.item}`" for c in items)
                lines.append(f"- {label} ({total}): {shown}{' …' if total > len(items) else ''}")
    else:
        for label, items, total in (("Lower", d.worse_items, d.worse_total),
                                    ("Higher", d.better_items, d.better_total)):
            if total:
                shown = ", ".join(f"`{c.item}` {c.baseline:.2f} → {c.candidate:.2f}" for c in items)
                more = " …" if total > len(items) else ""
                lines.append(f"- {label} for the candidate ({total} items): {shown}{more}")
    if d.criterion_flips:
        lines += ["", f"Criteria whose verdict flipped ({d.criterion_flips_total} verdicts; worse first):", ""]
        for f in d.criterion_flips:
            state = {True: "met", False: "not met"}
            shown = ", ".join(f"`{i}`" for i in f.items[:8]) + (" …" if len(f.items) > 8 else "")
            lines.append(f"- {'worse' if f.worse else 'better'} · {f.category} · {f.text!r}: "
                         f"{state[f.baseline_met]} → {state[f.candidate_met]} on {len(f.items)} item"
                         f"{'s' * (len(f.items) != 1)} ({shown})")
    return lines + [""]


def markdown(result: GateResult) -> str:
    """The report as Markdown."""
    status = "REGRESSED" if result.regressed else "PASSED"
    m = len(result.metrics)
    lines = [
        f"## rareval regress: {status} (exit {result.exit_code})", "",
        f"- candidate: `{result.candidate}`",
        f"- baseline: `{result.baseline}`",
        f"- suite `{result.suite}`: α = {result.alpha:g} family-wise (Holm over {m} metric{'s' * (m != 1)}), "
        f"minimum effect {result.min_effect:g}, power {result.power:g}, coverage tolerance "
        f"{result.coverage_tolerance:g}",
        f"- judge calls: candidate {result.judge_calls.get('candidate', 0)} "
        f"({result.judge_cached.get('candidate', 0)} from cache), baseline {result.judge_calls.get('baseline', 0)} "
        f"({result.judge_cached.get('baseline', 0)} from cache)", "",
        f"| metric | items | baseline | candidate | Δ ({result.metrics[0].ci_level:.0%} CI) | worse / better | "
        "p (Holm) | smallest detectable Δ | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_metric_row(x) for x in result.metrics), "",
    ]
    lines += [f"Tests: {', '.join(f'{x.name}: {x.test}' for x in result.metrics)}.", ""]
    lines += _coverage(result)
    for name, why in result.not_compared.items():
        lines.append(f"Not compared: `{name}` ({why}).")
    if result.not_compared:
        lines.append("")
    for x in result.metrics:
        if x.name in result.diagnostics:
            lines += _why(x.name, result.diagnostics[x.name], x.kind)
    seen = sorted({x.verdict for x in result.metrics})
    lines += ["Verdicts: " + "; ".join(f"*{v}* — {MEANINGS[v]}" for v in seen) + "."]
    return "\n".join(lines) + "\n"


def json_report(result: GateResult, candidate: ResultSet, baseline: ResultSet) -> dict[str, Any]:
    """The report as a JSON-ready dict (``json.dumps`` it)."""
    return {"format": REPORT_FORMAT, "exit_code": result.exit_code,
            "status": "regressed" if result.regressed else "passed",
            "gate": json.loads(result.model_dump_json()),
            "candidate_results": json.loads(candidate.model_dump_json()),
            "baseline_results": json.loads(baseline.model_dump_json())}
