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
so the rejected answer differs from the chosen one and is not empty.

The cut keeps the layout of what it keeps, so a judge cannot find the rejected answer by broken
formatting (:func:`without`). Sentences are split on ``.``, ``!`` and ``?`` within a line, never across
a line break; a list marker (``-``, ``1.``, ``(2)``, ``a)``, a heading's ``#``) is the line's prefix,
never a sentence; a heading or a table row is one sentence. A line whose sentences all go is removed
with its line break; a list item or heading that goes takes what is under it, and a lead-in sentence
ending ``:`` the list or paragraph right after it; a lead-in (a sentence ending ``:``, a heading, a
bold title line) whose content all went goes too; numbered lists are renumbered; the blank lines
either side of a removed block do not double up, and the answer starts and ends as the ideal does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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

_SPACE = r"[^\S\r\n\u2028\u2029]"  # white space within a line
#: A line break (a Unicode line or paragraph separator is one too).
BREAK = re.compile(r"(\r\n|[\n\r\u2028\u2029])")
#: A line's prefix: indent, block quote, heading hashes, a bullet (``-``, ``*``, ``•``, ``+``, ``–``; a dash may
#: touch its text), then a number or letter (``1.``, ``1)``, ``(1)``, ``1.)``, ``1-``, ``**1.``, ``a.``, ``a)``).
PREFIX = re.compile((r"~*(?:>~*)*(?:(?P<heading>#{1,6})~+)?(?:(?P<bullet>[-*•+–])~+|(?P<touching>[-•–])(?=[^\s\d-]))?"
                     r"(?:(?:\*\*)?\(?(?P<num>\d{1,3})(?:\.\)|[.)]|-)~+|(?P<letter>[A-Za-z][.)])~+)?")
                    .replace("~", _SPACE))
#: A sentence ends at ``.``, ``!`` or ``?`` and the space after it, within a line: not after an initial or
#: "e.g." (one letter and a dot), nor before what reads as a list marker.
SENTENCE_END = re.compile((r"(?<=[.!?])(?<!\b[A-Za-z]\.)~+(?!~)(?!(?:[-*•+–]|\(?\d{1,3}[.)]\)?)~)")
                          .replace("~", _SPACE))
LEAD_IN = re.compile(r":[*_]*$")
BOLD_TITLE = re.compile(r"^\*\*[^*].*\*\*:?$")
RULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
TABLE_BORDER = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class Line:
    """One line of an answer: its prefix (indent and list marker), its sentences as spans of ``text``."""

    text: str
    sep: str  # the line break after it ("" for the last line)
    indent: int
    heading: int  # heading level, 0 for none
    item: bool  # a list item (a bullet, number or letter marker)
    number: tuple[int, int] | None  # span of the list number in ``text``
    style: str  # indent and marker, the number blanked: the items of one numbered list share it
    units: tuple[tuple[int, int], ...]  # sentence spans
    table_head: bool = False  # a table's header row (layout, not a sentence: it goes with the table's rows)

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def rule(self) -> bool:
        return bool(RULE.match(self.text))

    @property
    def content(self) -> bool:
        return bool(self.units) or self.table_head

    @property
    def lead_in(self) -> bool:
        """Introduces what follows it: a heading, a bold title line, or a last sentence ending ':'."""
        if not self.units:
            return False
        last = self.text[slice(*self.units[-1])]
        return bool(self.heading or LEAD_IN.search(last) or (len(self.units) == 1 and BOLD_TITLE.match(last)))


def parse_line(text: str, sep: str = "") -> Line:
    m = PREFIX.match(text)
    start, end = m.end(), len(text.rstrip())
    body = text[start:end]
    if not re.search(r"\w", body):
        units: tuple = ()  # a rule, a bare marker or a table border: layout, not a sentence
    elif body.startswith("|") or m.group("heading"):
        units = ((start, end),)  # a table row or a heading is one unit: a cut inside it would break it
    else:
        cuts = [(start + s.start(), start + s.end()) for s in SENTENCE_END.finditer(body)]
        bounds = [start, *(x for c in cuts for x in c), end]
        units = tuple((a, b) for a, b in zip(bounds[::2], bounds[1::2]) if a < b)
    number = m.span("num") if m.group("num") else None
    marker = text[:m.end()] if number is None else text[:number[0]] + "#" + text[number[1]:m.end()]
    indent = len(text[:len(text) - len(text.lstrip())].expandtabs(4))
    heading = len(m.group("heading") or "")
    item = not heading and any(m.group(g) for g in ("num", "letter", "bullet", "touching"))
    return Line(text=text, sep=sep, indent=indent, heading=heading, item=item, number=number,
                style=f"{indent}:{''.join(marker.split())}", units=units)


def parse(text: str) -> list[Line]:
    parts = BREAK.split(text)
    lines = [parse_line(t, sep) for t, sep in zip(parts[::2], [*parts[1::2], ""])]
    for i, line in enumerate(lines[:-1]):
        if line.text.lstrip().startswith("|") and TABLE_BORDER.match(lines[i + 1].text):
            lines[i] = replace(line, units=(), table_head=True)
    return lines


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (list items' text without their markers), as :func:`without` numbers
    them."""
    return [line.text[a:b] for line in parse(text) for a, b in line.units]


def item_block(lines: list[Line], i: int) -> list[int]:
    """The lines that belong to list item ``i``: deeper-indented lines, the lines that follow it with no blank
    between (lazy continuations), and under a numbered item same-indent bullets (after a blank line only when
    the list's next number follows them)."""
    head, out, blank, loose, stop = lines[i], [], False, None, None
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if line.blank:
            blank = True
            continue
        deeper = line.indent > head.indent and not line.heading
        continuation = not blank and line.indent == head.indent and not line.item and not line.heading \
            and not line.lead_in
        sub = head.number is not None and line.indent == head.indent and line.item and line.number is None
        if not (deeper or continuation or sub):
            stop = j
            break
        if sub and blank and loose is None:
            loose = len(out)
        out.append(j)
        blank = False
    if loose is not None and not (stop is not None and lines[stop].number and lines[stop].style == head.style):
        out = out[:loose]
    return out


def section(lines: list[Line], i: int) -> list[int]:
    """The lines under heading ``i``: up to the next heading of its level or above."""
    end = next((k for k in range(i + 1, len(lines)) if 0 < lines[k].heading <= lines[i].heading), len(lines))
    return list(range(i + 1, end))


def lead_in_block(lines: list[Line], i: int) -> tuple[list[int], bool]:
    """What lead-in ``i`` introduces, and whether it goes when the lead-in goes.

    A heading: its :func:`section` (it goes with it). A list item: its :func:`item_block` (it goes with it).
    Otherwise what comes first after it (rules aside): a heading, the sections up to a heading above that
    one's level; a lead-in at its level, that lead-in and what it introduces; a paragraph after a blank
    line, up to the next lead-in at its level (these three stay when the lead-in goes: it opened more than
    one part); a list (or deeper lines), up to a new paragraph; a paragraph on the next line, that paragraph
    (these two go with it). A heading or a lead-in at its level ends each."""
    head = lines[i]
    if head.heading:
        return section(lines, i), True
    if head.item:
        return item_block(lines, i), True
    first = next((j for j in range(i + 1, len(lines)) if not lines[j].blank and not lines[j].rule), None)
    if first is None:
        return [], False
    top = lines[first]
    if top.heading:
        end = next((k for k in range(first + 1, len(lines)) if 0 < lines[k].heading < top.heading), len(lines))
        return list(range(first, end)), False
    if not top.item and top.indent <= head.indent and top.lead_in:
        return [first, *lead_in_block(lines, first)[0]], False
    listed = top.item or top.indent > head.indent
    paragraphs, out, blank = not listed and first > i + 1, [first], False
    for j in range(first + 1, len(lines)):
        line = lines[j]
        if line.blank:
            blank = True
            continue
        level = not line.item and line.indent <= head.indent
        if line.heading or (level and line.lead_in) or (blank and (level if listed else not paragraphs)):
            break
        out.append(j)
        blank = False
    return out, not paragraphs  # an opening line before sections ("Here is the note:") is not their head


def table_rows(lines: list[Line], i: int) -> list[int]:
    """The body rows of the table whose header is line ``i`` (its border is line ``i + 1``)."""
    end = next((k for k in range(i + 2, len(lines)) if not lines[k].text.lstrip().startswith("|")), len(lines))
    return list(range(i + 2, end))


def _cut_lines(lines: list[Line], removed: set[tuple[int, int]]) -> set[int]:
    """Lines that go (``removed``, the sentences that go, is updated in place), to a fixed point: a line whose
    sentences all go; what a list item, heading or lead-in introduces when it goes (a lead-in: its last
    sentence) and goes with it (:func:`lead_in_block`); a lead-in whose content all went (its last sentence;
    a heading or a one-sentence line entirely); a table whose rows all went, its header and border with
    them; then a horizontal rule left at the start or end of what is kept, or right after another."""
    forced: set[int] = set()
    heads = {i: lead_in_block(lines, i) if line.lead_in else (item_block(lines, i), True)
             for i, line in enumerate(lines) if line.lead_in or line.item}
    tables = {i: table_rows(lines, i) for i, line in enumerate(lines) if line.table_head}

    def gone(i: int) -> bool:
        units = lines[i].units
        return i in forced or bool(units) and all((i, k) in removed for k in range(len(units)))

    changed = True
    while changed:
        changed = False
        for i, (block, goes_with) in heads.items():
            line = lines[i]
            last = (i, len(line.units) - 1)
            head_gone = gone(i) or (line.lead_in and last in removed)  # a ':' sentence introduces
            if head_gone and goes_with and (under := set(block) - forced):
                forced |= under
                changed = True
            content = [j for j in block if lines[j].content] if line.lead_in else []
            if content and not head_gone and all(gone(j) for j in content):
                if line.heading or len(line.units) == 1:
                    forced.add(i)
                else:  # the lead-in is the line's last sentence: the sentences before it stay
                    removed.add(last)
                changed = True
        for i, rows in tables.items():
            if rows and i not in forced and all(gone(j) for j in rows):
                forced |= {i, i + 1}
                changed = True
    dropped = {i for i in range(len(lines)) if gone(i)}
    return dropped | _stray_rules(lines, dropped)


def _stray_rules(lines: list[Line], dropped: set[int]) -> set[int]:
    """Horizontal rules that the cut left first or last (where the original had something before or after
    them) or right after another rule (where the original had something between)."""
    stray: set[int] = set()
    for order in (range(len(lines)), range(len(lines) - 1, -1, -1)):
        kept = original = None  # the last non-blank line seen: of what is kept, of the original
        for i in order:
            if lines[i].blank:
                continue
            alone = (kept is None and original is not None) or (kept is not None and lines[kept].rule
                                                                 and kept != original)
            if i not in dropped and i not in stray and lines[i].rule and alone:
                stray.add(i)
            if i not in dropped and i not in stray:
                kept = i
            original = i
    return stray


def _numbers(lines: list[Line], dropped: set[int]) -> dict[int, int]:
    """New numbers of the kept items that need one: each numbered list (items of one style numbered n, n+1, …
    in the original) counts its kept items from its first number."""
    lists: dict[str, tuple[tuple[int, int], int]] = {}  # style -> (its list: first line and number, last number)
    list_of: dict[int, tuple[int, int]] = {}
    for i, line in enumerate(lines):
        if line.number is not None:
            n, seen = int(line.text[slice(*line.number)]), lists.get(line.style)
            list_of[i] = seen[0] if seen and n == seen[1] + 1 else (i, n)
            lists[line.style] = (list_of[i], n)
    count: dict[tuple[int, int], int] = {}
    out = {}
    for i, first in list_of.items():
        if i not in dropped:
            count[first] = count.get(first, first[1] - 1) + 1
            if count[first] != int(lines[i].text[slice(*lines[i].number)]):
                out[i] = count[first]
    return out


def _render(line: Line, removed: set[tuple[int, int]], i: int, number: int | None) -> str:
    text = line.text
    kept = [k for k in range(len(line.units)) if (i, k) not in removed]
    if len(kept) < len(line.units):
        pieces = [text[slice(*line.units[kept[0]])]]
        for k in kept[1:]:  # each kept sentence after the first with the break that preceded it
            pieces.append(text[line.units[k - 1][1]:line.units[k][0]] + text[slice(*line.units[k])])
        text = text[:line.units[0][0]] + "".join(pieces) + text[line.units[-1][1]:]
    if number is not None:
        a, b = line.number
        text = text[:a] + str(number) + text[b:]
    return text


def without(text: str, removed: set[int]) -> str:
    """``text`` less its sentences (numbered as :func:`sentences` numbers them) in ``removed``, keeping the
    layout of what is left: the rejected answer differs from the chosen one in content only.

    Each line keeps its prefix and the breaks between the sentences it keeps; a line left with no sentence
    goes with its line break, and with it what it introduced, or a lead-in left with nothing under it
    (:func:`_cut_lines`); numbered lists are renumbered; where a removed block leaves two runs of blank
    lines side by side, the later one stays; the text starts and ends as the original did."""
    lines = parse(text)
    index = [(i, k) for i, line in enumerate(lines) for k in range(len(line.units))]
    gone = {index[n] for n in removed if 0 <= n < len(index)}
    dropped = _cut_lines(lines, gone)
    numbers = _numbers(lines, dropped)
    text_lines = [i for i, line in enumerate(lines) if not line.blank]
    first, last = (text_lines[0], text_lines[-1]) if text_lines else (len(lines), -1)
    out: list[int] = []
    for i, line in enumerate(lines):
        if i in dropped:
            continue
        if line.blank:
            if not out and i > first:
                continue  # the content before it went: the text does not start with a blank line
            if out and lines[out[-1]].blank and out[-1] != i - 1:
                while out and lines[out[-1]].blank:  # two runs of blank lines met where a block went
                    out.pop()
        out.append(i)
    while out and lines[out[-1]].blank and out[-1] < last:
        out.pop()  # blank lines that led to removed content at the end
    texts = [lines[i].text if lines[i].blank else _render(lines[i], gone, i, numbers.get(i)) for i in out]
    return "".join(t + lines[i].sep for t, i in zip(texts[:-1], out)) + texts[-1] if out else ""


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9-]{2,}", text.lower()) if w not in STOPWORDS}


def cut(text: str, removed: set[int]) -> str | None:
    """:func:`without`, or None when it removes nothing or leaves no sentence."""
    if not removed:
        return None
    rest = without(text, removed)
    return rest if sentences(rest) and rest != text else None


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
    return cut(row.ideal_completion, removed) if len(removed) < len(parts) else None


def remove_safety(row: HealthBenchExample) -> str | None:
    """The ideal answer less its safety and referral sentences; None when it has none (or only those)."""
    parts = sentences(row.ideal_completion or "")
    removed = {i for i, p in enumerate(parts) if SAFETY.search(p)}
    return cut(row.ideal_completion, removed) if len(removed) < len(parts) else None


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
