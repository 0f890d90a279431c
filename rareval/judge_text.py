"""What the judge is shown: conversations and responses as text, and criteria as asked.

* :func:`render_conversation` / :func:`render_response` / :func:`render_rubric` — the
  blocks of every judge prompt (HealthBench style ``role: content`` turns).
* :func:`positive_form` — a negated criterion ("Fails to mention X") in its positive
  form ("Mentions X"): small judges misread negation, so the judge asks the positive
  form and inverts the answer.
* :func:`batch_key` — the key a batched JSON answer carries per criterion.
* :func:`slot_marker` / ``SLOT_GAP`` — the answer slot after each criterion of a
  batched prompt read from the prompt's log probabilities.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from rareval.parsing import yes_no_word
from rareval.rubric import Rubric

Conversation = str | Sequence[Mapping[str, Any]]

_NEGATED = re.compile(r"^(?:the response\s+)?(?:fails to|does not|doesn't|did not|didn't|do not|don't)\s+"
                      r"([A-Za-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes"}


def positive_form(text: str) -> str | None:
    """'Fails to mention X.' → 'Mentions X.'; None when ``text`` is not a negated behaviour.

    The verb is put in the third person (``-es`` after s, x, z, ch, sh, o;
    consonant + y → ``-ies``); the rest of the sentence is kept as written.
    """
    m = _NEGATED.match(text.strip())
    if not m:
        return None
    verb, rest = m.group(1).lower(), m.group(2)
    if verb in _IRREGULAR:
        verb = _IRREGULAR[verb]
    elif verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        verb += "es"
    elif verb.endswith("y") and verb[-2:-1] not in "aeiou":
        verb = verb[:-1] + "ies"
    else:
        verb += "s"
    return verb.capitalize() + rest


_KEY_WORDS = re.compile(r"[A-Za-z0-9][A-Za-z0-9'()/%-]*")


def batch_key(index: int, criterion: str, style: str = "restate", words: int = 6) -> str:
    """JSON key of criterion ``index`` in a batched answer: ``"3"`` or ``"3. First words of it"``.

    Words that read as a verdict (yes/no/true/false) are left out of the key, so the
    only verdict tokens in the answer are the values.
    """
    if style == "index":
        return str(index + 1)
    kept = [w.strip("'") for w in _KEY_WORDS.findall(criterion) if yes_no_word(w) is None][:words]
    return f"{index + 1}. " + " ".join(kept)


# Follows each answer slot, so that a token starts right after the marker's ":" (": \n" splits into
# ":" and " \n" in GPT-2- and Qwen-style tokenizers, where ":\n" is one token in Qwen's).
SLOT_GAP = " \n"


def slot_marker(index: int) -> str:
    """The text before criterion ``index``'s answer slot in a batched prompt."""
    return f"Answer {index + 1}:"


def render_conversation(conversation: Conversation) -> str:
    """HealthBench style: ``role: content`` turns separated by blank lines."""
    if isinstance(conversation, str):
        return conversation
    return "\n\n".join(f"{_get(m, 'role')}: {_text(_get(m, 'content'))}" for m in conversation)


def render_response(response: Any) -> str:
    """A completion as text: a string, or the last message of a conversational completion."""
    if isinstance(response, str):
        return response
    if isinstance(response, Sequence) and response:
        return _text(_get(response[-1], "content"))
    return _text(_get(response, "content"))


def render_rubric(rubric: Rubric) -> str:
    """One line per criterion with its category label (the label carries the weight, RaR §3.3)."""
    return "\n".join(f"- {c.category.value.capitalize()}: {c.text}" for c in rubric)


def _get(message: Any, key: str) -> Any:
    return message[key] if isinstance(message, Mapping) else getattr(message, key)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "text", None) or (part.get("text", "") if isinstance(part, Mapping) else "")
                   for part in content)
