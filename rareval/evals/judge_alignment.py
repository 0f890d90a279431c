"""Judge alignment on Inspect: the model under test is the judge (RaR v2 Figure 3, SPEC §1.8).

Each sample is a preference pair (:mod:`rareval.data.alignment`). The judge scores
the chosen and the rejected answer **independently** under one condition, through
:func:`rareval.scoring.score_response` (the same path as the reward):

==============  =================  =====================================================
condition       strategy           what the judge sees
==============  =================  =====================================================
likert          direct_likert      prompt + response, a 1–10 rating (paper: blue line)
rubric_ref      implicit           + a rubric generated with the reference (orange line)
rubric_noref    implicit           + a rubric generated without it (green line)
rubric_human    implicit           + the physicians' rubric of the conversation (an extra line)
explicit        explicit           per-criterion verdicts on the physician rubric (RaR-Explicit)
==============  =================  =====================================================

A pair is correct when the chosen answer scores higher (a tie is wrong unless
``ties="half"``). Metrics: ``accuracy`` with a 95 % percentile bootstrap interval
(``ci_low``, ``ci_high``), ``accuracy_half`` (ties counted half), ``ties`` (share of tied pairs),
``accuracy_expected`` (tie-free: each answer's expected rating under the judge's rating distribution;
only from pairs whose two ratings came with logprobs, ``n_expected`` of them — a judge without logprobs
(reasoning judges, Anthropic, any provider that returns none) and the ``explicit`` condition have no
tie-free reading, and the metric is absent), ``auc`` (ROC AUC of chosen vs rejected answers, each by its
expected rating where it has a distribution, on the score's scale, else by its score; ties count half) and
``unscored`` (pairs where the judge abstained on either side; left out, never counted as wrong or right).
Running it for judges of several sizes gives Figure 3: ``rareval alignment sweep``.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Sample
from inspect_ai.model import get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import TaskState

from rareval.evals.alignment import pairwise_accuracy, preference_outcome
from rareval.data.alignment import PreferencePair, load_pairs, reference_pairs
from rareval.judge import Judge
from rareval.judge.config import judge_config
from rareval.judge.health import JudgeHealth
from rareval.scoring import RubricScore, score_response
from rareval.stats import roc_auc
from rareval.strategies import score

CONDITIONS: dict[str, tuple[str, str | None]] = {
    "likert": ("direct_likert", None),
    "rubric_ref": ("implicit", "rubric_ref"),
    "rubric_noref": ("implicit", "rubric_noref"),
    "rubric_human": ("implicit", "physician_rubric"),
    "explicit": ("explicit", "physician_rubric"),
}


def pair_to_sample(pair: PreferencePair) -> Sample:
    return Sample(id=pair.pair_id, input=[m.model_dump() for m in pair.prompt],
                  metadata={"pair": pair.model_dump(mode="json"), "kind": pair.kind})


def ranking_value(result: RubricScore) -> float | None:
    """The score with the expected rating under the judge's rating distribution in place of the sampled
    rating, so ties between equal ratings are broken; None without a distribution (no logprobs, or no
    rating): then there is no tie-free reading, and the integer rating is never passed off as one."""
    dist = result.rating.distribution if result.rating is not None else None
    if dist:
        return score(result.strategy, rating=sum(int(k) * p for k, p in dist.items()), **result.options)
    return None


def no_tie_free(condition: str) -> str:
    """Why a judge's reading of ``condition`` has no tie-free accuracy (shown where one would be)."""
    if CONDITIONS.get(condition, ("",))[0] == "explicit":
        return "no tie-free reading: per-criterion verdicts give no rating distribution"
    return "no tie-free reading: the judge returned no logprobs"


@metric
def alignment_metrics(seed: int = 0) -> Metric:
    """Pairwise accuracy with a bootstrap CI (ties wrong, the paper's likely rule, SPEC §1.8), the same
    with ties counted half (``accuracy_half``: what a coin flip on ties would score), the tie-free paired
    reading (``accuracy_expected``: the chosen answer's expected rating under the judge's rating distribution
    above the rejected one's; ties then almost never happen) over the ``n_expected`` pairs whose two ratings
    have a distribution — absent when none has (a judge without logprobs) — tie share, AUC (ties count half)
    and unscored pairs."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        metas = [s.score.metadata or {} for s in scores]
        scored = [m for m in metas if m.get("outcome") is not None]
        acc, (low, high) = pairwise_accuracy([m["outcome"] for m in scored], seed=seed)
        out = {"accuracy": acc, "ci_low": low, "ci_high": high, "n_scored": float(len(scored)),
               "unscored": float(len(metas) - len(scored)),
               "ties": sum(m["chosen"] == m["rejected"] for m in scored) / len(scored) if scored else float("nan")}
        half, (half_low, half_high) = pairwise_accuracy(
            [preference_outcome(m["chosen"], m["rejected"], ties="half") for m in scored], seed=seed)
        out |= {"accuracy_half": half, "half_ci_low": half_low, "half_ci_high": half_high}
        ranked = [m for m in scored if m.get("chosen_rank") is not None and m.get("rejected_rank") is not None]
        out["n_expected"] = float(len(ranked))
        if ranked:  # a tie-free reading exists only where the ratings came with a distribution
            expected, (exp_low, exp_high) = pairwise_accuracy(
                [preference_outcome(m["chosen_rank"], m["rejected_rank"]) for m in ranked], seed=seed)
            out |= {"accuracy_expected": expected, "expected_ci_low": exp_low, "expected_ci_high": exp_high}
        labels = [1] * len(scored) + [0] * len(scored)
        values = [_rank_or_score(m, "chosen") for m in scored] + [_rank_or_score(m, "rejected") for m in scored]
        out["auc"] = roc_auc(labels, values) if scored else float("nan")
        return out

    return compute


def _rank_or_score(meta: dict, side: str) -> float:
    """A side's expected-rating score where its rating has a distribution, else its score (AUC's value)."""
    rank = meta.get(f"{side}_rank")
    return meta[side] if rank is None else rank


@scorer(metrics=[alignment_metrics()])
def preference_scorer(condition: str = "likert", ties: str = "wrong", judge_role: str | None = None,
                      grader_config: dict[str, Any] | str | None = None, fail_fast: int = 5):
    """Score both answers of a pair with the judge (the task's model, or ``judge_role``), set by
    ``grader_config`` (:func:`~rareval.judge.config.judge_config`); stop, naming the judge's error, when the
    judge's first ``fail_fast`` pairs abstained on every question (:mod:`rareval.judge.health`; 0: never).
    Each judge has its own tracker: one judge's answers never vouch for another run on the same task."""
    config = judge_config(grader_config)
    health: dict[str, JudgeHealth] = {}  # by judge
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")
    strategy, rubric_field = CONDITIONS[condition]

    async def do_score(state: TaskState, target: Target) -> Score:
        pair = PreferencePair.model_validate(state.metadata["pair"])
        rubric = getattr(pair, rubric_field) if rubric_field else None
        if rubric_field and rubric is None:  # its generation failed when the pairs were built: no reading
            return Score(value="N", explanation=f"pair {pair.pair_id} has no {rubric_field} (its generation failed)",
                         metadata={"outcome": None, "chosen": None, "rejected": None, "condition": condition,
                                   "kind": pair.kind, "no_rubric": True})
        model = get_model(role=judge_role) if judge_role else get_model()
        judge = Judge(model=model, role=None, config=config)
        conversation = [m.model_dump() for m in pair.prompt]
        chosen, rejected = await asyncio.gather(
            *(score_response(strategy, judge, conversation, answer, rubric=rubric)
              for answer in (pair.chosen, pair.rejected)))
        if fail_fast:
            health.setdefault(str(model), JudgeHealth(window=fail_fast, first_only=True)).check(
                chosen.questions + rejected.questions, chosen.abstentions + rejected.abstentions,
                chosen.judge_error or rejected.judge_error)
        both = chosen.value is not None and rejected.value is not None
        outcome = preference_outcome(chosen.value, rejected.value, ties) if both else None
        ranks = ranking_value(chosen), ranking_value(rejected)
        return Score(
            value=outcome if outcome is not None else "N",
            explanation=f"chosen {chosen.value} vs rejected {rejected.value} ({condition})"
            + (f"; {no_tie_free(condition)}" if both and None in ranks else ""),
            metadata={"outcome": outcome, "chosen": chosen.value, "rejected": rejected.value,
                      "chosen_rank": ranks[0], "rejected_rank": ranks[1],
                      "condition": condition, "kind": pair.kind,
                      "abstained": chosen.abstentions + rejected.abstentions,
                      "judge_error": chosen.judge_error or rejected.judge_error,
                      "judge_usage": (chosen.usage + rejected.usage).model_dump()})

    return do_score


def alignment_pairs(pairs: str | Path | None = None, source: str | Path | None = None, per_prompt: int = 1,
                    ) -> list[PreferencePair]:
    """A saved pairs file, or reference pairs built from a HealthBench file (no model needed)."""
    from rareval.data.healthbench import healthbench_path, load_healthbench

    if pairs:
        return load_pairs(pairs)
    path = healthbench_path("full", source)
    return reference_pairs(load_healthbench(path=path), path, per_prompt=per_prompt)


def alignment_task(pairs: str | Path | None = None, source: str | Path | None = None, condition: str = "likert",
                   ties: str = "wrong", per_prompt: int = 1, kind: str | None = None,
                   grader_config: dict[str, Any] | str | None = None, fail_fast: int = 5) -> Task:
    """The judge-alignment task (see the module docstring); ``kind`` filters pairs by kind; ``grader_config``
    sets the judge (recorded in the task metadata as ``judge_config``); ``fail_fast``: see
    :func:`preference_scorer`."""
    config = judge_config(grader_config)
    selected = [p for p in alignment_pairs(pairs, source, per_prompt) if kind in (None, p.kind)]
    if not selected:
        raise ValueError(f"no {kind or ''} pairs in {pairs or source}")
    field = CONDITIONS.get(condition, (None, None))[1]
    if field and all(getattr(p, field) is None for p in selected):
        raise ValueError(f"no pair in {pairs or source} has a {field}: build the pairs file with "
                         "`rareval alignment build --rubrics --generator MODEL`")
    # solver=[]: the judge only rates the pair's answers in the scorer (which reads the pair from the
    # sample's metadata, never state.output); Inspect's default generate() would have it write an
    # unused answer of its own to every conversation first.
    return Task(dataset=[pair_to_sample(p) for p in selected], solver=[],
                scorer=preference_scorer(condition, ties, grader_config=grader_config, fail_fast=fail_fast),
                metadata={"condition": condition, "ties": ties, "pairs": str(pairs or source),
                          "judge_config": config.model_dump()})


def pair_outcomes(log: Any) -> dict[str, dict[str, float | None]]:
    """Per pair id of an eval log: the strict outcome (integer ratings, ties wrong) and the expected-rating
    one (tie-free; None where either rating has no distribution), for paired comparisons across conditions."""
    out = {}
    for sample in log.samples or []:
        meta = next(iter(sample.scores.values())).metadata or {} if sample.scores else {}
        ranks = meta.get("chosen_rank"), meta.get("rejected_rank")
        out[str(sample.id)] = {"strict": meta.get("outcome"),
                               "expected": preference_outcome(*ranks) if None not in ranks else None}
    return out


def judge_size(model: str) -> float | None:
    """Parameters in billions from a model name ("qwen-1.5b" → 1.5, "smollm-135m" → 0.135)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*([mb])\b", model.lower())
    if not m:
        return None
    return float(m.group(1)) / (1000 if m.group(2) == "m" else 1)


class SweepFailed(RuntimeError):
    """Some judge × condition runs of a sweep failed (named, with their errors); the others' rows were kept."""


def sweep(judges: list[str], conditions: list[str], *, pairs: str | Path | None = None,
          source: str | Path | None = None, limit: int | None = None, out: str | Path | None = None,
          plot: str | Path | None = None, log_dir: str | Path | None = None,
          judge_args: dict[str, Any] | None = None, grader_config: dict[str, Any] | str | None = None,
          fail_fast: int = 5) -> list[dict]:
    """Every judge × condition through the Inspect runner, one at a time; rows of Figure 3. ``judge_args``
    are every judge's model arguments, ``grader_config`` every judge's settings, ``fail_fast`` as in
    :func:`preference_scorer` (0: a judge that reads nothing gives a row of unscored pairs). Each run has a
    task (and fail-fast tracker) of its own. A run that fails (its judge stopped by fail-fast, unable to
    start, or, with ``fail_fast``, reading no pair of fewer than its window) gives no row: it is listed under
    ``failed`` in ``out``, the other runs go on, and :class:`SweepFailed` names it once ``out`` and ``plot``
    are written."""
    import json

    rows, failed = [], []
    for condition in conditions:
        for judge in judges:
            task = alignment_task(pairs=pairs, source=source, condition=condition, grader_config=grader_config,
                                  fail_fast=fail_fast)
            row = _sweep_run(task, judge, condition, limit=limit, log_dir=log_dir, judge_args=judge_args,
                             read_nothing_fails=bool(fail_fast))
            (rows if "error" not in row else failed).append(row)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({"pairs": str(pairs or source), "rows": rows,
                                         **({"failed": failed} if failed else {})}, indent=1))
    if plot and rows:
        plot_sweep(rows, plot)
    if failed:
        raise SweepFailed("; ".join(f"{f['judge']} · {f['condition']} failed: {f['error']}" for f in failed)
                          + (f" (the other runs are in {out})" if out and rows else ""))
    return rows


def _sweep_run(task: Task, judge: str, condition: str, *, limit: int | None, log_dir: str | Path | None,
               judge_args: dict[str, Any] | None, read_nothing_fails: bool) -> dict:
    """One judge × condition of :func:`sweep`: its row, printed, or :func:`_failed`
    (``read_nothing_fails``: also when every pair was unscored)."""
    from inspect_ai import eval as inspect_eval

    from rareval.errors import one_line

    args = dict(judge_args or {})  # Inspect's eval() takes base_url apart: in model_args it is passed twice
    try:
        log = inspect_eval(task, model=judge, model_base_url=args.pop("base_url", None), model_args=args,
                           limit=limit, log_dir=str(log_dir) if log_dir else None, display="plain")[0]
    except Exception as error:  # noqa: BLE001 -- a judge that cannot start (no key, bad provider): named, no row
        return _failed(judge, condition, one_line(error))
    if log.status == "cancelled":  # interrupted by the user: the sweep stops, as the run did
        raise KeyboardInterrupt(f"{judge} · {condition}: eval cancelled")
    if log.status != "success":
        why = log.error.message.strip().splitlines()[-1] if log.error else "no error given"
        return _failed(judge, condition, f"eval {log.status}: {why}", log.location)
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    if read_nothing_fails and not m["n_scored"]:  # fewer pairs than the fail-fast window, none read
        metas = [next(iter(s.scores.values())).metadata or {} for s in log.samples or [] if s.scores]
        error = next((e for meta in metas if (e := meta.get("judge_error"))), "none given")
        return _failed(judge, condition, f"the judge read none of {m['unscored']:.0f} pairs; last error: {error}",
                       log.location)
    tie_free = (f"tie-free {m['accuracy_expected']:.3f} [{m['expected_ci_low']:.3f}, {m['expected_ci_high']:.3f}] "
                f"n {m['n_expected']:.0f}" if "accuracy_expected" in m else no_tie_free(condition))
    print(f"{judge:24s} {condition:12s} accuracy (ties wrong) {m['accuracy']:.3f} [{m['ci_low']:.3f}, "
          f"{m['ci_high']:.3f}] ties half {m['accuracy_half']:.3f} auc {m['auc']:.3f} n {m['n_scored']:.0f} "
          f"ties {m['ties']:.2f}; {tie_free}")
    return {"judge": judge, "size_b": judge_size(judge), "condition": condition, **m,
            "outcomes": pair_outcomes(log), "log": log.location}


def _failed(judge: str, condition: str, error: str, log: str | None = None) -> dict:
    """A failed run of :func:`sweep`, printed: ``{judge, condition, error, log}``, the error on one line without
    the console markup of Inspect's messages ("No [bold]OPENAI_API_KEY[/bold] …"), secrets redacted."""
    from rich.errors import MarkupError
    from rich.text import Text

    from rareval.errors import redact

    try:
        error = Text.from_markup(error).plain
    except MarkupError:  # brackets that are not markup: kept as written
        pass
    failure = {"judge": judge, "condition": condition, "error": redact(" ".join(error.split())),
               **({"log": log} if log else {})}
    print(f"{judge:24s} {condition:12s} failed: {failure['error']}", file=sys.stderr)
    return failure


def plot_sweep(rows: list[dict], path: str | Path) -> Path:
    """Accuracy (with its CI) against judge size, one line per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    judges = sorted({r["judge"] for r in rows}, key=lambda j: (judge_size(j) or 1e9, j))
    fig, ax = plt.subplots(figsize=(6, 4))
    for condition in dict.fromkeys(r["condition"] for r in rows):
        rs = sorted((r for r in rows if r["condition"] == condition), key=lambda r: judges.index(r["judge"]))
        x = [judges.index(r["judge"]) for r in rs]
        y = [r["accuracy"] for r in rs]
        err = [[a - r["ci_low"] for a, r in zip(y, rs)], [r["ci_high"] - a for a, r in zip(y, rs)]]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=condition)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(judges)), [j.split("/")[-1] for j in judges], rotation=20)
    ax.set_ylabel("pairwise preference accuracy (ties count as wrong)")
    ax.set_xlabel("judge (by size)")
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
