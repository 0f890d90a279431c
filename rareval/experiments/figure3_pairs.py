"""Figure 3's settings and preference pairs (RaR v2 Figure 3, SPEC §1.8): which judges, conditions and
pairs a run uses, building the embedded pairs once, and the per-call projection of the plan."""

from __future__ import annotations

from pathlib import Path

from rareval.data.cache import sha256_file
from rareval.experiments.base import EMBEDDED_JUDGES, PAPER_JUDGES, NotRunnable, ReproduceOptions, rel
from rareval.experiments.plan import tokens
from rareval.experiments.training import (CONVERSATION_CHARS, CRITERION_CHARS, HEALTHBENCH_ITEMS, RAR_ITEMS,
                                          RESPONSE_CHARS)

ALL_CONDITIONS = ("likert", "rubric_ref", "rubric_noref", "explicit")
PAPER_CONDITIONS = ("likert", "rubric_ref", "rubric_noref")
PAPER_PAIRS, EMBEDDED_PAIRS = 3_027, 20
FINDINGS = [("rubric_ref", "likert"), ("rubric_noref", "likert"), ("rubric_ref", "rubric_noref")]
SHOWN = {"likert": "Direct-Likert", "rubric_ref": "rubrics with reference", "rubric_noref": "rubrics without reference",
         "explicit": "RaR-Explicit (physician rubric)"}


def settings(options: ReproduceOptions) -> tuple[list[str], list[str], int]:
    paper = options.scale == "paper"
    judges = options.judges or list(PAPER_JUDGES if paper else EMBEDDED_JUDGES)
    conditions = options.conditions or list(PAPER_CONDITIONS if paper else ALL_CONDITIONS)
    unknown = sorted(set(conditions) - set(ALL_CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {', '.join(unknown)}; choose from {', '.join(ALL_CONDITIONS)}")
    return judges, conditions, options.pairs or (PAPER_PAIRS if paper else EMBEDDED_PAIRS)


def prepare_pairs(options: ReproduceOptions, n: int) -> tuple[Path, list, int | None]:
    """``(pairs file, pairs used, sweep limit)``: the given ``--pairs-file`` (first ``n``), or ``n`` reference
    pairs built once from ``options.source`` and saved with provenance under ``<results>/figure3_pairs.jsonl``."""
    from rareval.data.alignment import load_pairs, reference_pairs, save_pairs
    from rareval.data.healthbench import load_healthbench

    if options.pairs_file:
        return options.pairs_file, load_pairs(options.pairs_file)[:n], n
    path = Path(options.results) / "figure3_pairs.jsonl"
    source_sha = sha256_file(options.source)
    if path.is_file():
        stored = load_pairs(path)
        if len(stored) == n and all(p.provenance.source_sha256 == source_sha for p in stored):
            return path, stored, None
    built = reference_pairs(load_healthbench(path=options.source), rel(options.source), per_prompt=1,
                            source_sha256=source_sha)[:n]
    if len(built) < n:
        raise NotRunnable(f"only {len(built)} reference pairs in {options.source}; ask for --pairs {len(built)}")
    return save_pairs(built, path), built, None


def runnable_conditions(conditions: list[str], pairs: list) -> tuple[list[str], dict[str, str]]:
    """The conditions every pair can be scored under, and why the others are skipped."""
    from rareval.judge_alignment import CONDITIONS

    run, skipped = [], {}
    for c in conditions:
        field = CONDITIONS[c][1]
        if field and any(getattr(p, field) is None for p in pairs):
            skipped[c] = (f"the pairs carry no {field} (build them with `python -m rareval.cli alignment build "
                          f"--rubrics --generator MODEL` and pass --pairs-file)")
        else:
            run.append(c)
    return run, skipped


def calls_per_response(condition: str) -> float:
    return HEALTHBENCH_ITEMS if condition == "explicit" else 1.0


def tokens_per_call(condition: str) -> int:
    """Judge prompt of one call (template + conversation + answer + rubric or criterion), characters / 4."""
    from rareval.judge import RATING_PROMPTS
    from rareval.prompts import load_prompt

    template = "criterion_yesno" if condition == "explicit" else RATING_PROMPTS[
        "none" if condition == "likert" else "rubric"]
    extra = CRITERION_CHARS * (1 if condition == "explicit" else RAR_ITEMS if condition != "likert" else 0)
    return tokens(load_prompt(template).text, CONVERSATION_CHARS, RESPONSE_CHARS, int(extra))
