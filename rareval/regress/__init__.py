"""Checkpoint regression gate for CI (``rareval regress``).

Modules, one job each: :mod:`~rareval.regress.suite` (the pinned suite),
:mod:`~rareval.regress.sources` (what a command-line side names),
:mod:`~rareval.regress.run` (run the suite with Inspect),
:mod:`~rareval.regress.lmeval` (the judge-free likelihood check),
:mod:`~rareval.regress.items` (per-item scores from logs),
:mod:`~rareval.regress.coverage` (items scored, abstained, refused),
:mod:`~rareval.regress.stats` (paired tests, Holm, power),
:mod:`~rareval.regress.gate` (verdicts), :mod:`~rareval.regress.why` (what changed),
:mod:`~rareval.regress.report` (Markdown and JSON), :mod:`~rareval.regress.cli`.
"""

from rareval.regress.coverage import Coverage, SideCoverage
from rareval.regress.errors import RegressUsageError
from rareval.regress.gate import GateResult, MetricResult, compare
from rareval.regress.items import MetricItems, ResultSet, load_results, read_logs
from rareval.regress.suite import Suite, load_suite

__all__ = ["Coverage", "GateResult", "MetricItems", "MetricResult", "RegressUsageError", "ResultSet",
           "SideCoverage", "Suite", "compare", "load_results", "load_suite", "read_logs"]
