"""Coverage: how many of a metric's items each side scored, and what the others lost to.

The paired statistics (:mod:`rareval.regress.gate`) compare only the items *both*
models scored. An item a model lost — the judge abstained on its answer, or the
model refused or crashed — leaves that comparison. A candidate whose answers make
the grader abstain would therefore hide exactly its worst items and could pass.
Coverage counts those items so the gate can fail on them.

The item set of a metric is the **union** of the items either side's results
mention (scored or not). Each side puts every item of it in exactly one count:

* **scored** — the item has a score: at least one of its observations (GPQA runs,
  Inspect epochs) gave a number that is not NaN. A refusal the judge still scored
  is *scored*: its (low) score is in the paired comparison;
* **refused** — no score, and the log shows the model under test gave no usable
  answer on at least one observation: the sample errored before the model produced
  any output (``sample.error`` with an empty completion), or the model's output
  stopped with ``content_filter`` (the provider's refusal signal). Read by
  :func:`rareval.regress.items.items_from_log` into ``MetricItems.refused``;
* **abstained** — no score, and the model answered: the judge abstained (every
  criterion or the rating unreadable, HealthBench's ``unscored``), the score is
  missing (the sample errored after the model answered, i.e. in scoring) or NaN;
* **absent** — the other side's results hold the item and this side's do not
  mention it at all (e.g. a run on a shorter slice).

``share`` = scored / items. The candidate **lost coverage** when
``baseline.share − candidate.share > tolerance`` (the suite's ``coverage_tolerance``);
the gate then says ``regressed (coverage)`` whatever the paired statistics say.
With a shared denominator the drop is simply ``(baseline.scored − candidate.scored) / items``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from rareval.regress.items import MetricItems

__all__ = ["Coverage", "SideCoverage", "coverage"]


class SideCoverage(BaseModel):
    """One side's items of one metric, each in exactly one count (module docstring)."""

    items: int = Field(description="Items of the metric: the union of both sides' items, scored or not.")
    scored: int = Field(description="Items with a score (at least one numeric, non-NaN observation).")
    abstained: int = Field(description="Items without a score although the model answered: the judge abstained, "
                           "or the score is missing (scoring failed) or NaN.")
    refused: int = Field(description="Items without a score because the model under test refused (output "
                         "stopped with content_filter) or errored before answering.")
    absent: int = Field(0, description="Items only the other side's results mention.")
    lost: dict[str, str] = Field(default_factory=dict, description="Each abstained or refused item → why, as its "
                                 "log tells (MetricItems.lost): the sample's error, the model's refusal, the judge's "
                                 "reason.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share(self) -> float:
        """Share of the metric's items this side scored (1.0 for a metric with no item)."""
        return self.scored / self.items if self.items else 1.0


class Coverage(BaseModel):
    """Both sides' coverage of one metric and whether the candidate lost too much of it."""

    baseline: SideCoverage
    candidate: SideCoverage
    tolerance: float = Field(description="The suite's coverage_tolerance: the largest drop of the share scored "
                             "the candidate may have against the baseline.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def drop(self) -> float:
        """``baseline.share − candidate.share``; positive when the candidate scored fewer items."""
        b, c = self.baseline, self.candidate
        return (b.scored - c.scored) / b.items if b.items else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lost(self) -> bool:
        """The candidate's share scored fell more than ``tolerance`` below the baseline's."""
        return self.drop > self.tolerance


def _side(items: MetricItems, union: set[str]) -> SideCoverage:
    scored = set(items.scores)
    unscored = set(items.unscored) - scored
    refused = unscored & set(items.refused)
    return SideCoverage(items=len(union), scored=len(scored), abstained=len(unscored - refused),
                        refused=len(refused), absent=len(union - scored - unscored),
                        lost={i: items.lost[i] for i in sorted(unscored) if i in items.lost})


def coverage(candidate: MetricItems, baseline: MetricItems, tolerance: float) -> Coverage:
    """Count each side's scored, abstained, refused and absent items over the union of both."""
    union = set(candidate.scores) | set(candidate.unscored) | set(baseline.scores) | set(baseline.unscored)
    return Coverage(baseline=_side(baseline, union), candidate=_side(candidate, union), tolerance=tolerance)
