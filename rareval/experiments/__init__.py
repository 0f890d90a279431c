"""``rareval reproduce``: one module per table or figure of the RaR paper (arXiv 2507.17746v2).

========================  ==========================================  ==================
module                    artifacts                                   needs
========================  ==========================================  ==================
:mod:`.table10`           Table 10 (GRPO hyper-parameters)            nothing
:mod:`.tables_rubrics`    Tables 4, 5, 7, 8 (rubric data statistics)  data
                          Tables 6, 9 (topics; declared)              a topic classifier
:mod:`.figure3`           Figure 3 (judge alignment vs judge size)    judges, pairs
:mod:`.figure2`           Figure 2 (main results; declared)           training + eval
:mod:`.training`          Tables 1, 2, 3, 11 (declared)               training + eval
========================  ==========================================  ==================

See :mod:`rareval.experiments.base` for the protocol and :mod:`.cli` for the command.
"""

from rareval.experiments import figure2, figure3, table10, tables_rubrics, training  # noqa: F401  (registration)
from rareval.experiments.base import ARTIFACTS, Artifact, NotRunnable, ReproduceOptions, get_artifact, order, register


def ordered() -> list[Artifact]:
    """Every artifact, figures first, each kind by its number."""
    return sorted(ARTIFACTS.values(), key=lambda a: order(a.key))


__all__ = ["ARTIFACTS", "Artifact", "NotRunnable", "ReproduceOptions", "get_artifact", "ordered", "register"]
