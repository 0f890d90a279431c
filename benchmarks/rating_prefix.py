"""Ratings per second with and without the shared prompt prefix (Figure 3's judge-alignment ratings).

The rating prompts put the conversation (and, for the rubric conditions, the rubric) before the answer
(``rareval/prompts/rating_*.txt``), so a pair's two answers share everything but the answer, and the
in-process llama.cpp judge (``local/NAME``) keeps the KV cache of the prefix it shares with the previous
call. This script rates the same pairs twice through the real Inspect runner (the judge-alignment task,
:func:`rareval.evals.judge_alignment.alignment_task`), once with that reuse switched off
(``-M prefix_cache=false``: every rating computes its whole prompt, as a layout with the answer first
would) and once with it on, each from a fresh verdict cache, in alternating order over ``--repeats``
rounds so that drift in the machine's speed falls on both. Figures per setting: ratings, wall seconds,
ratings per second, prompt tokens computed and read from the cache (the provider's usage), and the
speed-up of reuse. The two settings must give the same ratings (greedy decoding); the script says
how many differ.

    python benchmarks/rating_prefix.py --judge local/qwen-0.5b --pairs results/paper/figure3_pairs.jsonl \\
        --limit 8 --conditions likert rubric_human --out results/rating_prefix.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def rate(judge: str, pairs: str, condition: str, limit: int, prefix_cache: bool) -> dict:
    """One eval of the alignment task; wall time, ratings and token usage."""
    from inspect_ai import eval as inspect_eval

    from rareval.evals.judge_alignment import alignment_task

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RAREVAL_VERDICT_CACHE"] = str(Path(tmp) / "verdicts.sqlite")  # every rating is computed
        task = alignment_task(pairs=pairs, condition=condition, fail_fast=0)
        start = time.perf_counter()
        log = inspect_eval(task, model=judge, model_args={"prefix_cache": prefix_cache}, limit=limit,
                           log_dir=tmp, display="none", max_samples=1)[0]
        wall = time.perf_counter() - start
        if log.status != "success":
            raise RuntimeError(f"{judge} {condition}: eval {log.status}")
        ratings, usage = [], {"input_tokens": 0, "cache_read_tokens": 0}
        for sample in log.samples or []:  # read while the log file exists (samples load lazily)
            meta = next(iter(sample.scores.values())).metadata or {}
            ratings.append((str(sample.id), meta.get("chosen"), meta.get("rejected")))
            judged = meta.get("judge_usage") or {}
            for key in usage:
                usage[key] += int(judged.get(key) or 0)
    return {"wall_s": wall, "ratings": 2 * len(ratings), "values": ratings, **usage}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judge", default="local/qwen-0.5b", help="in-process judge (local/NAME)")
    parser.add_argument("--pairs", default="results/paper/figure3_pairs.jsonl", help="pairs file")
    parser.add_argument("--limit", type=int, default=8, help="pairs rated per setting (default 8)")
    parser.add_argument("--conditions", nargs="+", default=["likert", "rubric_human"])
    parser.add_argument("--repeats", type=int, default=1, help="rounds, each setting once per round, "
                        "alternating which goes first")
    parser.add_argument("--out", help="figures as JSON")
    args = parser.parse_args(argv)
    rows = []
    for condition in args.conditions:
        runs: dict[bool, list[dict]] = {False: [], True: []}
        for r in range(args.repeats):
            for prefix in ((False, True) if r % 2 == 0 else (True, False)):
                runs[prefix].append(rate(args.judge, args.pairs, condition, args.limit, prefix))
        row: dict = {"judge": args.judge, "condition": condition, "pairs": args.limit}
        for prefix, name in ((False, "no_reuse"), (True, "reuse")):
            wall = sum(x["wall_s"] for x in runs[prefix])
            ratings = sum(x["ratings"] for x in runs[prefix])
            row[name] = {"wall_s": round(wall, 2), "ratings": ratings, "ratings_per_s": round(ratings / wall, 3),
                         "input_tokens": sum(x["input_tokens"] for x in runs[prefix]),
                         "cache_read_tokens": sum(x["cache_read_tokens"] for x in runs[prefix])}
        row["speedup"] = round(row["reuse"]["ratings_per_s"] / row["no_reuse"]["ratings_per_s"], 2)
        row["ratings_differing"] = sum(a != b for x, y in zip(runs[False], runs[True])
                                       for a, b in zip(x["values"], y["values"]))
        rows.append(row)
        print(f"{args.judge} {condition}: {row['no_reuse']['ratings_per_s']:.3f} ratings/s without reuse, "
              f"{row['reuse']['ratings_per_s']:.3f} with ({row['speedup']:.2f}x); cache-read prompt tokens "
              f"{row['reuse']['cache_read_tokens']} of {row['reuse']['input_tokens']}; "
              f"{row['ratings_differing']} pair(s) rated differently", flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
