"""Which criteria the judge asks in their positive form, on a HealthBench file.

A negated criterion ("Fails to mention X") is asked as "Mentions X" and the answer
inverted (:func:`rareval.judge.text.positive_form`), but only when the negation
provably covers one whole clause. This prints how many criteria are rewritten, how
many negated ones are asked as written, and a seeded sample of both:

    python benchmarks/positive_forms.py
    python benchmarks/positive_forms.py --data FILE.jsonl --sample 20
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared/data/healthbench/healthbench_offline_union.jsonl"


def survey(texts: list[str]) -> dict:
    """Counts and lists: rewritten (before, after) pairs and negated criteria asked as written."""
    from rareval.judge.text import NEGATED, positive_form

    rewritten = [(t, p) for t in texts if (p := positive_form(t))]
    kept = [t for t in texts if NEGATED.match(t.strip()) and not positive_form(t)]
    return {"criteria": len(texts), "rewritten": rewritten, "negated_as_written": kept}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HealthBench JSONL (default: the union)")
    parser.add_argument("--sample", type=int, default=12, help="pairs to print of each kind (default 12)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from rareval.data.healthbench import load_healthbench

    texts = [c.text for row in load_healthbench(path=args.data) for c in row.rubric]
    found = survey(texts)
    rng = random.Random(args.seed)
    print(f"{args.data.name}: {found['criteria']:,} criteria; {len(found['rewritten']):,} asked in positive form; "
          f"{len(found['negated_as_written']):,} negated ones asked as written")
    print("\nrewritten (before → after):")
    for before, after in rng.sample(found["rewritten"], min(args.sample, len(found["rewritten"]))):
        print(f"  - {before[:140]}\n    → {after[:140]}")
    print("\nnegated, asked as written (a second clause, a non-verb, or a second sentence):")
    for text in rng.sample(found["negated_as_written"], min(args.sample, len(found["negated_as_written"]))):
        print(f"  - {text[:160]}")
    return found


if __name__ == "__main__":
    main()
