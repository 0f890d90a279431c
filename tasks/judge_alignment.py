"""Judge alignment as an Inspect task: the model under test is the judge (RaR v2 Figure 3).

    inspect eval tasks/judge_alignment.py --model local/qwen-1.5b \
        -T source=../shared/data/healthbench/healthbench_offline_union.jsonl -T condition=likert --limit 20
    inspect eval tasks/judge_alignment.py --model local/qwen-1.5b -T pairs=pairs.jsonl -T condition=rubric_ref

The same task as ``inspect eval rareval/judge_alignment`` where rareval is installed. Its ``-T`` arguments
(pairs, source, condition, ties, per_prompt, kind, fail_fast, the judge's settings) are documented on
:func:`rareval.evals.tasks.judge_alignment`.
"""

from inspect_ai import task

from rareval.evals import tasks


@task
@tasks.as_task_file(tasks.judge_alignment)
def judge_alignment(): ...
