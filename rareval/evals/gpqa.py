"""GPQA-Diamond evaluation pieces: prompts, solver, scorer, across-run metrics, task.

Protocol (RaR v2 §4 / SPEC §1.7): 10 independent runs, greedy decoding, one
sample per prompt per run, answer choices re-permuted per run; the answer is
read from ``\\boxed{}``; the reported number is the mean of the run accuracies
with a 95% interval **across runs**.

Why runs are samples and not Inspect epochs: Inspect applies metrics to the
scores *after* reducing epochs, and its log records one ``choices``/``target``
per sample for all epochs. Permuting choices per epoch would therefore leave a
log whose target is wrong for most runs, and a metric that cannot see runs.
Instead the dataset holds ``runs × 198`` samples (id ``<record>-r<run>``,
metadata ``run``), each showing exactly the options and target it was graded
against, and :func:`across_runs` groups by that ``run``. ``--epochs`` still
works but only repeats identical greedy prompts.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset
from inspect_ai.model import GenerateConfig, get_model
from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Metric,
    SampleScore,
    Score,
    Target,
    accuracy,
    grouped,
    metric,
    scorer,
    value_to_float,
)
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from rareval.data.gpqa import LETTERS, gpqa_csv_path, gpqa_samples, read_gpqa_csv
from rareval.evals.extract import extract_choice
from rareval.stats import mean_ci_across_runs

__all__ = [
    "PROMPTS",
    "RAR_TEMPLATE",
    "SIMPLE_EVALS_TEMPLATE",
    "VERIFIER_TEMPLATE",
    "across_runs",
    "answered",
    "gpqa_choice",
    "gpqa_prompt",
    "gpqa_task",
    "render_prompt",
]

SIMPLE_EVALS_TEMPLATE = (
    "Answer the following multiple choice question. The last line of your response should be of "
    "the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think "
    "step by step before answering.\n\n{question}\n\nA) {A}\nB) {B}\nC) {C}\nD) {D}"
)
"""simple-evals ``common.QUERY_TEMPLATE_MULTICHOICE`` (its ``{Question}`` renamed)."""

RAR_TEMPLATE = (
    "Answer the following multiple choice question. Think step by step, then give the letter of "
    "your final answer (one of A, B, C, D) inside \\boxed{{}}, for example \\boxed{{A}}.\n\n"
    "{question}\n\nA) {A}\nB) {B}\nC) {C}\nD) {D}"
)
"""RaR does not publish its GPQA query; it parses ``\\boxed{}``, so this asks for a boxed letter."""

PROMPTS = {"rar": RAR_TEMPLATE, "simple_evals": SIMPLE_EVALS_TEMPLATE}

VERIFIER_TEMPLATE = (
    "Decide whether the model response below gives the same final answer as the ground truth. "
    "The response is correct if its final answer is the correct option letter or states the correct "
    "answer text.\n\nGround truth: Option {letter} or {answer}\n\nModel response:\n{response}\n\n"
    "Reply with only \"Yes\" or \"No\"."
)
"""RaR's fallback verifier (GPT-4o in the paper) for responses with no parseable letter, paraphrased."""


def render_prompt(prompt: str, question: str, choices: list[str]) -> str:
    """The user message for ``question`` with ``choices`` as A–D under template ``prompt``."""
    if prompt not in PROMPTS:
        raise ValueError(f"unknown GPQA prompt {prompt!r}; choose one of {sorted(PROMPTS)}")
    if len(choices) != len(LETTERS):
        raise ValueError(f"GPQA prompts need {len(LETTERS)} choices, got {len(choices)}")
    return PROMPTS[prompt].format(question=question, **dict(zip(LETTERS, choices, strict=True)))


@solver
def gpqa_prompt(prompt: str = "rar") -> Solver:
    """Replace the user message (the bare question) with the rendered GPQA prompt."""
    render_prompt(prompt, "", [""] * len(LETTERS))  # fail at task build time on a bad name

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.user_prompt.text = render_prompt(prompt, state.input_text, [c.value for c in state.choices])
        return state

    return solve


@metric
def across_runs(level: float = 0.95) -> Metric:
    """Mean of per-run accuracies with a Student-t interval across runs.

    Samples are grouped by ``metadata["run"]``; each run's accuracy is the mean
    of its scores, and :func:`rareval.stats.mean_ci_across_runs` gives
    ``run_mean ± run_ci<level>`` (half-width), ``run_std`` (ddof=1) and ``n_runs``.
    Inspect's ``stderr`` is across samples instead and is not this interval.
    """
    to_float = value_to_float()
    key = f"run_ci{round(level * 100)}"

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        by_run: dict[int, list[float]] = defaultdict(list)
        for s in scores:
            run = (s.sample_metadata or {}).get("run")
            if run is None:
                raise ValueError(f"sample {s.sample_id} has no 'run' metadata")
            by_run[int(run)].append(to_float(s.score.value))
        if not by_run:
            return {"run_mean": math.nan, key: math.nan, "run_std": math.nan, "n_runs": 0.0}
        summary = mean_ci_across_runs([float(np.mean(v)) for _, v in sorted(by_run.items())], level)
        return {"run_mean": summary.mean, key: summary.half_width, "run_std": summary.std,
                "n_runs": float(summary.n)}

    return compute


@metric
def answered() -> Metric:
    """Share of responses whose answer letter could be extracted (verifier decisions excluded)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(np.mean([s.score.answer is not None for s in scores])) if scores else math.nan

    return compute


def _yes_no(text: str) -> bool | None:
    words = re.findall(r"[a-z]+", text.lower())
    if not words or words[0] not in ("yes", "no"):
        return None
    return words[0] == "yes"


@scorer(metrics=[accuracy(), across_runs(), answered(), grouped(accuracy(), "domain", all=False)])
def gpqa_choice(verifier_role: str | None = None):
    """Correct iff the extracted letter equals the target (:func:`rareval.evals.extract.extract_choice`).

    When no letter can be read and ``verifier_role`` names a model role, that
    model decides with :data:`VERIFIER_TEMPLATE` (RaR's GPT-4o fallback); a
    reply that is neither Yes nor No leaves the response not correct and is
    marked ``verifier: "unparsed"`` in the score metadata.
    """

    async def score(state: TaskState, target: Target) -> Score:
        letters = LETTERS[:len(state.choices)]
        response = state.output.completion
        letter = extract_choice(response, letters)
        if letter is not None:
            return Score(value=CORRECT if letter == target.text else INCORRECT, answer=letter,
                         metadata={"method": "extract"})
        if verifier_role is None or not response.strip():
            return Score(value=INCORRECT, answer=None, explanation="no answer letter found",
                         metadata={"method": "none"})
        truth = state.choices[letters.index(target.text)].value
        prompt = VERIFIER_TEMPLATE.format(letter=target.text, answer=truth, response=response)
        reply = await get_model(role=verifier_role).generate(prompt, config=GenerateConfig(temperature=0.0))
        verdict = _yes_no(reply.completion)
        if verdict is None:
            return Score(value=INCORRECT, answer=None, explanation="verifier reply was neither Yes nor No",
                         metadata={"method": "verifier", "verifier": "unparsed"})
        return Score(value=CORRECT if verdict else INCORRECT, answer=None,
                     metadata={"method": "verifier", "verifier": "yes" if verdict else "no"})

    return score


def gpqa_task(prompt: str = "rar", runs: int = 10, seed: int = 0, path: str | Path | None = None,
              shuffle: bool = True, verifier_role: str | None = None) -> Task:
    """GPQA-Diamond as ``runs × 198`` greedy samples, scored by letter, reported across runs."""
    csv_path = gpqa_csv_path(path)
    samples = gpqa_samples(read_gpqa_csv(csv_path), runs=runs, seed=seed, shuffle=shuffle)
    return Task(
        dataset=MemoryDataset(samples, name="gpqa_diamond"),
        solver=[gpqa_prompt(prompt), generate()],
        scorer=gpqa_choice(verifier_role),
        config=GenerateConfig(temperature=0.0),
        name="gpqa_diamond",
        version=1,
        metadata={"prompt": prompt, "runs": runs, "seed": seed, "shuffle": shuffle,
                  "data_file": csv_path.name, "data_sha256": hashlib.sha256(csv_path.read_bytes()).hexdigest()},
    )
