"""Judge-free check: GPQA-Diamond as lm-eval's zero-shot log-likelihood multiple choice.

lm-eval (EleutherAI's ``lm-evaluation-harness``; ``pip install 'rareval[regress]'``)
scores a Hugging Face checkpoint (``HFLM``) on every option: the item is right when
the correct option has the highest log-likelihood,
``argmax_k log P("(k)" | prompt)`` (lm-eval's ``acc``). No judge and no generation:
seconds on a CPU, deterministic, and sensitive to what a fine-tune did to the
model's knowledge.

The task config is lm-eval's ``gpqa_diamond_zeroshot`` (``tasks/gpqa/zeroshot``:
same prompt, choices ``(A)``–``(D)``, ``acc``) with two changes:

* the data is the local GPQA file, read through the ``csv`` dataset builder; the
  authors' password-protected zip is decrypted only into a
  :class:`tempfile.TemporaryDirectory`, together with the ``datasets`` cache, and
  removed when the run ends (the decrypted bytes stay in memory for the process, so
  the baseline's run does not decrypt again). Questions are never written to the
  repository, the logs or the gate's results (only record ids and 0/1 outcomes are
  kept);
* the option order is :func:`rareval.data.gpqa.choice_permutation` (seeded per
  record) instead of lm-eval's unseeded ``random.shuffle``, so both checkpoints see
  the same order and items pair.

lm-eval's task registry is not indexed (``TaskManager(include_defaults=False)``):
the only task is this config.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from rareval.regress.errors import RegressUsageError
from rareval.regress.items import MetricItems
from rareval.regress.suite import GPQALikelihoodTask

__all__ = ["DOC_TO_TEXT", "gpqa_likelihood_items", "task_config"]

#: lm-eval ``gpqa/zeroshot/_gpqa_zeroshot_yaml``'s prompt.
DOC_TO_TEXT = ("What is the correct answer to this question:{{Question}}\nChoices:\n(A) {{choice1}}\n"
               "(B) {{choice2}}\n(C) {{choice3}}\n(D) {{choice4}}\nAnswer:")
CHOICES = ["(A)", "(B)", "(C)", "(D)"]


def _preprocess(text: str | None) -> str:
    """lm-eval's GPQA ``preprocess``: strip, ``" [title]"`` → ``". "``, collapse double spaces."""
    if text is None:
        return " "
    return text.strip().replace(" [title]", ". ").replace("  ", " ")


def _process_docs(seed: int):
    from rareval.data.gpqa import choice_permutation

    def process(dataset: Any) -> Any:
        def one(doc: dict[str, Any]) -> dict[str, Any]:
            options = [doc["Correct Answer"], doc["Incorrect Answer 1"], doc["Incorrect Answer 2"],
                       doc["Incorrect Answer 3"]]
            perm = choice_permutation(doc["Record ID"], 0, seed)
            shown = [_preprocess(options[i]) for i in perm]
            return {**{f"choice{k + 1}": shown[k] for k in range(4)}, "answer": CHOICES[perm.index(0)]}

        return dataset.map(one)

    return process


def task_config(csv_path: Path, cache_dir: Path, seed: int = 0, name: str = "rareval_gpqa_likelihood") -> dict:
    """The lm-eval task config (a dict, as lm-eval's YAML would load) reading ``csv_path``."""
    return {
        "task": name,
        "dataset_path": "csv",
        "dataset_kwargs": {"data_files": {"train": str(csv_path)}, "cache_dir": str(cache_dir)},
        "output_type": "multiple_choice",
        "process_docs": _process_docs(seed),
        "test_split": "train",
        "doc_to_text": DOC_TO_TEXT,
        "doc_to_target": "answer",
        "doc_to_choice": CHOICES,
        "num_fewshot": 0,
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1},
    }


@contextmanager
def _plain_csv(path: str | None) -> Iterator[tuple[Path, Path]]:
    """``(csv, scratch folder)``: the CSV as given, or unpacked from the zip into a temporary folder."""
    from rareval.data.gpqa import GPQA_CSV_NAME, gpqa_csv_path, gpqa_env_path

    chosen = Path(path).expanduser() if path else gpqa_env_path()
    with tempfile.TemporaryDirectory(prefix="rareval-gpqa-") as tmp:
        scratch = Path(tmp)
        if chosen is None:
            yield gpqa_csv_path(None), scratch
            return
        source = chosen
        if not source.is_file():
            raise RegressUsageError("no GPQA file there", file=source, field="path")
        if source.suffix.lower() != ".zip":
            yield source, scratch
            return
        stat = source.stat()
        target = scratch / GPQA_CSV_NAME
        target.write_bytes(_decrypted(str(source.resolve()), stat.st_mtime_ns, stat.st_size))
        yield target, scratch


@lru_cache(maxsize=2)
def _decrypted(path: str, mtime_ns: int, size: int) -> bytes:
    """The CSV inside the GPQA zip, kept in memory only: ZipCrypto is slow in pure Python, and the
    candidate and the baseline read the same file."""
    from rareval.data.gpqa import GPQA_CSV_NAME, GPQA_ZIP_PASSWORD

    try:
        with zipfile.ZipFile(path) as zf:
            member = next((n for n in zf.namelist() if n.endswith(GPQA_CSV_NAME)), None)
            if member is None:
                raise RegressUsageError(f"no member named {GPQA_CSV_NAME}", file=path, field="path")
            return zf.read(member, pwd=GPQA_ZIP_PASSWORD)
    except (zipfile.BadZipFile, RuntimeError) as err:  # RuntimeError: wrong password
        raise RegressUsageError(f"cannot unpack ({err})", file=path, field="path") from None


def gpqa_likelihood_items(checkpoint: str, task: GPQALikelihoodTask, seed: int = 0) -> MetricItems:
    """Run the likelihood check on ``checkpoint`` (a folder or hub id); binary items by record id."""
    try:
        import lm_eval
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager
    except ImportError:
        raise RegressUsageError("the likelihood check needs lm-eval: pip install 'rareval[regress]'",
                                field=f"tasks.{task.name}") from None
    for name in ("lm_eval", "lm-eval"):  # lm-eval logs example prompts at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    with _plain_csv(task.path) as (csv_path, scratch):
        try:
            model = HFLM(pretrained=checkpoint, device=task.device, batch_size=task.batch_size)
            out = lm_eval.simple_evaluate(model=model, tasks=[task_config(csv_path, scratch / "hf", seed)],
                                          task_manager=TaskManager(include_defaults=False), limit=task.limit,
                                          log_samples=True, bootstrap_iters=0, random_seed=seed,
                                          numpy_random_seed=seed, torch_random_seed=seed,
                                          fewshot_random_seed=seed)
        except Exception as err:  # e.g. a tokenizer that cannot encode the options: lm-eval asserts
            raise RegressUsageError(f"lm-eval could not score the checkpoint ({type(err).__name__}"
                                    f"{': ' + str(err).splitlines()[0] if str(err) else ''})", file=checkpoint,
                                    field=f"tasks.{task.name}") from None
        samples = next(iter(out["samples"].values()))
        scores = {str(s["doc"]["Record ID"]): float(s["acc"]) for s in samples}
        del out, samples  # the docs hold the questions: keep nothing but ids and outcomes
    return MetricItems(name=task.name, kind="binary", scores=dict(sorted(scores.items())),
                       source=f"lm-eval HFLM {checkpoint}")
