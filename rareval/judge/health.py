"""Fail fast on a broken judge: a run whose judge abstains on (nearly) everything stops, naming why.

An abstention is the right answer to one failed question; a judge that fails every question
(a rejected request, a wrong key, a model that never answers in the format asked) turns an
evaluation into ``unscored=N`` and a training run into hundreds of steps on no reward.
:class:`JudgeHealth` keeps the share of abstained questions over the last ``window`` results
(samples of an evaluation, reward calls of a training run) and the last error, and says when
a run should stop:

* ``first_only=True`` (evaluations): only while nothing has been judged yet — the first
  ``window`` samples all abstained on every question — so a judge that works and fails now
  and then never stops a run;
* ``first_only=False`` (training): whenever the abstention share over the last ``window``
  reward calls reaches ``max_failure_rate``.
"""

from __future__ import annotations

from collections import deque


class JudgeFailing(RuntimeError):
    """The judge abstains on (nearly) every question: the run stops instead of scoring nothing."""


class JudgeHealth:
    """Rolling abstention share of the judge's last ``window`` results; see the module docstring."""

    def __init__(self, window: int = 5, max_failure_rate: float = 1.0, first_only: bool = False):
        if window < 1 or not 0 < max_failure_rate <= 1:
            raise ValueError(f"JudgeHealth needs window >= 1 and 0 < max_failure_rate <= 1, got {window}, "
                             f"{max_failure_rate}")
        self.window, self.max_failure_rate, self.first_only = window, max_failure_rate, first_only
        self.recent: deque[tuple[int, int]] = deque(maxlen=window)
        self.answered_any = False
        self.last_error: str | None = None

    def record(self, questions: int, abstained: int, error: str | None = None) -> None:
        """One result: ``questions`` asked, ``abstained`` of them without an answer, the error of one."""
        if questions == 0:
            return
        self.recent.append((questions, abstained))
        self.answered_any |= abstained < questions
        self.last_error = error or self.last_error

    def counts(self) -> tuple[int, int]:
        """``(questions, abstained)`` over the results in the window (both 0 until it is full)."""
        if len(self.recent) < self.window:
            return 0, 0
        return sum(q for q, _ in self.recent), sum(a for _, a in self.recent)

    def failing(self, asked: int | None = None, abstained: int | None = None) -> str | None:
        """Why the run should stop, or None; ``asked`` / ``abstained``: the window's counts summed over
        several processes (default: this one's, :meth:`counts`)."""
        if asked is None or abstained is None:
            asked, abstained = self.counts()
        if not asked or (self.first_only and self.answered_any):
            return None
        share = abstained / asked
        if share < self.max_failure_rate:
            return None
        return (f"the judge abstained on {share:.0%} of {asked} questions over the last {self.window} "
                f"{'samples' if self.first_only else 'reward calls'}; last error: {self.last_error or 'none given'}")

    def check(self, questions: int, abstained: int, error: str | None = None) -> None:
        """:meth:`record`, then raise :class:`JudgeFailing` when :meth:`failing`."""
        self.record(questions, abstained, error)
        reason = self.failing()
        if reason:
            raise JudgeFailing(reason)
