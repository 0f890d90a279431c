"""The policy as training and evaluation use it: loaded for TRL, made ready to generate, and its
greedy answers. Shared by :mod:`~rareval.train.run` (the trainer), :mod:`~rareval.train.heldout`
(before/after grading) and :mod:`~rareval.train.hacking` (the gold-judge monitor).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Sequence


def load_policy_model(policy: str) -> tuple[Any, Any]:
    """``(model_or_id, tokenizer_or_None)``: an embedded ``local/NAME`` model is converted and loaded;
    anything else is left to TRL (a Hub id or a checkpoint directory)."""
    if policy.startswith("local/"):
        from rareval.models.policy import load_policy

        return load_policy(policy.split("/", 1)[1])
    from transformers import AutoTokenizer

    if Path(policy).is_dir():
        return policy, AutoTokenizer.from_pretrained(policy, padding_side="left")
    return policy, None


def policy_source(policy: str) -> str:
    """Where the policy's weights load from by name: the converted folder of an embedded ``local/NAME``
    model, else ``policy`` (a checkpoint folder or a Hub id), for a loader that must read them itself
    (TRL, when the policy is sharded as it loads)."""
    if policy.startswith("local/"):
        from rareval.models.policy import converted

        return str(converted(policy.split("/", 1)[1]))
    return policy


def generation_ready(policy: str) -> tuple[Any, Any]:
    """A policy as a ``(model, tokenizer)`` pair ready to generate (left padding)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tokenizer = load_policy_model(policy)
    if isinstance(model, str):
        model = AutoModelForCausalLM.from_pretrained(model)
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(policy, padding_side="left")
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


@contextmanager
def generating(model: Any, trainer: Any = None) -> Iterator[Any]:
    """The policy to call ``generate`` on, made ready as TRL's ``GRPOTrainer`` makes it for its own rollouts
    (``_generate_single_turn``): unwrapped from DDP/FSDP/DeepSpeed with ``unwrap_model_for_generation`` (ZeRO-3's
    parameters gathered per ``ds3_gather_for_generation``, gradient checkpointing off for the call) and, under
    FSDP v1, the root's parameters summoned. Every rank must enter it together: with sharded parameters each
    forward gathers shards from every rank, and transformers' ``generate`` keeps the ranks in lock-step by itself
    (``synced_gpus`` on a ZeRO-3 or FSDP2 model, as ``--shard-policy`` loads one). ``trainer``: the trainer that
    wraps the policy; None: ``model`` as it is (one process, no wrapper)."""
    if trainer is None:
        yield model
        return
    from trl.distributed import DistributedBackend
    from trl.models import unwrap_model_for_generation

    wrapped = trainer.model_wrapped
    with (unwrap_model_for_generation(wrapped, trainer.accelerator,
                                      gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
                                      gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs)
          as unwrapped,
          DistributedBackend(trainer.accelerator).summon_full_params(wrapped, recurse=False)):
        yield unwrapped


def greedy_answers(model: Any, tokenizer: Any, prompts: Sequence[list[dict[str, str]]], max_new_tokens: int,
                   batch: int = 8) -> list[str]:
    """Greedy answers of ``model`` to chat ``prompts``, leaving the model's train/eval mode as it was."""
    import torch

    was_training = model.training
    model.eval()
    answers: list[str] = []
    try:
        for start in range(0, len(prompts), batch):
            texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                     for p in prompts[start:start + batch]]
            enc = tokenizer(texts, return_tensors="pt", padding=True).to(model.device)
            with torch.no_grad():
                out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens,
                                     pad_token_id=tokenizer.pad_token_id)
            answers += tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    finally:
        if was_training:
            model.train()
    return answers
