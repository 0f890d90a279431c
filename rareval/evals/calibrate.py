"""``rareval judge calibrate``: fit a judge's per-kind P(yes) thresholds on graded rows, and say what they do.

Graded rows are HealthBench rows with a fixed answer (``prompt_response``) and a strong
grader's verdict on every criterion (``responses``), as in the shipped development file.
The judge reads P(yes) for every criterion of every row (one call per criterion, through
its Inspect model). The first ``fit_rows`` rows fit the thresholds by kind of criterion
(:func:`rareval.judge.calibration.fit_thresholds`: pitfall, positive, ``level:cluster``);
the other rows, never used for fitting, report agreement, Cohen's κ and AUC with the
grader **before** (the judge's current thresholds: stored for its weights, or 0.5) and
**after** (the fitted ones). The output file is what ``--judge-calibration FILE`` (or
``JudgeConfig.calibration``) applies.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from rareval.data.cache import sha256_file, write_text_atomic
from rareval.data.healthbench import HealthBenchExample, load_healthbench
from rareval.evals.alignment import verdict_agreement
from rareval.judge import Judge
from rareval.judge.calibration import CALIBRATED_KINDS, calibrated, criterion_kind, fit_thresholds, identity, \
    threshold_for


def graded_rows(path: str | Path, limit: int | None = None) -> list[HealthBenchExample]:
    """Rows with a fixed answer and the grader's verdicts; an error naming the file and line otherwise."""
    rows = list(load_healthbench(path=path))
    for i, r in enumerate(rows):
        if r.prompt_response is None or r.grader_verdicts is None:
            raise ValueError(f"{path}: line {i + 1} lacks 'prompt_response' or 'responses' (the strong grader's "
                             "verdicts); calibration needs both on every row")
    return rows[:limit] if limit else rows


async def read_p_yes(judge: Judge, rows: list[HealthBenchExample], concurrency: int = 4) -> list[dict[str, Any]]:
    """Per criterion of every row: the grader's label, the judge's raw P(met), its kind and the criterion."""
    gate = asyncio.Semaphore(concurrency)

    async def one(row: HealthBenchExample) -> list[dict[str, Any]]:
        async with gate:
            verdicts, _ = await judge.criteria([m.model_dump() for m in row.prompt], row.prompt_response, row.rubric)
        return [{"truth": g.criteria_met, "p": v.p_raw, "criterion": c, "kind": criterion_kind(c, CALIBRATED_KINDS)}
                for c, v, g in zip(row.rubric, verdicts, row.grader_verdicts)]

    return [item for per_row in await asyncio.gather(*(one(r) for r in rows)) for item in per_row]


def agreement(items: list[dict[str, Any]], thresholds: dict[str, float]) -> dict[str, Any]:
    """Agreement, κ and AUC of ``p >= threshold(kind)`` with the grader over ``items``."""
    pred, p_met = [], []
    for item in items:
        if item["p"] is None:
            pred.append(None)
            p_met.append(None)
            continue
        t = threshold_for(item["criterion"], thresholds)
        pred.append(item["p"] >= t)
        p_met.append(calibrated(item["p"], t))
    a = verdict_agreement([i["truth"] for i in items], pred, p_met)
    return {"criteria": a.n, "judged": a.judged, "agreement": a.agreement, "kappa": a.kappa, "auc": a.auc}


def calibrate(judge: Judge, data: str | Path, fit_rows: int | None = None, limit: int | None = None,
              concurrency: int = 4) -> dict[str, Any]:
    """Fit on the first ``fit_rows`` graded rows (default half), report before/after on the rest."""
    rows = graded_rows(data, limit)
    fit_rows = len(rows) // 2 if fit_rows is None else fit_rows
    if not 0 < fit_rows < len(rows):
        raise ValueError(f"{data}: {len(rows)} graded rows; fit_rows must leave rows on both sides, got {fit_rows}")
    items = asyncio.run(read_p_yes(judge, rows, concurrency))
    if all(i["p"] is None for i in items):
        raise ValueError(f"{judge.name} returned no P(yes) on any criterion (no logprobs, or it reasons first): "
                         "there is no threshold to fit; its verdicts are read from the word")
    n_fit = sum(len(r.rubric) for r in rows[:fit_rows])
    fit, report = items[:n_fit], items[n_fit:]
    before = judge.thresholds
    fitted = fit_thresholds([i["truth"] for i in fit], [i["p"] for i in fit], [i["kind"] for i in fit])
    return {"judge": judge.name, "identity": identity(judge.name), "thresholds": fitted,
            "fitted_on": {"data": str(data), "sha256": sha256_file(Path(data)), "rows": fit_rows, "criteria": n_fit},
            "reported_on": {"rows": len(rows) - fit_rows, "criteria": len(report)},
            "before": {"thresholds": before, **agreement(report, before)},
            "after": {"thresholds": fitted, **agreement(report, fitted)}}


def write_calibration(result: dict[str, Any], out: str | Path) -> Path:
    write_text_atomic(Path(out), json.dumps(result, indent=1) + "\n")
    return Path(out)


def summary(result: dict[str, Any]) -> str:
    """The before/after lines ``rareval judge calibrate`` prints."""
    rep = result["reported_on"]
    lines = [f"{result['judge']} (identity {result['identity']}): fitted on {result['fitted_on']['rows']} rows "
             f"({result['fitted_on']['criteria']} criteria), reported on the other {rep['rows']} rows "
             f"({rep['criteria']} criteria)"]
    for name in ("before", "after"):
        r = result[name]
        auc = "—" if r["auc"] is None else f"{r['auc']:.3f}"
        lines.append(f"  {name:6s} agreement {r['agreement']:.3f}  κ {r['kappa']:.3f}  AUC {auc}  "
                     f"thresholds {json.dumps(r['thresholds'])}")
    return "\n".join(lines)
