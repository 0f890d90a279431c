"""Building preference pairs with a generator model (the judge-alignment study, RaR v2 Figure 3).

The pairs themselves, their rule-based and reference kinds, selection and the pairs file are data
(:mod:`rareval.data.alignment`, :mod:`rareval.data.rule_pairs`): no model is needed to read them.
What needs a model lives here, beside the generator it calls (:mod:`rareval.rubrics.generate`):
the ``degraded`` pairs' rejected answers (:func:`~rareval.rubrics.generate.degrade`), the pairs'
generated rubrics (:func:`~rareval.rubrics.generate.generate_rubric`), a build that resumes from its
pairs file, and the merge of a build into that file (``rareval alignment build --out``, ``--rebuild``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from inspect_ai.model import Model, get_model
from pydantic import BaseModel, Field
from tqdm import tqdm

from rareval.data.alignment import (
    PairKind,
    PreferencePair,
    Provenance,
    append_pairs,
    eligible,
    reference_pairs,
    select_pairs,
    stored_pairs,
)
from rareval.data.cache import sha256_file
from rareval.data.healthbench import HealthBenchExample
from rareval.prompts import load_prompt
from rareval.rubric import Rubric
from rareval.rubrics.generate import GenerationError, degrade, generate_rubric


async def build_pairs(rows: list[HealthBenchExample], source: str | Path, *, kind: PairKind = "degraded",
                      generator: str | Model | None = None, rubrics: bool = False, limit: int | None = None,
                      exclude_1k: bool = True, progress: bool = True, per_prompt: int = 4,
                      max_tokens: int = 2048, out: str | Path | None = None, concurrency: int = 1,
                      base: list[PreferencePair] | None = None, select: int | None = None, seed: int = 0,
                      max_chars: int | None = None, screened: bool = True) -> tuple[list[PreferencePair], list[str]]:
    """Build pairs of ``kind``; with ``rubrics`` also generate ``rubric_ref`` and ``rubric_noref``
    (``max_tokens`` caps each generation; ``per_prompt`` caps reference pairs per conversation).

    Returns ``(pairs, failures)``: a conversation whose rewrite failed (cut off, unchanged or unreadable,
    :func:`~rareval.rubrics.generate.degrade`) is left out and named in ``failures``, never given a made-up
    answer; a pair whose rubrics failed is kept without them (its rubric conditions leave it unscored) and
    named. With ``out``, each pair is appended to that JSONL file as soon as it is built, and a pair already
    there is not generated again while its conversation and chosen answer are unchanged (one without the
    rubrics asked for is built again): an interrupted build resumes. A degraded pair is reused as stored; a
    rule-based or reference pair is remade from ``base`` (its rejected answer is this version's) and keeps
    its stored rubrics and their provenance, so a fixed rule rebuilds pairs without generating their rubrics
    again. Writing the whole file is the caller's (:func:`merge_pairs`,
    :func:`~rareval.data.alignment.save_pairs`). ``concurrency`` pairs are built at once. ``base``: pairs
    already made (rule-based ones, :mod:`rareval.data.rule_pairs`) to give rubrics to, in place of the pairs
    of ``kind``. ``select``: build only that many, chosen by
    :func:`select_pairs` (``seed``, ``max_chars``; one per conversation) instead of the first ``limit``.
    ``screened``: degraded rewrites pass :func:`~rareval.rubrics.generate.screen` (False: only differ).
    """
    if (kind == "degraded" or rubrics) and not generator:
        raise ValueError("degraded pairs and generated rubrics need a generator model")
    if isinstance(generator, str):
        generator = get_model(generator)
    source_prov = Provenance(source=str(source), source_sha256=sha256_file(source))  # the file is hashed once
    if base is not None and kind == "degraded":
        raise ValueError("base pairs are already made: pass their kind (e.g. removed_criteria), not degraded")
    if base is not None:
        pass
    elif kind == "reference":
        base = reference_pairs(rows, source, per_prompt=per_prompt, exclude_1k=exclude_1k,
                               source_sha256=source_prov.source_sha256)
    elif kind == "degraded":
        base = [PreferencePair(pair_id=f"{r.prompt_id}:degraded:0", prompt_id=r.prompt_id, kind="degraded",
                               prompt=r.prompt, chosen=r.ideal_completion, rejected="", physician_rubric=r.rubric,
                               provenance=source_prov)
                for r in eligible(rows, exclude_1k=exclude_1k)]
    else:
        raise ValueError(f"{kind} pairs are made by rareval.data.rule_pairs: pass them as base")
    if select:
        base = select_pairs(base, {r.prompt_id: r for r in rows}, select, seed=seed, max_chars=max_chars)
    base = base[:limit] if limit else base
    versions = {}
    if kind == "degraded":
        versions["degrade"] = load_prompt("degrade").version
    if rubrics:
        versions |= {n: load_prompt(n).version for n in ("rubric_generate", "rubric_generate_noref")}
    notes = "rejected answers written by the generator; no manual screen" if kind == "degraded" else None
    prov = source_prov.model_copy(update={"generator": str(generator) if generator else None,
                                          "prompt_versions": versions, "notes": notes or ""})
    stored = stored_pairs(out) if out and Path(out).is_file() else {}

    def provenance_of(pair: PreferencePair) -> Provenance:
        return prov if notes else prov.model_copy(update={"notes": pair.provenance.notes})  # a base pair's own

    def earlier(pair: PreferencePair) -> PreferencePair | None:
        """The stored pair of the same conversation and chosen answer (None: none, or another question)."""
        s = stored.get(pair.pair_id)
        return s if s is not None and s.prompt == pair.prompt and s.chosen == pair.chosen else None

    def reused(pair: PreferencePair) -> PreferencePair | None:
        """The pair as it stands without generating anything, or None when something must be generated (a
        new degraded pair, a pair without the rubrics asked for)."""
        s = earlier(pair)
        if s is None and (kind == "degraded" or rubrics):
            return None
        if s is not None and rubrics and s.rubric_ref is None:  # a pair kept when its rubrics failed
            return None
        if kind == "degraded":
            return s
        if s is None:
            return pair.model_copy(update={"provenance": provenance_of(pair)})
        return pair.model_copy(update={  # this version's rejected answer; the stored rubrics and their maker
            "rubric_ref": s.rubric_ref, "rubric_noref": s.rubric_noref, "provenance": s.provenance.model_copy(
                update={"source": prov.source, "source_sha256": prov.source_sha256,
                        "notes": provenance_of(pair).notes})})

    done = {p.pair_id: r for p in base if (r := reused(p)) is not None}
    if out:  # remade ones (a fixed rule) on disk at once, as a built pair is
        append_pairs([p for p in done.values() if p != stored.get(p.pair_id)], out)
    rubric_cache: dict[str, asyncio.Future] = {}
    slots, written = asyncio.Semaphore(concurrency), asyncio.Lock()
    failures: list[str] = []
    bar = tqdm(total=len(base), initial=len(done), desc=f"building {kind} pairs", disable=not progress)

    async def rubrics_of(pair: PreferencePair) -> tuple[Rubric, Rubric]:
        if pair.prompt_id not in rubric_cache:  # one generation per conversation, however many pairs share it
            async def both() -> tuple[Rubric, Rubric]:
                ref = await generate_rubric(generator, pair.prompt, pair.chosen, max_tokens=max_tokens)
                noref = await generate_rubric(generator, pair.prompt, max_tokens=max_tokens)
                return ref.rubric, noref.rubric
            rubric_cache[pair.prompt_id] = asyncio.ensure_future(both())
        return await asyncio.shield(rubric_cache[pair.prompt_id])

    async def build(pair: PreferencePair) -> PreferencePair | None:
        async with slots:
            update: dict = {"provenance": provenance_of(pair)}  # a base pair's own notes (rule-based: its family)
            try:
                if kind == "degraded":
                    update["rejected"] = (await degrade(generator, pair.prompt, pair.chosen, max_tokens=max_tokens,
                                                        screened=screened)).text
            except GenerationError as e:
                failures.append(f"{pair.pair_id}: {e}")
                bar.update()
                return None
            if rubrics:
                try:
                    update["rubric_ref"], update["rubric_noref"] = await rubrics_of(pair)
                except GenerationError as e:  # the pair stands; its rubric conditions leave it unscored
                    failures.append(f"{pair.pair_id}: no rubrics: {e}")
            bar.update()
        built = pair.model_copy(update=update)
        if out:
            async with written:
                append_pairs([built], out)
        return built

    new = await asyncio.gather(*(build(p) for p in base if p.pair_id not in done))
    bar.close()
    fresh = {p.pair_id: p for p in new if p is not None}
    return [done.get(p.pair_id) or fresh[p.pair_id] for p in base if p.pair_id in done or p.pair_id in fresh], \
        failures


def build_pairs_sync(*args, **kwargs) -> tuple[list[PreferencePair], list[str]]:
    return asyncio.run(build_pairs(*args, **kwargs))


class MergeReport(BaseModel):
    """What a build did to its pairs file, by pair id."""

    added: list[str] = Field(default_factory=list, description="Built, not in the file before.")
    replaced: list[str] = Field(default_factory=list, description="Built again, and different (a fixed rule).")
    unchanged: list[str] = Field(default_factory=list, description="Built again, the same as stored.")
    kept: list[str] = Field(default_factory=list, description="In the file and not built by this run: kept.")
    dropped: list[str] = Field(default_factory=list, description="In the file, not made any more: left out.")
    lost_rubrics: list[str] = Field(default_factory=list, description="Replaced without the rubrics stored "
                                    "(their conversation or chosen answer changed).")
    kept_rubrics: list[str] = Field(default_factory=list, description="Replaced, with the rubrics stored.")
    total: int = Field(0, description="Pairs in the file now.")

    def summary(self) -> str:
        carried = f" ({len(self.kept_rubrics)} with their stored rubrics)" if self.kept_rubrics else ""
        text = (f"{len(self.added)} added, {len(self.replaced)} replaced{carried}, {len(self.unchanged)} "
                f"unchanged; {len(self.kept)} other pairs kept from the file")
        if self.dropped:
            text += f"; {len(self.dropped)} left out, no longer made: {', '.join(self.dropped[:5])}"
        return text + f"; {self.total} pairs in the file"


def has_rubrics(pair: PreferencePair) -> bool:
    return pair.rubric_ref is not None or pair.rubric_noref is not None


def merge_pairs(stored: dict[str, PreferencePair], built: list[PreferencePair], drop: list[str] | tuple = ()
                ) -> tuple[list[PreferencePair], MergeReport]:
    """A pairs file after a build: the stored pairs in their order, each one the build made again in its
    place, the ones in ``drop`` left out, then the new ones in the build's order. A build into a file never
    loses the pairs (and the generated rubrics) of earlier builds with another selection or kind."""
    new = {p.pair_id: p for p in built}
    report = MergeReport()
    merged = []
    for pair_id, pair in stored.items():
        if pair_id in drop and pair_id not in new:
            report.dropped.append(pair_id)
            continue
        fresh = new.pop(pair_id, None)
        if fresh is None:
            report.kept.append(pair_id)
        elif fresh == pair:
            report.unchanged.append(pair_id)
        else:
            report.replaced.append(pair_id)
            if has_rubrics(pair) and (fresh.rubric_ref, fresh.rubric_noref) == (pair.rubric_ref, pair.rubric_noref):
                report.kept_rubrics.append(pair_id)
            elif has_rubrics(pair) and not has_rubrics(fresh):
                report.lost_rubrics.append(pair_id)
        merged.append(fresh or pair)
    report.added = list(new)
    merged += new.values()
    report.total = len(merged)
    return merged, report
