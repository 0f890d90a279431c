"""Per-item scores of one model, read from Inspect eval logs (or stored results).

An *item* is the unit the gate pairs across checkpoints: a HealthBench example
(its sample id), a GPQA question (``metadata["record_id"]``, so the runs of one
question are one item). What each scorer leaves in a log:

* ``healthbench_scorer`` (:mod:`rareval.evals.healthbench`): the example score in
  ``metadata["overall"]`` (None: unscored, e.g. every criterion abstained), the
  per-criterion verdicts in ``metadata["verdicts"]`` in the order of the sample's
  ``metadata["rubric"]``, the rubric-tag scores (``axis:…``, ``level:…``,
  ``cluster:…``) in ``metadata["tags"]`` and the judge's calls in
  ``metadata["judge_usage"]`` (verdict-cache hits counted apart);
* ``gpqa_choice`` (:mod:`rareval.evals.gpqa`) and any other scorer: the sample's value
  as a number (``C`` = 1, ``I`` = 0; Inspect's ``value_to_float``); ``N`` (no
  answer) is unscored.

Several observations of one item (GPQA runs, Inspect epochs) are averaged. A
metric is *binary* when every item has exactly one 0/1 observation and the scorer
is not a rubric scorer, *graded* otherwise.

An item with no numeric observation is *unscored*; it is also *refused* when the
log shows the model under test gave no usable answer on one of its observations
(:func:`model_refused`: an error before any output, or a ``content_filter`` stop).
:mod:`rareval.regress.coverage` counts both, so a candidate cannot pass by losing items;
``MetricItems.lost`` says why each was lost (:func:`lost_reason`), for the report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rareval.regress.errors import RegressUsageError

__all__ = ["CriterionOutcome", "ItemDetail", "MetricItems", "RESULTS_FORMAT", "ResultSet", "answered", "first_line",
           "items_from_log", "load_results", "lost_reason", "model_refused", "read_logs"]

RESULTS_FORMAT = "rareval.regress.results/1"
LMEVAL_SUFFIX = ".lmeval.json"


class CriterionOutcome(BaseModel):
    """One rubric criterion of one item and the judge's verdict on it."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The criterion's stable id (rareval.rubric.Criterion.id).")
    text: str = Field(description="The criterion as written.")
    category: str = Field(description="essential | important | optional | pitfall.")
    tags: list[str] = Field(default_factory=list, description="Source tags, e.g. 'axis:accuracy'.")
    met: bool | None = Field(description="Judge's verdict (for a pitfall: the mistake is present); None: abstained.")


class ItemDetail(BaseModel):
    """What explains an item's score: its criteria and rubric-tag scores."""

    criteria: list[CriterionOutcome] = Field(default_factory=list)
    tags: dict[str, float] = Field(default_factory=dict, description="Rubric-tag scores (HealthBench axes, levels, "
                                   "clusters): the example formula on each tag's criteria.")


class MetricItems(BaseModel):
    """One metric's per-item scores for one model."""

    name: str = Field(description="Metric (task) name.")
    kind: Literal["graded", "binary"] = Field(description="binary: one 0/1 outcome per item; graded: a score.")
    scores: dict[str, float] = Field(description="Item id → score (the mean of its observations).")
    unscored: list[str] = Field(default_factory=list, description="Items that got no score (e.g. every criterion "
                                "abstained); left out of the paired comparison, counted by coverage.")
    refused: list[str] = Field(default_factory=list, description="The unscored items the model under test refused "
                               "(content_filter stop) or errored on before answering; the rest of `unscored` "
                               "are judge abstentions or failed scoring.")
    lost: dict[str, str] = Field(default_factory=dict, description="Unscored item → why, as its log tells: the "
                                 "sample's error, the model's refusal or the judge's reason (lost_reason).")
    details: dict[str, ItemDetail] = Field(default_factory=dict, description="Item id → criteria and tag scores.")
    judge_calls: int = Field(0, description="Judge calls the scores cost (verdict-cache hits excluded).")
    judge_cached: int = Field(0, description="Judge answers served from the verdict cache.")
    source: str = Field("", description="Log file or run the scores were read from.")
    suite: str | None = Field(None, description="Fingerprint of the suite that produced them, when known.")


class ResultSet(BaseModel):
    """Every metric's items for one model: what a gate run compares, and what it stores."""

    format: Literal["rareval.regress.results/1"] = RESULTS_FORMAT
    label: str = Field(description="What was evaluated (checkpoint, model string or log folder).")
    metrics: dict[str, MetricItems] = Field(default_factory=dict)

    @property
    def judge_calls(self) -> int:
        return sum(m.judge_calls for m in self.metrics.values())

    @property
    def judge_cached(self) -> int:
        return sum(m.judge_cached for m in self.metrics.values())


def _criteria(sample_meta: dict[str, Any], verdicts: list[bool | None]) -> list[CriterionOutcome]:
    from rareval.rubric import Rubric

    raw = sample_meta.get("rubric")
    if not raw or not verdicts:
        return []
    rubric = Rubric.model_validate(raw)
    if len(rubric.criteria) != len(verdicts):  # a fixed rubric (RaR-Predefined) was judged instead
        return []
    return [CriterionOutcome(id=c.id, text=c.text, category=c.category.value, tags=list(c.tags), met=met)
            for c, met in zip(rubric.criteria, verdicts, strict=True)]


def _number(value: Any) -> float | None:
    from inspect_ai.scorer import value_to_float

    if value == "N" or value is None:
        return None
    number = value_to_float()(value)
    return None if number != number else float(number)  # NaN: unscored


def answered(sample: Any) -> bool:
    """Whether the model under test produced output for ``sample``: it did not error before answering
    (an error after the answer, in scoring, is the grader's)."""
    output = getattr(sample, "output", None)
    completion = getattr(output, "completion", "") if output is not None else ""
    return getattr(sample, "error", None) is None or bool(completion)


def _content_filtered(sample: Any) -> bool:
    output = getattr(sample, "output", None)
    return bool(output is not None and output.choices and output.stop_reason == "content_filter")


def model_refused(sample: Any) -> bool:
    """Whether the model under test gave no usable answer to ``sample``, as far as the log tells: the
    sample errored before the model produced any output (:func:`answered`), or the model's output stopped
    with ``content_filter`` (a provider's refusal)."""
    return not answered(sample) or _content_filtered(sample)


def first_line(text: str | None, limit: int = 200) -> str:
    """The first non-empty line of an error message, secrets redacted, at most ``limit`` characters."""
    from rareval.errors import redact

    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return redact(lines[0])[:limit] if lines else "no message"


def lost_reason(sample: Any, score: Any = None) -> str:
    """Why ``sample`` got no score, in one line: where it errored (before the model answered, or in
    scoring), the model's refusal, or the judge's reason (HealthBench's ``unscored_reason`` and the
    judge's first error)."""
    if getattr(sample, "error", None) is not None:
        where = "scoring" if answered(sample) else "the model"
        return f"{where} errored: {first_line(sample.error.message)}"
    if _content_filtered(sample):
        return "the model refused (content_filter)"
    meta = (getattr(score, "metadata", None) or {}) if score is not None else {}
    if meta.get("unscored_reason"):
        error = meta.get("judge_error")
        return f"judge: {str(meta['unscored_reason']).replace('_', ' ')}" + (
            f" ({first_line(error)})" if error else "")
    return f"no score ({getattr(score, 'value', None)!r})"


def items_from_log(log: Any, name: str | None = None) -> MetricItems:
    """Per-item scores of one Inspect eval log (a path or an ``EvalLog``); ``name`` defaults to the task's."""
    from inspect_ai.log import read_eval_log

    source = str(log) if not hasattr(log, "samples") else str(getattr(log, "location", "") or "")
    if not hasattr(log, "samples"):
        try:
            log = read_eval_log(str(log))
        except Exception as err:  # a missing, truncated or foreign file: say which
            raise RegressUsageError(f"not a readable Inspect eval log ({type(err).__name__}: "
                                    f"{str(err).splitlines()[0] if str(err) else ''})", file=source) from None
    if not log.samples:
        raise RegressUsageError(f"the log holds no samples (status {log.status})", file=source, field="samples")
    observations: dict[str, list[float]] = defaultdict(list)
    unscored: set[str] = set()
    refused: set[str] = set()
    details: dict[str, ItemDetail] = {}
    reasons: dict[str, str] = {}
    calls = cached = 0
    graded = False  # rubric scores are graded even when every item happens to score 0 or 1
    for sample in log.samples:
        sample_meta = sample.metadata or {}
        item = str(sample_meta.get("record_id") or sample.id)
        if model_refused(sample):
            refused.add(item)
        if not sample.scores:  # the sample errored before it was scored
            unscored.add(item)
            reasons.setdefault(item, lost_reason(sample))
            continue
        scorer, score = next(iter(sample.scores.items()))
        meta = score.metadata or {}
        usage = meta.get("judge_usage") or {}
        calls += int(usage.get("calls", 0))
        cached += int(usage.get("cached", 0))
        if scorer == "healthbench_scorer" or "overall" in meta:
            graded = True
            value = meta.get("overall")
            details[item] = ItemDetail(criteria=_criteria(sample_meta, meta.get("verdicts") or []),
                                       tags=dict(meta.get("tags") or {}))
        else:
            value = _number(score.value)
        if value is None or value != value:  # missing or NaN: unscored
            unscored.add(item)
            reasons.setdefault(item, lost_reason(sample, score))
        else:
            observations[item].append(float(value))
    binary = not graded and all(len(v) == 1 and v[0] in (0.0, 1.0) for v in observations.values())
    suite = (getattr(log.eval, "metadata", None) or {}).get("regress_suite")
    lost = unscored - set(observations)
    return MetricItems(name=name or log.eval.task.split("/")[-1], kind="binary" if binary else "graded",
                       scores={k: sum(v) / len(v) for k, v in sorted(observations.items())},
                       unscored=sorted(lost), refused=sorted(refused & lost),
                       lost={k: reasons[k] for k in sorted(lost) if k in reasons}, details=details,
                       judge_calls=calls, judge_cached=cached, source=source, suite=suite)


def _log_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and (p.suffix == ".eval" or p.suffix == ".json"))


def read_logs(path: str | Path, label: str | None = None) -> ResultSet:
    """Every metric in a log file or a folder of logs: Inspect ``.eval``/``.json`` logs and the
    gate's ``NAME.lmeval.json`` item files. Where one task was logged several times, the newest
    log wins."""
    from inspect_ai.log import read_eval_log

    path = Path(path)
    newest: dict[str, tuple[tuple[str, int], MetricItems]] = {}
    for file in _log_files(path):
        if file.name.endswith(LMEVAL_SUFFIX):
            items = _validated(MetricItems, file)
            newest[items.name] = (("", 0), items)
            continue
        try:
            log = read_eval_log(str(file))
        except Exception:
            if path.is_file():
                raise RegressUsageError("not a readable Inspect eval log", file=file) from None
            continue  # a folder may hold other JSON files
        if not log.samples:
            continue
        items = items_from_log(log)
        # Inspect's ``created`` has whole seconds: two runs in one second tie, and the file written last wins
        created = (str(log.eval.created), file.stat().st_mtime_ns)
        if items.name not in newest or created >= newest[items.name][0]:
            newest[items.name] = (created, items.model_copy(update={"source": str(file)}))
    if not newest:
        raise RegressUsageError("no Inspect eval logs with samples found", file=path)
    return ResultSet(label=label or str(path), metrics={k: v for k, (_, v) in sorted(newest.items())})


def _validated(model: type[BaseModel], file: Path) -> Any:
    try:
        data = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise RegressUsageError(f"not readable JSON ({err})", file=file) from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise RegressUsageError(first["msg"], file=file,
                                field=".".join(str(p) for p in first["loc"]) or None) from None


def load_results(path: str | Path) -> ResultSet:
    """Stored results: a results file, or a gate report (its candidate's results)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise RegressUsageError(f"not readable JSON ({err})", file=path) from None
    if isinstance(data, dict) and "candidate_results" in data:
        data = data["candidate_results"]
    if not isinstance(data, dict) or data.get("format") != RESULTS_FORMAT:
        raise RegressUsageError(f"not gate results (expected format {RESULTS_FORMAT!r})", file=path,
                                field="format")
    try:
        return ResultSet.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise RegressUsageError(first["msg"], file=path, field=".".join(str(p) for p in first["loc"])) from None


def is_results_file(path: Path) -> bool:
    """A JSON file holding gate results or a gate report (not an Inspect log)."""
    if path.suffix != ".json" or not path.is_file() or path.name.endswith(LMEVAL_SUFFIX):
        return False
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and (data.get("format") == RESULTS_FORMAT or "candidate_results" in data)
