"""Inspect entry point (``[project.entry-points.inspect_ai]``).

Importing this module registers rareval's model providers with Inspect, so that
``--model local/qwen-1.5b`` and ``--model-role grader=scripted/keyword`` work on
the Inspect CLI, and its tasks as ``rareval/healthbench``, ``rareval/gpqa_diamond``,
``rareval/healthbench_meta_eval`` and ``rareval/judge_alignment``, so that
``inspect eval rareval/healthbench`` works where rareval is installed, without the repository's
``tasks/``. Providers import their heavy back-ends lazily.
"""

from rareval.data import cache  # noqa: F401  (records the launch directory before Inspect enters tasks/)
from rareval.evals import tasks  # noqa: F401
from rareval.models import providers  # noqa: F401
