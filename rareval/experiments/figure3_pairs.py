"""Figure 3's settings and preference pairs (RaR v2 Figure 3, SPEC §1.8): which judges, conditions and
pairs a run uses, building the embedded pairs once, and the per-call projection of the plan."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rareval.data.cache import sha256_file
from rareval.experiments.base import EMBEDDED_JUDGES, PAPER_JUDGES, NotRunnable, ReproduceOptions, rel
from rareval.experiments.plan import tokens
from rareval.experiments.training import (CONVERSATION_CHARS, CRITERION_CHARS, HEALTHBENCH_ITEMS, RAR_ITEMS,
                                          RESPONSE_CHARS)

if TYPE_CHECKING:
    from rareval.data.alignment import PreferencePair

ALL_CONDITIONS = ("likert", "rubric_ref", "rubric_noref", "rubric_human", "explicit")
PAPER_CONDITIONS = ("likert", "rubric_ref", "rubric_noref")
PAPER_PAIRS, EMBEDDED_PAIRS = 3_027, 10  # 10: about an hour of rubric writing and judging on 2 cores
#: Longest embedded pair (conversation and both answers, characters): what a CPU can judge in its budget
#: (the median reference pair of the shipped file is ~4,400 characters).
EMBEDDED_MAX_PAIR_CHARS = 6_000  # 100 of the 141 answerable Group 2 pairs of the union file
FINDINGS = [("rubric_ref", "likert"), ("rubric_noref", "likert"), ("rubric_ref", "rubric_noref"),
            ("rubric_human", "likert")]  # the last: the physicians' rubric, our extra line
SHOWN = {"likert": "Direct-Likert", "rubric_ref": "rubrics with reference", "rubric_noref": "rubrics without reference",
         "rubric_human": "physician rubric (RaR-Implicit)", "explicit": "RaR-Explicit (physician rubric)"}


def settings(options: ReproduceOptions) -> tuple[list[str], list[str], int]:
    paper = options.scale == "paper"
    judges = options.judges or list(PAPER_JUDGES if paper else EMBEDDED_JUDGES)
    # the physicians' rubric is our extra line; explicit on request: ~2.5x the other three
    conditions = options.conditions or [*PAPER_CONDITIONS, "rubric_human"]
    unknown = sorted(set(conditions) - set(ALL_CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {', '.join(unknown)}; choose from {', '.join(ALL_CONDITIONS)}")
    return judges, conditions, options.pairs or (PAPER_PAIRS if paper else EMBEDDED_PAIRS)


RUBRIC_CONDITIONS = ("rubric_ref", "rubric_noref")
RUBRIC_TOKENS = 640  # per generated rubric: Qwen2.5-1.5B writes its 7-12 items in about 400 tokens


def rubric_generator(options: ReproduceOptions, conditions: list[str]) -> str | None:
    """The model that writes the embedded pairs' rubrics, or None (a pairs file, 'none', or no rubric
    condition asked for)."""
    wanted = any(c in RUBRIC_CONDITIONS for c in conditions)
    return None if options.pairs_file or not wanted or options.generator.lower() == "none" else options.generator


def _stored(path: Path, source_sha: str, generator: str | None) -> dict[str, PreferencePair]:
    """Pairs already built into ``path`` from the same source (and, when rubrics are wanted, with rubrics
    by the same generator), by pair id."""
    from rareval.data.alignment import load_pairs

    if not path.is_file():
        return {}
    return {p.pair_id: p for p in load_pairs(path) if p.provenance.source_sha256 == source_sha
            and (generator is None or (p.rubric_ref is not None and p.provenance.generator == generator))}


def stored_count(options: ReproduceOptions, conditions: list[str]) -> int:
    """How many usable pairs ``<results>/figure3_pairs.jsonl`` already holds (the plan marks them stored)."""
    path = Path(options.results) / "figure3_pairs.jsonl"
    if options.pairs_file or not path.is_file() or not Path(options.source).is_file():
        return 0
    return len(_stored(path, sha256_file(options.source), rubric_generator(options, conditions)))


def prepare_pairs(options: ReproduceOptions, n: int, conditions: list[str]
                  ) -> tuple[Path, list, int | None, list[str]]:
    """``(pairs file, pairs used, sweep limit, generation failures)``.

    The given ``--pairs-file`` (first ``n``), or ``n`` ideal ≻ reference pairs of Group 2 rows from
    ``options.source`` (one per conversation, HealthBench-1k left out), a seeded random sample stratified by
    theme among answerable conversations within :data:`EMBEDDED_MAX_PAIR_CHARS`
    (:func:`rareval.data.alignment.select_pairs`),
    each with a ``rubric_ref`` and ``rubric_noref`` written by :func:`rubric_generator` when a rubric
    condition is asked for. Pairs are saved to
    ``<results>/figure3_pairs.jsonl`` with provenance as each is built, so an interrupted build resumes
    and a rerun reuses them; a conversation whose rubric could not be generated is named in the
    failures and replaced by the next one, never given a made-up rubric.
    """
    from tqdm import tqdm

    from rareval.data.alignment import load_pairs, reference_pairs, save_pairs, select_pairs
    from rareval.data.healthbench import load_healthbench
    from rareval.rubrics.pairs import build_pairs_sync

    if options.pairs_file:
        return options.pairs_file, load_pairs(options.pairs_file)[:n], n, []
    path = Path(options.results) / "figure3_pairs.jsonl"
    source_sha, generator = sha256_file(options.source), rubric_generator(options, conditions)
    stored = _stored(path, source_sha, generator)
    rows = {r.prompt_id: r for r in load_healthbench(path=options.source)}
    every = reference_pairs(list(rows.values()), rel(options.source), per_prompt=1, source_sha256=source_sha)
    candidates = select_pairs(every, rows, len(every), seed=options.seed, max_chars=EMBEDDED_MAX_PAIR_CHARS)
    pairs, failures = [], []

    kept = load_pairs(path) if path.is_file() else []  # every pair the file holds, whatever built it

    def save() -> None:  # the pairs used first, then every other pair of the file (a larger --pairs earlier, pairs
        used = {p.pair_id for p in pairs}  # of another kind, source or generator): a build never drops one
        save_pairs(pairs + [p for p in kept if p.pair_id not in used], path)

    todo = n - sum(c.pair_id in stored for c in candidates[:n])
    with tqdm(total=n, desc=f"figure3 pairs (rubrics by {generator})" if generator else "figure3 pairs",
              disable=not generator or todo <= 0) as bar:
        for c in candidates:
            if len(pairs) == n:
                break
            if c.pair_id in stored or generator is None:
                pairs.append(stored.get(c.pair_id, c))
                bar.update()
                continue
            built, failed = build_pairs_sync([rows[c.prompt_id]], options.source, kind="reference",
                                             generator=generator, rubrics=True, per_prompt=1,
                                             max_tokens=RUBRIC_TOKENS, progress=False)
            failures += failed
            for new in built:
                if new.rubric_ref is None:  # its rubrics failed (named in failures): the next one replaces it
                    continue
                pairs.append(new.model_copy(update={"provenance": new.provenance.model_copy(
                    update={"source": rel(options.source)})}))
                bar.update()
                save()
    if len(pairs) < n:
        raise NotRunnable(f"only {len(pairs)} pairs could be built from {options.source}; ask for --pairs "
                          f"{len(pairs)}" + (f" ({len(failures)} rubric generations failed)" if failures else ""))
    save()
    return path, pairs, n, failures


def runnable_conditions(conditions: list[str], pairs: list) -> tuple[list[str], dict[str, str]]:
    """The conditions the pairs can be scored under, and why the others are skipped: a rubric condition
    needs the rubric on some pair (a pair without it is unscored there)."""
    from rareval.evals.judge_alignment import CONDITIONS

    run, skipped = [], {}
    for c in conditions:
        field = CONDITIONS[c][1]
        if field and all(getattr(p, field) is None for p in pairs):
            skipped[c] = (f"the pairs carry no {field} (give --generator MODEL, or a --pairs-file built with "
                          f"`python -m rareval.cli alignment build --rubrics --generator MODEL`)")
        else:
            run.append(c)
    return run, skipped


def inputs_sha256(pairs: list[PreferencePair], condition: str) -> str:
    """sha256 of what ``condition``'s ratings read from ``pairs``: each pair's id, conversation, both answers
    and the condition's rubric (none for ``likert``). A stored row is reused while it is unchanged, so adding
    generated rubrics to a pairs file leaves its Direct-Likert and physician-rubric rows valid."""
    from rareval.evals.judge_alignment import CONDITIONS

    field = CONDITIONS[condition][1]
    rubrics = [getattr(p, field) if field else None for p in pairs]
    read = [[p.pair_id, [m.model_dump() for m in p.prompt], p.chosen, p.rejected,
             r.model_dump(mode="json") if r is not None else None] for p, r in zip(pairs, rubrics)]
    return hashlib.sha256(json.dumps(read, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


#: Every per-criterion prompt an ``explicit`` condition may ask with (which one depends on the judge's settings:
#: ``verdict_mode``, ``rubric_context``, ``phrasings``, ``evidence``, ``grader``); all are keyed, so an edit to
#: any of them recomputes the condition rather than reusing a row that may have read it.
CRITERION_PROMPTS = ("criterion_yesno", "criterion_yesno_alt", "criterion_yesno_context", "criterion_json",
                     "criterion_evidence")


def condition_prompts(condition: str, judge_config: dict[str, Any] | None = None) -> list[str]:
    """Versions (``name@sha256 prefix``, :attr:`rareval.prompts.Prompt.version`) of the judge prompts
    ``condition``'s ratings read under these judge settings (``prompt_variant`` picks ``NAME_hardened``): the
    rating prompt of a rating condition; for ``explicit`` every per-criterion prompt (see
    :data:`CRITERION_PROMPTS`) and simple-evals' grader."""
    from rareval.evals.judge_alignment import CONDITIONS
    from rareval.judge import RATING_PROMPTS
    from rareval.judge.config import judge_config as config_of
    from rareval.prompts import load_prompt
    from rareval.strategies import get_strategy

    strategy = get_strategy(CONDITIONS[condition][0])
    variant = config_of(judge_config).prompt_variant
    names = [RATING_PROMPTS[strategy.rating_context]] if strategy.question == "rating" else list(CRITERION_PROMPTS)
    versions = [load_prompt(n, variant).version for n in names]
    if strategy.question != "rating":  # simple-evals' grader is asked verbatim, in no variant
        versions.append(load_prompt("simple_evals_grader").version)
    return versions


def reuse_key(pairs: list[PreferencePair], condition: str, judge_args: dict[str, Any],
              judge_config: dict[str, Any]) -> dict[str, Any]:
    """What a stored Figure 3 row must match to be reused for ``condition``: what it reads from the pairs
    (:func:`inputs_sha256`) and how many pairs, the judge's settings, its model arguments (``base_url`` and
    the like: another server is another judge; a secret such as ``api_key`` is left out, it does not change an
    answer and is never written) and the judge prompts it reads (:func:`condition_prompts`)."""
    from rareval.errors import secret_name

    return {"inputs_sha256": inputs_sha256(pairs, condition), "n_pairs": len(pairs), "judge_config": judge_config,
            "judge_args": {k: v for k, v in judge_args.items() if not secret_name(k)},
            "prompts": condition_prompts(condition, judge_config)}


def reusable(row: dict[str, Any], key: dict[str, Any]) -> bool:
    """Whether a stored row matches ``key`` (:func:`reuse_key`). A row records ``judge_config`` and
    ``judge_args`` only when some were given (absent: none); one without ``prompts`` predates that key and is
    recomputed."""
    return all(row.get(k, {} if k in ("judge_config", "judge_args") else None) == v for k, v in key.items())


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
