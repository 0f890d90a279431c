"""rareval's Inspect tasks, registered as ``rareval/<task>`` for use from an installed package.

    inspect eval rareval/healthbench --model openai/gpt-4.1-mini --model-role grader=openai/gpt-4o-mini

Inspect imports this module through rareval's entry point (``rareval._registry``) when it looks up a
``rareval/…`` name, as it does ``inspect_evals/…``. The repository's ``tasks/*.py`` are the same tasks
under their plain names (``inspect eval tasks/healthbench.py``): each file declares its task with
:func:`as_task_file`, since Inspect finds a file's tasks by reading the file for ``@task def``.

A relative path given to a task (``-T path=``, ``-T grader_calibration=``) is read from the directory the
command was run in (:func:`~rareval.data.cache.launch_path`); a task run from a file under ``tasks/``
also falls back to that file's repository root, where nothing of that name is beside the user.
"""

from __future__ import annotations

import inspect
import random
import sys
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps

from inspect_ai import Task, task
from inspect_ai._util.registry import registry_name
from inspect_ai.solver import generate

from rareval.data.cache import task_arg_path
from rareval.data.healthbench import load_healthbench
from rareval.data.healthbench_1k import split_1k
from rareval.data.healthbench_meta import load_healthbench_meta_eval
from rareval.evals.gpqa import gpqa_task
from rareval.evals.healthbench import example_to_sample, grader_judge_config, healthbench_scorer
from rareval.evals.healthbench_meta import meta_eval_scorer, meta_samples
from rareval.evals.judge_alignment import alignment_task
from rareval.judge.config import grader_settings, judge_config


def _registered_as(name: str) -> str:
    """The ``@task`` name that makes a task of this module ``rareval/<name>`` wherever rareval is imported from.

    Inspect puts the package in front of the name where it sees rareval installed (in a site-packages folder,
    or by an editable install's record); a checkout's own ``rareval.egg-info``, which holds no such record,
    hides an editable install when the checkout comes first on ``sys.path`` (``python -m pytest`` there), and
    the task would be registered as ``healthbench``, the name of the task file's task.
    """
    module = sys.modules.get(__name__)  # None where Inspect loads this file as a task file (not imported)
    if module is None:
        return name
    return name if registry_name(module, name) != name else f"rareval/{name}"


#: The task file a task is being built from (:func:`as_task_file`); None for a task run by its registered name.
_TASK_FILE: ContextVar[str | None] = ContextVar("rareval_task_file", default=None)


def _path(path: str | None) -> str | None:
    """A path argument as the user meant it (module docstring)."""
    return task_arg_path(path, _TASK_FILE.get())


def as_task_file(registered: Callable[..., Task]) -> Callable[[Callable[..., Task]], Callable[..., Task]]:
    """Make a task file's ``@task def NAME(): ...`` the registered task ``registered``: its arguments, body
    and documentation, under the file's plain name (logs say ``healthbench``, as they always have).

    The function keeps the file's module, so Inspect names and places it as a task of that file; its
    relative path arguments may also be read from the file's repository (module docstring).
    """
    body = registered.__wrapped__  # the function under @task: calling it builds the Task without a registry tag

    def declare(stub: Callable[..., Task]) -> Callable[..., Task]:
        task_file = stub.__code__.co_filename

        @wraps(stub)
        def from_file(*args: object, **kwargs: object) -> Task:
            token = _TASK_FILE.set(task_file)
            try:
                return body(*args, **kwargs)
            finally:
                _TASK_FILE.reset(token)

        from_file.__signature__ = inspect.signature(body)  # type: ignore[attr-defined]
        from_file.__doc__ = body.__doc__
        return from_file

    return declare


@task(name=_registered_as("healthbench"))
def healthbench(subset: str = "sample", path: str | None = None, batched: bool = False,
                strategy: str = "healthbench", verdict_mode: str = "yesno",
                length_penalty: float | None = None, length_center: int = 2000,
                batch_reading: str = "answers", positive_form: bool = True,
                prompt_variant: str = "default", max_response_chars: int | None = None,
                hacking_defence: bool = False, grader_config: str | dict | None = None,
                grader_max_tokens: int | None = None, grader_temperature: float | None = None,
                grader_reasoning_effort: str | None = None,
                grader_calibration: str | None = None, fail_fast: int = 5, grader: str = "rareval",
                on_failure: str = "abstain") -> Task:
    """HealthBench as an Inspect task; the scorer is rareval's (the GRPO reward's code).

        inspect eval rareval/healthbench --model local/qwen-1.5b --model-role grader=local/qwen-1.5b

    ``subset``: full | hard | consensus | sample (bundled) | 1k (the HealthBench-1k split
    of the full file); ``path`` reads a local copy (absolute, or relative to the directory
    ``inspect eval`` runs in, else, from a task file, to the repository root). The grader is the ``grader``
    model role (gpt-4o-mini for RaR parity, gpt-4.1 for OpenAI parity). ``-T batched=true``
    judges a whole rubric in one call, read from the judge's JSON answer or, with
    ``-T batch_reading=prompt``, from the prompt's log probabilities at an answer
    slot after each criterion (local/ and vLLM judges); ``-T length_penalty=0.0299`` adds the
    length-adjusted score (simple-evals PR #108). ``-T strategy=`` scores with another
    strategy (every one but ``verifiable``; see :mod:`rareval.evals.healthbench`, which also says
    what is and is not simple-evals' grader); ``-T positive_form=false`` asks every
    criterion as written; ``-T prompt_variant=hardened`` uses the judge prompts that fence
    the response as data (RELIABILITY.md); ``-T max_response_chars=N`` cuts longer responses
    before the judge sees them (flagged per verdict); ``-T hacking_defence=true`` also asks the
    reward-hacking defence criterion and vetoes an answer that manipulates its grader
    (``hacking_veto_rate``); ``-T grader_config=strip_grader_text=true,evidence=true`` removes text addressed
    to the grader before judging and voids a verdict not grounded in a quote of the answer (RELIABILITY.md).

    The grader's settings: ``-T grader_config="reasoning_effort=low,reasoning_max_tokens=8000"`` (any
    :class:`~rareval.judge.JudgeConfig` field) or the shortcuts ``-T grader_max_tokens=…``,
    ``-T grader_temperature=…``, ``-T grader_reasoning_effort=…``; its model arguments go with its role:
    ``--model-role 'grader={model: openai/o4-mini, model_args: {base_url: http://host:8000/v1}}'``. The
    resolved settings are recorded in the log's task metadata (``judge_config``);
    ``-T grader_calibration=FILE`` applies a ``rareval judge calibrate`` file. ``-T fail_fast=N`` (default
    5; 0: off) stops the evaluation, naming the judge's error, when its first N samples abstained on
    every criterion.

    Leaderboard-comparable numbers: ``-T subset=full -T grader=simple-evals`` with the grader
    ``openai/gpt-4.1-2025-04-14`` asks every criterion with simple-evals' grader template, verbatim, and
    its sampler settings (:mod:`rareval.judge.simple_evals`). ``-T on_failure=abstain|not_met|retry:N``
    says what an unreadable grade becomes: rareval abstains (the criterion leaves the score),
    inspect_evals scores it not met, simple-evals asks again until it reads one.
    """
    rows = load_healthbench("full" if subset == "1k" else subset, _path(path))
    if subset == "1k":
        rows, _ = split_1k(rows)
    settings = grader_settings(grader_config, grader_max_tokens, grader_temperature, grader_reasoning_effort,
                               _path(grader_calibration))
    config = grader_judge_config(settings, verdict_mode=verdict_mode, batch_reading=batch_reading,
                                 positive_form=positive_form, prompt_variant=prompt_variant,
                                 max_response_chars=max_response_chars, grader=grader, on_failure=on_failure)
    return Task(dataset=[example_to_sample(r) for r in rows], solver=generate(temperature=0.0),
                scorer=healthbench_scorer(strategy=strategy, batched=batched, verdict_mode=verdict_mode,
                                          length_penalty=length_penalty, length_center=length_center,
                                          batch_reading=batch_reading, positive_form=positive_form,
                                          prompt_variant=prompt_variant, max_response_chars=max_response_chars,
                                          hacking_defence=hacking_defence, grader_config=settings,
                                          fail_fast=fail_fast, grader=grader, on_failure=on_failure),
                metadata={"subset": subset, "strategy": strategy, "batched": batched,
                          "batch_reading": batch_reading, "prompt_variant": prompt_variant,
                          "max_response_chars": max_response_chars, "hacking_defence": hacking_defence,
                          "judge_config": config.model_dump()})


@task(name=_registered_as("gpqa_diamond"))
def gpqa_diamond(prompt: str = "rar", runs: int = 10, seed: int = 0, path: str | None = None,
                 shuffle: bool = True, verifier_role: str | None = None) -> Task:
    """GPQA-Diamond (198 questions) the RaR way: greedy, choices re-permuted per run,
    mean of ``runs`` run accuracies with a 95% t-interval across runs.

        inspect eval rareval/gpqa_diamond --model <policy> -T runs=10 -T prompt=rar
        inspect eval rareval/gpqa_diamond -T path=/data/gpqa_diamond.zip -T prompt=simple_evals

    ``path`` (or ``$RAREVAL_GPQA_PATH``) points at the official CSV or the GPQA
    authors' password-protected zip, relative paths read from the directory ``inspect eval``
    was run in (also when Inspect runs the task file from ``tasks/``); without either the official CSV is
    downloaded into the rareval data cache. ``verifier_role`` names a model role (e.g.
    ``--model-role grader=openai/gpt-4o``) asked when no answer letter can be read.
    Each run is a block of samples (``<record>-r<run>``), not an Inspect epoch —
    see :mod:`rareval.evals.gpqa`. ``--limit`` counts samples, which are ordered question
    by question, so ``--limit 30`` with ``runs=10`` evaluates three whole questions.
    """
    return gpqa_task(prompt=prompt, runs=runs, seed=seed, path=_path(path), shuffle=shuffle,
                     verifier_role=verifier_role)


@task(name=_registered_as("healthbench_meta_eval"))
def healthbench_meta_eval(path: str | None = None, verdict_mode: str = "yesno",
                          num_examples: int | None = None, grader_config: str | dict | None = None,
                          grader_max_tokens: int | None = None, grader_temperature: float | None = None,
                          grader_reasoning_effort: str | None = None,
                          grader_calibration: str | None = None) -> Task:
    """HealthBench meta-evaluation as an Inspect task: the evaluated model is the judge.

        inspect eval rareval/healthbench_meta_eval --model local/qwen-1.5b \\
            -T path=2025-05-07-06-14-12_oss_meta_eval.jsonl

    Each sample is one (conversation, completion, consensus criterion) with physician
    labels; the model says whether the criterion is met and is scored against the
    physicians with two macro-F1 estimators (SPEC §4.4, :mod:`rareval.evals.healthbench_meta`):
    ``pairwise_macro_f1`` (simple-evals, one pair per physician label) and
    ``majority_macro_f1`` (inspect_evals, majority vote as truth). ``path`` reads a
    local copy of the official file (a relative path is read from the directory ``inspect eval`` runs in,
    else, from a task file, from the repository root); without it the cached or downloaded copy is used.
    ``-T num_examples=N`` draws simple-evals' subsample (``random.Random(0).sample``). The judge (the
    task's model) is set by ``-T grader_config=KEY=VALUE,…`` and the shortcuts ``grader_max_tokens``,
    ``grader_temperature``, ``grader_reasoning_effort``; its model arguments by Inspect's ``-M``.
    """
    rows = list(load_healthbench_meta_eval(_path(path)))
    if num_examples is not None and len(rows) > num_examples:
        rows = random.Random(0).sample(rows, num_examples)
    settings = grader_settings(grader_config, grader_max_tokens, grader_temperature, grader_reasoning_effort,
                               _path(grader_calibration))
    config = judge_config(settings, verdict_mode=verdict_mode)
    return Task(dataset=meta_samples(rows), solver=[],
                scorer=meta_eval_scorer(verdict_mode=verdict_mode, grader_config=settings),
                metadata={"verdict_mode": verdict_mode, "num_examples": num_examples,
                          "judge_config": config.model_dump()})


@task(name=_registered_as("judge_alignment"))
def judge_alignment(pairs: str | None = None, source: str | None = None, condition: str = "likert",
                    ties: str = "wrong", per_prompt: int = 1, kind: str | None = None,
                    grader_config: str | dict | None = None, grader_max_tokens: int | None = None,
                    grader_temperature: float | None = None, grader_reasoning_effort: str | None = None,
                    grader_calibration: str | None = None, fail_fast: int = 5) -> Task:
    """Judge alignment as an Inspect task: the model under test is the judge (RaR v2 Figure 3).

        inspect eval rareval/judge_alignment --model local/qwen-1.5b \\
            -T source=../shared/data/healthbench/healthbench_offline_union.jsonl -T condition=likert --limit 20
        inspect eval rareval/judge_alignment --model local/qwen-1.5b -T pairs=pairs.jsonl -T condition=rubric_ref

    ``pairs``: a pairs file from ``rareval alignment build`` (degraded pairs, generated
    rubrics); without it, ideal ≻ reference-completion pairs are built from ``source``
    (a HealthBench file; default the official full file, downloaded when online).
    ``condition``: likert | rubric_ref | rubric_noref | explicit. ``ties``: wrong | half.
    ``kind``: keep only degraded or reference pairs. See :mod:`rareval.evals.judge_alignment`.
    The judge (the task's model) is set by ``-T grader_config=KEY=VALUE,…`` and the shortcuts
    ``grader_max_tokens``, ``grader_temperature``, ``grader_reasoning_effort``; its model arguments
    by Inspect's ``-M KEY=VALUE``.
    """
    return alignment_task(pairs=_path(pairs), source=_path(source),
                          condition=condition, ties=ties, per_prompt=per_prompt, kind=kind, fail_fast=fail_fast,
                          grader_config=grader_settings(grader_config, grader_max_tokens, grader_temperature,
                                                        grader_reasoning_effort, _path(grader_calibration)))
