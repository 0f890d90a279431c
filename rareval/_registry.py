"""Inspect entry point (``[project.entry-points.inspect_ai]``).

Importing this module registers rareval's model providers with Inspect, so that
``--model local/qwen-1.5b`` and ``--model-role grader=scripted/keyword`` work on
the Inspect CLI. Providers import their heavy back-ends lazily.
"""

from rareval.data import cache  # noqa: F401  (records the launch directory before Inspect enters tasks/)
from rareval.models import providers  # noqa: F401
