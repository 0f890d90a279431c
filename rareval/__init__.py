"""rareval: Rubrics as Rewards — one scoring path for training rewards and evaluations."""

from rareval.rubric import Category, Criterion, Rubric, RubricError

__all__ = ["Category", "Criterion", "Rubric", "RubricError"]
