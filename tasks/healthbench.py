"""HealthBench as an Inspect task; the scorer is rareval's (the GRPO reward's code).

    inspect eval tasks/healthbench.py --model local/qwen-1.5b --model-role grader=local/qwen-1.5b -T subset=sample

The same task as ``inspect eval rareval/healthbench`` where rareval is installed. Its ``-T`` arguments
(subset, path, batched, strategy, grader, on_failure, the grader's settings…) are documented on
:func:`rareval.evals.tasks.healthbench`; ``python -c "import rareval.evals.tasks as t; help(t.healthbench)"``
prints them.
"""

from inspect_ai import task

from rareval.evals import tasks


@task
@tasks.as_task_file(tasks.healthbench)
def healthbench(): ...
