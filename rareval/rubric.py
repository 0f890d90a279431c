"""Rubrics: criteria with a weight and a category, and converters from real data.

A rubric is a list of criteria ``(w_j, c_j)`` (RaR §3, Eq. 1). Each criterion keeps
the weight its source gave it (HealthBench points, RaR integer weight) and a
:class:`Category`; strategies decide which of the two they use.

Sources handled here:

* HealthBench rows (``{"criterion", "points", "tags"}``): negative points are
  pitfalls (the undesirable behaviour is *present* when the criterion is met);
  positive points map to a category by size (≥7 essential, 4–6 important, 1–3
  optional; the RaR medical prompt's anchors 5 / 3–4 / 1–2 stretched to
  HealthBench's 1–10 scale). ``axis:``/``level:``/``cluster:`` tags are kept.
* RaR rows (``{"title", "description", "weight"}``) whose description starts with a
  category prefix such as ``"Essential Criteria:"``. Known misspellings in the
  released data (``Esssential``, ``Importance``, ``Option`` …) are mapped; anything
  else is rejected with an error naming the row and field.

**Pitfall polarity.** A pitfall's verdict always means "the mistake is present"
(``met=True`` is bad), whatever its wording. RaR's data words pitfalls both ways
(SPEC §1.3): as the mistake ("Recommends X", "Does not mention X" — the generation
prompt's convention) or as the behaviour that avoids it ("Avoids confusing X with
Y", "Should not claim X"). The second kind sets ``Criterion.avoidance``, decided
from the wording by :func:`avoidance_phrased` when a RaR row is read (or given
explicitly in rareval JSON); the judge then inverts its answer, so a "yes, it
avoids the confusion" is read as the mistake being absent. HealthBench pitfalls
(negative points) always describe the mistake.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rareval.errors import located


class RubricError(ValueError):
    """Bad rubric input; the message names the file, row and field."""

    def __init__(self, message: str, *, file: str | Path | None = None, row: int | None = None,
                 field: str | None = None):
        super().__init__(located(message, file=file, n=row, field=field))
        self.file, self.row, self.field, self.reason = file, row, field, message


class Category(str, Enum):
    """RaR criterion categories (RaR §3.2). Pitfalls describe undesirable behaviour."""

    ESSENTIAL = "essential"
    IMPORTANT = "important"
    OPTIONAL = "optional"
    PITFALL = "pitfall"


class Criterion(BaseModel):
    """One rubric item: a self-contained check of a response."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1, description="What the judge checks, as written by the rubric author.")
    weight: float = Field(allow_inf_nan=False,
                          description="Source weight: HealthBench points or RaR weight; negative for pitfalls.")
    category: Category = Field(description="Essential / important / optional / pitfall.")
    tags: tuple[str, ...] = Field(default=(), description="Source tags such as 'axis:accuracy'.")
    title: str | None = Field(default=None, description="Short name (RaR rows carry one).")
    avoidance: bool = Field(default=False, description="Pitfalls only: the text names the behaviour that avoids "
                            "the mistake ('Avoids confusing X'), so a judge's 'yes' means the mistake is absent.")
    id: str = Field(default="", description="Stable id; derived from text, weight and category when empty.")

    @model_validator(mode="after")
    def _stable_id(self) -> "Criterion":
        if not self.id:
            key = f"{self.category.value}|{self.weight:g}|{self.text}"
            object.__setattr__(self, "id", hashlib.sha256(key.encode()).hexdigest()[:12])
        if (self.category is Category.PITFALL) != (self.weight < 0) and self.weight != 0:
            raise ValueError(
                f"criterion {self.text[:40]!r}: pitfalls need a negative weight and others a positive one "
                f"(category={self.category.value}, weight={self.weight:g})")
        if self.avoidance and self.category is not Category.PITFALL:
            raise ValueError(f"criterion {self.text[:40]!r}: only a pitfall can be avoidance-phrased")
        return self

    @property
    def is_pitfall(self) -> bool:
        return self.category is Category.PITFALL

    def tag_values(self, prefix: str) -> list[str]:
        """Values of tags like ``axis:accuracy`` for ``prefix='axis'``."""
        return [t.split(":", 1)[1] for t in self.tags if t.startswith(prefix + ":")]


# Category prefixes in RaR descriptions, including misspellings seen in the released data.
_RAR_PREFIXES: dict[str, Category] = {
    "essential": Category.ESSENTIAL, "esssential": Category.ESSENTIAL, "essentail": Category.ESSENTIAL,
    "important": Category.IMPORTANT, "importance": Category.IMPORTANT, "importent": Category.IMPORTANT,
    "optional": Category.OPTIONAL, "option": Category.OPTIONAL, "optinal": Category.OPTIONAL,
    "pitfall": Category.PITFALL, "pitfalls": Category.PITFALL,
}
_RAR_PREFIX_RE = re.compile(r"^\s*([A-Za-z]+)\s+criteri(?:a|on)\s*:\s*", re.IGNORECASE)


# A pitfall worded as what the response should do: "Avoids …", "Refrains from …", "Should not …",
# or a negated error ("Does not incorrectly state …", "Does not confuse X with Y"). "Does not mention X"
# stays the mistake (an omission), the generation prompt's own convention (SPEC §1.2).
_ERROR_WORDS = ("incorrectly|falsely|mistakenly|erroneously|wrongly|inaccurately|inappropriately|unnecessarily|"
                "confuses?|conflates?|misidentif(?:y|ies)|misinterprets?|misstates?|misrepresents?|misdiagnoses?|"
                "mislabels?|overstates?|exaggerates?|overestimates?|underestimates?|hallucinates?|fabricates?")
_AVOIDANCE = re.compile(
    r"^(?:the response\s+)?(?:"
    r"(?:correctly\s+|carefully\s+)?avoids?\b|refrains?\s+from\b|steers?\s+clear\b"  # "Avoids …"
    r"|(?:should|must)(?:\s+not|n't)\b"                                               # "Should not …"
    r"|(?:does|do|did)(?:\s+not|n't)\s+(?:\w+ly\s+)?(?:" + _ERROR_WORDS + r")\b)",    # "Does not confuse …"
    re.IGNORECASE)


def avoidance_phrased(text: str) -> bool:
    """Whether a pitfall's text names the behaviour that avoids the mistake (see the module docstring).

    >>> avoidance_phrased("Avoids confusing Type I with Type II errors.")
    True
    >>> avoidance_phrased("Does not mention the risk of bleeding.")
    False
    """
    return bool(_AVOIDANCE.match(text.strip()))


def healthbench_category(points: float) -> Category:
    """Category of a HealthBench criterion from its points (see module docstring)."""
    if points < 0:
        return Category.PITFALL
    if points >= 7:
        return Category.ESSENTIAL
    if points >= 4:
        return Category.IMPORTANT
    return Category.OPTIONAL


class Rubric(BaseModel):
    """An ordered list of criteria; verdict lists are aligned with this order."""

    criteria: tuple[Criterion, ...] = Field(min_length=1, description="The rubric items, in order.")

    def __len__(self) -> int:
        return len(self.criteria)

    def __iter__(self):  # type: ignore[override]
        return iter(self.criteria)

    def __getitem__(self, i: int) -> Criterion:
        return self.criteria[i]

    @property
    def id(self) -> str:
        """Stable id of the whole rubric (order-sensitive)."""
        return hashlib.sha256("|".join(c.id for c in self.criteria).encode()).hexdigest()[:12]

    # -- converters -------------------------------------------------------------------

    @classmethod
    def from_healthbench(cls, items: Iterable[dict[str, Any]], *, file: str | Path | None = None,
                         row: int | None = None) -> "Rubric":
        """Build from a HealthBench ``rubrics`` list (``criterion``, ``points``, ``tags``)."""
        criteria = []
        for j, item in enumerate(_as_list(items, file, row, "rubrics")):
            field = f"rubrics[{j}]"
            text = _require(item, "criterion", str, file, row, field)
            points = _require(item, "points", (int, float), file, row, field)
            tags = item.get("tags", [])
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise RubricError("'tags' must be a list of strings", file=file, row=row, field=f"{field}.tags")
            criteria.append(_criterion(file, row, field, text=text, weight=float(points),
                                       category=healthbench_category(points), tags=tuple(tags)))
        return _rubric(criteria, file, row, "rubrics")

    @classmethod
    def from_rar(cls, items: Iterable[dict[str, Any]], *, file: str | Path | None = None,
                 row: int | None = None) -> "Rubric":
        """Build from a RaR ``rubric`` list (``title``, ``description``, ``weight``).

        The category comes from the description's prefix ("Essential Criteria: …"),
        which is stripped from the criterion text. Pitfall weights are negative in
        the data (−1/−2); a positive pitfall weight is negated, since the prefix is
        the label the paper's training used. A pitfall worded as the avoidance of the
        mistake is marked ``avoidance`` (:func:`avoidance_phrased`).
        """
        criteria = []
        for j, item in enumerate(_as_list(items, file, row, "rubric")):
            field = f"rubric[{j}]"
            desc = _require(item, "description", str, file, row, field)
            weight = _require(item, "weight", (int, float), file, row, field)
            m = _RAR_PREFIX_RE.match(desc)
            category = _RAR_PREFIXES.get(m.group(1).lower()) if m else None
            if category is None:
                raise RubricError(
                    f"description must start with a category prefix such as 'Essential Criteria:'; "
                    f"got {desc[:50]!r}", file=file, row=row, field=f"{field}.description")
            w = float(weight)
            w = -abs(w) if category is Category.PITFALL else abs(w)
            text = desc[m.end():].strip()
            criteria.append(_criterion(file, row, field, text=text, weight=w, category=category,
                                       title=item.get("title"),
                                       avoidance=category is Category.PITFALL and avoidance_phrased(text)))
        return _rubric(criteria, file, row, "rubric")

    @classmethod
    def coerce(cls, value: Any) -> "Rubric":
        """Accept a Rubric, a rareval JSON dict, or a HealthBench / RaR item list (or any of them as JSON
        text); anything else raises :class:`RubricError` naming the field."""
        if isinstance(value, Rubric):
            return value
        try:
            if isinstance(value, (str, bytes)):
                value = json.loads(value)
            if isinstance(value, dict) and "criteria" in value:
                return cls.model_validate(value)
            items = list(value) if isinstance(value, (list, tuple)) else []
            if items and isinstance(items[0], dict):
                if "criterion" in items[0]:
                    return cls.from_healthbench(items)
                if "description" in items[0]:
                    return cls.from_rar(items)
                if "text" in items[0]:
                    return cls(criteria=tuple(_validated(item, f"criteria[{j}]")
                                              for j, item in enumerate(_as_list(items, None, None, "criteria"))))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RubricError(f"not JSON ({e})") from None
        except ValidationError as e:
            err = e.errors()[0]
            raise RubricError(err["msg"], field=".".join(map(str, err["loc"])) or None) from None
        raise RubricError("unrecognised rubric format: expected HealthBench, RaR or rareval items, got "
                          f"{type(value).__name__}")

    # -- JSON -------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=2))

    @classmethod
    def load(cls, path: str | Path) -> "Rubric":
        try:
            return cls.model_validate_json(_utf8(Path(path).read_bytes(), path))
        except ValidationError as e:
            err = e.errors()[0]
            raise RubricError(err["msg"], file=path, field=".".join(map(str, err["loc"]))) from None

    @classmethod
    def load_jsonl(cls, path: str | Path) -> list["Rubric"]:
        """One rubric per line; errors name the line (1-based) and field."""
        out = []
        # split on "\n" only: HealthBench text contains U+2028, which splitlines() breaks on
        for n, raw in enumerate(Path(path).read_bytes().split(b"\n"), 1):
            line = _utf8(raw, path, n)
            if not line.strip():
                continue
            try:
                out.append(cls.model_validate_json(line))
            except ValidationError as e:
                err = e.errors()[0]
                raise RubricError(err["msg"], file=path, row=n, field=".".join(map(str, err["loc"]))) from None
        return out


def _utf8(raw: bytes, file, row: int | None = None) -> str:
    try:
        return raw.decode("utf-8-sig" if row in (None, 1) else "utf-8")
    except UnicodeDecodeError as e:
        raise RubricError(f"not UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1})", file=file, row=row
                          ) from None


def _as_list(items: Any, file, row, field) -> list[dict]:
    if not isinstance(items, (list, tuple)):
        raise RubricError(f"expected a list of criteria, got {type(items).__name__}", file=file, row=row,
                          field=field)
    for j, item in enumerate(items):
        if not isinstance(item, dict):
            raise RubricError(f"expected an object, got {type(item).__name__}", file=file, row=row,
                              field=f"{field}[{j}]")
    return list(items)


def _require(item: dict, key: str, types, file, row, field):
    if key not in item:
        raise RubricError("missing", file=file, row=row, field=f"{field}.{key}")
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, types):
        raise RubricError(f"wrong type {type(value).__name__}", file=file, row=row, field=f"{field}.{key}")
    if isinstance(value, str) and not value.strip():
        raise RubricError("empty", file=file, row=row, field=f"{field}.{key}")
    if isinstance(value, (int, float)) and not _finite(value):  # NaN, ±Infinity, or past a float's range
        raise RubricError(f"not a finite number: {str(value)[:20]}", file=file, row=row, field=f"{field}.{key}")
    return value


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _criterion(file, row, field, **kwargs) -> Criterion:
    try:
        return Criterion(**kwargs)
    except ValidationError as e:
        raise RubricError(e.errors()[0]["msg"], file=file, row=row, field=field) from None


def _validated(item: dict, field: str) -> Criterion:
    try:
        return Criterion.model_validate(item)
    except ValidationError as e:
        err = e.errors()[0]
        raise RubricError(err["msg"], field=".".join([field, *map(str, err["loc"])])) from None


def _rubric(criteria: list[Criterion], file, row, field) -> Rubric:
    if not criteria:
        raise RubricError("rubric has no criteria", file=file, row=row, field=field)
    return Rubric(criteria=tuple(criteria))
