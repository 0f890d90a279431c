"""Local models as transformers policies for GRPO."""

import jinja2
import pytest

from rareval.models.llama_engine import plain_transcript
from rareval.models.policy import PLAIN_CHAT_TEMPLATE, load_policy, policy_dir

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_plain_chat_template_matches_the_inspect_providers_base_transcript():
    rendered = (
        jinja2.Environment().from_string(PLAIN_CHAT_TEMPLATE).render(messages=MESSAGES, add_generation_prompt=True)
    )
    assert rendered == plain_transcript(MESSAGES) + "" == "System: Be brief.\nUser: Hi\nAssistant:"


def test_missing_model_raises_the_install_command():
    from rareval.models.install import ModelNotInstalledError

    with pytest.raises(ModelNotInstalledError, match="rareval models install qwen-0.5b"):
        load_policy("qwen-0.5b")


@pytest.mark.slow
def test_smollm_policy_converts_once_and_generates(smollm_path):
    pytest.importorskip("gguf", reason='gguf is not installed: pip install "rareval[local]"')
    import torch

    model, tokenizer = load_policy("smollm-135m", dtype=torch.bfloat16)
    assert (policy_dir("smollm-135m") / "model.safetensors").is_file()
    assert model.dtype == torch.bfloat16 and tokenizer.chat_template
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 2+2?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    output = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    assert "4" in tokenizer.decode(output[0][inputs["input_ids"].shape[1] :])
    again, _ = load_policy("smollm-135m")  # from the safetensors cache
    assert again.dtype == torch.float32
