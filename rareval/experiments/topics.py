"""Topic labels and topic shares: the measures of RaR v2 Tables 6 (medical) and 9 (STEM).

* :func:`shares` — counts and percentages of a list of labels, largest first;
  ``unclassified`` is a row like any other, so nothing is dropped silently.
* **Paper scale** — :func:`label_topics` asks any Inspect model (prompt
  ``topic_label``) for exactly one of the paper's topic names per question;
  :func:`parse_topic` reads the answer strictly (one line, one listed name, case and
  surrounding quotes or emphasis aside, plus the full forms of the paper's two
  abbreviated medical names). Anything else is :data:`UNCLASSIFIED` and counted.
  Readable labels are kept in rareval's verdict cache (:class:`rareval.judge.cache.VerdictCache`,
  keyed by model, prompt version and the rendered prompt), so a rerun pays only for
  questions not yet labelled; unreadable answers are asked again next time.
* **Embedded scale** (no model) — stand-ins with their own taxonomies:
  :func:`healthbench_themes` (each HealthBench row's ``theme:`` tag, for Table 6) and
  :func:`gpqa_subdomains` (GPQA-Diamond's ``Subdomain`` and ``High-level domain``, for
  Table 9; only those two fields are read, never a question's text).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from inspect_ai.model import GenerateConfig, Model, get_model
from pydantic import BaseModel, Field

from rareval.judge.cache import VerdictCache
from rareval.prompts import load_prompt
from rareval.judge.usage import Usage

UNCLASSIFIED = "unclassified"
PROMPT = "topic_label"
#: Full forms a model may give for the paper's abbreviated Table 6 names.
ALIASES = {"medical diagnosis and management": "Medical Diag. and Mngmnt",
           "medical diagnosis & management": "Medical Diag. and Mngmnt",
           "epidemiology & public health": "Epidemiology & Pub. Health",
           "epidemiology and public health": "Epidemiology & Pub. Health"}


class TopicShare(BaseModel):
    topic: str
    count: int
    percent: float = Field(description="Share of all labelled questions, in percent (1 decimal, as printed).")


class Labelled(BaseModel):
    """What :func:`label_topics` returns: one label per question, in order, and what it cost."""

    labels: list[str]
    model: str
    prompt_version: str
    cached: int = Field(0, description="Labels read from the verdict cache.")
    unclassified: int = Field(0, description="Questions left unclassified (no listed topic named, or an error).")
    errors: int = Field(0, description="Of those, questions whose call raised (after Inspect's own retries).")
    usage: Usage = Field(default_factory=Usage)


def shares(labels: Iterable[str]) -> list[TopicShare]:
    """Counts and percentages of ``labels``, largest first (ties by name)."""
    counts = Counter(labels)
    n = sum(counts.values())
    return [TopicShare(topic=t, count=c, percent=round(100 * c / n, 1))
            for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_topic(text: str, topics: Sequence[str]) -> str | None:
    """The listed topic ``text`` names, or None.

    Accepted: one non-empty line, optionally prefixed ``Topic:`` / ``Answer:``, wrapped in
    quotes, backticks or ``*`` emphasis, or ending in a full stop, that equals a listed name
    up to case and spacing (or is the full form of an abbreviated Table 6 name). Anything
    else — several lines, a sentence, two topics, an unlisted name — is None.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    wrap = " *`\"'"
    answer = re.sub(r"^(topic|answer)\s*:", "", lines[0].strip(wrap), flags=re.IGNORECASE)
    answer = answer.strip(wrap).removesuffix(".").strip(wrap)
    by_name = {_norm(t): t for t in topics}
    key = _norm(answer)
    if key in by_name:
        return by_name[key]
    alias = ALIASES.get(key)
    return alias if alias in topics else None


def render_prompt(question: str, topics: Sequence[str], field: str) -> str:
    return load_prompt(PROMPT).render(field=field, topics="\n".join(f"- {t}" for t in topics), question=question)


async def label_topics(model: str | Model, questions: Sequence[str], topics: Sequence[str], field: str, *,
                       cache: VerdictCache | None = None, retries: int = 1, concurrency: int = 16,
                       max_tokens: int | None = None, progress: bool = False) -> Labelled:
    """One of ``topics`` per question by ``model`` (temperature 0; an unreadable answer is asked again
    ``retries`` times at temperature 0.7, then labelled :data:`UNCLASSIFIED`)."""
    from tqdm import tqdm

    model = get_model(model, memoize=False) if isinstance(model, str) else model
    prompt = load_prompt(PROMPT)
    semaphore = asyncio.Semaphore(max(1, concurrency))
    out = Labelled(labels=[UNCLASSIFIED] * len(questions), model=str(model), prompt_version=prompt.version)
    bar = tqdm(total=len(questions), disable=not progress, desc="topic labels", unit="q", file=sys.stderr)

    async def one(i: int, question: str) -> None:
        text = render_prompt(question, topics, field)
        key = VerdictCache.key(kind="topic", model=str(model), prompt=prompt.version, text=text, temperature=0.0)
        if cache is not None and (hit := cache.get(key)) in topics:
            out.labels[i], out.cached = hit, out.cached + 1
            bar.update(1)
            return
        async with semaphore:
            for attempt in range(1 + retries):
                try:
                    reply = await model.generate(text, config=GenerateConfig(
                        temperature=0.0 if attempt == 0 else 0.7, max_tokens=max_tokens))
                except Exception:  # noqa: BLE001  (Inspect already retried transport errors)
                    out.usage += Usage(calls=1)
                    out.unclassified, out.errors = out.unclassified + 1, out.errors + 1
                    break
                out.usage += Usage.of(reply)
                if (label := parse_topic(reply.completion, topics)) is not None:
                    out.labels[i] = label
                    if cache is not None:
                        cache.put(key, label)
                    break
            else:
                out.unclassified += 1
        bar.update(1)

    try:
        await asyncio.gather(*(one(i, q) for i, q in enumerate(questions)))
    finally:
        bar.close()
    return out


def healthbench_themes(path: str | Path) -> list[str]:
    """Each HealthBench row's ``theme:`` tag value (``unclassified`` where a row has none), in file order."""
    from rareval.data.healthbench import load_healthbench

    return [row.theme or UNCLASSIFIED for row in load_healthbench(path=path)]


def gpqa_subdomains(path: str | Path | None = None) -> list[tuple[str, str]]:
    """``(high-level domain, subdomain)`` of each GPQA-Diamond record, read through
    :func:`rareval.data.gpqa.load_gpqa_diamond` (a zip is unpacked into the data cache, outside
    the repository); no question text leaves the loader."""
    from rareval.data.gpqa import load_gpqa_diamond

    return [(r.domain, r.subdomain) for r in load_gpqa_diamond(path)]
