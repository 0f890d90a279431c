"""Training the RaR variants and their baselines with TRL's GRPOTrainer (``rareval train``).

:mod:`~rareval.train.presets` (the variants, Table 10), :mod:`~rareval.train.data`
(training rows and the held-out split), :mod:`~rareval.train.run` (the trainer and its
run directory), :mod:`~rareval.train.monitor` (metrics, curves, judge budget) and
:mod:`~rareval.train.estimate` (judge cost before a run) and :mod:`~rareval.train.launch`
(the shipped accelerate configs for multi-GPU runs).
"""

from rareval.train.presets import PRESETS, Hyperparameters, Preset, get_preset

__all__ = ["Hyperparameters", "PRESETS", "Preset", "get_preset"]
