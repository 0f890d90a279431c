"""Final-letter extraction for multiple-choice answers.

Models wrap their answer letter in many ways (``**ANSWER: C**``, ``$\\boxed{\\text{C}}$``,
``Answer: C) 3 eV``), and over-permissive patterns pick letters out of prose
("A patient presents…"; openbench #348) or out of rejected options ("(A) is
wrong … (D) is wrong"). :func:`extract_choice` returns a letter only for a
final, affirmative answer; otherwise None, so that a caller such as
:func:`rareval.evals.gpqa.gpqa_choice` asks its verifier (RaR's fallback). The rules:

1. **Explicit candidates** — ``\\boxed{…}`` / ``\\fbox{…}`` whose content reduces
   to one letter; ``answer:`` / ``answer is`` / ``final answer:`` followed by a
   letter; and a choice phrase followed by a letter: "the correct / right /
   best / final option / choice / one / letter is", "I / we (would, will, 'd,
   'll) choose / pick / select / go with / opt for", "my (final) choice / pick
   is". Bold, italics, ``$…$``, brackets, ``\\text{}``, ``\\textbf{}`` and the
   word "option" may sit between the marker and the letter.
2. **Bare candidates** — a parenthesised ``(C)`` or a line holding nothing but
   a (wrapped) letter such as ``$C$`` or ``**C**``.
3. **Stand-alone letters.** A marker's letter may be followed by punctuation,
   the end of the line, a capitalised word or a connective ("C because …"),
   but not by an ordinary word ("Answer: A patient …", "B or C", "B/C").
   Letters are read in the case given by ``letters`` (upper case), so the
   article "a" and the pronoun "I" in prose never count. Two exceptions are
   stricter: a lower-case letter after an ``answer`` marker ("answer: c",
   "the answer is (b)") and any letter after a choice phrase are accepted only
   when nothing but punctuation, "because" or "since" follows on the line
   ("the answer is a given" and "we select B as the origin" are prose).
4. **Rejections and hedges do not count.** A candidate is dropped when

   - a negation follows it ("is wrong", "is incorrect", "is not", "isn't",
     "fails", "can be ruled out", …);
   - a negation or hedge directly precedes it ("not", "eliminate", "rule out",
     "rather than", "instead of", "except", "either", "between", "maybe", …);
   - "or", "nor" or "/" joins it to another letter (a hedge), or "and" does
     (no single answer: "Answer: (B) and (C)", "(B) and (C) both fit").

   For bare candidates the negation check spans the whole list the letter is
   in, so "(A), (B) and (C) are wrong" drops all three; for explicit ones only
   the letter's direct neighbours count, so "Answer: C, D is wrong" reads C.
5. **The last surviving explicit candidate wins** (a model that revises itself
   ends with its final answer; simple-evals' ``re.search`` takes the first
   match instead, inspect_evals' ``parse_answers`` the last). Only when no
   explicit candidate survives does the last surviving bare candidate win.
6. **Withdrawal.** The winner is withdrawn (None) when a later option-style
   mention of the same letter — ``(C)``, ``**C**``, "option C", or C opening a
   clause — is rejected as in rule 4 ("Answer: C … wait, (C) is wrong").
   A letter that names a thing ("compound C is not aromatic") is not such a
   mention.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["extract_choice"]

# Words that may follow a stand-alone answer letter ("the answer is C because ...").
_CONNECTIVES = frozenset({"is", "because", "since", "as", "which", "for", "given", "due"})
# The only words allowed after a lower-case letter or a choice phrase's letter: "a given",
# "a which", "B as the origin" read as prose, "c because" does not.
_STRICT_CONNECTIVES = frozenset({"because", "since"})

# Wrappers that may sit between a marker and its letter: bold, italics, math, brackets, \text{, \boxed{.
_WRAPPERS = (r"(?:\s|\*|_|\$|\\\(|\\\[|\(|\[|\{|"
             r"\\(?:boxed|fbox|text|textbf|textit|texttt|mathrm|mathbf|mathit|mathsf|mbox|emph)\s*\{)*")
_OPTION_WORD = r"(?:(?i:option|choice)\s*\(?)?"  # "Answer: Option C", "Answer: option (C)"

_MARKER = re.compile(
    r"(?i:\b(?:final\s+)?answer)"           # "answer", "Final Answer", "ANSWER"
    r"\s*(?:\*\*|__)?\s*"                    # "**Answer**: C" closes the bold before the colon
    r"(?::|=|(?i:\bis\b)\s*:?)"             # "answer:", "answer =", "answer is", "answer is:"
    + _WRAPPERS + _OPTION_WORD
)
_CHOICE_PHRASE = re.compile(
    r"(?i:\b(?:(?:correct|right|best|final)\s+(?:option|choice|one|letter|pick|selection)\s+is"
    r"|(?:I|we)(?:\s+would|\s+will|'d|'ll)?\s+(?:choose|pick|select|go\s+with|opt\s+for)"
    r"|my\s+(?:final\s+)?(?:choice|pick|selection)\s+is)\b\s*:?)"
    + _WRAPPERS + _OPTION_WORD
)

_LATEX_WRAPPER = re.compile(r"\\(?:text|textbf|textit|texttt|mathrm|mathbf|mathit|mathsf|mbox)\s*\{([^{}]*)\}")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")

# Rule 4. A negation or hedge right before a letter, possibly with filler words ("rule out options (A)").
_PRE_NEGATION = re.compile(
    r"(?:\b(?:not|never|neither|nor|either|between|maybe|perhaps|possibly|against|unlike|cannot"
    r"|rather\s+than|instead\s+of|except(?:\s+for)?|rul(?:e|es|ed|ing)\s+out|eliminat(?:e|es|ed|ing)"
    r"|exclud(?:e|es|ed|ing)|reject(?:s|ed|ing)?|discard(?:s|ed|ing)?|dismiss(?:es|ed|ing)?)"
    r"|\w+n['’]t)(?:\s+be)?(?:\s+(?:the|both|all|of|options?|choices?|answers?|letters?))*\s*$",
    re.IGNORECASE)
# ... and right after it ("(A) is wrong", "(B) can be ruled out", "(A) and (B) both fail").
_POST_NEGATION = re.compile(
    r"\s*[:,—–-]?\s*(?:"
    r"(?:is|are|was|were|seems?|looks?|appears?|would\s+be|must\s+be)\s+"
    r"(?:also\s+|clearly\s+|definitely\s+|obviously\s+|both\s+|all\s+)?"
    r"(?:not\b|out\b|(?:the\s+|an?\s+)?(?:wrong|incorrect|false|invalid|impossible|ruled\s+out|eliminated|excluded))"
    r"|\w+n['’]t\b|cannot\b|can\s+be\s+(?:ruled\s+out|eliminated|excluded|discarded|dismissed)"
    r"|(?:both\s+|all\s+|also\s+)?(?:fails?|wrong|incorrect)\b)",
    re.IGNORECASE)
_HEDGE_JOIN = re.compile(r"(?i:\bn?or\b)|/")
# Rule 6: what precedes a letter that reads as an option, not as a name ("compound C").
_OPTION_LIKE = re.compile(r"(?:[(\[*]|(?i:\b(?:option|choice)\s*\(?)|(?:^|[.;:!?,\n])\s*)$")
_OPEN, _CLOSE = r"[(\[*_$]*", r"[)\]*_$}]*"
_JOIN = r"\s*(?:,\s*(?:(?i:and|or|nor)\b\s*)?|(?i:and|or|nor)\b\s*|[&/]\s*)"


def _letter_class(letters: str) -> str:
    return "[" + re.escape(letters) + "]"


@lru_cache(maxsize=8)
def _list_patterns(letters: str) -> tuple[re.Pattern[str], ...]:
    """The letter list ending just before / starting just after a mention; a letter joined by and/or."""
    mention = (rf"(?:\b(?i:options?|choices?)\s*)?{_OPEN}(?<![\w'’]){_letter_class(letters)}"
               rf"(?![\w'’]){_CLOSE}")
    head = re.compile(rf"(?:{mention}{_JOIN})*(?:\b(?i:options?|choices?)\s*)?{_OPEN}$")
    tail = re.compile(rf"{_CLOSE}(?:{_JOIN}{mention})*")
    join = r"\s*(?:(?i:and|or|nor)\b|[&/])\s*"
    joined_before = re.compile(rf"{mention}{join}(?:\b(?i:options?|choices?)\s*)?{_OPEN}$")
    joined_after = re.compile(rf"{_CLOSE}{join}{mention}")
    return head, tail, joined_before, joined_after


def _negated(text: str, start: int, end: int, letters: str, lists: bool) -> bool:
    """Whether the letter mention ``text[start:end]`` is rejected or hedged (rule 4).

    With ``lists`` the check spans the whole list the mention sits in. Explicit
    candidates pass False: only their direct neighbours count, so "Answer: C,
    D is wrong" still reads C.
    """
    before, after = text[max(0, start - 200):start], text[end:end + 200]
    head_re, tail_re, _, _ = _list_patterns(letters)
    if lists:
        head, tail = head_re.search(before).group(0), tail_re.match(after).group(0)
        if _HEDGE_JOIN.search(head + tail):
            return True  # "(B) or (C)", "B/C"
    else:
        head, tail = re.search(rf"{_OPEN}$", before).group(0), re.match(_CLOSE, after).group(0)
    lead, trail = before[:len(before) - len(head)], after[len(tail):]
    return bool(_PRE_NEGATION.search(lead) or _POST_NEGATION.match(trail))


def _joined(text: str, start: int, end: int, letters: str) -> bool:
    """Whether "and" / "or" joins another letter to this one ("Answer: (B) and (C)"): no single answer."""
    _, _, before_re, after_re = _list_patterns(letters)
    return bool(before_re.search(text, max(0, start - 40), start) or after_re.match(text, end))


def _option_like(text: str, start: int) -> bool:
    """Whether the letter at ``start`` reads as an option ("(C)", "**C**", "option C", "…. C is")."""
    return _OPTION_LIKE.search(text, max(0, start - 12), start) is not None  # "^" is the text's start only


def _stands_alone(after: str, strict: bool = False) -> bool:
    """Whether the text after a candidate letter leaves it a stand-alone answer (rule 3)."""
    if not after:
        return True
    first = after[0]
    if first in "'’/" or first.isalnum():
        return False  # "I'm", "A's", "Ab", "B/C"
    if first in "-_" and after[1:2].isalnum():
        return False  # "A-level", "C-terminal", "C_1"
    if not first.isspace():
        return True  # ")", ".", "*", "$", ",", ":" ...
    rest = after.split("\n", 1)[0].strip()
    word = re.match(r"[A-Za-z]+", rest)
    if word is None:
        return True  # end of line, "C (3 eV)", "C — ..."
    if strict:
        return word.group(0) in _STRICT_CONNECTIVES
    return word.group(0)[0].isupper() or word.group(0) in _CONNECTIVES  # "C The reason...", "C because"


def _marker_candidates(text: str, letters: str) -> list[tuple[int, int, str]]:
    found = []
    upper = re.compile(_letter_class(letters))
    either_case = re.compile(_letter_class(letters + letters.lower()))
    for pattern, letter_re in ((_MARKER, either_case), (_CHOICE_PHRASE, upper)):
        for m in pattern.finditer(text):
            hit = letter_re.match(text, m.end())
            if hit is None:
                continue
            strict = pattern is _CHOICE_PHRASE or hit.group(0).islower()
            if _stands_alone(text[hit.end():], strict):
                found.append((hit.start(), hit.end(), hit.group(0).upper()))
    return found


def _braced(text: str, open_at: int) -> str | None:
    """Content of the brace group whose ``{`` is at ``open_at`` (balanced), or None."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i]
    return None


def _boxed_letter(content: str, letters: str) -> str | None:
    """The letter a ``\\boxed{}`` content reduces to: ``C``, ``\\text{(C)}``, ``C) 3 eV``."""
    prev = None
    while prev != content:
        prev, content = content, _LATEX_WRAPPER.sub(r"\1", content)
    content = content.replace("$", "").replace("*", "").strip()
    content = re.sub(r"^(?i:option|choice)\s*", "", content)
    cls = _letter_class(letters + letters.lower())
    m = re.fullmatch(rf"\(?({cls})\)?\.?", content) or re.match(rf"\(?({cls})[).:]\s*\S", content)
    return m.group(1).upper() if m else None


def _boxed_candidates(text: str, letters: str) -> list[tuple[int, int, str]]:
    found = []
    for m in _BOXED.finditer(text):
        content = _braced(text, m.end() - 1)
        letter = None if content is None else _boxed_letter(content, letters)
        if letter is not None:
            found.append((m.start(), m.end() + len(content) + 1, letter))
    return found


def _bare_candidates(text: str, letters: str) -> list[tuple[int, int, str]]:
    cls = _letter_class(letters)
    parens = re.compile(rf"(?<![\w(])\(({cls})\)(?![\w)])")
    alone = re.compile(rf"(?m)^[ \t]*(?:\*\*?|__?|\$|\\\(|\()*[ \t]*({cls})[ \t]*(?:\*\*?|__?|\$|\\\)|\))*\.?[ \t]*$")
    return [(m.start(1), m.end(1), m.group(1)) for pattern in (parens, alone) for m in pattern.finditer(text)]


def _withdrawn(text: str, end: int, letter: str, letters: str) -> bool:
    """Whether an option-style mention of ``letter`` after ``end`` rejects it (rule 6)."""
    for m in re.finditer(rf"(?<![\w'’]){letter}(?![\w'’])", text[end:]):
        start = end + m.start()
        if _option_like(text, start) and _negated(text, start, start + 1, letters, lists=True):
            return True
    return False


def extract_choice(text: str | None, letters: str = "ABCD") -> str | None:
    """The final, affirmative answer letter in ``text``, or None (rules in the module docstring).

    Explicit markers (``\\boxed{C}``, ``ANSWER: C``, ``I choose **C**``) beat
    bare mentions (``(C)``, a line holding only ``$C$``); within a tier the
    last occurrence that is not rejected or hedged wins.

    >>> extract_choice("Both (A) and (B) fail. **ANSWER: $C$**")
    'C'
    >>> extract_choice("(A) is wrong, and (D) is wrong too.") is None
    True
    >>> extract_choice("A patient presents with fever.") is None
    True
    """
    if not text:
        return None
    letters = letters.upper()
    if not letters or not all(ch.isalpha() and len(ch) == 1 for ch in letters):
        raise ValueError(f"letters must be letters, got {letters!r}")
    tiers = ((_boxed_candidates(text, letters) + _marker_candidates(text, letters), False),
             (_bare_candidates(text, letters), True))
    for candidates, lists in tiers:
        kept = [c for c in candidates
                if not (_negated(text, c[0], c[1], letters, lists) or _joined(text, c[0], c[1], letters))]
        if kept:
            _, end, letter = max(kept)
            return None if _withdrawn(text, end, letter, letters) else letter
    return None
