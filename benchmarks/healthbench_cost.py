"""Projected grader calls, tokens and cost of leaderboard-comparable HealthBench (``-T grader=simple-evals``).

Builds simple-evals' exact grader prompt (rareval.judge.simple_evals) for every criterion of every row
of a HealthBench file, with a response of ``--response-chars`` characters (default: the row's physician
ideal completion where it has one, else 2,000, simple-evals' length centre), counts input tokens at
rareval's ``CHARS_PER_TOKEN`` and ``--output-tokens`` per grade (a two-sentence explanation and the
JSON), and scales the per-row mean to ``--rows`` (5,000: the full set). Prices are inputs, in USD per
million tokens (defaults: gpt-4.1's list price, $2 input / $8 output).

    python benchmarks/healthbench_cost.py --data ../shared/data/healthbench/healthbench_offline_union.jsonl
"""

from __future__ import annotations

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared/data/healthbench/healthbench_offline_union.jsonl"


def main(argv: list[str] | None = None) -> dict:
    from rareval.data.healthbench import load_healthbench
    from rareval.judge.simple_evals import grader_prompt
    from rareval.prompts import load_prompt
    from rareval.train.estimate import CHARS_PER_TOKEN

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rows", type=int, default=5000, help="rows to project to (5000: the full set)")
    parser.add_argument("--response-chars", type=int, help="response length (default: the ideal completion's)")
    parser.add_argument("--output-tokens", type=int, default=80, help="grader output tokens per criterion")
    parser.add_argument("--input-price", type=float, default=2.0, help="USD per million input tokens")
    parser.add_argument("--output-price", type=float, default=8.0, help="USD per million output tokens")
    args = parser.parse_args(argv)

    template = load_prompt("simple_evals_grader")
    rows = load_healthbench(path=args.data)
    calls = chars = 0
    for row in rows:
        length = args.response_chars or len(row.ideal_completion or "") or 2000
        conversation = [m.model_dump() for m in row.prompt]
        for criterion in row.rubric:
            calls += 1
            chars += len(grader_prompt(template, conversation, "x" * length, criterion))
    per_row_calls, per_row_in = calls / len(rows), chars / CHARS_PER_TOKEN / len(rows)
    n_calls, n_in = per_row_calls * args.rows, per_row_in * args.rows
    n_out = n_calls * args.output_tokens
    cost = n_in / 1e6 * args.input_price + n_out / 1e6 * args.output_price
    result = {"data": str(args.data), "rows_read": len(rows), "calls_per_row": per_row_calls,
              "input_tokens_per_call": per_row_in / per_row_calls, "rows": args.rows, "calls": n_calls,
              "input_tokens": n_in, "output_tokens": n_out, "cost_usd": cost}
    print(f"{len(rows)} rows read: {per_row_calls:.2f} criteria (grader calls) per row, "
          f"{result['input_tokens_per_call']:,.0f} input tokens per call (chars/{CHARS_PER_TOKEN:g})")
    print(f"projected to {args.rows:,} rows: {n_calls:,.0f} calls, {n_in / 1e6:,.1f}M input + {n_out / 1e6:,.1f}M "
          f"output tokens ≈ ${cost:,.0f} at ${args.input_price}/${args.output_price} per M")
    return result


if __name__ == "__main__":
    main()
