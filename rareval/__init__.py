"""rareval: Rubrics as Rewards — one scoring path for training rewards and evaluations.

rubric → :class:`Judge` → strategy (:func:`score`) → :class:`RubricScore`, shared by
:class:`RubricReward` (TRL) and the Inspect tasks in ``tasks/``.
"""

from rareval.judge import Judge, JudgeConfig, Rating, Verdict
from rareval.reward import RubricReward
from rareval.rubric import Category, Criterion, Rubric, RubricError
from rareval.scoring import RubricScore, score_response
from rareval.strategies import STRATEGIES, score
from rareval.usage import Usage

__all__ = ["Category", "Criterion", "Judge", "JudgeConfig", "Rating", "Rubric", "RubricError", "RubricReward",
           "RubricScore", "STRATEGIES", "Usage", "Verdict", "score", "score_response"]
