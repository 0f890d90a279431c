"""HealthBench as an Inspect task; the scorer is rareval's (the GRPO reward's code).

    inspect eval tasks/healthbench.py --model local/qwen-1.5b --model-role grader=local/qwen-1.5b -T subset=sample

``subset``: full | hard | consensus | sample (bundled) | 1k (the HealthBench-1k split
of the full file); ``path`` reads a local copy (absolute, or relative to the
repository root). The grader is the ``grader`` model
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
(``hacking_veto_rate``).
"""

from inspect_ai import Task, task
from inspect_ai.solver import generate

from rareval.data.cache import task_arg_path
from rareval.data.healthbench import load_healthbench
from rareval.data.healthbench_1k import split_1k
from rareval.evals.healthbench import example_to_sample, healthbench_scorer


@task
def healthbench(subset: str = "sample", path: str | None = None, batched: bool = False,
                strategy: str = "healthbench", verdict_mode: str = "yesno",
                length_penalty: float | None = None, length_center: int = 2000,
                batch_reading: str = "answers", positive_form: bool = True,
                prompt_variant: str = "default", max_response_chars: int | None = None,
                hacking_defence: bool = False) -> Task:
    rows = load_healthbench("full" if subset == "1k" else subset, task_arg_path(path, __file__))
    if subset == "1k":
        rows, _ = split_1k(rows)
    return Task(dataset=[example_to_sample(r) for r in rows], solver=generate(temperature=0.0),
                scorer=healthbench_scorer(strategy=strategy, batched=batched, verdict_mode=verdict_mode,
                                          length_penalty=length_penalty, length_center=length_center,
                                          batch_reading=batch_reading, positive_form=positive_form,
                                          prompt_variant=prompt_variant, max_response_chars=max_response_chars,
                                          hacking_defence=hacking_defence),
                metadata={"subset": subset, "strategy": strategy, "batched": batched,
                          "batch_reading": batch_reading, "prompt_variant": prompt_variant,
                          "max_response_chars": max_response_chars, "hacking_defence": hacking_defence})
