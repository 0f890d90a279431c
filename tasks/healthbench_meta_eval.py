"""HealthBench meta-evaluation as an Inspect task: the evaluated model is the judge.

    inspect eval tasks/healthbench_meta_eval.py --model local/qwen-1.5b -T path=2025-05-07-06-14-12_oss_meta_eval.jsonl

Each sample is one (conversation, completion, consensus criterion) with physician
labels; the model says whether the criterion is met and is scored against the
physicians with two macro-F1 estimators (SPEC §4.4, :mod:`rareval.evals.healthbench_meta`):
``pairwise_macro_f1`` (simple-evals, one pair per physician label) and
``majority_macro_f1`` (inspect_evals, majority vote as truth). ``path`` reads a
local copy of the official file (a relative path is read from the repository root,
since Inspect calls this function from ``tasks/``); without it the cached or
downloaded copy is used.
``-T num_examples=N`` draws simple-evals' subsample (``random.Random(0).sample``). The judge (the
task's model) is set by ``-T grader_config=KEY=VALUE,…`` and the shortcuts ``grader_max_tokens``,
``grader_temperature``, ``grader_reasoning_effort``; its model arguments by Inspect's ``-M``.
"""

import random
from inspect_ai import Task, task

from rareval.data.cache import task_arg_path
from rareval.data.healthbench_meta import load_healthbench_meta_eval
from rareval.evals.healthbench_meta import meta_eval_scorer, meta_samples
from rareval.judge.config import grader_settings, judge_config


@task
def healthbench_meta_eval(path: str | None = None, verdict_mode: str = "yesno",
                          num_examples: int | None = None, grader_config: str | dict | None = None,
                          grader_max_tokens: int | None = None, grader_temperature: float | None = None,
                          grader_reasoning_effort: str | None = None,
                          grader_calibration: str | None = None) -> Task:
    rows = list(load_healthbench_meta_eval(task_arg_path(path, __file__)))
    if num_examples is not None and len(rows) > num_examples:
        rows = random.Random(0).sample(rows, num_examples)
    settings = grader_settings(grader_config, grader_max_tokens, grader_temperature, grader_reasoning_effort,
                               task_arg_path(grader_calibration, __file__))
    config = judge_config(settings, verdict_mode=verdict_mode)
    return Task(dataset=meta_samples(rows), solver=[],
                scorer=meta_eval_scorer(verdict_mode=verdict_mode, grader_config=settings),
                metadata={"verdict_mode": verdict_mode, "num_examples": num_examples,
                          "judge_config": config.model_dump()})
