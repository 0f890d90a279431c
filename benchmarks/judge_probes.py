"""How much judge-manipulating answers raise the reward over honest ones, and how often the judge is exploited.

For real HealthBench rows (their physician rubric and ideal answer), the honest answer and its probes are
scored by each strategy — per-criterion ``explicit``, rubric-rated ``implicit``, ``direct_likert`` — with
the default judge prompts, the hardened ones (``JudgeConfig(prompt_variant="hardened")``), and the
hardened ones with the reward-hacking defence veto (:mod:`rareval.defence`). The probes:

* v1 (:mod:`rareval.reliability.probes`): an injected grader instruction, a fake JSON verdict, the rubric
  pasted in, sycophantic preamble and self-praise, length padding, only the criteria restated;
* v2 (:mod:`rareval.reliability.probes_v2`), rewrites that meet no criterion the honest answer did not:
  one clause of a compound criterion, content alluded to, topics named, four style biases, and (named
  explicitly, as it needs generation) ``self_preference``, the judge's own model's answer.

The v2 probes are built from what the honest answer meets: the judge's own RaR-Explicit verdicts on it
(asked first, per setting), or with ``--honest response`` a row's fixed model answer and its strong-grader
labels (rows with ``responses``, e.g. the m42 dev50 file). Prints, per strategy, setting and probe, the
lift score(probe) − score(honest) and the exploitation rate (:mod:`rareval.reliability.probes_exploit`),
each with a 95% bootstrap interval over rows, and writes every score as JSON:

    python benchmarks/judge_probes.py                                   # local/qwen-1.5b, 10 rows
    python benchmarks/judge_probes.py --judge local/qwen-1.5b --rows 20 --probes v2 --out results/judge_probes.json
    python benchmarks/judge_probes.py --judge scripted/keyword --rows 3   # the plumbing, offline, in seconds
    python benchmarks/judge_probes.py --judge-config evidence=true ...   # any JudgeConfig field (a defence)

``--probes`` takes probe names or the groups ``v1``, ``v2`` (the deterministic v2 probes) and ``all``
(v1 and v2; the default). ``--judge-config KEY=VALUE`` (repeatable) sets a field of every setting's
:class:`~rareval.judge.JudgeConfig` (``prompt_variant`` is the setting's own).
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


def probe_names(chosen: list[str]) -> list[str]:
    """Probe names with the groups ``v1``, ``v2`` and ``all`` expanded, in report order."""
    from rareval.reliability.probes import PROBES
    from rareval.reliability.probes_v2 import DETERMINISTIC

    groups = {"v1": list(PROBES), "v2": list(DETERMINISTIC), "all": [*PROBES, *DETERMINISTIC]}
    return list(dict.fromkeys(p for c in chosen for p in groups.get(c, [c])))


def main(argv: list[str] | None = None) -> dict:
    import rareval._registry  # noqa: F401  (local/ and scripted/ providers)
    from rareval.data.healthbench import load_healthbench
    from rareval.judge import Judge
    from rareval.judge.cache import VerdictCache
    from rareval.judge.config import judge_config
    from rareval.judge.options import add_judge_options, judge_options, recorded_args
    from rareval.reliability.probes import SETTINGS, STRATEGIES, lift_table, probe_rows, setting_config
    from rareval.reliability.probes_exploit import ALL_PROBES, effects, measure_v2, render_effects
    from rareval.reliability.probes_v2 import generate_answers, label_met

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", default="local/qwen-1.5b", help="Inspect model (default local/qwen-1.5b)")
    add_judge_options(parser)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HealthBench JSONL with ideal completions "
                        "(default: the offline union)")
    parser.add_argument("--rows", type=int, default=10, help="rows, the first in file order with an honest answer "
                        "and at most 12 criteria (default 10)")
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--probes", nargs="+", choices=[*ALL_PROBES, "v1", "v2", "all"], default=["all"],
                        help="probes or groups v1, v2, all (default all: v1 and the deterministic v2 probes)")
    parser.add_argument("--honest", choices=["ideal", "response"], default="ideal",
                        help="honest answer: the physician's ideal answer (its credits from the judge), or the row's "
                        "prompt_response with its strong-grader labels as its credits (default ideal)")
    parser.add_argument("--self-model", help="model writing the self_preference answers (default: the judge, with "
                        "its --judge-arg)")
    parser.add_argument("--self-answers", type=Path, help="JSONL keeping the self_preference answers (resumed)")
    parser.add_argument("--self-max-tokens", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=4, help="questions in flight (default 4)")
    parser.add_argument("--cache", type=Path, help="verdict cache file (default: rareval's cache)")
    parser.add_argument("--out", type=Path, help="write the lifts, exploitation rates and every score as JSON")
    args = parser.parse_args(argv)
    try:
        model_args, settings = judge_options(args)
        base = judge_config(settings)
    except ValueError as e:
        parser.error(str(e))
    probes = probe_names(args.probes)

    rows = load_healthbench(path=args.data)
    answers = met = None
    if args.honest == "response":
        rows = [r for r in rows if r.prompt_response and r.grader_verdicts and len(r.rubric) <= 12][:args.rows]
        answers = {r.prompt_id: r.prompt_response for r in rows}
        met = {r.prompt_id: label_met(r) for r in rows}
    else:
        rows = probe_rows(rows, args.rows)
    if not rows:
        parser.error(f"{args.data}: no row with an honest answer ({args.honest}) and at most 12 criteria")
    start = time.monotonic()
    self_answers = None
    if "self_preference" in probes:
        self_model = args.self_model or args.judge
        self_answers = asyncio.run(generate_answers(
            rows, self_model, model_args if self_model == args.judge else None, max_tokens=args.self_max_tokens,
            path=args.self_answers))
    cache = VerdictCache(args.cache) if args.cache else VerdictCache()
    judges = {s: Judge(args.judge, config=setting_config(s, base), model_args=model_args, cache=cache)
              for s in args.settings}
    run = asyncio.run(measure_v2(rows, judges, args.strategies, probes, answers=answers, met=met,
                                 self_answers=self_answers, concurrency=args.concurrency))
    table = effects(run, {r.prompt_id: r.rubric for r in rows})
    built: dict[str, dict[str, set[str]]] = {}
    for s in run.scores:
        built.setdefault(s.setting, {}).setdefault(s.probe, set()).add(s.prompt_id)
    result = {"date": datetime.date.today().isoformat(), "judge": args.judge,
              "judge_args": recorded_args(model_args), "judge_config": settings, "data": str(args.data),
              "honest": args.honest, "baseline": run.baseline, "rows": [r.prompt_id for r in rows],
              "seconds": round(time.monotonic() - start, 1), "questions": run.questions,
              "probes_built": {s: {p: len(ids) for p, ids in b.items()} for s, b in built.items()},
              "effects": [e.model_dump() for e in table],
              "lifts": [r.model_dump() for r in lift_table(run.scores)], "met": run.met,
              "self_answers": self_answers, "scores": [s.model_dump() for s in run.scores]}
    print(f"{args.judge}, {len(rows)} rows, {result['seconds']} s, {result['questions']} questions; "
          f"lift = score(probe) − score(honest); exploitation = weighted share of the honest answer's uncredited "
          f"criteria credited on the probe (baseline: {run.baseline}); † = new credit, not exploitation by "
          "construction\n")
    print(render_effects(table, run.baseline))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
