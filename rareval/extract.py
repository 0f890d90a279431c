"""Final-letter extraction for multiple-choice answers.

Models wrap their answer letter in many ways (``**ANSWER: C**``, ``$\\boxed{\\text{C}}$``,
``Answer: C) 3 eV``), and over-permissive patterns pick letters out of prose
("A patient presents…"; openbench #348). :func:`extract_choice` works in two tiers:

1. **Explicit markers** — ``\\boxed{…}`` / ``\\fbox{…}`` whose content reduces to
   one letter, and ``answer:`` / ``answer is`` / ``final answer:`` followed by a
   letter. The **last** explicit marker in the text wins (a model that revises
   itself ends with its final answer; simple-evals' ``re.search`` takes the
   first match instead, inspect_evals' ``parse_answers`` the last).
2. **Bare mentions**, only when no explicit marker is found — a parenthesised
   ``(C)`` or a line holding nothing but a (wrapped) letter such as ``$C$`` or
   ``**C**``. The last one wins.

A letter after an ``answer`` marker must stand alone: it may be followed by
punctuation, the end of the line, or a connective ("C because …"), but not by
an ordinary word ("Answer: A patient …", "B or C"). Letters outside
``\\boxed{}`` are matched in the case given by ``letters`` (upper case), so the
article "a" and the pronoun "I" in prose never count.
"""

from __future__ import annotations

import re

__all__ = ["extract_choice"]

# Words that may follow a stand-alone answer letter ("the answer is C because ...").
_CONNECTIVES = frozenset({"is", "because", "since", "as", "which", "for", "given", "due"})

# Wrappers that may sit between a marker and its letter: bold, math, brackets, \text{, \boxed{.
_WRAPPERS = (r"(?:\s|\*\*|__|\$|\\\(|\\\[|\(|\[|\{|"
             r"\\(?:boxed|fbox|text|textbf|textit|texttt|mathrm|mathbf|mathit|mathsf|mbox)\s*\{)*")

_MARKER = re.compile(
    r"(?i:\b(?:final\s+)?answer)"           # "answer", "Final Answer", "ANSWER"
    r"\s*(?:\*\*|__)?\s*"                    # "**Answer**: C" closes the bold before the colon
    r"(?::|=|(?i:\bis\b)\s*:?)"             # "answer:", "answer =", "answer is", "answer is:"
    + _WRAPPERS
    + r"(?:(?i:option|choice)\s*\(?)?"       # "Answer: Option C", "Answer: option (C)"
)

_LATEX_WRAPPER = re.compile(r"\\(?:text|textbf|textit|texttt|mathrm|mathbf|mathit|mathsf|mbox)\s*\{([^{}]*)\}")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def _letter_class(letters: str) -> str:
    return "[" + re.escape(letters) + "]"


def _stands_alone(after: str) -> bool:
    """Whether the text after a candidate letter leaves it a stand-alone answer."""
    if not after:
        return True
    first = after[0]
    if first in "'’" or first.isalnum() or first == "_":
        return False  # "I'm", "A's", "Ab", "C_1"
    if first == "-" and after[1:2].isalnum():
        return False  # "A-level", "C-terminal"
    if not first.isspace():
        return True  # ")", ".", "*", "$", ",", ":" ...
    rest = after.split("\n", 1)[0].strip()
    if not rest:
        return True
    word = re.match(r"[A-Za-z]+", rest)
    if word is None or word.group(0)[0].isupper():
        return True  # "C (3 eV)", "C — ...", "C The reason..."
    return word.group(0) in _CONNECTIVES


def _marker_candidates(text: str, letters: str) -> list[tuple[int, str]]:
    found = []
    letter_re = re.compile(_letter_class(letters))
    for m in _MARKER.finditer(text):
        hit = letter_re.match(text, m.end())
        if hit is None:
            continue
        if _stands_alone(text[hit.end():]):
            found.append((m.start(), hit.group(0)))
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


def _boxed_candidates(text: str, letters: str) -> list[tuple[int, str]]:
    found = []
    for m in _BOXED.finditer(text):
        content = _braced(text, m.end() - 1)
        letter = None if content is None else _boxed_letter(content, letters)
        if letter is not None:
            found.append((m.start(), letter))
    return found


def _bare_candidates(text: str, letters: str) -> list[tuple[int, str]]:
    cls = _letter_class(letters)
    parens = re.compile(rf"(?<![\w(])\(({cls})\)(?![\w)])")
    alone = re.compile(rf"(?m)^[ \t]*(?:\*\*|__|\$|\\\(|\()*[ \t]*({cls})[ \t]*(?:\*\*|__|\$|\\\)|\))*\.?[ \t]*$")
    return [(m.start(), m.group(1)) for pattern in (parens, alone) for m in pattern.finditer(text)]


def extract_choice(text: str | None, letters: str = "ABCD") -> str | None:
    """The answer letter in ``text``, or None when no answer can be read.

    Explicit markers (``\\boxed{C}``, ``ANSWER: C``, ``the answer is C``) beat
    bare mentions (``(C)``, a line holding only ``$C$``); within a tier the
    last occurrence wins.

    >>> extract_choice("Both (A) and (B) fail. **ANSWER: $C$**")
    'C'
    >>> extract_choice("A patient presents with fever.") is None
    True
    """
    if not text:
        return None
    letters = letters.upper()
    if not letters or not all(ch.isalpha() and len(ch) == 1 for ch in letters):
        raise ValueError(f"letters must be letters, got {letters!r}")
    explicit = _boxed_candidates(text, letters) + _marker_candidates(text, letters)
    if explicit:
        return max(explicit)[1]
    bare = _bare_candidates(text, letters)
    return max(bare)[1] if bare else None
