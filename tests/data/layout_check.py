"""The layout of a rule-cut answer, checked from the outside: its own reading of lines, list markers and
sentences (not :mod:`rareval.data.rule_pairs`'s), so a test of the rule does not grade it by itself.

:func:`layout_faults` names what in a rejected answer a judge could tell from the chosen one by its layout
alone: a line that is not a line of the chosen answer less whole sentences (two lines joined, a list marker
lost), a bare or doubled list marker ("1. 2. Gently…"), a lead-in (a line ending ':', or a heading) left
with nothing under it, a numbered list out of sequence, doubled blank lines.
"""

import re

MARKER = re.compile(r"^(?P<indent>\s*)(?P<marker>(?:>\s*)*(?:#{1,6}\s+)?(?:[-*•+–]\s+)?"
                    r"(?:(?:\*\*)?\(?\d{1,3}(?:\.\)|[.)]|-)(?=\s)|[A-Za-z][.)](?=\s)|[-*•+–](?=\s)|[-•–](?=[^\s\d\-]))?)\s*")
BARE = re.compile(r"^\s*(?:(?:[-*•+–]|(?:\*\*)?\(?\d{1,3}[.)]\)?)(?:\s+|$))+(?:\*\*)?\s*$")
DOUBLE = re.compile(r"^\s*(?:[-*•+–]|\(?\d{1,3}[.)]\)?)\s+(?:[-•–]|\(?\d{1,3}[.)]\)?)\s")
NUMBERED = re.compile(r"^(\s*(?:#{1,6}\s+)?(?:[-*•+–]\s+)?(?:\*\*)?\(?)(\d{1,3})((?:\.\)|[.)]|-)\s)")
LINES = re.compile(r"\r\n|[\n\r\u2028\u2029]")
BULLETS = {"-", "*", "•", "+", "–"}


def shape(line: str) -> tuple[int, str, list[str]]:
    """(indent, marker with its number blanked, sentences of the rest split within the line)."""
    m = MARKER.match(line)
    return len(m["indent"].expandtabs(4)), re.sub(r"\d+", "#", "".join(m["marker"].split())), \
        [s for s in re.split(r"(?<=[.!?])\s+", line[m.end():].rstrip()) if s]


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(s in rest for s in part)


def derived(line: str, source: str) -> bool:
    """``line`` is ``source``, or ``source`` with whole sentences removed (its indent and marker kept)."""
    if line.rstrip() == source.rstrip():
        return True
    (i, m, s), (i2, m2, s2) = shape(line), shape(source)
    return i == i2 and m == m2 and bool(s) and is_subsequence(s, s2)


def line_map(chosen: list[str], rejected: list[str]) -> list[range | None]:
    """For each rejected line, the chosen lines it can have been cut from in an order-keeping reading of the
    whole answer (an empty range for a blank line, None for none): between the earliest and the latest
    reading (a greedy match from either end)."""
    def greedy(order: list[int], lines: list[int]) -> dict[int, int]:
        out, rest = {}, iter(lines)
        for k in order:
            out[k] = next((j for j in rest if derived(rejected[k], chosen[j])), None)
            if out[k] is None:
                return {}
        return out

    text = [k for k, line in enumerate(rejected) if line.strip()]
    source = [j for j, line in enumerate(chosen) if line.strip()]
    first, last = greedy(text, source), greedy(text[::-1], source[::-1])
    if not first:  # some line is not a chosen line less whole sentences, in order: find which
        at, out = 0, []
        for k, line in enumerate(rejected):
            j = next((j for j in source if j >= at and derived(line, chosen[j])), None) if line.strip() else -1
            out.append(range(0) if j == -1 else None if j is None else range(j, j + 1))
            at = j + 1 if j is not None and j >= 0 else at
        return out
    return [range(first[k], last[k] + 1) if k in first else range(0) for k in range(len(rejected))]


def number_breaks(lines: list[str]) -> int:
    """Numbered items that do not follow the previous item of their list style (n after n-1)."""
    last, breaks = {}, 0
    for line in lines:
        if m := NUMBERED.match(line):
            style, n = m[1] + m[3].strip(), int(m[2])
            breaks += style in last and n != last[style] + 1
            last[style] = n
    return breaks


def blank_runs(lines: list[str]) -> list[int]:
    runs, n = [], 0
    for line in [*lines, "x"]:
        if line.strip():
            runs, n = runs + [n] if n else runs, 0
        else:
            n += 1
    return runs


def is_lead_in(line: str) -> bool:
    return bool(re.search(r":[*_]*\s*$", line)) or bool(re.match(r"\s*#{1,6}\s", line))


def heading_level(line: str) -> int:
    m = re.match(r"\s*(#{1,6})\s", line)
    return len(m[1]) if m else 0


def is_rule(line: str) -> bool:
    return bool(re.match(r"^\s*([-*_])(?:\s*\1){2,}\s*$", line))


def under(chosen: list[str], c: int, c2: int) -> bool:
    """Whether chosen line ``c2`` is in what lead-in ``c`` introduces. Under a heading: up to the next heading
    of its level or above. Under a list item: deeper lines (and, under a numbered item, bullets). Otherwise by
    what comes first after it: a heading, up to a heading above that one's level; another lead-in at its level,
    what that one introduces; a list (or deeper lines), up to a new paragraph or a lead-in at its level; the
    paragraph on the next line; paragraphs after a blank line, up to a lead-in at its level."""
    indent, marker, _ = shape(chosen[c])
    span = range(c + 1, c2 + 1)
    if level := heading_level(chosen[c]):
        return not any(0 < heading_level(chosen[j]) <= level for j in span)
    if marker.strip(" >#"):  # deeper lines, lines right after it, and bullets under a numbered item
        def belongs(j: int) -> bool:
            ind, mark, _ = shape(chosen[j])
            bullet = mark.lstrip(">") in BULLETS and "#" in marker
            continuation = not (mark.strip(" >#") or is_lead_in(chosen[j]) or not chosen[j - 1].strip())
            return ind > indent or (ind == indent and (bullet or continuation))
        return all(not chosen[j].strip() or belongs(j) for j in span)
    first = next(j for j in span if chosen[j].strip() and not is_rule(chosen[j]))
    first_indent, first_marker, _ = shape(chosen[first])
    if level := heading_level(chosen[first]):
        return not any(0 < heading_level(chosen[j]) < level for j in span)
    if not first_marker.strip(" >#") and first_indent <= indent and is_lead_in(chosen[first]):
        return c2 == first or under(chosen, first, c2)
    listed = first_indent > indent or bool(first_marker.strip(" >#"))
    paragraphs = not listed and first > c + 1
    for j in range(first + 1, c2 + 1):
        if not chosen[j].strip():
            continue
        ind, mark, _ = shape(chosen[j])
        blank_before, item = not chosen[j - 1].strip(), bool(mark.strip(" >#"))
        level_line = not item and ind <= indent
        if heading_level(chosen[j]) or (level_line and is_lead_in(chosen[j])):
            return False
        if blank_before and (level_line if listed else not paragraphs):
            return False
    return True


def layout_faults(chosen: str, rejected: str) -> list[str]:
    """What breaks the chosen answer's layout in the rejected one: a line that is not a chosen line less whole
    sentences (lines joined, a marker lost), in the chosen's order; a bare or doubled list marker; a lead-in
    (ending ':', or a heading) left with nothing under it; a numbered list out of sequence; doubled blank lines
    or a leading blank line the chosen does not have."""
    c, r = LINES.split(chosen), LINES.split(rejected)
    where, faults = line_map(c, r), []
    faults += [f"not a chosen line less whole sentences: {r[k]!r}" for k, j in enumerate(where) if j is None]
    faults += [f"orphan marker: {line!r}" for line in r if (BARE.match(line) or DOUBLE.match(line))
               and line.strip() not in {x.strip() for x in c}]
    content = [k for k, line in enumerate(r) if line.strip() and not is_rule(line)]
    for n, k in enumerate(content):
        if not is_lead_in(r[k]) or where[k] is None:
            continue
        after = content[n + 1] if n + 1 < len(content) else None
        sources = [j for j in where[k] if derived(r[k], c[j]) and (nxt := next(
            (x for x in range(j + 1, len(c)) if c[x].strip() and not is_rule(c[x])), None)) is not None
                   and under(c, j, nxt)]  # it had something under it in the chosen answer, as this reads it
        if not sources or (after is not None and where[after] is None):
            continue
        if after is None or not any(under(c, j, j2) for j in sources for j2 in where[after]
                                    if j2 > j and derived(r[after], c[j2])):
            faults.append(f"lead-in with nothing under it: {r[k]!r}")
    if number_breaks(r) > number_breaks(c):
        faults.append("a numbered list out of sequence")
    if max(blank_runs(r), default=0) > max(blank_runs(c), default=0) or (r[0].strip() == "" < c[0].strip()):
        faults.append("doubled or leading blank lines")
    return faults
