"""Run the pinned suite on one model with ``inspect_ai.eval`` (and lm-eval for the likelihood check).

A checkpoint is served by Inspect's ``hf/`` provider with greedy decoding
(``do_sample=False``, temperature 0, the suite's seed) and ``generation_batch``
prompts at a time; the judge is the suite's pinned model in the ``grader`` role,
asked through rareval's verdict cache, so a re-run on unchanged answers makes no
judge call. Logs go to ``log_dir`` (Inspect ``.eval`` files, the likelihood check's
``NAME.lmeval.json``) and can be handed to a later gate instead of the model.

What is lost coverage and what cannot run. The gate exists to catch a candidate that
loses items, so an item the model errors on, or whose answer the judge abstains on or
refuses, is recorded as that item's outcome (:mod:`rareval.regress.coverage`) and the
run goes on: samples that error do not fail the evaluation (Inspect's
``fail_on_error=False``; no sample is run again, ``retry_on_error`` stays off, as the
providers already retry transport errors and a re-run of a greedy answer errs again),
and the HealthBench scorer does not stop on a judge that abstains on its first samples
(``fail_fast=0``). The report says why each item was lost. Only what no item can be judged without
stops the gate (:class:`RegressUsageError`, exit 2), since no verdict on the candidate
could then be told from a broken set-up:

* the judge **could not be reached**: it was called, every call failed and no item was scored (Inspect's
  model events of the ``grader`` role all carry an error: a wrong key or URL, a server
  that is down). A judge that answers, even with a refusal or an unreadable answer, was
  reached: what it abstains on is the answer's lost coverage;
* **scoring failed on every sample** the model answered (an exception in the scorer,
  e.g. judge settings the provider rejects);
* the **model answered no item** (every sample errored before any output: a model that
  cannot be reached). A model that answers some items and errors on others loses those.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from rareval.regress.errors import RegressUsageError
from rareval.regress.items import (
    LMEVAL_SUFFIX,
    MetricItems,
    ResultSet,
    answered,
    first_line,
    items_from_log,
)
from rareval.regress.sources import Source
from rareval.regress.suite import GPQALikelihoodTask, GPQATask, HealthBenchTask, Suite

__all__ = ["check_prompt_versions", "inspect_tasks", "run_suite", "unusable"]


@contextmanager
def _environ(**values: str | None) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_prompt_versions(suite: Suite) -> None:
    """Refuse a suite whose pinned judge prompts differ from the installed ones."""
    from rareval.prompts import load_prompt

    for i, pinned in enumerate(suite.judge.prompt_versions if suite.judge else []):
        name = pinned.split("@", 1)[0]
        try:
            installed = load_prompt(name).version
        except FileNotFoundError:
            raise RegressUsageError(f"no judge prompt named {name!r}",
                                    field=f"judge.prompt_versions.{i}") from None
        if installed != pinned:
            raise RegressUsageError(f"pinned {pinned} but the installed prompt is {installed}: verdicts would not "
                                    f"match the baseline's; re-pin and re-run the baseline",
                                    field=f"judge.prompt_versions.{i}")


def _healthbench(task: HealthBenchTask, suite: Suite) -> Any:
    from inspect_ai import Task
    from inspect_ai.model import GenerateConfig
    from inspect_ai.solver import generate

    from rareval.data.healthbench import load_healthbench
    from rareval.data.healthbench_1k import split_1k
    from rareval.evals.healthbench import example_to_sample, healthbench_scorer

    try:
        rows = list(load_healthbench("full" if task.subset == "1k" else task.subset, task.path))
    except Exception as err:  # DataUnavailable / HealthBenchDataError / unknown subset: all name the file
        raise RegressUsageError(str(err).splitlines()[0], field=f"tasks.{task.name}.path") from None
    if task.subset == "1k":
        rows, _ = split_1k(rows)
    rows = rows[:task.limit] if task.limit else rows
    return Task(dataset=[example_to_sample(r) for r in rows], solver=generate(),
                # fail_fast=0: items the judge abstains on are the candidate's lost coverage, not a stop
                scorer=healthbench_scorer(strategy=task.strategy, batched=task.batched,
                                          verdict_mode=task.verdict_mode, fail_fast=0,
                                          grader_config=suite.judge.config if suite.judge else None),
                config=GenerateConfig(temperature=0.0, max_tokens=task.max_tokens, seed=suite.seed),
                name=task.name, metadata={"regress_suite": suite.fingerprint(), "subset": task.subset})


def _gpqa(task: GPQATask, suite: Suite) -> Any:
    from inspect_ai import task_with
    from inspect_ai.model import GenerateConfig

    from rareval.evals.gpqa import gpqa_task

    try:
        base = gpqa_task(prompt=task.prompt, runs=task.runs, seed=suite.seed, path=task.path,
                         verifier_role="grader" if task.verifier else None)
    except Exception as err:  # DataUnavailable / GPQADataError name the file
        raise RegressUsageError(str(err).splitlines()[0], field=f"tasks.{task.name}.path") from None
    dataset = base.dataset[:task.limit * task.runs] if task.limit else base.dataset
    return task_with(base, dataset=dataset, name=task.name,
                     config=GenerateConfig(temperature=0.0, max_tokens=task.max_tokens, seed=suite.seed),
                     metadata={**(base.metadata or {}), "regress_suite": suite.fingerprint()})


def inspect_tasks(suite: Suite) -> list[Any]:
    """The suite's Inspect tasks (every task but the likelihood check), named as the suite names them."""
    build = {"healthbench": _healthbench, "gpqa": _gpqa}
    return [build[t.kind](t, suite) for t in suite.tasks if t.kind in build]


def _model(source: Source, suite: Suite) -> Any:
    from inspect_ai.model import GenerateConfig, get_model

    config = GenerateConfig(max_connections=suite.generation_batch, seed=suite.seed)
    try:
        if source.kind == "checkpoint":
            return get_model(f"hf/{source.path}", model_path=source.path, do_sample=False, memoize=False,
                             config=config)
        return get_model(source.model, memoize=False, config=config)
    except Exception as err:  # an unloadable checkpoint or an unknown provider
        raise RegressUsageError(f"cannot load the model ({type(err).__name__}: {str(err).splitlines()[0]})",
                                file=source.spec) from None


def _judge_calls(samples: list[Any]) -> tuple[int, int, str | None]:
    """``(replied, failed, last error)`` of the judge's model calls: Inspect's model events of the
    ``grader`` role (one per attempt; a failed one carries its error). Verdict-cache hits make none."""
    replied = failed = 0
    error = None
    for sample in samples:
        for event in sample.events or []:
            if getattr(event, "event", None) == "model" and event.role == "grader":
                if event.error:
                    failed, error = failed + 1, event.error
                else:
                    replied += 1
    return replied, failed, error


def unusable(log: Any) -> str | None:
    """Why no item of ``log`` could be judged for a reason of the set-up rather than of the model's answers
    (module docstring), or None: its unscored items are then lost coverage. An evaluation that did not
    finish (a task error, a cancelled run) is one such reason."""
    if log.status != "success":
        return first_line(log.error.message) if log.error else f"the evaluation ended {log.status}"
    samples = list(log.samples or [])
    silent = [s for s in samples if not answered(s)]
    if samples and len(silent) == len(samples):
        return (f"the model answered no item: all {len(samples)} samples errored before any output "
                f"(first: {first_line(samples[0].error.message if samples[0].error else None)})")
    replied, failed, error = _judge_calls(samples)
    if failed and not replied and not items_from_log(log).scores:  # a judge that scored nothing: not reached
        return f"the judge could not be reached: all {failed} calls to it failed (last: {first_line(error)})"
    scored = [s for s in samples if answered(s)]
    if scored and all(s.error is not None for s in scored):
        return (f"scoring failed on every sample the model answered ({len(scored)}; first: "
                f"{first_line(scored[0].error.message)})")
    return None


def run_suite(suite: Suite, source: Source, log_dir: str | Path) -> ResultSet:
    """Evaluate ``source`` (a checkpoint or an Inspect model) on every task of ``suite``."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    if not suite.tasks:
        raise RegressUsageError(f"{source.spec} is a model: running it needs a suite with tasks (--suite)",
                                field="tasks")
    check_prompt_versions(suite)
    likelihood = [t for t in suite.tasks if isinstance(t, GPQALikelihoodTask)]
    if likelihood and source.kind != "checkpoint":
        raise RegressUsageError(f"{source.spec} is not a Hugging Face checkpoint (a folder or hf/NAME), which the "
                                f"likelihood check needs", field=f"tasks.{likelihood[0].name}")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, MetricItems] = {}
    with _environ(RAREVAL_VERDICT_CACHE=suite.verdict_cache):
        tasks = inspect_tasks(suite)
        if tasks:
            roles = {"grader": get_model(suite.judge.model, **suite.judge.args)} if suite.judge else None
            # fail_on_error=False: a sample that errors is that item's lost coverage (unusable() says when
            # nothing could be judged at all)
            logs = inspect_eval(tasks, model=_model(source, suite), model_roles=roles, log_dir=str(log_dir),
                                display="none", score_display=False, fail_on_error=False)
            for log in logs:
                error = unusable(log)
                if error:
                    raise RegressUsageError(f"evaluating {source.spec} on {log.eval.task} failed: {error}",
                                            file=log.location)
                metrics[log.eval.task] = items_from_log(log, name=log.eval.task).model_copy(
                    update={"source": str(log.location)})
        for task in likelihood:
            from rareval.regress.lmeval import gpqa_likelihood_items

            items = gpqa_likelihood_items(str(source.path), task, seed=suite.seed).model_copy(
                update={"suite": suite.fingerprint()})
            out = log_dir / f"{task.name}{LMEVAL_SUFFIX}"
            out.write_text(items.model_dump_json(indent=1))
            metrics[task.name] = items.model_copy(update={"source": str(out)})
    return ResultSet(label=source.spec, metrics={t.name: metrics[t.name] for t in suite.tasks})
