"""``rareval regress``: the checkpoint regression gate for CI.

Exit codes: 0 — no metric regressed; 1 — at least one regressed, in score or in
coverage (``regressed (coverage)``: the candidate lost more scored items than the
suite's ``coverage_tolerance`` allows: items the model errored on, or
whose answers the judge abstained on or refused, with why in the report); 2 — the gate
could not run as asked (bad arguments, an unreadable or invalid file, a failed
evaluation, a judge that could not be reached at all or a model that answered no item:
:mod:`rareval.regress.run`), with a one-line error naming the file and field.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from rareval.regress.errors import RegressUsageError

__all__ = ["add_regress", "cmd_regress"]


def _results(spec: str, option: str, suite, log_dir: Path):
    from rareval.regress.items import load_results, read_logs
    from rareval.regress.run import run_suite
    from rareval.regress.sources import resolve_source

    source = resolve_source(spec, option)
    if source.kind == "results":
        return load_results(source.path)
    if source.kind == "logs":
        return read_logs(source.path, label=spec)
    return run_suite(suite, source, log_dir)


def _write(path: str | None, text: str) -> None:
    if path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def cmd_regress(args: argparse.Namespace) -> int:
    """Gate ``--candidate`` against ``--baseline``; print the Markdown report."""
    from rareval.regress.gate import compare
    from rareval.regress.report import json_report, markdown
    from rareval.regress.suite import Suite, load_suite

    try:
        suite = load_suite(args.suite) if args.suite else Suite()
        if args.judge_args and suite.judge is not None:
            from rareval.judge.config import parse_settings

            extra = parse_settings(args.judge_args, "--judge-arg value")
            suite = suite.model_copy(update={"judge": suite.judge.model_copy(
                update={"args": {**suite.judge.args, **extra}})})
        log_dir = Path(args.log_dir)
        baseline = _results(args.baseline, "--baseline", suite, log_dir / "baseline")
        candidate = _results(args.candidate, "--candidate", suite, log_dir / "candidate")
        result = compare(candidate, baseline, suite)
    except RegressUsageError as err:
        print(f"rareval regress: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # exit 1 means "regressed": a crash must not read as one
        traceback.print_exc()
        print(f"rareval regress: error: the gate could not run ({type(err).__name__}: {err})", file=sys.stderr)
        return 2
    text = markdown(result)
    try:
        _write(args.markdown, text)
        _write(args.json, json.dumps(json_report(result, candidate, baseline), indent=1) + "\n")
    except OSError as err:
        print(f"rareval regress: error: file {err.filename}: cannot write ({err.strerror})", file=sys.stderr)
        return 2
    if not args.quiet:
        print(text, end="")
    return result.exit_code


def add_regress(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "regress", help="checkpoint regression gate for CI: item-by-item comparison, exit 1 on a regression",
        description="Compare a candidate with a baseline item by item on a pinned suite: paired bootstrap "
        "interval and sign-flip test for graded items, McNemar for right/wrong items, Holm across metrics. "
        "Each side is Inspect eval logs (a file or folder), stored gate results or a report (JSON), a Hugging "
        "Face checkpoint (a folder, a `rareval train` run, hf/NAME) or an Inspect model string; models are "
        "run on the suite's tasks. A candidate that loses scored items (judge abstentions, refusals, errors) beyond "
        "the suite's coverage_tolerance is 'regressed (coverage)'. Exit 0: no regression; 1: a metric regressed "
        "(in score or coverage); 2: misuse, or nothing could be judged (a judge that cannot be reached).")
    parser.add_argument("--candidate", required=True, metavar="MODEL_OR_LOGS",
                        help="what is gated: checkpoint, model string, log file or folder, results JSON")
    parser.add_argument("--baseline", required=True, metavar="MODEL_OR_LOGS_OR_RESULTS",
                        help="what it is compared with (a previous report JSON: its candidate)")
    parser.add_argument("--suite", metavar="SUITE.yaml",
                        help="pinned tasks, judge, seed, alpha, minimum effect and coverage tolerance "
                        "(needed to run a model)")
    parser.add_argument("--judge-arg", dest="judge_args", action="append", default=[], metavar="KEY=VALUE",
                        help="model argument of the suite's judge (e.g. base_url=URL of a served judge); its "
                        "settings are pinned in the suite (judge: {model, config: {...}}) (repeatable)")
    parser.add_argument("--log-dir", default="regress-logs",
                        help="where runs write their logs, in candidate/ and baseline/ (default: regress-logs)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the Markdown report here")
    parser.add_argument("--json", metavar="FILE", help="write the JSON report (with both sides' item results)")
    parser.add_argument("--quiet", action="store_true", help="print nothing; the exit code says it all")
    parser.set_defaults(run=cmd_regress)
