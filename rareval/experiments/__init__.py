"""``rareval reproduce``: one module per table or figure of the RaR paper (arXiv 2507.17746v2).

========================  ==========================================  ==================
module                    artifacts                                   needs
========================  ==========================================  ==================
:mod:`.table10`           Table 10 (GRPO hyper-parameters)            nothing
:mod:`.tables_rubrics`    Tables 4, 5, 7, 8 (rubric data statistics)  data
:mod:`.tables_topics`     Tables 6, 9 (topic shares)                  data; a topic classifier
                                                                      (paper scale)
:mod:`.figure3`           Figure 3 (judge alignment vs judge size)    judges, pairs
:mod:`.figure2`           Figure 2 (main results; declared)           training + eval
:mod:`.training`          Tables 1, 2, 3, 11 (declared)               training + eval
========================  ==========================================  ==================

See :mod:`rareval.experiments.base` for the protocol and :mod:`.cli` for the command.
"""

# registration: importing a module registers its artifacts
from rareval.experiments import figure2, figure3, table10, tables_rubrics, tables_topics, training  # noqa: F401
from rareval.experiments.base import ARTIFACTS, Artifact, NotRunnable, ReproduceOptions, order, register


def get_artifact(key: str) -> Artifact:
    """The artifact registered under ``key`` (``figure3``, ``table10``, …)."""
    try:
        return ARTIFACTS[key]
    except KeyError:
        raise KeyError(f"unknown artifact {key!r}; known: {', '.join(sorted(ARTIFACTS, key=order))}") from None


def ordered() -> list[Artifact]:
    """Every artifact, figures first, each kind by its number."""
    return sorted(ARTIFACTS.values(), key=lambda a: order(a.key))


__all__ = ["ARTIFACTS", "Artifact", "NotRunnable", "ReproduceOptions", "get_artifact", "ordered", "register"]
