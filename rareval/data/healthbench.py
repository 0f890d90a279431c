"""HealthBench rows (OpenAI, Arora et al. 2025, arXiv 2505.08775; MIT licence).

Official files (simple-evals, openaipublic blob) are pinned by size and sha256 in
:data:`HEALTHBENCH_FILES`; :func:`load_healthbench` reads an explicit ``path``,
else the cache (:func:`rareval.data.cache.data_dir`), else downloads and checks
the file. Every row is validated: a missing field, a wrong type or an empty rubric
raises :class:`~rareval.data.cache.DataError` naming the file, line and field.

Rows may also carry a fixed model answer (``prompt_response``) and a strong
grader's per-criterion verdicts (``responses``: a Python-literal string of
``{response_dict: {explanation, criteria_met}, points, tags}`` aligned with
``rubrics``), as in the m42 redistribution; these become
:attr:`HealthBenchExample.prompt_response` and :attr:`HealthBenchExample.grader_verdicts`.

**Bundled sample** (``subset="sample"``, ``healthbench_sample.jsonl``): 10 rows
copied verbatim from the offline union of public HealthBench redistributions, so
an end-to-end run on a small CPU model takes minutes. Selection rule, over rows
that have a physician ideal completion, at most 8 criteria and at least one
pitfall (negative points): for each of the 7 themes (in tag order), the row with the shortest
prompt (total characters of its messages; ties by ``prompt_id``); then the 3
shortest remaining such rows of any theme. The file is in that order.
"""

from __future__ import annotations

import ast
from functools import partial
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rareval.data.cache import (
    DEFAULT_TIMEOUT_S,
    DataError,
    Rows,
    fetch,
    from_rubric_error,
    load_jsonl,
    require,
)
from rareval.rubric import Rubric, RubricError

_BLOB = "https://openaipublic.blob.core.windows.net/simple-evals/healthbench/"
SAMPLE_PATH = Path(__file__).with_name("healthbench_sample.jsonl")


class OfficialFile(BaseModel):
    """A pinned upstream file."""

    model_config = ConfigDict(frozen=True)

    filename: str = Field(description="File name upstream and in the cache.")
    url: str = Field(description="Download URL.")
    bytes: int = Field(description="Size in bytes.")
    sha256: str = Field(description="Hex sha256 of the file.")
    rows: int = Field(description="Number of JSONL records.")


HEALTHBENCH_FILES: dict[str, OfficialFile] = {
    "full": OfficialFile(
        filename="2025-05-07-06-14-12_oss_eval.jsonl", url=_BLOB + "2025-05-07-06-14-12_oss_eval.jsonl",
        bytes=60_258_154, rows=5_000,
        sha256="e99dd3c6372c10d6fcc5e385c5fae69d0dd40392dae56836ef9493ae324ecd2f"),
    "hard": OfficialFile(
        filename="hard_2025-05-08-21-00-10.jsonl", url=_BLOB + "hard_2025-05-08-21-00-10.jsonl",
        bytes=12_581_564, rows=1_000,
        sha256="b0320430e5cd974e746585594c1dd10b5a3fc2aff9c72b26106c2c4a069d74e9"),
    "consensus": OfficialFile(
        filename="consensus_2025-05-09-20-00-46.jsonl", url=_BLOB + "consensus_2025-05-09-20-00-46.jsonl",
        bytes=36_921_504, rows=3_671,
        sha256="fabe37553327238928b05357d8b309737b5d426d6dee432a3376da618d0969d6"),
    "meta_eval": OfficialFile(
        filename="2025-05-07-06-14-12_oss_meta_eval.jsonl",
        url=_BLOB + "2025-05-07-06-14-12_oss_meta_eval.jsonl",
        bytes=136_224_466, rows=29_511,
        sha256="6a343ed3fcb6f28353c2c6c157ae30ddf2db874c947b27ba474ad54da9c5dbac"),
}

Subset = Literal["full", "hard", "consensus", "sample"]


class Message(BaseModel):
    """One chat turn of a HealthBench conversation."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "developer", "user", "assistant"]
    content: str


class GraderVerdict(BaseModel):
    """A strong grader's verdict on one criterion (aligned with the rubric's order)."""

    model_config = ConfigDict(frozen=True)

    criteria_met: bool = Field(description="Whether the criterion's behaviour occurs in the response.")
    explanation: str = Field(default="", description="The grader's stated reason.")


class HealthBenchExample(BaseModel):
    """A HealthBench conversation with its physician rubric (SPEC §4.2)."""

    model_config = ConfigDict(frozen=True)

    prompt_id: str = Field(description="HealthBench prompt id (a UUID).")
    prompt: tuple[Message, ...] = Field(min_length=1, description="The conversation to continue.")
    rubric: Rubric = Field(description="Physician criteria; negative points are pitfalls.")
    example_tags: tuple[str, ...] = Field(default=(), description="'theme:*' and 'physician_agreed_category:*'.")
    ideal_completion: str | None = Field(default=None, description="Physician-written ideal answer, if any.")
    ideal_completions_group: str | None = Field(default=None, description="'Group 1' | 'Group 2' | 'Group 3'.")
    ref_completions: tuple[str, ...] = Field(
        default=(), description="Model reference completions the physician saw (Groups 2 and 3: four).")
    canary: str | None = Field(default=None, description="Benchmark canary string.")
    prompt_response: str | None = Field(default=None, description="A fixed model answer shipped with the row.")
    grader_verdicts: tuple[GraderVerdict, ...] | None = Field(
        default=None, description="Strong grader's verdicts on prompt_response, one per criterion.")
    grader_score: float | None = Field(default=None, description="The grader's overall score for prompt_response.")

    @property
    def theme(self) -> str | None:
        """The value of the row's ``theme:`` tag, e.g. ``'emergency_referrals'``."""
        return next((t.split(":", 1)[1] for t in self.example_tags if t.startswith("theme:")), None)

    @property
    def physician_categories(self) -> list[str]:
        """Values of the ``physician_agreed_category:`` tags."""
        return [t.split(":", 1)[1] for t in self.example_tags if t.startswith("physician_agreed_category:")]


def parse_messages(value, *, file, line, field) -> tuple[Message, ...]:
    """Validate a list of ``{role, content}`` messages; errors name ``field[i].key``."""
    if not isinstance(value, list) or not value:
        raise DataError("expected a non-empty list of messages", file=file, line=line, field=field)
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise DataError(f"expected an object, got {type(m).__name__}", file=file, line=line,
                            field=f"{field}[{i}]")
        role = require(m, "role", str, file=file, line=line, prefix=f"{field}[{i}].")
        content = require(m, "content", str, file=file, line=line, prefix=f"{field}[{i}].")
        if role not in ("system", "developer", "user", "assistant"):
            raise DataError(f"unknown role {role!r}", file=file, line=line, field=f"{field}[{i}].role")
        out.append(Message(role=role, content=content))
    return tuple(out)


def _string_list(record, key, *, file, line, prefix="") -> tuple[str, ...]:
    value = require(record, key, list, file=file, line=line, prefix=prefix, optional=True) or []
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise DataError(f"wrong type {type(v).__name__}", file=file, line=line, field=f"{prefix}{key}[{i}]")
    return tuple(value)


def _verdicts(value, rubric: Rubric, *, file, line) -> tuple[GraderVerdict, ...]:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError) as e:
            raise DataError(f"not a Python literal ({e.__class__.__name__})", file=file, line=line,
                            field="responses") from None
    if not isinstance(value, list):
        raise DataError(f"expected a list, got {type(value).__name__}", file=file, line=line, field="responses")
    if len(value) != len(rubric):
        raise DataError(f"{len(value)} verdicts for {len(rubric)} criteria", file=file, line=line,
                        field="responses")
    out = []
    for j, (item, criterion) in enumerate(zip(value, rubric)):
        field = f"responses[{j}]"
        if not isinstance(item, dict):
            raise DataError(f"expected an object, got {type(item).__name__}", file=file, line=line, field=field)
        rd = require(item, "response_dict", dict, file=file, line=line, prefix=f"{field}.")
        met = require(rd, "criteria_met", bool, file=file, line=line, prefix=f"{field}.response_dict.")
        explanation = require(rd, "explanation", str, file=file, line=line, prefix=f"{field}.response_dict.",
                              optional=True) or ""
        points = item.get("points")
        if points is not None and float(points) != criterion.weight:
            raise DataError(f"points {points} do not match the rubric's {criterion.weight:g}", file=file,
                            line=line, field=f"{field}.points")
        out.append(GraderVerdict(criteria_met=met, explanation=explanation))
    return tuple(out)


def _response_text(value, *, file, line) -> str:
    if isinstance(value, str):
        return value
    messages = parse_messages(value, file=file, line=line, field="prompt_response")
    return messages[-1].content


def parse_healthbench_row(record: dict, line: int, *, file: str | Path | None = None) -> HealthBenchExample:
    """Validate one HealthBench JSONL record; errors name ``file``, ``line`` and the field."""
    where = dict(file=file, line=line)
    prompt_id = require(record, "prompt_id", str, **where)
    if not prompt_id.strip():
        raise DataError("empty", field="prompt_id", **where)
    prompt = parse_messages(require(record, "prompt", list, **where), field="prompt", **where)
    try:
        rubric = Rubric.from_healthbench(require(record, "rubrics", list, **where))
    except RubricError as e:
        raise from_rubric_error(e, **where) from None
    tags = _string_list(record, "example_tags", **where)
    ideal = require(record, "ideal_completions_data", dict, optional=True, **where) or {}
    p = "ideal_completions_data."
    fields: dict = {}
    if ideal:
        fields.update(
            ideal_completion=require(ideal, "ideal_completion", str, prefix=p, **where),
            ideal_completions_group=require(ideal, "ideal_completions_group", str, prefix=p, optional=True,
                                            **where),
            ref_completions=_string_list(ideal, "ideal_completions_ref_completions", prefix=p, **where))
    if record.get("prompt_response") is not None:
        fields["prompt_response"] = _response_text(record["prompt_response"], **where)
    if record.get("responses") is not None:
        fields["grader_verdicts"] = _verdicts(record["responses"], rubric, **where)
    if record.get("score") is not None:
        fields["grader_score"] = float(require(record, "score", (int, float), **where))
    return HealthBenchExample(prompt_id=prompt_id, prompt=prompt, rubric=rubric, example_tags=tags,
                              canary=require(record, "canary", str, optional=True, **where), **fields)


def healthbench_path(subset: Subset | Literal["meta_eval"] = "full", path: str | Path | None = None, *,
                     allow_download: bool = True, timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """Where a subset's file is: ``path``, the bundled sample, the cache, or a fresh download."""
    if subset == "sample":
        return Path(path) if path is not None else SAMPLE_PATH
    if subset not in HEALTHBENCH_FILES:
        raise ValueError(f"unknown HealthBench subset {subset!r}; "
                         f"choose from {sorted([*HEALTHBENCH_FILES, 'sample'])}")
    f = HEALTHBENCH_FILES[subset]
    return fetch(f.filename, f.url, f.sha256, path=path, allow_download=allow_download, timeout=timeout)


def load_healthbench(subset: Subset = "full", path: str | Path | None = None, *, skip_bad_rows: bool = False,
                     allow_download: bool = True, timeout: float = DEFAULT_TIMEOUT_S) -> Rows[HealthBenchExample]:
    """Load a HealthBench subset as validated :class:`HealthBenchExample` rows.

    ``subset`` is ``"full"`` (5,000), ``"hard"`` (1,000), ``"consensus"`` (3,671) or
    ``"sample"`` (the bundled 10). ``path`` overrides the file (any file in the row
    format, e.g. the offline union). With ``skip_bad_rows`` invalid rows are left out,
    listed in ``.skipped`` and counted in one warning.
    """
    if subset == "meta_eval":  # type: ignore[comparison-overlap]
        raise ValueError("meta-eval rows have another schema: use load_healthbench_meta_eval()")
    file = healthbench_path(subset, path, allow_download=allow_download, timeout=timeout)
    return load_jsonl(file, partial(parse_healthbench_row, file=file), skip_bad_rows=skip_bad_rows)
