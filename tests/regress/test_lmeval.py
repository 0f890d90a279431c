"""The judge-free likelihood check through lm-eval's Python API on tiny checkpoints and the real GPQA zip."""

import string
import tempfile
import zipfile
from pathlib import Path

import pytest

from rareval.data.gpqa import GPQA_ZIP_PASSWORD, read_gpqa_csv
from rareval.regress.errors import RegressUsageError
from rareval.regress.gate import compare
from rareval.regress.items import read_logs
from rareval.regress.lmeval import gpqa_likelihood_items, task_config
from rareval.regress.run import run_suite
from rareval.regress.sources import resolve_source
from rareval.regress.suite import GPQALikelihoodTask, Suite
from tests.conftest import SHARED

pytest.importorskip("lm_eval")
ZIP = SHARED / "data" / "gpqa" / "gpqa_diamond.zip"
needs_zip = pytest.mark.skipif(not ZIP.is_file(), reason="needs the password-zipped GPQA copy in ../shared/data")


def ascii_checkpoint(folder: Path, seed: int) -> Path:
    """A random 1-layer Qwen2 whose tokenizer covers printable ASCII (GPQA's options tokenize)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(["What is the correct answer (A) (B) (C) (D)"], trainers.BpeTrainer(
        vocab_size=160, special_tokens=["<pad>", "<unk>", "<eos>"], initial_alphabet=list(string.printable)))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="<eos>")
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                         tie_word_embeddings=True, pad_token_id=0, eos_token_id=2,
                                         max_position_embeddings=4096))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def scratch_dirs():
    return {p.name for p in Path(tempfile.gettempdir()).glob("rareval-gpqa-*")}


@needs_zip
def test_likelihood_check_on_two_tiny_checkpoints_is_a_binary_gated_metric(tmp_path):
    a, b = ascii_checkpoint(tmp_path / "a", 0), ascii_checkpoint(tmp_path / "b", 1)
    task = GPQALikelihoodTask(path=str(ZIP), limit=6, batch_size=6)
    suite = Suite(name="ll", tasks=[task], min_effect=0.5)
    before = scratch_dirs()
    base = run_suite(suite, resolve_source(str(a), "--baseline"), tmp_path / "logs" / "baseline")
    cand = run_suite(suite, resolve_source(str(b), "--candidate"), tmp_path / "logs" / "candidate")
    assert scratch_dirs() == before  # the decrypted copy lived in a temporary folder that is gone

    items = base.metrics["gpqa_likelihood"]
    assert items.kind == "binary" and len(items.scores) == 6 and set(items.scores.values()) <= {0.0, 1.0}
    assert sorted(cand.metrics["gpqa_likelihood"].scores) == sorted(items.scores)  # the same items, paired
    with zipfile.ZipFile(ZIP) as zf:
        member = next(n for n in zf.namelist() if n.endswith("gpqa_diamond.csv"))
        (tmp_path / "plain").mkdir()
        (tmp_path / "plain" / "g.csv").write_bytes(zf.read(member, pwd=GPQA_ZIP_PASSWORD))
    records = read_gpqa_csv(tmp_path / "plain" / "g.csv")[:6]
    assert sorted(items.scores) == sorted(r.record_id for r in records)
    # nothing the gate keeps holds a question or an answer: ids and 0/1 outcomes only
    for stored in (tmp_path / "logs").rglob("*"):
        if stored.is_file():
            text = stored.read_text()
            secrets = [s[:60] for r in records for s in (r.question, r.correct, *r.incorrect) if len(s) >= 12]
            assert secrets and not any(s in text for s in secrets), stored

    # stored item files read back as logs, and gate as McNemar on right/wrong items
    result = compare(read_logs(tmp_path / "logs" / "candidate"), read_logs(tmp_path / "logs" / "baseline"), suite)
    (metric,) = result.metrics
    assert metric.kind == "binary" and metric.test == "McNemar (exact)" and metric.items == 6
    assert metric.verdict in ("underpowered", "no detectable change")  # six items cannot show a change of 0.5
    assert result.judge_calls == {"candidate": 0, "baseline": 0}


def test_task_config_is_lm_evals_zero_shot_gpqa_with_a_seeded_order(tmp_path):
    config = task_config(tmp_path / "g.csv", tmp_path / "hf", seed=3)
    assert config["output_type"] == "multiple_choice" and config["num_fewshot"] == 0
    assert config["doc_to_choice"] == ["(A)", "(B)", "(C)", "(D)"]
    assert config["doc_to_text"].startswith("What is the correct answer to this question:{{Question}}")
    assert config["dataset_kwargs"]["cache_dir"] == str(tmp_path / "hf")  # the datasets cache stays in scratch
    from datasets import Dataset

    doc = {"Record ID": "rec1", "Question": "q", "Correct Answer": "right", "Incorrect Answer 1": "w1",
           "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3"}
    shown = config["process_docs"](Dataset.from_list([doc]))[0]
    options = [shown[f"choice{k}"] for k in range(1, 5)]
    assert sorted(options) == ["right", "w1", "w2", "w3"]
    assert shown["answer"] == "(" + "ABCD"[options.index("right")] + ")"
    assert config["process_docs"](Dataset.from_list([doc]))[0] == shown  # same order every time


def test_likelihood_check_needs_a_checkpoint_and_a_readable_file(tmp_path):
    suite = Suite(tasks=[GPQALikelihoodTask(path=str(tmp_path / "missing.zip"))])
    with pytest.raises(RegressUsageError, match="field 'tasks.gpqa_likelihood'.*not a Hugging Face checkpoint"):
        run_suite(suite, resolve_source("openai/gpt-4o-mini", "--candidate"), tmp_path / "logs")
    with pytest.raises(RegressUsageError, match=r"missing.zip.*field 'path'"):
        gpqa_likelihood_items(str(ascii_checkpoint(tmp_path / "m", 0)), suite.tasks[0])
