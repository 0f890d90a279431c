"""Run the pinned suite on one model with ``inspect_ai.eval`` (and lm-eval for the likelihood check).

A checkpoint is served by Inspect's ``hf/`` provider with greedy decoding
(``do_sample=False``, temperature 0, the suite's seed) and ``generation_batch``
prompts at a time; the judge is the suite's pinned model in the ``grader`` role,
asked through rareval's verdict cache, so a re-run on unchanged answers makes no
judge call. Logs go to ``log_dir`` (Inspect ``.eval`` files, the likelihood check's
``NAME.lmeval.json``) and can be handed to a later gate instead of the model.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from rareval.regress.errors import RegressUsageError
from rareval.regress.items import LMEVAL_SUFFIX, MetricItems, ResultSet, items_from_log
from rareval.regress.sources import Source
from rareval.regress.suite import GPQALikelihoodTask, GPQATask, HealthBenchTask, Suite

__all__ = ["check_prompt_versions", "inspect_tasks", "run_suite"]


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
                scorer=healthbench_scorer(strategy=task.strategy, batched=task.batched,
                                          verdict_mode=task.verdict_mode,
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
            logs = inspect_eval(tasks, model=_model(source, suite), model_roles=roles, log_dir=str(log_dir),
                                display="none", score_display=False)
            for log in logs:
                if log.status != "success":
                    error = log.error.message.splitlines()[0] if log.error else log.status
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
