"""RubricReward inside TRL's real GRPOTrainer on a tiny model built locally (no hub)."""

import asyncio
import random

import pytest
import torch

from rareval.judge import Judge, JudgeConfig
from rareval.reward import RubricReward

WORDS = "water rest fluids doctor sleep antibiotics fever pain take the and with drink see a".split()
QUESTIONS = ["I have a fever.", "My head hurts.", "I feel tired.", "My throat is sore."]
RUBRIC = [{"criterion": "Mentions 'water'", "points": 5, "tags": []},
          {"criterion": "Mentions 'rest'", "points": 3, "tags": []},
          {"criterion": "Recommends 'antibiotics'", "points": -4, "tags": []}]


def tiny_model(tmp_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(2000)] + QUESTIONS
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=200, special_tokens=["<pad>", "<unk>", "<eos>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                        eos_token="<eos>", padding_side="left")
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                         tie_word_embeddings=True, pad_token_id=0, eos_token_id=2))
    return model, tokenizer


def held_out_score(model, tokenizer, reward, n=16):
    torch.manual_seed(1)
    prompts = [q for q in QUESTIONS for _ in range(n)]
    enc = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**enc, do_sample=True, max_new_tokens=16, pad_token_id=0)
    completions = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    scores = asyncio.run(reward(prompts, completions, rubric=[RUBRIC] * len(prompts)))
    return sum(scores) / len(scores)


def train(tmp_path, lr):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer
    torch.set_num_threads(1)
    model, tokenizer = tiny_model(tmp_path)
    reward = RubricReward("healthbench", judge=Judge("scripted/keyword", config=JudgeConfig(cache=False)))
    before = held_out_score(model, tokenizer, reward)
    data = Dataset.from_list([{"prompt": q, "rubric": RUBRIC} for q in QUESTIONS * 50])
    args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=16, num_generations=8,
                      max_completion_length=16, learning_rate=lr, lr_scheduler_type="constant", max_steps=120,
                      bf16=False, gradient_checkpointing=False, use_cpu=True, logging_steps=20, report_to="none",
                      save_strategy="no", seed=0)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=data,
                          processing_class=tokenizer)
    trainer.train()
    logged = {k for row in trainer.state.log_history for k in row}
    return before, held_out_score(trainer.model, tokenizer, reward), logged


def test_grpo_with_rubric_reward_learns_and_lr0_does_not(tmp_path):
    before, after, logged = train(tmp_path / "a", lr=1e-3)
    assert "rubric/judge_failure_rate" in logged and "rubric/pass_rate/pitfall" in logged
    assert after > before + 0.2, (before, after)
    c_before, c_after, _ = train(tmp_path / "b", lr=0.0)
    assert abs(c_after - c_before) < 0.1, (c_before, c_after)
