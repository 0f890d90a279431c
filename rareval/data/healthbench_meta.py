"""HealthBench meta-evaluation rows: one (conversation, completion, criterion) with physician labels.

Source: ``2025-05-07-06-14-12_oss_meta_eval.jsonl`` (29,511 records, SPEC §4.2),
pinned in :data:`rareval.data.healthbench.HEALTHBENCH_FILES`. Each record carries
one binary label per physician; :attr:`MetaEvalExample.majority_label` is the
inspect_evals truth (strictly more than half say "met"), while the simple-evals
estimator compares a judge with every physician label pairwise (SPEC §4.4).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from rareval.data.cache import DEFAULT_TIMEOUT_S, DataError, Rows, load_jsonl, require
from rareval.data.healthbench import Message, healthbench_path, parse_messages


class MetaEvalExample(BaseModel):
    """One criterion judged on one completion by several physicians."""

    model_config = ConfigDict(frozen=True)

    prompt_id: str = Field(description="HealthBench prompt id of the conversation.")
    completion_id: str = Field(description="Id of the judged completion.")
    prompt: tuple[Message, ...] = Field(min_length=1, description="The conversation before the completion.")
    completion: str = Field(description="The judged assistant answer.")
    criterion: str = Field(description="The rubric criterion (the record's 'rubric' string).")
    category: str = Field(description="Consensus cluster id of the criterion.")
    binary_labels: tuple[bool, ...] = Field(min_length=1, description="One 'criterion met' label per physician.")
    physician_ids: tuple[str, ...] = Field(description="Anonymised physician ids, aligned with binary_labels.")

    @property
    def majority_label(self) -> bool:
        """True when strictly more than half of the physicians say the criterion is met."""
        return sum(self.binary_labels) * 2 > len(self.binary_labels)


def parse_meta_eval_row(record: dict, line: int, *, file: str | Path | None = None) -> MetaEvalExample:
    """Validate one meta-eval record; errors name ``file``, ``line`` and the field."""
    where = dict(file=file, line=line)
    labels = require(record, "binary_labels", list, **where)
    if not labels:
        raise DataError("no physician labels", field="binary_labels", **where)
    for i, v in enumerate(labels):
        if not isinstance(v, bool):
            raise DataError(f"wrong type {type(v).__name__}", field=f"binary_labels[{i}]", **where)
    ids = require(record, "anonymized_physician_ids", list, optional=True, **where) or []
    if ids and len(ids) != len(labels):
        raise DataError(f"{len(ids)} ids for {len(labels)} labels", field="anonymized_physician_ids", **where)
    criterion = require(record, "rubric", str, **where)
    if not criterion.strip():
        raise DataError("empty", field="rubric", **where)
    return MetaEvalExample(
        prompt_id=require(record, "prompt_id", str, **where),
        completion_id=require(record, "completion_id", str, **where),
        prompt=parse_messages(require(record, "prompt", list, **where), field="prompt", **where),
        completion=require(record, "completion", str, **where),
        criterion=criterion,
        category=require(record, "category", str, **where),
        binary_labels=tuple(labels),
        physician_ids=tuple(str(i) for i in ids))


def load_healthbench_meta_eval(path: str | Path | None = None, *, skip_bad_rows: bool = False,
                               allow_download: bool = True,
                               timeout: float = DEFAULT_TIMEOUT_S) -> Rows[MetaEvalExample]:
    """Load the physician-labelled meta-eval records (``path``, else cache, else download)."""
    file = healthbench_path("meta_eval", path, allow_download=allow_download, timeout=timeout)
    return load_jsonl(file, partial(parse_meta_eval_row, file=file), skip_bad_rows=skip_bad_rows)
