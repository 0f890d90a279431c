"""Speed of the embedded local models as one-token yes/no rubric judges.

For each installed local model (or those named with ``--models``), in a fresh
process: load time, prompt and generation throughput (llama.cpp's own
counters), wall seconds per criterion verdict through the Inspect provider
(``max_tokens=1`` with top-20 log probabilities) for the first criterion of a
HealthBench conversation and for later criteria, which reuse the cached
conversation prefix, and peak resident memory. Prints a Markdown table.

    python benchmarks/local_models.py --models smollm-135m qwen-1.5b --threads 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared/data/healthbench/github_m42_sample_judge_responses_dev50.jsonl"
GEN_PROMPT = "Write a long, detailed story about a nurse working a night shift."


def typical_row(path: Path) -> dict:
    """The row whose conversation plus response has the median length."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def size(row: dict) -> int:
        return sum(len(m["content"]) for m in row["prompt"] + row["prompt_response"])

    return sorted(rows, key=size)[len(rows) // 2]


def verdict_prompt(row: dict, criterion: str) -> str:
    """Conversation and response first, criterion last, so criteria share a prefix."""
    turns = "\n\n".join(f"{m['role']}: {m['content']}" for m in row["prompt"])
    return (
        f"Conversation:\n{turns}\n\nResponse to judge:\n{row['prompt_response'][0]['content']}\n\n"
        f"Criterion: {criterion}\nDoes the response meet the criterion? Answer yes or no."
    )


def measure(name: str, threads: int, n_criteria: int, n_gen: int, data: Path) -> dict:
    """All measurements for one model; run in its own process so peak RSS is its own."""
    import llama_cpp
    from inspect_ai.model import GenerateConfig, get_model

    import rareval._registry  # noqa: F401
    from rareval.models import llama_engine
    from rareval.models.install import resolve

    start = time.perf_counter()
    model = get_model(f"local/{name}", n_threads=threads)
    load_s = time.perf_counter() - start
    loaded = llama_engine.load(resolve(name))
    ctx = loaded.llama._ctx.ctx
    row = typical_row(data)
    verdict = GenerateConfig(max_tokens=1, temperature=0, logprobs=True, top_logprobs=20)

    async def timed(prompt: str, config: GenerateConfig):
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        output = await model.generate(prompt, config=config)
        return output, time.perf_counter() - t0, llama_cpp.llama_perf_context(ctx)

    async def run() -> dict:
        loaded.llama.reset()
        seconds, cached, found, prompt_tps = [], [], 0, 0.0
        for i, rubric in enumerate(row["rubrics"][:n_criteria]):
            output, wall, perf = await timed(verdict_prompt(row, rubric["criterion"]), verdict)
            seconds.append(wall)
            cached.append(output.usage.input_tokens_cache_read or 0)
            top = {t.token.strip().lower() for t in output.choices[0].logprobs.content[0].top_logprobs}
            found += {"yes", "no"} <= top
            if i == 0:
                prompt_tokens = output.usage.input_tokens
                prompt_tps = perf.n_p_eval / (perf.t_p_eval_ms / 1000)
        loaded.llama.reset()
        gen, _, perf = await timed(GEN_PROMPT, GenerateConfig(max_tokens=n_gen, temperature=0))
        return {
            "prompt_tokens": prompt_tokens,
            "prompt_tps": prompt_tps,
            "gen_tps": perf.n_eval / (perf.t_eval_ms / 1000),
            "gen_tokens": gen.usage.output_tokens,
            "first_s": seconds[0],
            "later_s": statistics.mean(seconds[1:]),
            "later_cached": statistics.mean(cached[1:]),
            "yes_no_found": f"{found}/{len(seconds)}",
        }

    result = asyncio.run(run())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": name, "threads": threads, "load_s": load_s, "peak_rss_mb": peak_mb, **result}


def table(results: list[dict]) -> str:
    head = (
        "| model | load s | prompt tok/s | gen tok/s | 1st criterion s (prompt tokens) "
        "| later criteria s (reused tokens) | yes+no in top-20 | peak RSS MB |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['load_s']:.1f} | {r['prompt_tps']:.0f} | {r['gen_tps']:.0f} "
            f"| {r['first_s']:.2f} ({r['prompt_tokens']}) | {r['later_s']:.2f} ({r['later_cached']:.0f}) "
            f"| {r['yes_no_found']} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", help="local model names (default: every installed one)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="llama.cpp threads (default: all cores)")
    parser.add_argument("--criteria", type=int, default=6, help="criteria judged: the first plus later ones")
    parser.add_argument("--gen-tokens", type=int, default=64, help="tokens generated for the generation speed")
    parser.add_argument("--data", type=Path, default=DATA, help="HealthBench JSONL with prompt_response rows")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.threads, args.criteria, args.gen_tokens, args.data)))
        return
    from rareval.models.catalog import get, is_installed, names

    chosen = args.models or [n for n in names() if is_installed(get(n))]
    results = []
    for name in chosen:
        command = [sys.executable, __file__, "--worker", name, "--threads", str(args.threads),
                   "--criteria", str(args.criteria), "--gen-tokens", str(args.gen_tokens), "--data", str(args.data)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{name}: done", file=sys.stderr)
    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, {args.threads} threads, "
          f"row {typical_row(args.data)['prompt_id']}\n")
    print(table(results))


if __name__ == "__main__":
    main()
