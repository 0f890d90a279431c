"""rareval: Rubrics as Rewards — one scoring path for training rewards and evaluations.

rubric → :class:`Judge` → strategy (:func:`score`) → :class:`RubricScore`, shared by
:class:`RubricReward` (TRL) and the Inspect tasks in ``tasks/``. Judges are measured
against reference labels with :func:`verdict_agreement`; rubrics and rejected answers
for the alignment study are written by :func:`generate_rubric` and :func:`degrade`.
"""

from rareval.evals.alignment import Agreement, verdict_agreement
from rareval.data.alignment import PreferencePair
from rareval.rubrics.generate import GenerationError, degrade, generate_rubric
from rareval.judge import Judge, JudgeConfig, Rating, Verdict
from rareval.reward import RubricReward
from rareval.rubric import Category, Criterion, Rubric, RubricError
from rareval.scoring import RubricScore, score_response
from rareval.strategies import STRATEGIES, score
from rareval.judge.usage import Usage

__all__ = ["Agreement", "Category", "Criterion", "GenerationError", "Judge", "JudgeConfig", "PreferencePair",
           "Rating", "Rubric", "RubricError", "RubricReward", "RubricScore", "STRATEGIES", "Usage", "Verdict",
           "degrade", "generate_rubric", "score", "score_response", "verdict_agreement"]
