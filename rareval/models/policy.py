"""Load an embedded local model as a transformers policy for GRPO training.

``load_policy("smollm-135m")`` returns ``(model, tokenizer)`` ready for TRL's
``GRPOTrainer``. The first call reads the GGUF file with
``AutoModelForCausalLM.from_pretrained(dir, gguf_file=file)`` (needs the
``gguf`` package), which **dequantises every weight to fp32**: expect RAM of
about ten times the GGUF size and 37–50 s on 2 CPU cores. The result is saved
once as safetensors under ``$RAREVAL_CACHE_DIR/models/policies/NAME/``, so
later loads take about 3 s.

Measured on 2 CPU threads in bf16 (generate 4x64 tokens / forward+backward on
4x256 tokens / peak memory): SmolLM2-135M 5.1 s / 4.2 s / 2.25 GB,
Gemma-3-270M 7.7 s / 9.1 s / 5.1 GB, Qwen-0.5B 10 s / 14.4 s / 6.5 GB.
SmolLM2-135M is the practical CPU policy. Gemma-3-270M loads as its text
backbone only (``Gemma3ForCausalLM``) and is a base model.

A tokenizer without a chat template (Gemma) gets :data:`PLAIN_CHAT_TEMPLATE`,
the same ``User: ...`` / ``Assistant:`` transcript the ``local/`` Inspect
provider uses for base models, so training and evaluation see one format.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rareval.models.catalog import get, models_dir
from rareval.models.install import resolve

PLAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}System: "
    "{% elif message['role'] == 'assistant' %}Assistant: "
    "{% else %}User: {% endif %}"
    "{{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)
_MARKER = "rareval-policy.json"


def policy_dir(name: str) -> Path:
    """Folder of the converted safetensors checkpoint of local model ``name``."""
    return models_dir() / "policies" / name


def converted(name: str) -> Path:
    """:func:`policy_dir` of local model ``name``, converting its GGUF first if that was never done."""
    target = policy_dir(name)
    if not (target / _MARKER).is_file():
        convert(name)
    return target


def load_policy(name: str, dtype: Any = None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for local model ``name``, converting the GGUF once.

    ``dtype`` is a torch dtype for the returned model (default ``torch.float32``;
    ``torch.bfloat16`` halves memory). Raises ``ModelNotInstalledError`` with the
    install command when the GGUF file is missing.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = converted(name)
    model = AutoModelForCausalLM.from_pretrained(target, dtype=dtype or torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(target)
    return model, tokenizer


def convert(name: str) -> Path:
    """Dequantise the GGUF of ``name`` and save it as a safetensors checkpoint in the cache."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    entry, gguf = get(name), resolve(name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    _drop_gguf_marker(model)
    if not tokenizer.chat_template:
        tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    target = policy_dir(name)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    marker = {"name": name, "gguf": str(gguf), "gguf_sha256": entry.sha256, "licence": entry.licence}
    (partial / _MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _drop_gguf_marker(model: Any) -> None:
    """Make a GGUF-loaded model saveable: its weights are already plain fp32 tensors.

    transformers keeps a GGUF quantizer on the model, which refuses to save; for
    architectures it unpacked at load time (all the catalog's) the quantizer is
    only a label. Architectures whose weights stay in GGUF blocks cannot be converted.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return
    if getattr(quantizer, "packed_modules", None):
        raise ValueError("This GGUF architecture keeps its weights in GGUF blocks; it cannot be saved as safetensors")
    quantizer.remove_quantization_config(model)
