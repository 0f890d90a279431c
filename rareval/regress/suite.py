"""The pinned suite: what the gate runs and how it decides, in one YAML (or JSON) file.

.. code-block:: yaml

    name: ci-gate
    seed: 0
    alpha: 0.05          # family-wise, Holm-corrected across the metrics
    min_effect: 0.05     # the smallest change the suite must be able to see
    coverage_tolerance: 0.02   # the largest drop in the share of items scored
    judge:
      model: openai/gpt-4o-mini
      prompt_versions: [criterion_yesno@1a2b3c4d5e]
    tasks:
      - {kind: healthbench, name: healthbench, subset: hard, limit: 200}
      - {kind: gpqa, name: gpqa_diamond, runs: 4}
      - {kind: gpqa_likelihood, name: gpqa_likelihood, path: data/gpqa_diamond.zip}

Relative paths are read from the suite file's folder. The suite's
:meth:`Suite.fingerprint` travels with every result, so stored baseline results
from another suite are refused rather than compared.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rareval.regress.errors import RegressUsageError

__all__ = ["GPQALikelihoodTask", "GPQATask", "HealthBenchTask", "JudgePin", "Suite", "SuiteTask", "load_suite"]


class _Pinned(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JudgePin(_Pinned):
    """The judge every judged task uses, pinned by model and prompt versions."""

    model: str = Field(min_length=1, description="Inspect model string of the judge (the `grader` role), e.g. "
                       "'openai/gpt-4o-mini' or 'scripted/keyword'.")
    prompt_versions: list[str] = Field(
        default_factory=list, description="Judge prompts as 'name@hash' (rareval.prompts versions, e.g. "
        "'criterion_yesno@1a2b3c4d5e'); the gate refuses to run when the installed prompt differs, since "
        "its verdicts would not be comparable with the baseline's.")
    config: dict[str, Any] = Field(
        default_factory=dict, description="JudgeConfig settings of the judge (reasoning_effort, max_tokens, "
        "grader, on_failure, …); part of the suite's fingerprint.")
    args: dict[str, Any] = Field(
        default_factory=dict, description="Model arguments of the judge (base_url, …); where the judge is served, "
        "not what it is: not part of the fingerprint. `rareval regress --judge-arg KEY=VALUE` adds to them.")

    @model_validator(mode="after")
    def _valid_config(self) -> "JudgePin":
        from rareval.judge.config import judge_config

        judge_config(self.config)
        return self


class HealthBenchTask(_Pinned):
    """A HealthBench slice graded by the judge (graded items: one score per example)."""

    kind: Literal["healthbench"] = "healthbench"
    name: str = Field("healthbench", min_length=1, description="Metric name in the report and the Inspect task name.")
    subset: str = Field("sample", description="full | hard | consensus | sample | 1k (rareval.data.healthbench).")
    path: str | None = Field(None, description="HealthBench JSONL in the official row format (overrides the "
                             "subset's file).")
    limit: int | None = Field(None, ge=1, description="The first N examples of the slice.")
    strategy: str = Field("healthbench", description="Scoring strategy (rareval.strategies).")
    verdict_mode: Literal["yesno", "json"] = Field("yesno", description="How the judge answers each criterion.")
    batched: bool = Field(False, description="Judge a whole rubric in one call.")
    max_tokens: int = Field(512, ge=1, description="Answer length of the evaluated model.")


class GPQATask(_Pinned):
    """GPQA-Diamond answered by generation, letter extracted (binary items with one run;
    with several runs an item is a question and its score the share of runs right)."""

    kind: Literal["gpqa"] = "gpqa"
    name: str = Field("gpqa_diamond", min_length=1, description="Metric name in the report and the Inspect task name.")
    runs: int = Field(1, ge=1, description="Runs with re-permuted choices (rareval.evals.gpqa).")
    limit: int | None = Field(None, ge=1, description="The first N questions.")
    prompt: Literal["rar", "simple_evals"] = Field("rar", description="Prompt template (rareval.evals.gpqa.PROMPTS).")
    path: str | None = Field(None, description="GPQA CSV or the authors' password-protected zip; None: "
                             "$RAREVAL_GPQA_PATH or the data cache.")
    max_tokens: int = Field(1024, ge=1, description="Answer length of the evaluated model.")
    verifier: bool = Field(False, description="Ask the judge when no letter can be read (RaR's fallback).")


class GPQALikelihoodTask(_Pinned):
    """Judge-free check: GPQA-Diamond as lm-eval's zero-shot multiple-choice log-likelihood
    task on a Hugging Face checkpoint (binary items: the highest-likelihood option is right)."""

    kind: Literal["gpqa_likelihood"] = "gpqa_likelihood"
    name: str = Field("gpqa_likelihood", min_length=1, description="Metric name in the report.")
    path: str | None = Field(None, description="GPQA CSV or the authors' password-protected zip (decrypted only "
                             "into a temporary folder); None: $RAREVAL_GPQA_PATH or the data cache.")
    limit: int | None = Field(None, ge=1, description="The first N questions.")
    batch_size: int = Field(8, ge=1, description="lm-eval batch size (log-likelihoods do not depend on it).")
    device: str = Field("cpu", description="Torch device of the checkpoint.")


SuiteTask = Annotated[HealthBenchTask | GPQATask | GPQALikelihoodTask, Field(discriminator="kind")]


class Suite(_Pinned):
    """Everything pinned: tasks, judge, seed and the decision rule."""

    name: str = Field("adhoc", min_length=1, description="Suite name, recorded with every result.")
    seed: int = Field(0, description="Seed of generation, GPQA choice order and every resampling.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Family-wise error rate across metrics (Holm).")
    min_effect: float = Field(0.05, gt=0, description="Smallest change of a metric's mean (score or accuracy) "
                              "the suite must detect; a metric whose items could only detect a larger one is "
                              "reported underpowered instead of 'no detectable change'.")
    power: float = Field(0.8, gt=0, lt=1, description="Probability of detecting a change of min_effect that "
                         "the power check asks for.")
    coverage_tolerance: float = Field(
        0.02, ge=0, le=1, description="Largest drop in the share of items scored the candidate may have against "
        "the baseline (rareval.regress.coverage); beyond it the metric is 'regressed (coverage)' whatever the "
        "paired statistics on the shared items say, since the items a candidate loses to judge abstentions, "
        "refusals or errors are exactly the ones the paired comparison cannot see. 0.02 lets through the odd "
        "flaky abstention (one item in 50) but not a candidate that systematically breaks its grader or refuses "
        "a slice of the suite; on a suite of fewer than 50 items one lost item already exceeds it.")
    resamples: int = Field(10_000, ge=100, description="Bootstrap and Monte Carlo sign-flip resamples.")
    exact_below: int = Field(25, ge=1, description="McNemar is exact (binomial) below this many discordant pairs.")
    generation_batch: int = Field(1, ge=1, description="Prompts a local checkpoint answers at once; 1 keeps greedy "
                                  "answers independent of which prompts share a padded batch.")
    judge: JudgePin | None = Field(None, description="The pinned judge; needed by healthbench tasks and the "
                                   "GPQA verifier.")
    verdict_cache: str | None = Field(None, description="SQLite verdict cache file; None: rareval's "
                                      "($RAREVAL_VERDICT_CACHE or $RAREVAL_CACHE_DIR/verdicts.sqlite). A re-run "
                                      "on unchanged answers makes no judge call.")
    tasks: list[SuiteTask] = Field(default_factory=list, description="What a model is run on; each task is one "
                                   "gated metric.")

    @model_validator(mode="after")
    def _consistent(self) -> "Suite":
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"task names must be unique, got {names}")
        judged = [t.name for t in self.tasks if t.kind == "healthbench" or getattr(t, "verifier", False)]
        if judged and self.judge is None:
            raise ValueError(f"tasks {judged} need a judge; add judge: {{model: ...}}")
        return self

    def fingerprint(self) -> str:
        """``name@hash``: the first 10 hex digits of the sha256 of what decides the item scores
        (name, seed, judge, tasks, generation batch), not of the decision rule or the cache."""
        pinned = self.model_dump(mode="json", include={"name", "seed", "judge", "tasks", "generation_batch"})
        if pinned.get("judge"):  # where the judge is served is not pinned; settings only when there are some
            pinned["judge"].pop("args", None)
            if not pinned["judge"]["config"]:
                del pinned["judge"]["config"]
        text = json.dumps(pinned, sort_keys=True)
        return f"{self.name}@{hashlib.sha256(text.encode()).hexdigest()[:10]}"

    def task(self, name: str) -> SuiteTask | None:
        return next((t for t in self.tasks if t.name == name), None)


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not isinstance(part, str) or part not in
                    ("healthbench", "gpqa", "gpqa_likelihood")) or "(top level)"


def _absolute(value: str | None, base: Path) -> str | None:
    if value is None or Path(value).expanduser().is_absolute():
        return value
    return str((base / value).resolve())


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; relative paths are taken from its folder.

    Raises :class:`RegressUsageError` naming the file and the first bad field."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise RegressUsageError(f"cannot read the suite ({err.strerror})", file=path) from None
    try:
        import yaml

        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except Exception as err:  # yaml.YAMLError / json.JSONDecodeError: both name the position
        raise RegressUsageError(f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                                f"{str(err).splitlines()[0]}", file=path) from None
    if not isinstance(raw, dict):
        raise RegressUsageError("a suite is a mapping of settings", file=path)
    base = path.resolve().parent
    raw = dict(raw)
    if raw.get("verdict_cache"):
        raw["verdict_cache"] = _absolute(str(raw["verdict_cache"]), base)
    if isinstance(raw.get("tasks"), list):
        raw["tasks"] = [{**t, "path": _absolute(str(t["path"]), base)} if isinstance(t, dict) and t.get("path")
                        else t for t in raw["tasks"]]
    try:
        return Suite.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise RegressUsageError(first["msg"], file=path, field=_field(first["loc"])) from None
