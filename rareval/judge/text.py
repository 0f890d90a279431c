"""What the judge is shown: conversations and responses as text, and criteria as asked.

* :func:`render_conversation` / :func:`render_response` / :func:`render_rubric` — the
  blocks of every judge prompt (HealthBench style ``role: content`` turns); :func:`cut_response`
  a response cut to a length, and :func:`response_fence` the delimiter id of the hardened prompts.
* :func:`positive_form` — a negated criterion ("Fails to mention X") in its positive
  form ("Mentions X"): small judges misread negation, so the judge asks the positive
  form and inverts the answer.
* :func:`batch_key` — the key a batched JSON answer carries per criterion.
* :func:`slot_marker` / ``SLOT_GAP`` — the answer slot after each criterion of a
  batched prompt read from the prompt's log probabilities.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping, Sequence

from rareval.judge.parsing import yes_no_word
from rareval.rubric import Rubric

Conversation = str | Sequence[Mapping[str, Any]]

#: A criterion that opens with a negation ("Fails to", "Does not" …) and its verb.
NEGATED = re.compile(r"^(?:the response\s+)?(?:fails to|does not|doesn't|did not|didn't|do not|don't)\s+"
                      r"(?:([a-z]+ly)\s+)?([A-Za-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_IRREGULAR = {"be": "is", "have": "has", "do": "does", "go": "goes"}
# -ly words that are verbs, not adverbs ("does not apply", "does not reply")
_LY_VERBS = frozenset({"apply", "reply", "supply", "rely", "comply", "imply", "multiply", "ally", "tally", "bully"})
# words in the verb slot that are not a verb ("does not only list", "does not better explain")
_NOT_A_VERB = frozenset({"only", "better", "even", "just", "always", "ever", "also", "yet", "necessarily", "all",
                         "any", "both", "either", "neither", "merely", "simply", "solely", "timely", "further",
                         "instead", "really", "quite", "too", "and", "or", "to", "the", "a", "an", "in", "on",
                         "at", "with", "for", "of", "as", "so", "that", "this"})
# words that put a second clause beside the negated one, which the negation may not cover:
# "does not address the query and instead focuses on X" is ¬A ∧ B, not ¬(A ∧ B)
_SECOND_CLAUSE = re.compile(
    r"\b(?:instead|rather|but|while|whereas|although|though|unless|except|nor|only|not|never|no longer|"
    r"neither|either|otherwise|thereby|yet)\b|n't\b|;", re.IGNORECASE)
# a verb after "and"/"or" starts a coordinated clause: "fails to ask X and recommends Y"
_VERBS = ("acknowledge add address advise advocate alert analyze answer ask assess assume attempt avoid belittle "
          "blame bury calculate caution check cite claim clarify classify compose conclude confirm congratulate "
          "consider contain cover create delay deliver describe detail differentiate direct disclaim discourage "
          "discuss dismiss distinguish document downplay elaborate emphasize encourage enforce enquire ensure "
          "enumerate escalate exaggerate explain express extrapolate fail flag focus follow format gather generate "
          "give go guide hedge highlight identify ignore imply include incorporate indicate inform inquire instruct "
          "involve keep lack limit list maintain make mention minimize mislead miss neglect note offer omit "
          "organize outline overemphasize overlook overstate place point praise prefer present promote prompt "
          "propose provide qualify query question reassure recognize recommend refer refrain reiterate remind "
          "repeat report request respond review say seek sensitize share show specify start state stress suggest "
          "summarize take talk tell trivialize underestimate underline understate urge use warn write").split()
_SENTENCE_BREAK = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\betc)(?<!\bDr)[.!?]\s+\S")
_JUSTIFICATION = re.compile(r"\s*\((?:justification|rationale|reason|note)\b.*\)\s*$", re.IGNORECASE | re.DOTALL)


def third_person(verb: str) -> str:
    """'mention' → 'mentions': ``-es`` after s, x, z, ch, sh, o; consonant + y → ``-ies``."""
    verb = verb.lower()
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


_COORDINATED_VERB = re.compile(
    r"\b(?:and|or)\s+(?:also\s+|then\s+|still\s+|even\s+)?(?:"
    + "|".join(sorted({*_VERBS, *map(third_person, _VERBS)}, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def positive_form(text: str) -> str | None:
    """'Fails to mention X.' → 'Mentions X.'; None unless ``text`` is provably one negated clause.

    Rewritten: ``[The response] fails to | does not | doesn't … [ADVERB-ly] VERB REST``
    → ``[Adverb-ly] VERBs REST``, the verb put in the third person (:func:`third_person`)
    and the rest kept as written, so the answer to the positive form, inverted, is the
    answer to the criterion. Asked as written instead (None) whenever the negation might
    not cover the whole criterion or the rewrite might garble it:

    * the word after the negation is not a verb ("does not *only* list X but also Y");
    * REST holds a second clause: a contrast or exception ("and *instead* focuses on X",
      "but", "while", "unless", ";"), another negation, or a verb coordinated by
      "and"/"or" ("fails to ask X *and recommends* Y") — the negation may cover only the
      first clause, and inverting the whole would compute ¬(A ∧ B) for ¬A ∧ B;
    * a second sentence follows (a trailing "(Justification: …)" note is allowed: it
      explains the criterion and is not a condition).
    """
    text = text.strip()
    m = NEGATED.match(text)
    if not m:
        return None
    adverb, verb, rest = m.group(1), m.group(2), m.group(3)
    if adverb and adverb.lower() in _LY_VERBS:  # "does not apply ice": the -ly word is the verb
        adverb, verb, rest = None, adverb, " " + text[m.start(2):]
    if (adverb and adverb.lower() in _NOT_A_VERB) or verb.lower() in _NOT_A_VERB or (
            verb.lower().endswith("ly") and verb.lower() not in _LY_VERBS):
        return None
    clause = _JUSTIFICATION.sub("", rest)
    if _SECOND_CLAUSE.search(clause) or _COORDINATED_VERB.search(clause) or _SENTENCE_BREAK.search(clause):
        return None
    words = [adverb.lower(), third_person(verb)] if adverb else [third_person(verb)]
    return " ".join(words).capitalize() + rest


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


#: Appended to a response cut before the judge sees it (:func:`cut_response`).
CUT_NOTE = "\n[The response continues; only its first {shown} of {total} characters are shown.]"


def cut_response(text: str, limit: int | None) -> str:
    """``text`` as the judge is shown it: whole, or its first ``limit`` characters and :data:`CUT_NOTE`."""
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + CUT_NOTE.format(shown=limit, total=len(text))


def response_fence(text: str) -> str:
    """The hardened prompts' delimiter id for a response: 12 hex digits of its sha256, so the response
    cannot write its own closing tag (it would have to contain its own hash)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def render_rubric(rubric: Rubric) -> str:
    """One line per criterion with its category label (the label carries the weight, RaR §3.3).

    The rating prompts call pitfalls "mistakes the response should not make"; an
    avoidance-phrased pitfall ("Avoids confusing X") is labelled as what to do instead.
    """
    return "\n".join(f"- {_AVOIDANCE_LABEL if c.avoidance else c.category.value.capitalize()}: {c.text}"
                      for c in rubric)


_AVOIDANCE_LABEL = "Pitfall (avoided when this holds)"


def _get(message: Any, key: str) -> Any:
    return message[key] if isinstance(message, Mapping) else getattr(message, key)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "text", None) or (part.get("text", "") if isinstance(part, Mapping) else "")
                   for part in content)
