"""Multi-GPU runs: the accelerate configs shipped with rareval and the command that uses them.

``rareval/train/accelerate/`` holds ``accelerate launch --config_file`` files for one machine
with 8 GPUs, bf16:

* ``ddp`` — PyTorch DDP (``MULTI_GPU``): every GPU holds the whole policy;
* ``zero2`` — DeepSpeed ZeRO-2: optimiser state and gradients sharded;
* ``zero3`` — DeepSpeed ZeRO-3: parameters sharded too, for policies too large for one GPU.

``rareval train --accelerate-config NAME`` sizes the run from the file (its process count and
mixed precision), so the effective batch and ``bf16`` of the resolved ``GRPOConfig`` match what
accelerate launches; ``--print-launch`` prints the ``accelerate launch`` command line for the
same arguments. DeepSpeed and vLLM come with the ``[gpu]`` extra.

Without GPUs, ``accelerate launch --cpu --num_processes N`` starts **one** process (its CPU launcher
needs mpirun for more). ``--print-launch --launcher torchrun`` (the default without
``--accelerate-config``) prints ``python -m torch.distributed.run --nproc_per_node N``, which starts
N ranks on any machine (gloo on CPU, NCCL on GPUs) and is what accelerate runs underneath on GPUs.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).parent / "accelerate"
CONFIGS = ("ddp", "zero2", "zero3")
#: The configs that run DeepSpeed (the reward-hacking monitor is refused under them: rareval.train.hacking).
DEEPSPEED_CONFIGS = ("zero2", "zero3")


def config_path(name: str) -> Path:
    """The shipped config file of ``name`` (one of :data:`CONFIGS`)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown accelerate config {name!r}; choose from {', '.join(CONFIGS)}")
    return CONFIG_DIR / f"{name}.yaml"


def load_config(name: str) -> dict[str, Any]:
    """The shipped config ``name`` as a mapping."""
    import yaml

    return yaml.safe_load(config_path(name).read_text())


def run_settings(name: str) -> dict[str, Any]:
    """What a run launched with config ``name`` must agree on: ``num_processes`` and ``bf16``."""
    config = load_config(name)
    return {"num_processes": int(config["num_processes"]), "bf16": config.get("mixed_precision") == "bf16"}


def launch_command(name: str, train_args: list[str], num_processes: int | None = None) -> str:
    """The shell command that runs ``rareval train TRAIN_ARGS`` under ``accelerate launch`` with config
    ``name``; ``num_processes`` overrides the config's process count (pass the same to ``--num-processes``)."""
    override = ["--num_processes", str(num_processes)] if num_processes else []
    return shlex.join(["accelerate", "launch", "--config_file", str(config_path(name)), *override,
                       "-m", "rareval.cli", "train", *train_args])


def torchrun_command(train_args: list[str], num_processes: int) -> str:
    """The shell command that starts ``num_processes`` ranks of ``rareval train TRAIN_ARGS`` on this machine
    with ``torch.distributed.run`` (``TRAIN_ARGS`` must carry ``--num-processes`` of the same number)."""
    return shlex.join([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(num_processes),
                       "-m", "rareval.cli", "train", *train_args])
