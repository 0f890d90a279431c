"""Judge quality and cost on graded HealthBench rows, side by side with inspect_evals.

Grades the fixed model answers (``prompt_response``) of HealthBench rows that carry
a strong grader's per-criterion verdicts (``responses``), with each ``--judge`` in
each ``--modes``:

* ``per-criterion`` — rareval's scorer, one call per criterion (conversation and
  response first, criterion last; yes/no read from logprobs);
* ``batched`` — rareval's scorer, the whole rubric in one call, the judge writing a
  JSON verdict per criterion (P(yes) from the logprobs of each answer);
* ``batched-slots`` — the whole rubric in one call, each criterion followed by an
  answer slot; P(yes) read at every slot from the prompt's log probabilities
  (``prompt_logprobs``: local/ and vLLM judges), so no verdict sees another;
* ``per-criterion-as-written`` — per-criterion with every criterion asked as written
  (no positive form of negated criteria), to measure what the rewriting does;
* ``per-criterion-2phrasings`` — per-criterion with P(yes) averaged over two phrasings of
  the question (``JudgeConfig.phrasings=2``);
* ``per-criterion-rubric-context`` — per-criterion with the whole rubric shown as context
  before the criterion (``JudgeConfig.rubric_context``);
* ``inspect_evals`` — inspect_evals' own ``healthbench_scorer`` (the official
  grader template, one sequential call per criterion), on the same judge.

Every mode runs through the real Inspect runner (one sample at a time, a solver that
returns the row's fixed answer), so its eval log can be opened with ``inspect view``
(``--log-dir``). Figures per judge and mode: agreement with the strong grader,
Cohen's kappa, AUC of P(met), share "met" (split by positive criteria and
pitfalls), the HealthBench score per response vs the grader's (mean absolute
difference, Spearman), judge calls, billed and computed tokens per response (from
the log's model events; computed = billed − prefix-cache hits the server reports),
wall seconds per response, harness overhead (1 − judge compute time / scoring
time) and abstentions. The verdict cache and Inspect's cache start empty; after the
rareval modes, the per-criterion mode is run again to show what the cache saves.

    python benchmarks/judge_quality.py --limit 20 --judge local/qwen-1.5b
    python benchmarks/judge_quality.py --limit 20 --judge local/smollm-135m --judge local/qwen-1.5b \\
        --modes per-criterion batched --out results.json

The development rows are split in two (``--half``): rows 1–20 (``tune``) are the ones prompts,
criterion rewriting and the shipped thresholds were chosen on; rows 21–50 (``held``) are
reported only. ``--judge-calibration FILE`` grades with thresholds fitted elsewhere
(``rareval judge calibrate``), e.g. on the tuning half.

``--data`` takes any JSONL file in the same format (``prompt``, ``rubrics``,
``prompt_response``, ``responses``). The inspect_evals mode needs
``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared/data/healthbench/github_m42_sample_judge_responses_dev50.jsonl"
MODES = ("per-criterion", "batched", "batched-slots", "inspect_evals", "per-criterion-as-written",
         "per-criterion-2phrasings", "per-criterion-rubric-context")
DEFAULT_MODES = ("per-criterion", "batched", "batched-slots", "inspect_evals")
#: ``--half``: (offset, limit) of the development rows' tuning half and the half reported only.
HALVES = {"tune": (0, 20), "held": (20, 0)}
INSPECT_EVALS_FAILED = ("No explanation provided", "Failed to parse judge response")


def load_graded(path: Path, limit: int | None, offset: int = 0):
    """Rows with a fixed answer and grader verdicts (:func:`rareval.evals.calibrate.graded_rows`); an exit
    naming the file and line otherwise."""
    from rareval.evals.calibrate import graded_rows

    try:
        rows = graded_rows(path)[offset:]
    except ValueError as e:
        raise SystemExit(str(e)) from None
    return rows[:limit] if limit else rows


def graded_samples(rows):
    """Inspect samples carrying both scorers' metadata and the fixed answer."""
    from inspect_ai.dataset import Sample

    from rareval.evals.healthbench import example_to_sample

    samples = []
    for r in rows:
        s = example_to_sample(r)
        s.metadata.update(
            response=r.prompt_response, conversation=[m.model_dump() for m in r.prompt],
            rubrics=[{"criterion": c.text, "points": c.weight, "tags": list(c.tags)} for c in r.rubric])
        samples.append(Sample(id=s.id, input=s.input, metadata=s.metadata))
    return samples


def fixed_response():
    from inspect_ai.model import ModelOutput
    from inspect_ai.solver import solver

    @solver
    def fixed_response_solver():
        async def solve(state, generate):
            state.output = ModelOutput.from_content(model="fixed", content=state.metadata["response"])
            state.messages.append(state.output.message)
            return state

        return solve

    return fixed_response_solver()


def scorer_for(mode: str, judge: str, calibration: Path | None = None):
    from rareval.evals.healthbench import healthbench_scorer

    if mode == "inspect_evals":
        try:
            from inspect_evals.healthbench.scorer import healthbench_scorer as official
        except ImportError:
            raise SystemExit("mode inspect_evals needs the benchmark extra: pip install -e .[bench]") from None
        return official(judge_model=judge, include_subset_scores=False, bootstrap_samples=100)
    config = {"phrasings": 2 if mode == "per-criterion-2phrasings" else 1,
              "rubric_context": mode == "per-criterion-rubric-context",
              "calibration": str(calibration) if calibration else None}
    return healthbench_scorer(batched=mode.startswith("batched"),
                              batch_reading="prompt" if mode == "batched-slots" else "answers",
                              positive_form=mode != "per-criterion-as-written", grader_config=config)


def run_mode(judge: str, mode: str, rows, log_dir: Path, display: str, calibration: Path | None = None) -> dict:
    """One judge × mode through the Inspect runner; returns per-sample measurements."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval

    task = Task(dataset=graded_samples(rows), solver=fixed_response(), scorer=scorer_for(mode, judge, calibration),
                name=f"judge_quality_{mode.replace('-', '_')}")
    log = inspect_eval(task, model="mockllm/model", model_roles={"grader": judge}, max_samples=1,
                       log_dir=str(log_dir), display=display, score_display=False)[0]
    if log.status != "success":
        raise SystemExit(f"{judge} {mode}: eval {log.status}: {log.error.message if log.error else ''}")
    return measurements(log, rows, judge, mode)


def measurements(log, rows, judge: str, mode: str) -> dict:
    """Per-sample verdicts, usage and times from an eval log of :func:`run_mode`."""
    from rareval.judge.calibration import CALIBRATED_KINDS, criterion_kind

    by_id = {r.prompt_id: r for r in rows}
    out = []
    for sample in log.samples:
        row = by_id[sample.id]
        score = next(iter(sample.scores.values()))
        if mode == "inspect_evals":
            details = score.metadata["detailed_results"]
            pred = [bool(d["met"]) for d in details]
            p_met = p_raw = [None] * len(pred)
            failed = sum(str(d["explanation"]).startswith(INSPECT_EVALS_FAILED) for d in details)
        else:
            pred, p_met, p_raw, failed = (score.metadata["verdicts"], score.metadata["p_met"],
                                          score.metadata["p_raw"], 0)
        events = [e for e in sample.events if e.event == "model"]
        calls = [e for e in events if e.cache != "read"]
        usage = [e.output.usage for e in calls if e.output.usage]
        out.append(dict(
            id=sample.id, truth=[v.criteria_met for v in row.grader_verdicts], pred=pred, p_met=p_met, p_raw=p_raw,
            kinds=[criterion_kind(c, CALIBRATED_KINDS) for c in row.rubric],
            weights=[c.weight for c in row.rubric], calls=len(calls),
            cache_hits=len(events) - len(calls) + (score.metadata.get("judge_usage") or {}).get("cached", 0),
            billed=sum(u.input_tokens + (u.input_tokens_cache_read or 0) + (u.input_tokens_cache_write or 0)
                       + u.output_tokens for u in usage),
            cache_read=sum(u.input_tokens_cache_read or 0 for u in usage),
            judge_s=sum(e.working_time or e.output.time or 0 for e in calls), seconds=sample.total_time,
            failed_scored_not_met=failed))
    return {"judge": judge, "mode": mode, "log": log.location, "samples": out}


def summarise(result: dict) -> dict:
    """The figures of one judge × mode."""
    from rareval.evals.alignment import verdict_agreement
    from rareval.rubric import Rubric
    from rareval.stats import spearman
    from rareval.strategies import score

    samples = result["samples"]
    flat = lambda key: [x for s in samples for x in s[key]]  # noqa: E731
    truth, pred, p_met, weights = flat("truth"), flat("pred"), flat("p_met"), flat("weights")
    has_p = any(p is not None for p in p_met)

    def part(keep):
        idx = [i for i, w in enumerate(weights) if keep(w)]
        return verdict_agreement([truth[i] for i in idx], [pred[i] for i in idx],
                                 [p_met[i] for i in idx] if has_p else None)

    overall, pos, pit = part(lambda w: True), part(lambda w: w > 0), part(lambda w: w < 0)
    ours, theirs = [], []
    for s in samples:
        rubric = Rubric.from_healthbench([{"criterion": f"c{i}", "points": w} for i, w in enumerate(s["weights"])])
        mine = score("healthbench", rubric, s["pred"])
        if mine is not None:
            ours.append(mine)
            theirs.append(score("healthbench", rubric, s["truth"]))
    n = len(samples)
    mean = lambda key: sum(s[key] for s in samples) / n  # noqa: E731
    scoring_s = sum(s["seconds"] for s in samples)
    return dict(
        judge=result["judge"], mode=result["mode"], responses=n, criteria=overall.n,
        agreement=overall.agreement, kappa=overall.kappa, auc=overall.auc, share_met=overall.share_met,
        label_share_met=overall.label_share_met, agreement_positive=pos.agreement,
        agreement_pitfall=pit.agreement, share_met_positive=pos.share_met, share_met_pitfall=pit.share_met,
        score_mad=sum(abs(a - b) for a, b in zip(ours, theirs)) / len(ours) if ours else math.nan,
        score_spearman=math.nan if (rho := spearman(ours, theirs)) is None else rho,
        calls=mean("calls"), cache_hits=mean("cache_hits"), billed_tokens=mean("billed"),
        computed_tokens=mean("billed") - mean("cache_read"), seconds=mean("seconds"),
        overhead=1 - sum(s["judge_s"] for s in samples) / scoring_s if mean("calls") else math.nan,
        abstained=overall.abstained, failed_scored_not_met=sum(s["failed_scored_not_met"] for s in samples),
        log=result["log"])


def fmt(x, spec: str = ".2f") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def table(rows: list[dict]) -> str:
    head = ("| judge | mode | agree | κ | AUC | met % (grader) | agree pos / pitfall | score MAD | ρ "
            "| calls | billed tok | computed tok | s | overhead | failures |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        failures = (f"{r['failed_scored_not_met']} scored 'not met'" if r["mode"] == "inspect_evals"
                    else f"{r['abstained']} abstained")
        lines.append(
            f"| {r['judge']} | {r['mode']} | {fmt(r['agreement'])} | {fmt(r['kappa'])} | {fmt(r['auc'])} "
            f"| {fmt(100 * r['share_met'], '.0f')} ({fmt(100 * r['label_share_met'], '.0f')}) "
            f"| {fmt(r['agreement_positive'])} / {fmt(r['agreement_pitfall'])} | {fmt(r['score_mad'])} "
            f"| {fmt(r['score_spearman'])} | {fmt(r['calls'], '.1f')} | {fmt(r['billed_tokens'], '.0f')} "
            f"| {fmt(r['computed_tokens'], '.0f')} | {fmt(r['seconds'], '.1f')} | {fmt(100 * r['overhead'], '.1f')} % "
            f"| {failures} |")
    return "\n".join(lines)


def ratios(rows: list[dict]) -> str:
    """Each rareval mode against inspect_evals on the same judge, from this run."""
    lines = []
    for r in rows:
        base = next((b for b in rows if b["judge"] == r["judge"] and b["mode"] == "inspect_evals"), None)
        if base is None or r["mode"] == "inspect_evals" or not r["seconds"]:
            continue
        lines.append(f"- {r['judge']} {r['mode']}: {base['seconds'] / r['seconds']:.1f}× faster, "
                     f"{base['billed_tokens'] / max(r['billed_tokens'], 1):.1f}× fewer billed tokens, "
                     f"{base['computed_tokens'] / max(r['computed_tokens'], 1):.1f}× fewer computed tokens, "
                     f"agreement {r['agreement'] - base['agreement']:+.2f}")
    return "\n".join(lines)


def calibration(results: list[dict]) -> str:
    """Thresholds that fit these rows best, overall and by kind of criterion, from the raw P(met)."""
    from rareval.judge.calibration import best_threshold, fit_thresholds

    lines = []
    for res in results:
        flat = lambda key: [x for s in res["samples"] for x in s[key]]  # noqa: E731
        truth, p, kinds = flat("truth"), flat("p_raw"), flat("kinds")
        if any(x is not None for x in p):
            th, agree = best_threshold(truth, p)
            lines.append(f"- {res['judge']} {res['mode']}: best threshold {th:.3f} → agreement {agree:.3f}; "
                         f"by kind (rareval/judge/calibrations.json): {json.dumps(fit_thresholds(truth, p, kinds))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="graded HealthBench JSONL (default: dev50)")
    parser.add_argument("--limit", type=int, default=20, help="rows to grade (0 = all; default 20)")
    parser.add_argument("--offset", type=int, default=0, help="skip this many rows first (e.g. to calibrate "
                        "on rows that are not reported)")
    parser.add_argument("--half", choices=sorted(HALVES), help="the development rows' tuning half (rows 1–20) "
                        "or the half reported only (rows 21–50); sets --offset and --limit")
    parser.add_argument("--judge-calibration", type=Path, help="thresholds file (rareval judge calibrate --out) "
                        "to grade with instead of the shipped ones")
    parser.add_argument("--judge", action="append", help="Inspect model string, repeatable (default local/qwen-1.5b)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(DEFAULT_MODES))
    parser.add_argument("--no-rerun", action="store_true", help="skip the repeated per-criterion run (cache)")
    parser.add_argument("--calibrate", action="store_true", help="print the P(met) threshold that fits best")
    parser.add_argument("--profile", type=Path, help="cProfile the per-criterion mode into this file")
    parser.add_argument("--cache", type=Path, help="verdict cache file to reuse (default: a fresh one; "
                        "a reused cache makes the cost figures meaningless, use it for tuning only)")
    parser.add_argument("--log-dir", type=Path, help="where eval logs go (default: a temporary directory)")
    parser.add_argument("--out", type=Path, help="write figures and per-criterion verdicts as JSON")
    parser.add_argument("--display", default="none", help="Inspect display: none, plain, rich, full")
    args = parser.parse_args(argv)

    # cold caches: both the verdict cache and Inspect's generate cache start empty
    scratch = Path(tempfile.mkdtemp(prefix="rareval-judge-quality-"))
    os.environ["RAREVAL_VERDICT_CACHE"] = str(args.cache or scratch / "verdicts.sqlite")
    os.environ["INSPECT_CACHE_DIR"] = str(scratch / "inspect")
    log_dir = args.log_dir or scratch / "logs"
    if args.half:
        args.offset, args.limit = HALVES[args.half]
    rows = load_graded(args.data, args.limit or None, args.offset)
    judges = args.judge or ["local/qwen-1.5b"]
    print(f"{len(rows)} rows, {sum(len(r.rubric) for r in rows)} criteria from {args.data}; logs in {log_dir}",
          file=sys.stderr)

    results, summaries = [], []
    for judge in judges:
        for mode in args.modes:
            start = time.perf_counter()
            if args.profile and mode == "per-criterion":
                profiler = cProfile.Profile()
                result = profiler.runcall(run_mode, judge, mode, rows, log_dir, args.display,
                                            args.judge_calibration)
                profiler.dump_stats(args.profile)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(12)
            else:
                result = run_mode(judge, mode, rows, log_dir, args.display, args.judge_calibration)
            results.append(result)
            summaries.append(summarise(result))
            print(f"{judge} {mode}: {time.perf_counter() - start:.0f} s, agreement "
                  f"{fmt(summaries[-1]['agreement'])}", file=sys.stderr)
        if "per-criterion" in args.modes and not args.no_rerun:
            result = run_mode(judge, "per-criterion", rows, log_dir, args.display, args.judge_calibration)
            result["mode"] = "per-criterion, cached rerun"
            results.append(result)
            summaries.append(summarise(result))

    print(table(summaries))
    if any(r["mode"] == "inspect_evals" for r in summaries):
        print("\n" + ratios(summaries))
    if args.calibrate:
        print("\n" + calibration([r for r in results if "rerun" not in r["mode"]]))
    if args.out:
        args.out.write_text(json.dumps({"data": str(args.data), "summaries": summaries, "results": results},
                                       indent=1, default=str))
    return summaries


if __name__ == "__main__":
    main()
