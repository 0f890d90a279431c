"""Reward strategies: pure functions from judge answers to a score.

Each strategy is registered by name with the question it needs from the judge:

* ``verdicts`` — a verdict per criterion, ``True | False | None`` (``None`` = the
  judge abstained); for pitfalls ``True`` means the undesirable behaviour is present;
* ``rating`` — one 1–10 rating (with the rubric, a reference, or neither);
* ``check`` — a verdict computed by a function, not a judge (Remark 1).

Abstentions are never verdicts: they are excluded and the remaining weights
renormalised, sign-aware (:func:`signed_ratio`); when nothing could be judged the
score is ``None``, never 0. Category weight maps are read as magnitudes (``|w|``), so
a map carrying the data's own sign (``"pitfall": -0.9``) means the same as ``0.9``.

Ranges (``W⁺`` total positive weight, ``W⁻`` total |pitfall| weight of the rubric):
healthbench and explicit "subtract" ``[−W⁻/W⁺, 1]``; explicit "avoided", predefined
and verifiable ``[0, 1]``; veto as explicit (with 0 always inside it); saturating
``[−|W_p| / min_c W_c, 1]`` (see :func:`saturating`); rating strategies ``[0, 1]``.

>>> from rareval.rubric import Rubric
>>> r = Rubric.from_healthbench([{"criterion": c, "points": p, "tags": []}
...                              for c, p in [("a", 7), ("b", 5), ("c", 10), ("d", -6)]])
>>> score("healthbench", r, [True, False, True, True])  # simple-evals' own test case
0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping, Sequence

from rareval.rubric import Category, Criterion, Rubric

Verdicts = Sequence[bool | None]

#: RaR-Explicit category weights (RaR v2 §4.2; pitfall was 0.8 in v1).
RAR_WEIGHTS: Mapping[str, float] = {"essential": 1.0, "important": 0.7, "optional": 0.3, "pitfall": 0.9}

#: The four generic criteria of RaR-Predefined (RaR v2 §4.3, SPEC §1.4), uniform weights.
PREDEFINED_RUBRIC = Rubric(criteria=tuple(Criterion(text=t, weight=1.0, category=Category.ESSENTIAL) for t in (
    "The response contains correct information, without factual errors or hallucinations.",
    "The response fully answers all essential parts of the question, with sufficient detail.",
    "The response is concise, without unnecessary verbosity or repetition.",
    "The response meets the user's practical needs and gives actionable, helpful information.",
)))


@dataclass(frozen=True)
class Strategy:
    """A registered strategy: its function and what it asks of the judge."""

    name: str
    fn: Callable[..., float | None]
    question: Literal["verdicts", "rating", "check"]
    rating_context: Literal["none", "rubric", "reference"] = "none"
    fixed_rubric: Rubric | None = field(default=None, repr=False)

    def rubric_for(self, rubric: Rubric | None) -> Rubric | None:
        """The rubric the judge actually checks (a fixed one for RaR-Predefined)."""
        return self.fixed_rubric or rubric


STRATEGIES: dict[str, Strategy] = {}


def register(name: str, question: Literal["verdicts", "rating", "check"], **kwargs):
    """Decorator: add a strategy function to :data:`STRATEGIES` under ``name``."""

    def wrap(fn):
        STRATEGIES[name] = Strategy(name=name, fn=fn, question=question, **kwargs)
        return fn

    return wrap


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}") from None


def score(strategy: str, rubric: Rubric | None = None, verdicts: Verdicts | None = None, *,
          rating: float | None = None, **options) -> float | None:
    """Score judge answers with a named strategy.

    ``verdicts`` align with ``rubric`` (or with the strategy's fixed rubric); rating
    strategies take ``rating`` instead. Returns ``None`` when nothing was judged.
    """
    s = get_strategy(strategy)
    if s.question == "rating":
        return s.fn(rating, **options)
    judged = s.rubric_for(rubric)
    if judged is None or verdicts is None:
        raise ValueError(f"strategy {strategy!r} needs a rubric and a verdict per criterion")
    if len(verdicts) != len(judged):
        raise ValueError(f"{len(verdicts)} verdicts for a rubric of {len(judged)} criteria")
    return s.fn(judged, list(verdicts), **options)


# -- shared arithmetic ------------------------------------------------------------------

def signed_ratio(weights: Sequence[float], verdicts: Verdicts) -> float | None:
    """HealthBench-style ratio with sign-aware renormalisation over abstentions.

    ``gain − rate × W⁻ / W⁺`` where ``gain`` = met positive weight / judged positive
    weight, ``rate`` = present pitfall weight / judged pitfall weight, ``W⁺`` the
    total positive and ``W⁻`` the total |negative| weight. With no abstention this is
    exactly ``Σ w·met / Σ w⁺``. An abstained pitfall is not counted as avoided (which
    would *raise* the score, the failure-as-"not met" bug of inspect_evals #2284):
    the penalty rate is estimated from the pitfalls that were judged, and if a rubric
    has pitfalls but none could be judged, the score is undefined (``None``). ``None``
    too when no positive criterion was judged, including penalty-only rubrics.
    """
    pos = [(w, v) for w, v in zip(weights, verdicts) if w > 0]
    neg = [(-w, v) for w, v in zip(weights, verdicts) if w < 0]
    judged_pos = [(w, v) for w, v in pos if v is not None]
    if not judged_pos:
        return None
    gain = sum(w for w, v in judged_pos if v) / sum(w for w, _ in judged_pos)
    if not neg:
        return gain
    judged_neg = [(w, v) for w, v in neg if v is not None]
    if not judged_neg:
        return None
    rate = sum(w for w, v in judged_neg if v) / sum(w for w, _ in judged_neg)
    return gain - rate * sum(w for w, _ in neg) / sum(w for w, _ in pos)


def category_weight(criterion: Criterion, weights: Mapping[str, float]) -> float:
    """The category map's weight as a magnitude, negated for pitfalls.

    Only ``|w|`` is read: maps written with the data's sign (``"pitfall": -0.9``) and
    maps written with the paper's (``0.9``) give the same scores.
    """
    w = abs(weights[criterion.category.value])
    return -w if criterion.is_pitfall else w


# -- verdict strategies ---------------------------------------------------------------------

@register("healthbench", "verdicts")
def healthbench(rubric: Rubric, verdicts: Verdicts) -> float | None:
    """HealthBench per-example score: ``Σ points(met) / Σ positive points``.

    simple-evals' ``calculate_score`` (healthbench_eval.py, commit ee3b031); met
    pitfalls subtract their points, so the score may be negative: range
    ``[−W⁻/W⁺, 1]`` (``W⁺`` total positive points, ``W⁻`` total |negative| points).
    Undefined (``None``) when the rubric has no positive points — simple-evals
    asserts there, other ports return 0; we neither crash nor invent a value.
    Abstentions: :func:`signed_ratio`.
    """
    return signed_ratio([c.weight for c in rubric], verdicts)


@register("explicit", "verdicts")
def explicit(rubric: Rubric, verdicts: Verdicts, weights: Mapping[str, float] = RAR_WEIGHTS,
             pitfall_polarity: Literal["avoided", "subtract"] = "avoided") -> float | None:
    """RaR-Explicit (RaR Eq. 1): ``r = Σ w_j·c_j / Σ w_j`` with category weights.

    ``w_j`` comes from the category map (default {essential 1.0, important 0.7,
    optional 0.3, pitfall 0.9}), not from the data's numeric weights. Pitfalls
    (SPEC §1.4, the paper leaves this open):

    * ``"avoided"`` (a, the paper's footnote 3): a pitfall counts as a satisfied
      criterion of weight 0.9 when its behaviour is *absent*;
    * ``"subtract"`` (b, HealthBench-style): 0.9 is subtracted when the behaviour is
      present and the sum is divided by the positive weights only.

    Category weights are read as magnitudes (:func:`category_weight`), so a map with
    ``"pitfall": -0.9`` is the same as 0.9 (read signed, it made (a) exceed 1).
    Range: (a) ``[0, 1]``; (b) ``[−W⁻/W⁺, 1]`` as :func:`healthbench`.

    Abstained criteria leave numerator and denominator (sign-aware for (b)). As in
    :func:`signed_ratio`, the score is ``None`` when no positive criterion was judged:
    avoided pitfalls alone do not make a 1.0.
    """
    if pitfall_polarity == "subtract":
        return signed_ratio([category_weight(c, weights) for c in rubric], verdicts)
    if pitfall_polarity != "avoided":
        raise ValueError(f"pitfall_polarity must be 'avoided' or 'subtract', got {pitfall_polarity!r}")
    num = den = positive_den = 0.0
    for c, v in zip(rubric, verdicts):
        if v is None:
            continue
        w = abs(weights[c.category.value])
        den += w
        num += w * (not v if c.is_pitfall else v)
        positive_den += 0.0 if c.is_pitfall else w
    return num / den if positive_den > 0 else None


@register("predefined", "verdicts", fixed_rubric=PREDEFINED_RUBRIC)
def predefined(rubric: Rubric, verdicts: Verdicts, **options) -> float | None:
    """RaR-Predefined: :func:`explicit` over the four generic criteria, uniform weights; range [0, 1]."""
    return explicit(rubric, verdicts, **options)


@register("verifiable", "check")
def verifiable(rubric: Rubric, verdicts: Verdicts) -> float | None:
    """Remark 1 (RaR §3): RLVR is RaR with ``k = 1, w_1 = 1, c_1 = match(y, ŷ)``.

    The single essential criterion is checked by a function (:func:`exact_match`),
    so the reward is exactly the RLVR reward ``match(y, ŷ) ∈ {0, 1}`` (Eq. 3).
    """
    if len(rubric) != 1 or rubric[0].category is not Category.ESSENTIAL:
        raise ValueError("a verifiable rubric has exactly one essential criterion")
    return explicit(rubric, verdicts)


def verifiable_rubric(reference: str) -> Rubric:
    """The one-criterion rubric of Remark 1 for a known answer."""
    return Rubric(criteria=(Criterion(text=f"The final answer matches the reference answer: {reference}",
                                      weight=1.0, category=Category.ESSENTIAL),))


def exact_match(answer: str | None, reference: str) -> bool:
    """Whitespace- and case-insensitive exact match, the verifier of Remark 1."""
    return answer is not None and " ".join(answer.split()).lower() == " ".join(reference.split()).lower()


@register("veto", "verdicts")
def veto(rubric: Rubric, verdicts: Verdicts, weights: Mapping[str, float] = RAR_WEIGHTS,
         veto_categories: Sequence[str] = ("essential",), **options) -> float | None:
    """Veto gate, inspired by Rubicon's veto mechanisms (arXiv 2508.12790, SPEC §3).

    A criterion of a veto category (default: essential) vetoes when judged the bad
    way: a positive one when *not met* (``False``), a pitfall when the behaviour is
    *present* (``True``). Abstentions never veto. Vetoed: ``r = min(0, explicit)``;
    otherwise ``r = explicit``; ``None`` whenever explicit is (no positive criterion
    judged). The ``min`` only matters for ``pitfall_polarity="subtract"``, whose
    scores can be negative: a veto must never lift a score, or meeting an essential
    criterion could lower it. Range: as :func:`explicit`, which always contains 0.
    This functional form is rareval's own; Rubicon gives the idea, not this formula.
    """
    if isinstance(veto_categories, str):
        veto_categories = (veto_categories,)
    unknown = set(veto_categories) - {c.value for c in Category}
    if unknown:
        raise ValueError(f"unknown veto categories {sorted(unknown)}; known: {[c.value for c in Category]}")
    r = explicit(rubric, verdicts, weights=weights, **options)
    # judged the bad way: False for a positive criterion, True (present) for a pitfall
    vetoed = any(v is not None and c.category.value in veto_categories and v == c.is_pitfall
                 for c, v in zip(rubric, verdicts))
    return min(r, 0.0) if vetoed and r is not None else r


@register("saturating", "verdicts")
def saturating(rubric: Rubric, verdicts: Verdicts, weights: Mapping[str, float] = RAR_WEIGHTS,
               alpha: float = 2.0) -> float | None:
    """Diminishing returns within a category, inspired by Rubicon (SPEC §3).

    Per positive category ``c`` with judged met fraction ``f_c``:
    ``s_c = (1 − e^{−α f_c}) / (1 − e^{−α})`` (concave; the first criteria met in a
    category are worth more than the last). ``r = (Σ_c W_c s_c − W_p · f_p) / Σ_c W_c``
    with ``W`` the category weights (magnitudes), ``c`` over the positive categories
    with a judged criterion, and ``f_p`` the fraction of *judged* pitfalls present.
    As in :func:`signed_ratio`, an abstained pitfall is not counted as avoided: if
    the rubric has pitfalls but none was judged, or no positive criterion was judged,
    the score is ``None``. rareval's own functional form, not Rubicon's formula.
    ``alpha → 0`` recovers a linear per-category mean.

    Range: ``s_c ∈ [0, 1]``, so ``r ≤ 1``, and ``r ≥ −W_p / Σ_c W_c``, hence
    ``r ≥ −W_p / min W_c`` with the min over the rubric's positive categories: ``−3``
    at worst with the default weights (−0.9/0.3, only optional judged), ``0`` without
    pitfalls.
    """
    if alpha <= 0:
        raise ValueError("alpha must be positive")
    by_cat: dict[str, list[bool]] = {}
    for c, v in zip(rubric, verdicts):
        if v is not None:
            by_cat.setdefault(c.category.value, []).append(bool(v))
    positive = {k: vs for k, vs in by_cat.items() if k != "pitfall"}
    pits = by_cat.get("pitfall", [])
    if any(c.is_pitfall for c in rubric) and not pits:
        return None
    total = sum(abs(weights[k]) for k in positive)
    if total <= 0:
        return None
    gain = sum(abs(weights[k]) * (1 - math.exp(-alpha * sum(vs) / len(vs))) / (1 - math.exp(-alpha))
               for k, vs in positive.items())
    penalty = abs(weights["pitfall"]) * sum(pits) / len(pits) if pits else 0.0
    return (gain - penalty) / total


# -- rating strategies ------------------------------------------------------------------------

def likert(rating: float | None, normalise: Literal["minus_one", "over_ten"] = "minus_one") -> float | None:
    """A 1–10 rating to [0, 1]: ``(r − 1) / 9`` (default, range [0, 1]) or ``r / 10`` ([0.1, 1]).

    The paper does not give the mapping (SPEC §1.4); one third-party port uses r/10.
    """
    if rating is None:
        return None
    if not 1 <= rating <= 10:
        raise ValueError(f"rating must be in [1, 10], got {rating}")
    if normalise == "minus_one":
        return (rating - 1) / 9
    if normalise == "over_ten":
        return rating / 10
    raise ValueError(f"normalise must be 'minus_one' or 'over_ten', got {normalise!r}")


register("implicit", "rating", rating_context="rubric")(likert)          # RaR-Implicit, Eq. 2
register("direct_likert", "rating", rating_context="none")(likert)       # Direct-Likert baseline
register("reference_likert", "rating", rating_context="reference")(likert)  # Reference-Likert baseline
