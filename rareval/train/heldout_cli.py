"""``rareval heldout`` (a finished run's held-out rubric score, before vs after training) and
``rareval train-summary`` (finished runs side by side)."""

from __future__ import annotations

import argparse

from rareval.errors import command_errors
from rareval.judge.options import add_judge_options, judge_options


def _fmt(summary: dict) -> str:
    if summary["mean"] is None:
        return "no answer scored"
    low, high = summary["ci95"]
    return f"{summary['mean']:.3f} [{low:.3f}, {high:.3f}] (n={summary['n']}, unscored {summary.get('unscored', 0)})"


def _fmt_difference(d: dict) -> str:
    return f"{d['mean']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"


@command_errors(FileNotFoundError, ValueError, KeyError)
def cmd_heldout(args: argparse.Namespace) -> int:
    from rareval.train.heldout import evaluate_run

    judge_args, judge_settings = judge_options(args)
    result = evaluate_run(args.run_dir, cache=args.cache, judge=args.judge, judge_args=judge_args,
                          judge_config=judge_settings, strategy=args.strategy, rows=args.rows,
                          benchmark=args.benchmark)
    d = result["difference"]
    graded = ("GPQA-Diamond accuracy" if args.benchmark == "gpqa"
              else f"graded by {result['judge']} · {result['strategy']}")
    print(f"{args.run_dir} ({result['preset']}, {graded})")
    print(f"  before: {_fmt(result['before'])}")
    print(f"  after:  {_fmt(result['after'])}")
    if d["mean"] is not None:
        print(f"  after − before: {_fmt_difference(d)} paired 95 % CI; "
              f"{d['better']} prompts better, {d['worse']} worse, {d['tied']} tied")
    print(f"  written to {args.run_dir}/heldout.json")
    return 0


def add_heldout(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "heldout", help="a finished run's held-out rubric score, before vs after training",
        description="Answer the run's held-out prompts (HealthBench-1k rows, or a RaR source's val split; never "
        "trained on) greedily with the base policy and with final/, grade both with one rubric reward (default "
        "RaR-Implicit on the physician rubric by the run's judge), or answer GPQA-Diamond (--benchmark gpqa), and "
        "print the means, 95 %% CIs and the paired difference. Writes heldout.json in the run directory.")
    parser.add_argument("--run", dest="run_dir", required=True, metavar="DIR", help="a finished run directory (config.json, final/)")
    parser.add_argument("--judge", help="grading judge (default: the run's judge)")
    add_judge_options(parser)
    parser.add_argument("--strategy", default="implicit", choices=["implicit", "healthbench", "explicit"],
                        help="grading strategy (default implicit: one judge call per answer)")
    parser.add_argument("--benchmark", choices=["rubric", "gpqa"], default="rubric",
                        help="rubric (default): the run's held-out prompts graded by a rubric reward; gpqa: "
                        "GPQA-Diamond through its Inspect task (a RaR-Science run; the data from ../shared/data/gpqa "
                        "or $RAREVAL_GPQA_PATH), answer letters scored, no judge")
    parser.add_argument("--rows", type=int, help="held-out prompts, or GPQA samples (default 24)")
    parser.add_argument("--cache", help="verdict cache file (default: the run's); share one across runs of "
                        "the same base so the base's answers are graded once")
    parser.set_defaults(run=cmd_heldout)


@command_errors(FileNotFoundError, ValueError, KeyError)
def cmd_train_summary(args: argparse.Namespace) -> int:
    from rareval.train.summary import summarise_runs

    summary = summarise_runs(args.runs, args.out)
    for r in summary["runs"]:
        h = r["heldout"]
        ended = r["status"].get("ended", "not finished")
        line = f"{r['run']}: {r['preset']}, {r['steps_logged']} steps logged ({ended})"
        if r["mean_step_seconds"]:
            line += f", {r['mean_step_seconds']:.0f} s/step"
        if r["zero_advantage_share"] is not None:
            line += f", {r['zero_advantage_share']:.0%} of groups all alike"
        if h and h["difference"]["mean"] is not None:
            d = h["difference"]
            line += f"; held-out {_fmt(h['before'])} → {_fmt(h['after'])}, after − before {_fmt_difference(d)}"
        print(line)
    print(f"written to {args.out}/summary.json and summary.png")
    return 0


def add_train_summary(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train-summary", help="finished runs side by side: reward curves and held-out scores",
        description="Read run directories (and their heldout.json from `rareval heldout`) and write summary.json, "
        "summary.png (training reward per run; held-out score before vs after with 95 %% CIs) and each run's "
        "curves.png under --out.")
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--out", required=True, help="folder for summary.json, summary.png and the curves")
    parser.set_defaults(run=cmd_train_summary)
