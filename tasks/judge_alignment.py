"""Judge alignment as an Inspect task: the model under test is the judge (RaR v2 Figure 3).

    inspect eval tasks/judge_alignment.py --model local/qwen-1.5b \
        -T source=../shared/data/healthbench/healthbench_offline_union.jsonl -T condition=likert --limit 20
    inspect eval tasks/judge_alignment.py --model local/qwen-1.5b -T pairs=pairs.jsonl -T condition=rubric_ref

``pairs``: a pairs file from ``rareval alignment build`` (degraded pairs, generated
rubrics); without it, ideal ≻ reference-completion pairs are built from ``source``
(a HealthBench file; default the official full file, downloaded when online).
``condition``: likert | rubric_ref | rubric_noref | explicit. ``ties``: wrong | half.
``kind``: keep only degraded or reference pairs. See :mod:`rareval.evals.judge_alignment`.
The judge (the task's model) is set by ``-T grader_config=KEY=VALUE,…`` and the shortcuts
``grader_max_tokens``, ``grader_temperature``, ``grader_reasoning_effort``; its model arguments
by Inspect's ``-M KEY=VALUE``.
"""

from inspect_ai import Task, task

from rareval.data.cache import task_arg_path
from rareval.evals.judge_alignment import alignment_task
from rareval.judge.config import grader_settings


@task
def judge_alignment(pairs: str | None = None, source: str | None = None, condition: str = "likert",
                    ties: str = "wrong", per_prompt: int = 1, kind: str | None = None,
                    grader_config: str | dict | None = None, grader_max_tokens: int | None = None,
                    grader_temperature: float | None = None, grader_reasoning_effort: str | None = None,
                    grader_calibration: str | None = None, fail_fast: int = 5) -> Task:
    return alignment_task(pairs=task_arg_path(pairs, __file__), source=task_arg_path(source, __file__),
                          condition=condition, ties=ties, per_prompt=per_prompt, kind=kind, fail_fast=fail_fast,
                          grader_config=grader_settings(grader_config, grader_max_tokens, grader_temperature,
                                                        grader_reasoning_effort,
                                                        task_arg_path(grader_calibration, __file__)))
