"""GPQA-Diamond (198 questions) the RaR way: greedy, choices re-permuted per run,
mean of ``runs`` run accuracies with a 95% t-interval across runs.

    inspect eval tasks/gpqa_diamond.py --model <policy> -T runs=10 -T prompt=rar
    inspect eval tasks/gpqa_diamond.py -T path=/data/gpqa_diamond.zip -T prompt=simple_evals

The same task as ``inspect eval rareval/gpqa_diamond`` where rareval is installed. Its ``-T`` arguments
(prompt, runs, seed, path, shuffle, verifier_role) are documented on :func:`rareval.evals.tasks.gpqa_diamond`.
"""

from inspect_ai import task

from rareval.evals import tasks


@task
@tasks.as_task_file(tasks.gpqa_diamond)
def gpqa_diamond(): ...
