"""The judge: asks any Inspect model about a response and reads verdicts and ratings.

* :mod:`~rareval.judge.core` — :class:`Judge`: the three questions (one criterion, a whole
  rubric, a 1–10 rating), retries, abstentions, context fitting;
* :mod:`~rareval.judge.config` — :class:`JudgeConfig`, recorded with every result;
  :mod:`~rareval.judge.verdict` — :class:`Verdict` and :class:`Rating`, what it returns;
* :mod:`~rareval.judge.generation` — each request fitted to the model (token minimums,
  reasoning judges); :mod:`~rareval.judge.simple_evals` — simple-evals' grader, verbatim;
* :mod:`~rareval.judge.health` — stopping a run whose judge abstains on everything;
  :mod:`~rareval.judge.options` — the ``--judge-arg`` / ``--judge-config`` options;
* :mod:`~rareval.judge.text` — what the judge is shown (conversation, fenced response,
  positive forms of negated criteria);
* :mod:`~rareval.judge.readers` and :mod:`~rareval.judge.parsing` — reading its answers;
* :mod:`~rareval.judge.calibration` — per-kind P(yes) thresholds, fitted and looked up by
  the judge's identity;
* :mod:`~rareval.judge.cache` — the verdict cache; :mod:`~rareval.judge.usage` — tokens
  and cost.

The judge knows no embedded model by name and imports nothing above the scoring path.
"""

from rareval.judge.config import JudgeConfig
from rareval.judge.core import RATING_PROMPTS, Judge
from rareval.judge.text import Conversation
from rareval.judge.verdict import Rating, Verdict

__all__ = ["Conversation", "Judge", "JudgeConfig", "RATING_PROMPTS", "Rating", "Verdict"]
