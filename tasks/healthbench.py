"""HealthBench as an Inspect task; the scorer is rareval's (the GRPO reward's code).

    inspect eval tasks/healthbench.py --model local/qwen-1.5b --model-role grader=local/qwen-1.5b -T subset=sample

``subset``: full | hard | consensus | sample (bundled) | 1k (the HealthBench-1k split
of the full file); ``path`` reads a local copy (absolute, or relative to the directory
``inspect eval`` runs in, else to the repository root). The grader is the ``grader`` model
role (gpt-4o-mini for RaR parity, gpt-4.1 for OpenAI parity). ``-T batched=true``
judges a whole rubric in one call, read from the judge's JSON answer or, with
``-T batch_reading=prompt``, from the prompt's log probabilities at an answer
slot after each criterion (local/ and vLLM judges); ``-T length_penalty=0.0299`` adds the
length-adjusted score (simple-evals PR #108). ``-T strategy=`` scores with another
strategy (every one but ``verifiable``; see :mod:`rareval.evals.healthbench`, which also says
what is and is not simple-evals' grader); ``-T positive_form=false`` asks every
criterion as written; ``-T prompt_variant=hardened`` uses the judge prompts that fence
the response as data (RELIABILITY.md); ``-T max_response_chars=N`` cuts longer responses
before the judge sees them (flagged per verdict); ``-T hacking_defence=true`` also asks the
reward-hacking defence criterion and vetoes an answer that manipulates its grader
(``hacking_veto_rate``); ``-T grader_config=strip_grader_text=true,evidence=true`` removes text addressed
to the grader before judging and voids a verdict not grounded in a quote of the answer (RELIABILITY.md).

The grader's settings: ``-T grader_config="reasoning_effort=low,reasoning_max_tokens=8000"`` (any
:class:`~rareval.judge.JudgeConfig` field) or the shortcuts ``-T grader_max_tokens=…``,
``-T grader_temperature=…``, ``-T grader_reasoning_effort=…``; its model arguments go with its role:
``--model-role 'grader={model: openai/o4-mini, model_args: {base_url: http://host:8000/v1}}'``. The
resolved settings are recorded in the log's task metadata (``judge_config``);
``-T grader_calibration=FILE`` applies a ``rareval judge calibrate`` file. ``-T fail_fast=N`` (default
5; 0: off) stops the evaluation, naming the judge's error, when its first N samples abstained on
every criterion.

Leaderboard-comparable numbers: ``-T subset=full -T grader=simple-evals`` with the grader
``openai/gpt-4.1-2025-04-14`` asks every criterion with simple-evals' grader template, verbatim, and
its sampler settings (:mod:`rareval.judge.simple_evals`). ``-T on_failure=abstain|not_met|retry:N``
says what an unreadable grade becomes: rareval abstains (the criterion leaves the score),
inspect_evals scores it not met, simple-evals asks again until it reads one.
"""

from inspect_ai import Task, task
from inspect_ai.solver import generate

from rareval.data.cache import task_arg_path
from rareval.data.healthbench import load_healthbench
from rareval.data.healthbench_1k import split_1k
from rareval.evals.healthbench import example_to_sample, grader_judge_config, healthbench_scorer
from rareval.judge.config import grader_settings


@task
def healthbench(subset: str = "sample", path: str | None = None, batched: bool = False,
                strategy: str = "healthbench", verdict_mode: str = "yesno",
                length_penalty: float | None = None, length_center: int = 2000,
                batch_reading: str = "answers", positive_form: bool = True,
                prompt_variant: str = "default", max_response_chars: int | None = None,
                hacking_defence: bool = False, grader_config: str | dict | None = None,
                grader_max_tokens: int | None = None, grader_temperature: float | None = None,
                grader_reasoning_effort: str | None = None,
                grader_calibration: str | None = None, fail_fast: int = 5, grader: str = "rareval",
                on_failure: str = "abstain") -> Task:
    rows = load_healthbench("full" if subset == "1k" else subset, task_arg_path(path, __file__))
    if subset == "1k":
        rows, _ = split_1k(rows)
    settings = grader_settings(grader_config, grader_max_tokens, grader_temperature, grader_reasoning_effort,
                               task_arg_path(grader_calibration, __file__))
    config = grader_judge_config(settings, verdict_mode=verdict_mode, batch_reading=batch_reading,
                                 positive_form=positive_form, prompt_variant=prompt_variant,
                                 max_response_chars=max_response_chars, grader=grader, on_failure=on_failure)
    return Task(dataset=[example_to_sample(r) for r in rows], solver=generate(temperature=0.0),
                scorer=healthbench_scorer(strategy=strategy, batched=batched, verdict_mode=verdict_mode,
                                          length_penalty=length_penalty, length_center=length_center,
                                          batch_reading=batch_reading, positive_form=positive_form,
                                          prompt_variant=prompt_variant, max_response_chars=max_response_chars,
                                          hacking_defence=hacking_defence, grader_config=settings,
                                          fail_fast=fail_fast, grader=grader, on_failure=on_failure),
                metadata={"subset": subset, "strategy": strategy, "batched": batched,
                          "batch_reading": batch_reading, "prompt_variant": prompt_variant,
                          "max_response_chars": max_response_chars, "hacking_defence": hacking_defence,
                          "judge_config": config.model_dump()})
