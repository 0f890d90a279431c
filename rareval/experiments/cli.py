"""``rareval reproduce``: render the RaR paper's tables and figures beside ours.

    rareval reproduce --list                        # every artifact and its status
    rareval reproduce --table 10                    # embedded scale (default): compute, write, render
    rareval reproduce --figure 3                    # the main job: 4 local judges, rubrics by local/qwen-1.5b
    rareval reproduce --figure 3 --judges scripted/keyword --generator scripted/keyword --pairs 2
    rareval reproduce --figure 3 --scale paper      # the plan and projected judge calls only
    rareval reproduce --all --scale paper --price-per-mtok 0.6   # every plan, with its judge cost

Numbers go to ``--results`` (``results/paper/<key>.json``, with provenance), renders
to ``--out`` (``paper_figures/``). Artifacts that cannot run yet render the paper's
column alone and say what they need.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from rareval.judge.options import add_judge_options, judge_options

EPILOG = __doc__.split("\n\n")[1]
FAILURES = (RuntimeError, ValueError, OSError, KeyError)  # NotRunnable and DataError are among them


def _selected(args: argparse.Namespace) -> list:
    from rareval.experiments import get_artifact, ordered

    if args.all:
        return ordered()
    if args.figure == 1:
        raise KeyError("Figure 1 is the overview diagram: nothing to reproduce")
    return [get_artifact(f"figure{args.figure}" if args.figure is not None else f"table{args.table}")]


def _options(args: argparse.Namespace):
    from rareval.experiments import ReproduceOptions
    from rareval.experiments.figure3_pairs import ALL_CONDITIONS

    split = lambda s: [x.strip() for x in s.split(",") if x.strip()] if s else None  # noqa: E731
    given = dict(scale=args.scale, out=args.out, results=args.results, force=args.force,
                 price_per_mtok=args.price_per_mtok, judges=split(args.judges), conditions=split(args.conditions),
                 pairs=args.pairs, pairs_file=args.pairs_file, source=args.source, rar_path=args.rar_path,
                 seed=args.seed, classifier=args.classifier, generator=args.generator,
                 stored_only=args.stored_only)
    given["judge_args"], given["judge_config"] = judge_options(args)
    unknown = sorted(set(given["conditions"] or ()) - set(ALL_CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {', '.join(unknown)}; choose from {', '.join(ALL_CONDITIONS)}")
    return ReproduceOptions(**{k: v for k, v in given.items() if v is not None})


def _list(options) -> int:
    from rareval.experiments import ordered

    artifacts = ordered()
    width = max(len(a.key) for a in artifacts)
    for a in artifacts:
        print(f"{a.key:<{width}}  {a.title}\n{'':<{width}}  status: {a.status(options.results)}")
    return 0


def _reproduce(artifact, options, single: bool) -> bool:
    """Run (or load) and render one artifact; False when it could not be reproduced."""
    from rareval.experiments import NotRunnable
    from rareval.experiments.base import load_results

    try:
        results = artifact.run(options)
    except NotRunnable as e:
        stored = load_results(artifact.results_path(options.results))
        paths = artifact.render(stored or artifact.paper_only(), options.out)
        print(f"{artifact.key}: not reproduced — {e}\n  rendered the paper's column: {', '.join(map(str, paths))}",
              file=sys.stderr if single else sys.stdout)
        return not single
    paths = artifact.render(results, options.out)
    print(artifact.markdown(results))
    print(f"{artifact.key}: wrote {artifact.results_path(options.results)}, {', '.join(map(str, paths))}\n")
    return True


def cmd_reproduce(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    try:
        options = _options(args)
        if args.list:
            return _list(options)
        if not (args.all or args.figure is not None or args.table is not None):
            raise ValueError("give --figure N, --table N, --all or --list")
        artifacts = _selected(args)
        if args.pairs_file and not Path(args.pairs_file).is_file():
            raise ValueError(f"--pairs-file {args.pairs_file}: no such file")
    except (KeyError, ValueError, ValidationError) as e:
        if isinstance(e, ValidationError):
            err = e.errors()[0]
            message = f"--{'-'.join(map(str, err['loc'])).replace('_', '-')}: {err['msg']}"
        else:
            message = e.args[0] if isinstance(e, KeyError) and e.args else str(e).splitlines()[0]
        print(f"error: {message}", file=sys.stderr)
        return 2
    if args.plan or (options.scale == "paper" and not args.execute):
        for a in artifacts:
            print(a.plan(options).text(options.price_per_mtok) + "\n")
        print("plan only" + ("; add --run to run what is runnable" if options.scale == "paper" else ""))
        return 0
    ok = True
    for a in tqdm(artifacts, desc="reproduce", disable=len(artifacts) < 2):
        try:
            ok &= _reproduce(a, options, single=len(artifacts) == 1)
        except FAILURES as e:
            print(f"error: {a.key}: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


def add_reproduce(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "reproduce", help="reproduce the paper's tables and figures (paper's number beside ours)",
        description="Compute (or load cached) numbers for RaR v2's tables and figures, write them with provenance "
        "to --results and render them to --out, the paper's number, ours and the difference side by side.",
        epilog="examples:\n" + EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--figure", type=int, metavar="N", help="one figure (2 or 3)")
    what.add_argument("--table", type=int, metavar="N", help="one table (1-11)")
    what.add_argument("--all", action="store_true", help="every artifact")
    what.add_argument("--list", action="store_true", help="every artifact with its status")
    parser.add_argument("--scale", choices=["embedded", "paper"], default="embedded",
                        help="embedded (default): embedded models and shipped data, offline; paper: the paper's "
                        "models and judges (plan only unless --run)")
    parser.add_argument("--run", dest="execute", action="store_true",  # args.run is the command itself
                        help="at paper scale, run instead of printing the plan")
    parser.add_argument("--plan", action="store_true", help="print the plan (at either scale) and run nothing")
    parser.add_argument("--out", type=Path, help="renders (PNG, PDF, Markdown); default paper_figures/")
    parser.add_argument("--results", type=Path, help="numbers (JSON) and Inspect logs; default results/paper/")
    parser.add_argument("--force", action="store_true", help="recompute even when matching results are stored")
    parser.add_argument("--price-per-mtok", type=float, help="judge price in USD per million tokens (plan cost)")
    parser.add_argument("--source", type=Path, help="HealthBench JSONL for the embedded scale (default: the "
                        "shipped offline union file)")
    parser.add_argument("--rar-path", type=Path, help="RaR file or snapshot directory (paper-scale Tables 4-9)")
    parser.add_argument("--seed", type=int, help="seed of bootstrap intervals (default 0)")
    parser.add_argument("--classifier", help="Tables 6 and 9 at paper scale: the Inspect model that labels each "
                        "question's topic (default openai/gpt-4o-mini)")
    fig3 = parser.add_argument_group("Figure 3 (judge alignment)")
    fig3.add_argument("--judges", help="comma-separated Inspect models (default: the local/ judges; at paper "
                      "scale Qwen2.5-3B..72B-Instruct on vLLM)")
    add_judge_options(fig3)
    fig3.add_argument("--conditions", help="comma-separated: likert,rubric_ref,"
                       "rubric_noref,rubric_human,explicit (rubric_human: RaR-Implicit with the physicians' rubric)")
    fig3.add_argument("--pairs", type=int, help="number of preference pairs (default 10 at embedded scale; "
                      "paper 3,027)")
    fig3.add_argument("--generator", help="model that writes the pairs' rubrics with and without the reference "
                      "answer (default local/qwen-1.5b; 'none' skips the rubric conditions)")
    fig3.add_argument("--pairs-file", type=Path, help="pairs from `rareval alignment build` (with --rubrics for "
                      "the rubric conditions)")
    fig3.add_argument("--stored-only", action="store_true", help="run no judge: draw the stored rows (of a "
                      "finished or an interrupted run) and name each judge × condition not run")
    parser.set_defaults(run=cmd_reproduce)
