"""HealthBench meta-evaluation as an Inspect task: the evaluated model is the judge.

    inspect eval tasks/healthbench_meta_eval.py --model local/qwen-1.5b -T path=2025-05-07-06-14-12_oss_meta_eval.jsonl

The same task as ``inspect eval rareval/healthbench_meta_eval`` where rareval is installed. Its ``-T``
arguments (path, verdict_mode, num_examples, the judge's settings) are documented on
:func:`rareval.evals.tasks.healthbench_meta_eval`.
"""

from inspect_ai import task

from rareval.evals import tasks


@task
@tasks.as_task_file(tasks.healthbench_meta_eval)
def healthbench_meta_eval(): ...
