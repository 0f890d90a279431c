"""Preference pairs for the judge-alignment study (RaR v2 Figure 3, SPEC §1.8 and §6).

A pair is a HealthBench conversation with a **chosen** answer that a physician
approved and a **rejected** one that should be worse:

* ``kind="degraded"`` — chosen = the physician's ideal completion, rejected = a
  generator model's strictly-worse rewrite of it (:func:`rareval.rubrics.generate.degrade`,
  RaR's recipe with any generator instead of o3 and no manual screen; built by
  :func:`rareval.rubrics.pairs.build_pairs`);
* ``kind="reference"`` — chosen = the ideal completion, rejected = one of the model
  reference completions the physician saw and improved on (HealthBench Group 2 only,
  up to four per conversation; Group 3 references are ones the physicians could not
  improve on). The preference is implicit (the physician rewrote the reference), not an
  explicit label;
* ``kind="removed_criteria"`` / ``kind="removed_safety"`` — no model: the ideal completion
  with the sentences that carry its rubric's highest-weight criteria, or its safety and
  referral advice, removed (:mod:`rareval.data.rule_pairs`), worse by construction.

Pairs can carry model-written rubrics for the rubric conditions: ``rubric_ref``
(generated with the ideal answer as the reference, as RaR's "expert-grounded"
rubrics; note the leak: the reference is the chosen answer) and ``rubric_noref``
(generated from the question alone). Every pair records its provenance (source
file and sha256, generator, prompt versions), and :func:`save_pairs` /
:func:`load_pairs` keep built pairs in a JSONL file so they are built once.
Rows of HealthBench-1k are excluded by default, as RaR A.7 does.

This module reads, writes and selects pairs and calls no model: what needs a generator
(degraded answers, generated rubrics, a build merged into its file) is
:mod:`rareval.rubrics.pairs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rareval.data.cache import DataError, read_jsonl, sha256_file, write_text_atomic
from rareval.data.healthbench import HealthBenchExample, Message
from rareval.data.healthbench_1k import in_healthbench_1k
from rareval.rubric import Rubric

PairKind = Literal["degraded", "reference", "removed_criteria", "removed_safety"]


class Provenance(BaseModel):
    """Where a pair came from, so a result can be traced and rebuilt."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="HealthBench file the conversation and ideal answer came from.")
    source_sha256: str = Field(description="sha256 of that file.")
    generator: str | None = Field(None, description="Model that wrote the rejected answer and/or the rubrics.")
    prompt_versions: dict[str, str] = Field(default_factory=dict, description="Generation prompt versions used.")
    notes: str = Field("", description="Anything a reader of the results must know (e.g. no manual screen).")


class PreferencePair(BaseModel):
    """One conversation with a preferred (chosen) and a dispreferred (rejected) answer."""

    model_config = ConfigDict(frozen=True)

    pair_id: str = Field(description="Unique id: prompt id, kind and index.")
    prompt_id: str = Field(description="HealthBench prompt id.")
    kind: PairKind = Field(description="How the rejected answer was made (module docstring).")
    prompt: tuple[Message, ...] = Field(min_length=1, description="The conversation both answers continue.")
    chosen: str = Field(description="The preferred answer (the physician's ideal completion).")
    rejected: str = Field(description="The dispreferred answer.")
    physician_rubric: Rubric = Field(description="The HealthBench physician rubric of the conversation.")
    rubric_ref: Rubric | None = Field(None, description="Rubric generated with the ideal answer as reference.")
    rubric_noref: Rubric | None = Field(None, description="Rubric generated from the conversation alone.")
    provenance: Provenance


def eligible(rows: list[HealthBenchExample], *, exclude_1k: bool = True) -> list[HealthBenchExample]:
    """Rows with an ideal completion, HealthBench-1k rows left out unless ``exclude_1k=False``."""
    return [r for r in rows if r.ideal_completion and not (exclude_1k and in_healthbench_1k(r.prompt_id))]


def pair_chars(pair: PreferencePair) -> int:
    """Characters a judge reads for a pair: the conversation and both answers."""
    return sum(len(m.content) for m in pair.prompt) + len(pair.chosen) + len(pair.rejected)


def answerable(row: HealthBenchExample) -> bool:
    """Whether the conversation asks something an answer can address: its last user turn has at least 4
    words and its user turns at least 8 ("He is 4" or "PT. Name: Lina" alone do not)."""
    user = [m.content.split() for m in row.prompt if m.role == "user"]
    return bool(user) and len(user[-1]) >= 4 and sum(map(len, user)) >= 8


def select_pairs(pairs: list[PreferencePair], rows: dict[str, HealthBenchExample], n: int, *, seed: int = 0,
                 max_chars: int | None = None, one_per_prompt: bool = True) -> list[PreferencePair]:
    """``n`` pairs (fewer if fewer qualify): a seeded random sample stratified by theme — the themes taken in
    turn, each theme's pairs in a seeded random order — among pairs of :func:`answerable` conversations whose
    :func:`pair_chars` is within ``max_chars``. Not the shortest first: that picks prompts with nothing to
    answer. With ``one_per_prompt``, at most one pair per conversation (pairs of one conversation are not
    independent draws, and a bootstrap over pairs assumes they are)."""
    import random

    rng = random.Random(seed)
    by_theme: dict[str, list[PreferencePair]] = {}
    for p in pairs:
        row = rows[p.prompt_id]
        if answerable(row) and (max_chars is None or pair_chars(p) <= max_chars):
            by_theme.setdefault(row.theme or "", []).append(p)
    for group in by_theme.values():
        rng.shuffle(group)
    themes = sorted(by_theme)
    rng.shuffle(themes)
    out: list[PreferencePair] = []
    used: set[str] = set()
    while len(out) < n and any(by_theme.values()):
        for theme in themes:
            while by_theme[theme] and len(out) < n:
                pair = by_theme[theme].pop()
                if not (one_per_prompt and pair.prompt_id in used):
                    out.append(pair)
                    used.add(pair.prompt_id)
                    break
    return out


def reference_pairs(rows: list[HealthBenchExample], source: str | Path, *, per_prompt: int = 4,
                    exclude_1k: bool = True, source_sha256: str | None = None) -> list[PreferencePair]:
    """Ideal completion ≻ each model reference completion (no model needed), for Group 2 rows only.

    HealthBench's physicians wrote the ideal completion of a Group 2 row by improving its reference
    completions, so the ideal is better by their judgement. Group 3 references are the ones they could
    not improve on (the label is near a coin flip) and Group 1 rows have none: both are left out."""
    prov = Provenance(source=str(source), source_sha256=source_sha256 or sha256_file(source),
                      notes="implicit preference: the physician improved the reference completions (Group 2)")
    pairs = []
    for r in eligible(rows, exclude_1k=exclude_1k):
        if r.ideal_completions_group != "Group 2":
            continue
        for i, ref in enumerate(r.ref_completions[:per_prompt]):
            if ref.strip() and ref.strip() != r.ideal_completion.strip():
                pairs.append(PreferencePair(pair_id=f"{r.prompt_id}:reference:{i}", prompt_id=r.prompt_id,
                                            kind="reference", prompt=r.prompt, chosen=r.ideal_completion,
                                            rejected=ref, physician_rubric=r.rubric, provenance=prov))
    return pairs


def save_pairs(pairs: list[PreferencePair], path: str | Path) -> Path:
    return write_text_atomic(path, "".join(p.model_dump_json() + "\n" for p in pairs))


def append_pairs(pairs: list[PreferencePair], path: str | Path) -> None:
    """Append pairs to a pairs file as they are built (an interrupted build keeps them)."""
    if pairs:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write("".join(p.model_dump_json() + "\n" for p in pairs))


def stored_pairs(path: str | Path) -> dict[str, PreferencePair]:
    """A pairs file's pairs by id, in the order they first appear; a pair written again (appended by a build
    that rebuilt it and was interrupted) counts as its last version."""
    out: dict[str, PreferencePair] = {}
    for pair in load_pairs(path):
        out[pair.pair_id] = pair
    return out


def load_pairs(path: str | Path) -> list[PreferencePair]:
    """Read a pairs file; a bad row raises :class:`DataError` naming the file, line and field."""
    pairs = []
    for line, record in read_jsonl(path):
        try:
            pairs.append(PreferencePair.model_validate(record))
        except ValidationError as e:
            err = e.errors()[0]
            raise DataError(err["msg"], file=path, line=line, field=".".join(map(str, err["loc"]))) from None
    return pairs
