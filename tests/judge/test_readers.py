"""Reading the judge's answers: batched verdicts by key, and rating distributions over whole numbers."""

import math

import pytest
from inspect_ai.model import Logprob, Logprobs, ModelOutput, TopLogprob

from rareval.judge import Rating
from rareval.evals.judge_alignment import ranking_value
from rareval.judge.readers import rating_distribution, read_batch, read_rating
from rareval.scoring import RubricScore
from tests.judge.test_core import _batched_output


def _position(token: str, alternatives: dict[str, float]) -> Logprob:
    return Logprob(token=token, logprob=math.log(alternatives[token]),
                   top_logprobs=[TopLogprob(token=t, logprob=math.log(p)) for t, p in alternatives.items()])


def _rating_output(tokens: list[tuple[str, dict[str, float]]]) -> ModelOutput:
    """A grammar-constrained ``{"rating": N}`` answer tokenised as Qwen does (digits split)."""
    content = [_position(t, alts) for t, alts in tokens]
    out = ModelOutput.from_content("m", "".join(t for t, _ in tokens))
    out.choices[0].logprobs = Logprobs(content=content)
    return out


PREFIX = [('{"', {'{"': 1.0}), ("rating", {"rating": 1.0}), ('":', {'":': 1.0}), (" ", {" ": 1.0})]


def test_a_sure_ten_split_into_digits_is_read_as_ten():
    out = _rating_output(PREFIX + [("1", {"1": 0.7, "9": 0.2, "8": 0.1}), ("0", {"0": 0.95, "}": 0.05}),
                                   ("}", {"}": 1.0})])
    assert read_rating(out)["rating"] == 10
    dist = rating_distribution(out)
    # first digit alone (before) read {1: 0.7, 9: 0.2, 8: 0.1}: the best answer ranked lowest
    assert dist == pytest.approx({"1": 0.7 * 0.05, "8": 0.1, "9": 0.2, "10": 0.7 * 0.95})


def test_a_one_followed_by_the_end_is_a_one():
    out = _rating_output(PREFIX + [("1", {"1": 0.6, "2": 0.4}), ("}", {"}": 0.9, "0": 0.1})])
    assert rating_distribution(out) == pytest.approx({"1": 0.6 * 0.9, "2": 0.4, "10": 0.6 * 0.1})


def test_the_unknown_continuation_of_one_goes_to_the_nearer_rating():
    high = _rating_output(PREFIX + [("8", {"8": 0.8, "1": 0.1, "7": 0.1}), ("}", {"}": 1.0})])
    low = _rating_output(PREFIX + [("2", {"2": 0.8, "1": 0.2}), ("}", {"}": 1.0})])
    assert rating_distribution(high) == pytest.approx({"7": 0.1, "8": 0.8, "10": 0.1})
    assert rating_distribution(low) == pytest.approx({"1": 0.2, "2": 0.8})
    single = _rating_output(PREFIX + [("10", {"10": 0.9, "9": 0.1}), ("}", {"}": 1.0})])
    assert rating_distribution(single) == pytest.approx({"9": 0.1, "10": 0.9})


def test_a_sure_ten_ranks_above_a_sure_eight():
    ten = rating_distribution(_rating_output(PREFIX + [("1", {"1": 0.9, "9": 0.1}), ("0", {"0": 1.0})]))
    eight = rating_distribution(_rating_output(PREFIX + [("8", {"8": 0.9, "7": 0.1}), ("}", {"}": 1.0})]))

    def value(rating, dist):
        r = Rating(value=rating, distribution={int(k): p for k, p in dist.items()})
        return ranking_value(RubricScore(value=(rating - 1) / 9, strategy="direct_likert", rating=r))

    assert value(10, ten) > value(8, eight)


def test_batched_answers_are_matched_by_key_and_a_missing_key_abstains():
    from rareval.judge.readers import read_batch

    out = ModelOutput.from_content("m", '{"c1": "yes", "c3": "no"}')
    assert read_batch(out, ["c1", "c2", "c3"]) == {"c1": {"met": True, "p": None, "explanation": ""},
                                                   "c3": {"met": False, "p": None, "explanation": ""}}
    # keys written out of order: each P(yes) belongs to the entry it was written for (position
    # matching gave c1 the 0.2 written for c3)
    out = _batched_output('{"c3": "no", "c1": "yes", "c2": "yes"}', [0.2, 0.9, 0.7])
    read = read_batch(out, ["c1", "c2", "c3"])
    assert {k: round(v["p"], 2) for k, v in read.items()} == {"c1": 0.9, "c2": 0.7, "c3": 0.2}
    assert [read[k]["met"] for k in ("c1", "c2", "c3")] == [True, True, False]
    # an entry for a key never asked is ignored, and the asked key it displaced abstains in the judge
    out = _batched_output('{"c1": "yes", "c9": "no"}', [0.9, 0.1])
    assert set(read_batch(out, ["c1", "c2"])) == {"c1"}
