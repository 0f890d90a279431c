"""Why a metric moved: the items, rubric categories, HealthBench axes and criteria that changed.

All of it is paired: an item counts only where both checkpoints have a score, a
criterion only where both verdicts exist (the same criterion id, neither
abstained). These breakdowns explain a verdict; they are exploratory and not
part of the gated, Holm-corrected family.

* **items** — the largest per-item changes ``d_i = candidate_i − baseline_i``
  (for binary items: right → wrong and wrong → right);
* **categories** — per rubric category (essential / important / optional /
  pitfall), the share of criteria met by each checkpoint and the verdicts that
  flipped. A pitfall verdict "met" means the mistake is present, so there lower
  is better;
* **tags** — per rubric tag (HealthBench ``axis:…``, ``level:…``, ``cluster:…``),
  the mean tag score of the items carrying it, with a 95 % paired bootstrap
  interval of the difference (:func:`rareval.stats.bootstrap_ci`);
* **criteria** — the criteria whose verdicts flipped, worse first, with the items
  where they did.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from rareval.regress.items import MetricItems
from rareval.stats import bootstrap_ci

__all__ = ["CategoryDiff", "CriterionFlip", "Diagnostics", "ItemChange", "TagDiff", "diagnose"]


class ItemChange(BaseModel):
    item: str
    baseline: float
    candidate: float

    @property
    def difference(self) -> float:
        return self.candidate - self.baseline


class CategoryDiff(BaseModel):
    category: str
    judgements: int = Field(description="Criterion verdicts paired across the checkpoints.")
    baseline_met: float = Field(description="Share met by the baseline.")
    candidate_met: float = Field(description="Share met by the candidate.")
    newly_met: int
    newly_unmet: int
    lower_is_better: bool = Field(description="True for pitfalls: 'met' means the mistake is present.")


class TagDiff(BaseModel):
    tag: str
    items: int
    baseline: float
    candidate: float
    ci_low: float
    ci_high: float

    @property
    def difference(self) -> float:
        return self.candidate - self.baseline


class CriterionFlip(BaseModel):
    """One criterion whose verdict flipped the same way on one or more items."""

    text: str
    category: str
    baseline_met: bool
    candidate_met: bool
    items: list[str] = Field(description="Items where it flipped this way.")

    @property
    def worse(self) -> bool:
        """A positive criterion lost, or a pitfall's mistake newly made."""
        return self.candidate_met if self.category == "pitfall" else self.baseline_met


class Diagnostics(BaseModel):
    metric: str
    worse_items: list[ItemChange] = Field(default_factory=list, description="Largest drops first.")
    better_items: list[ItemChange] = Field(default_factory=list, description="Largest gains first.")
    worse_total: int = 0
    better_total: int = 0
    categories: list[CategoryDiff] = Field(default_factory=list)
    tags: list[TagDiff] = Field(default_factory=list)
    criterion_flips: list[CriterionFlip] = Field(default_factory=list, description="Criteria that flipped, worse "
                                                 "first, then by how many items; capped.")
    criterion_flips_total: int = Field(0, description="Verdicts that flipped, over all criteria and items.")


CATEGORY_ORDER = ("essential", "important", "optional", "pitfall")


def _categories(candidate: MetricItems, baseline: MetricItems, items: list[str]
                ) -> tuple[list[CategoryDiff], list[CriterionFlip]]:
    counts: dict[str, list[int]] = {}  # category -> [n, baseline met, candidate met, newly met, newly unmet]
    flips: dict[tuple[str, str, bool], list[str]] = {}  # (text, category, candidate met) -> items
    for item in items:
        c_detail, b_detail = candidate.details.get(item), baseline.details.get(item)
        if c_detail is None or b_detail is None:
            continue
        for c, b in zip(c_detail.criteria, b_detail.criteria):
            if c.id != b.id or c.met is None or b.met is None:
                continue
            row = counts.setdefault(c.category, [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += b.met
            row[2] += c.met
            row[3] += c.met and not b.met
            row[4] += b.met and not c.met
            if c.met != b.met:
                flips.setdefault((c.text, c.category, c.met), []).append(item)
    order = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    categories = [CategoryDiff(category=name, judgements=n, baseline_met=bm / n, candidate_met=cm / n,
                               newly_met=nm, newly_unmet=nu, lower_is_better=name == "pitfall")
                  for name, (n, bm, cm, nm, nu) in sorted(counts.items(), key=lambda kv: order.get(kv[0], 9))]
    grouped = [CriterionFlip(text=text, category=category, baseline_met=not met, candidate_met=met, items=items)
               for (text, category, met), items in flips.items()]
    grouped.sort(key=lambda f: (not f.worse, -len(f.items), order.get(f.category, 9), f.text))
    return categories, grouped


def _tags(candidate: MetricItems, baseline: MetricItems, items: list[str], resamples: int, seed: int
          ) -> list[TagDiff]:
    pairs: dict[str, list[tuple[float, float]]] = {}
    for item in items:
        c_detail, b_detail = candidate.details.get(item), baseline.details.get(item)
        if c_detail is None or b_detail is None:
            continue
        for tag, value in c_detail.tags.items():
            if tag in b_detail.tags:
                pairs.setdefault(tag, []).append((b_detail.tags[tag], value))
    out = []
    for tag, values in pairs.items():
        low, high = bootstrap_ci([c - b for b, c in values], level=0.95, n=resamples, seed=seed)
        out.append(TagDiff(tag=tag, items=len(values), baseline=sum(b for b, _ in values) / len(values),
                           candidate=sum(c for _, c in values) / len(values), ci_low=low, ci_high=high))
    out.sort(key=lambda t: (not t.tag.startswith("axis:"), -abs(t.difference), t.tag))
    return out


def diagnose(candidate: MetricItems, baseline: MetricItems, items: list[str], *, top: int = 10,
             resamples: int = 2_000, seed: int = 0) -> Diagnostics:
    """What changed in ``items`` (the paired item ids) between ``baseline`` and ``candidate``."""
    changes = [ItemChange(item=i, baseline=baseline.scores[i], candidate=candidate.scores[i]) for i in items
               if candidate.scores[i] != baseline.scores[i]]
    worse = sorted((c for c in changes if c.difference < 0), key=lambda c: (c.difference, c.item))
    better = sorted((c for c in changes if c.difference > 0), key=lambda c: (-c.difference, c.item))
    categories, flips = _categories(candidate, baseline, items)
    return Diagnostics(metric=candidate.name, worse_items=worse[:top], better_items=better[:top],
                       worse_total=len(worse), better_total=len(better), categories=categories,
                       tags=_tags(candidate, baseline, items, resamples, seed),
                       criterion_flips=flips[:top], criterion_flips_total=sum(len(f.items) for f in flips))
