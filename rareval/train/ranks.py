"""The ranks of a distributed run (``accelerate launch``, ``torchrun``): who writes, and what all agree on.

Every rank runs the trainer and its callbacks; only the main process writes the run directory
(config, split, metrics, curves, status). What a rank sees alone — its judge calls, tokens and
abstentions, half of a step's batch on two ranks — is summed across ranks before it is logged or
compared with a budget, so every rank reaches the same decision at the same step. Outside a
distributed run every function here is the single-process answer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's rank (0 outside a distributed run)."""
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    """Rank 0, or a run that is not distributed."""
    return rank() == 0


def _distributed():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1 else None


def summed(values: Sequence[float]) -> list[float]:
    """``values`` summed over the ranks (an all-reduce every rank must make at the same point)."""
    dist = _distributed()
    if dist is None:
        return list(values)
    import torch

    device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def on_any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on one."""
    return summed([float(flag)])[0] > 0
