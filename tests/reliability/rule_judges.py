"""Two rules for the scripted judge, to test the v2 probes: a strict one and a lenient one.

The scripted ``keyword`` judge (:mod:`rareval.models.scripted`) decides every criterion with its module's
``keyword_met``; :func:`judging_by` swaps that function for one of the rules below for the length of a
test, so the judge's whole path (prompts, strategies, the defence) runs unchanged around it. (A swap in the
test, rather than two new behaviours in ``scripted.py``, leaves the scripted model as it is.) Verdicts of a
swapped rule must not reach the verdict cache under the ``keyword`` name: use ``JudgeConfig(cache=False)``.

A criterion's *words* are its quoted keywords when it has them (``Advises 'fluids'``), else its words of
5+ letters (for the strict rule, its first word too: the verb, "Asks"); a word is *held* by a text when
a word of the text starts with its first five letters.

* :func:`strict_met` — met when **one sentence** holds every word (the verb included: "Advises" is what is
  asked). It credits only what is stated together, so it stands for a judge that credits what is truly
  there (the construction property of the v2 probes is checked against it);
* :func:`lenient_met` — met when at least half the words (the opening verb left out) occur **anywhere**: a
  judge that credits a topic matched, or one half of a compound criterion (the v2 probes should exploit it).
"""

from __future__ import annotations

import contextlib
import re

from rareval.models import scripted


def words(criterion: str, verb: bool = False) -> list[str]:
    """The criterion's quoted keywords, else its words of 5+ letters (and with ``verb`` its first word, however
    short: "Asks")."""
    if criterion.startswith(scripted.DEFENCE_PREFIX):
        return ["grader"]
    quoted = re.findall(r"'([^']+)'", criterion)
    found = quoted or re.findall(r"[A-Za-z]{5,}", criterion)
    if verb and not quoted:
        found = re.findall(r"[A-Za-z]+", criterion)[:1] + found
    return list(dict.fromkeys(w.lower() for w in found))


def held(word: str, text: str) -> bool:
    stem = word[:5]
    return any(w.startswith(stem) for w in re.findall(r"[a-z]+", text.lower()))


def strict_met(criterion: str, response: str) -> bool:
    sentences = [s for s in re.split(r"[.!?\n]+", response) if s.strip()]
    return any(all(held(w, s) for w in words(criterion, verb=True)) for s in sentences)


def lenient_met(criterion: str, response: str) -> bool:
    ws = words(criterion)
    ws = ws[1:] if len(ws) > 1 and criterion.lower().startswith(ws[0]) else ws  # the verb does not count
    return bool(ws) and sum(held(w, response) for w in ws) * 2 >= len(ws)


@contextlib.contextmanager
def judging_by(rule):
    """The scripted ``keyword`` judge deciding every criterion by ``rule`` inside the block."""
    original = scripted.keyword_met
    scripted.keyword_met = rule
    try:
        yield
    finally:
        scripted.keyword_met = original
