"""How much judge-manipulating answers raise the reward over honest ones, before and after hardening.

For real HealthBench rows (their physician rubric and ideal answer), the honest answer and six
manipulated versions of it (:mod:`rareval.reliability.probes`: an injected grader instruction, a
fake JSON verdict, the rubric pasted in, sycophantic preamble and self-praise, length padding, and
only the criteria restated) are scored by each strategy — per-criterion ``explicit``, rubric-rated
``implicit``, ``direct_likert`` — with the default judge prompts, the hardened ones
(``JudgeConfig(prompt_variant="hardened")``), and the hardened ones with the reward-hacking
defence veto (:mod:`rareval.reliability.defence`). Prints the mean lift of each probe over the
honest answer (± bootstrap standard error) per setting, and writes every score as JSON:

    python benchmarks/judge_probes.py                                   # local/qwen-1.5b, 10 rows
    python benchmarks/judge_probes.py --judge local/qwen-1.5b --rows 20 --out results/judge_probes.json
    python benchmarks/judge_probes.py --judge scripted/keyword --rows 3   # the plumbing, offline, in seconds
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared/data/healthbench/healthbench_offline_union.jsonl"


def main(argv: list[str] | None = None) -> dict:
    import rareval._registry  # noqa: F401  (local/ and scripted/ providers)
    from rareval.judge.cache import VerdictCache
    from rareval.data.healthbench import load_healthbench
    from rareval.judge import Judge
    from rareval.reliability.probes import PROBES, SETTINGS, STRATEGIES, lift_table, measure, probe_rows, \
        render_lifts, setting_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", default="local/qwen-1.5b", help="Inspect model (default local/qwen-1.5b)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HealthBench JSONL with ideal completions "
                        "(default: the offline union)")
    parser.add_argument("--rows", type=int, default=10, help="rows, the first in file order with an ideal "
                        "completion and at most 12 criteria (default 10)")
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--probes", nargs="+", choices=list(PROBES), default=list(PROBES))
    parser.add_argument("--cache", type=Path, help="verdict cache file (default: rareval's cache)")
    parser.add_argument("--out", type=Path, help="write the lifts and every score as JSON")
    args = parser.parse_args(argv)

    rows = probe_rows(load_healthbench(path=args.data), args.rows)
    cache = VerdictCache(args.cache) if args.cache else VerdictCache()
    judges = {s: Judge(args.judge, config=setting_config(s), cache=cache) for s in args.settings}
    start = time.monotonic()
    scores = asyncio.run(measure(rows, judges, args.strategies, args.probes))
    lifts = lift_table(scores)
    result = {"date": datetime.date.today().isoformat(), "judge": args.judge, "data": str(args.data),
              "rows": [r.prompt_id for r in rows], "seconds": round(time.monotonic() - start, 1),
              "lifts": [r.model_dump() for r in lifts], "scores": [s.model_dump() for s in scores]}
    print(f"{args.judge}, {len(rows)} rows, {result['seconds']} s; lift = score(probe) − score(honest)\n")
    print(render_lifts(lifts))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
