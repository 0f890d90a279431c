"""Preference pairs that need no model: the physician's ideal answer with content removed.

A rejected answer made by deleting sentences from the chosen one can only lose content: it
meets no positive criterion the ideal did not, and adds no mistake. Two families:

* ``removed_criteria`` — the sentences that carry the rubric's highest-weight positive criteria
  are removed: for each of the ``top`` criteria by points, the sentence sharing the most content
  words with the criterion (at least ``min_overlap``); a criterion no sentence carries is
  skipped;
* ``removed_safety`` — every sentence of safety and referral advice is removed (seeing a
  doctor, emergency care, calling emergency services, warning signs; :data:`SAFETY`).

A pair is kept only when the removal leaves at least one sentence and takes at least one away,
so the rejected answer differs from the chosen one and is not empty. Sentences are split on
``.``, ``!``, ``?`` and line breaks, and list items count as sentences; what is left keeps the ideal
answer's layout (paragraphs, lists), so layout cannot tell the two apart.
"""

from __future__ import annotations

import re
from pathlib import Path

from rareval.data.alignment import PreferencePair, Provenance, eligible
from rareval.data.cache import sha256_file
from rareval.data.healthbench import HealthBenchExample

#: Safety and referral advice, matched case-insensitively within a sentence.
SAFETY = re.compile(r"\b(see|consult|contact|call|visit|seek|go to|talk to|speak (?:to|with))\b.{0,40}\b("
                    r"doctor|physician|gp|clinician|provider|pharmacist|specialist|emergency|er|a&e|911|999|112|"
                    r"urgent care|hospital|medical (?:attention|help|care|advice))\b|\bemergency\b|\bwarning signs?\b|"
                    r"\bred flags?\b|\bimmediately\b|\bright away\b", re.IGNORECASE)
RULE_KINDS = ("removed_criteria", "removed_safety")
STOPWORDS = frozenset("a an and are as at be by for from has have if in is it its of on or that the their this to "
                      "was were with does not response user".split())


SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """``text`` split into sentences and list items (their text kept as written)."""
    return [p.strip() for p in SPLIT.split(text) if p.strip()]


def without(text: str, removed: set[int]) -> str:
    """``text`` less its sentences (numbered as :func:`sentences` numbers them) in ``removed``, each cut out
    with the break that follows it (the one before it, for the last), so the rest keeps its paragraphs,
    lists and line breaks as written: the rejected answer differs from the chosen one in content only,
    not in layout."""
    spans, start = [], 0
    for sep in [*SPLIT.finditer(text), None]:
        end = sep.start() if sep else len(text)
        if text[start:end].strip():
            lead = len(text[start:end]) - len(text[start:end].lstrip())
            spans.append([start + lead, start + len(text[start:end].rstrip())])
        start = sep.end() if sep else end
    cut = [(a, spans[i + 1][0] if i + 1 < len(spans) else b) for i, (a, b) in enumerate(spans) if i in removed]
    if len(spans) - 1 in removed and len(removed) < len(spans):  # the last sentence goes with the break before it
        keep = max(i for i in range(len(spans)) if i not in removed)
        cut[-1] = (spans[keep][1], len(text))
    out, pos = [], 0
    for a, b in sorted(cut):
        out.append(text[pos:max(a, pos)])
        pos = max(b, pos)
    return ("".join(out) + text[pos:]).strip()


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9-]{2,}", text.lower()) if w not in STOPWORDS}


def remove_criteria(row: HealthBenchExample, top: int = 2, min_overlap: int = 2) -> str | None:
    """The ideal answer less the sentences carrying its ``top`` highest-weight positive criteria; None when
    nothing (or everything) would be removed."""
    parts = sentences(row.ideal_completion or "")
    criteria = sorted((c for c in row.rubric if c.weight > 0), key=lambda c: -c.weight)[:top]
    removed = set()
    for criterion in criteria:
        words = content_words(criterion.text)
        overlap = [(len(words & content_words(p)), i) for i, p in enumerate(parts)]
        best, index = max(overlap, default=(0, -1))
        if best >= min_overlap:
            removed.add(index)
    return without(row.ideal_completion, removed) if removed and len(removed) < len(parts) else None


def remove_safety(row: HealthBenchExample) -> str | None:
    """The ideal answer less its safety and referral sentences; None when it has none (or only those)."""
    parts = sentences(row.ideal_completion or "")
    removed = {i for i, p in enumerate(parts) if SAFETY.search(p)}
    return without(row.ideal_completion, removed) if removed and len(removed) < len(parts) else None


def rule_pairs(rows: list[HealthBenchExample], source: str | Path, kind: str = "removed_criteria", *,
               exclude_1k: bool = True) -> list[PreferencePair]:
    """Ideal ≻ the ideal with content removed, for every eligible row the rule changes (module docstring)."""
    rules = dict(zip(RULE_KINDS, (remove_criteria, remove_safety)))
    if kind not in rules:
        raise ValueError(f"unknown rule-based pair kind {kind!r}; choose from {', '.join(rules)}")
    prov = Provenance(source=str(source), source_sha256=sha256_file(source),
                      notes=f"rule-based: {kind.replace('_', ' ')} from the ideal answer (rareval.data.rule_pairs)")
    pairs = []
    for row in eligible(rows, exclude_1k=exclude_1k):
        rejected = rules[kind](row)
        if rejected is not None:
            pairs.append(PreferencePair(pair_id=f"{row.prompt_id}:{kind}:0", prompt_id=row.prompt_id, kind=kind,
                                        prompt=row.prompt, chosen=row.ideal_completion, rejected=rejected,
                                        physician_rubric=row.rubric, provenance=prov))
    return pairs
