"""The gate's report: Markdown for a CI log or a PR comment, JSON for machines.

The JSON report holds the decision (:class:`~rareval.regress.gate.GateResult`) and
both sides' per-item results, so it can be handed to the next gate as
``--baseline``: its candidate becomes that gate's baseline. Neither report holds a
timestamp, so an unchanged re-run writes the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

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
}


def _signed(x: float) -> str:
    return f"{x:+.3f}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


def _mde(m: MetricResult) -> str:
    return f"none (needs ≥ {m.min_items} changed items)" if m.mde is None else f"{m.mde:.3f}"


def _metric_row(m: MetricResult) -> str:
    verdict = f"**{m.verdict}**" if m.verdict in ("regressed", "improved") else m.verdict
    return (f"| {m.name} | {m.items} {m.kind} | {m.baseline:.3f} | {m.candidate:.3f} | {_signed(m.difference)} "
            f"[{_signed(m.ci_low)}, {_signed(m.ci_high)}] | {m.worse} / {m.better} | {_p(m.p_value)} "
            f"({_p(m.p_holm)}) | {_mde(m)} | {verdict} |")


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
        f"minimum effect {result.min_effect:g}, power {result.power:g}",
        f"- judge calls: candidate {result.judge_calls.get('candidate', 0)} "
        f"({result.judge_cached.get('candidate', 0)} from cache), baseline {result.judge_calls.get('baseline', 0)} "
        f"({result.judge_cached.get('baseline', 0)} from cache)", "",
        f"| metric | items | baseline | candidate | Δ ({result.metrics[0].ci_level:.0%} CI) | worse / better | "
        "p (Holm) | smallest detectable Δ | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_metric_row(x) for x in result.metrics), "",
    ]
    lines += [f"Tests: {', '.join(f'{x.name}: {x.test}' for x in result.metrics)}.", ""]
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
