"""GPQA-Diamond (198 questions) the RaR way: greedy, choices re-permuted per run,
mean of ``runs`` run accuracies with a 95% t-interval across runs.

    inspect eval tasks/gpqa_diamond.py --model <policy> -T runs=10 -T prompt=rar
    inspect eval tasks/gpqa_diamond.py -T path=/data/gpqa_diamond.zip -T prompt=simple_evals

``path`` (or ``$RAREVAL_GPQA_PATH``) points at the official CSV or the GPQA
authors' password-protected zip, relative paths read from the directory ``inspect eval``
was run in (Inspect runs this file from ``tasks/``); without either the official CSV is downloaded
into the rareval data cache. ``verifier_role`` names a model role (e.g.
``--model-role grader=openai/gpt-4o``) asked when no answer letter can be read.
Each run is a block of samples (``<record>-r<run>``), not an Inspect epoch —
see :mod:`rareval.evals.gpqa`. ``--limit`` counts samples, which are ordered question
by question, so ``--limit 30`` with ``runs=10`` evaluates three whole questions.
"""

from inspect_ai import Task, task

from rareval.data.cache import task_arg_path
from rareval.evals.gpqa import gpqa_task


@task
def gpqa_diamond(prompt: str = "rar", runs: int = 10, seed: int = 0, path: str | None = None,
                 shuffle: bool = True, verifier_role: str | None = None) -> Task:
    return gpqa_task(prompt=prompt, runs=runs, seed=seed, path=task_arg_path(path, __file__), shuffle=shuffle,
                     verifier_role=verifier_role)
