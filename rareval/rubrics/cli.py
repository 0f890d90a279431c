"""``rareval rubrics``: RaR rubric generation as a command, and rubric dataset statistics.

* ``generate`` — one rubric per question with any Inspect model (RaR v2 §3.2, SPEC §1.2), with
  the reference answer ("Synthetic", Table 1) or without ("Synthetic-NoRef", Tables 1, 3), by
  the medical or the science prompt (Appendix pp.18–19; the science one paraphrases SPEC §1.2).
  Each answer is validated into a Rubric (:func:`rareval.rubrics.generate.generate_rubric`); one
  unreadable or outside 7–20 valid items is retried, then named in a failures file, never
  dropped silently. Output: JSONL ``{"prompt_id", "rubric", ...provenance}`` as read by
  :func:`rareval.train.data.load_generated_rubrics`, appended per rubric; ids already there are
  skipped, so a stopped run resumes.
* ``stats`` — the measures of Tables 4/5 and 7/8 (defined in :mod:`rareval.rubrics.stats`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

from inspect_ai.model import get_model
from pydantic import BaseModel, Field
from tqdm import tqdm

from rareval.data.cache import DataError, read_jsonl
from rareval.data.healthbench import load_healthbench
from rareval.data.rar import load_rar, normalize_question
from rareval.rubrics.generate import GenerationError, generate_rubric
from rareval.rubrics.stats import add_stats_parser
from rareval.judge.usage import Usage

MIN_ITEMS, MAX_ITEMS = 7, 20


class Item(NamedTuple):
    prompt_id: str
    conversation: Any  # a question string or a list of {role, content} turns
    reference: str | None


class Failure(BaseModel):
    prompt_id: str
    error: str = Field(description="Why each attempt failed.")
    attempts: int


class Summary(BaseModel):
    out: str
    written: int = 0
    already_done: int = Field(0, description="Prompt ids found in --out and skipped (resume).")
    no_reference: list[str] = Field([], description="Rows skipped for lack of a reference.")
    failures: list[Failure] = []
    failures_file: str | None = None
    usage: Usage = Usage()


def load_items(path: str | Path, limit: int | None = None, ids: list[str] | None = None) -> list[Item]:
    """Questions to write rubrics for: HealthBench JSONL (reference: the ideal completion) or RaR JSONL/parquet
    (reference: ``reference_answer``; prompt id ``rar-`` + a hash of the question); with ``ids``, only
    those prompt ids, in file order (an id not in the file is an error)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--data {path}: no such file")
    first = {} if path.suffix == ".parquet" else next(read_jsonl(path), (0, {}))[1]
    if path.suffix == ".parquet" or "question" in first and "prompt" not in first:
        rows = [Item("rar-" + hashlib.sha256(normalize_question(r.question).encode()).hexdigest()[:16], r.question,
                     r.reference_answer or None) for r in load_rar(path=path)]
    else:
        rows = [Item(r.prompt_id, [m.model_dump() for m in r.prompt], r.ideal_completion or None)
                for r in load_healthbench(path=path)]
    if ids is not None:
        missing = sorted(set(ids) - {r.prompt_id for r in rows})
        if missing:
            raise ValueError(f"--ids: {len(missing)} id(s) not in {path}: {', '.join(missing[:3])}"
                             + (" ..." if len(missing) > 3 else ""))
        wanted = set(ids)
        rows = [r for r in rows if r.prompt_id in wanted]
    return rows[:limit] if limit is not None else rows


def parse_ids(value: str) -> list[str]:
    """``--ids``: comma-separated prompt ids, or ``@FILE`` with one id per line (blank lines ignored)."""
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise FileNotFoundError(f"--ids {value}: no such file")
        text = path.read_text(encoding="utf-8")
    else:
        text = value
    ids = [i.strip() for i in text.replace(",", "\n").splitlines() if i.strip()]
    if not ids:
        raise ValueError(f"--ids {value!r}: no prompt id given")
    return ids


def done_ids(out: Path, provenance: dict[str, Any]) -> set[str]:
    """Prompt ids already in ``out``; refuses a file written by another generator or setting."""
    if not out.exists():
        return set()
    text = out.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):  # a write cut short: drop it (it is generated again)
        out.write_text(text[:text.rfind("\n") + 1], encoding="utf-8")
        print(f"warning: {out}: removed an incomplete last line (an interrupted write)", file=sys.stderr)
    ids = set()
    for n, record in read_jsonl(out):
        if not isinstance(record.get("prompt_id"), str):
            raise DataError("missing or not a string", file=out, line=n, field="prompt_id")
        if clash := next((k for k, v in provenance.items() if record.get(k, v) != v), None):
            raise DataError(f"{record[clash]!r} there but {provenance[clash]!r} in this run; write to another --out",
                            file=out, line=n, field=clash)
        ids.add(record["prompt_id"])
    return ids


async def generate_rubrics(items: list[Item], model, out: str | Path, *, with_reference: bool = True,
                           domain: str = "medicine", retries: int = 2, concurrency: int = 4, max_tokens: int = 2048,
                           progress: bool = True) -> Summary:
    """Write a rubric per item to ``out`` (appending, flushed per rubric); failures to ``<out stem>.failures.jsonl``."""
    out = Path(out)
    provenance = {"generator": str(model), "domain": domain, "with_reference": with_reference}
    done = done_ids(out, provenance)
    summary = Summary(out=str(out), already_done=sum(i.prompt_id in done for i in items))
    todo = [i for i in items if i.prompt_id not in done]
    if with_reference:
        summary.no_reference = [i.prompt_id for i in todo if not i.reference]
        todo = [i for i in todo if i.reference]
    failures_path = out.with_name(out.stem + ".failures.jsonl")
    semaphore = asyncio.Semaphore(max(1, concurrency))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as f, failures_path.open("w", encoding="utf-8") as ff, \
            tqdm(total=len(todo), disable=not progress, desc="rubrics", unit="rubric", file=sys.stderr) as bar:
        async def one(item: Item) -> None:
            async with semaphore:
                try:
                    got = await generate_rubric(model, item.conversation, item.reference if with_reference else None,
                                                domain=domain, items=(MIN_ITEMS, MAX_ITEMS), retries=retries,
                                                max_tokens=max_tokens)
                except GenerationError as e:
                    failure = Failure(prompt_id=item.prompt_id, error=str(e), attempts=1 + retries)
                    summary.failures.append(failure)
                    summary.usage += getattr(e, "usage", Usage())
                    ff.write(json.dumps({**failure.model_dump(), **provenance}) + "\n")
                    ff.flush()
                else:
                    summary.written += 1
                    summary.usage += got.usage
                    f.write(json.dumps({
                        "prompt_id": item.prompt_id, "rubric": got.rubric.model_dump(mode="json"), **provenance,
                        "source": "synthetic" if with_reference else "synthetic_noref",
                        "prompt_version": got.prompt_version, "dropped": got.dropped, "attempts": got.attempts,
                        "usage": got.usage.model_dump()}, ensure_ascii=False) + "\n")
                    f.flush()
                bar.update(1)

        await asyncio.gather(*(one(i) for i in todo))
    summary.failures_file = str(failures_path) if summary.failures else None
    if not summary.failures:
        failures_path.unlink(missing_ok=True)
    return summary


def _error(message: object) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_generate(args: argparse.Namespace) -> int:
    for flag, value, least in (("--limit", args.limit, 1), ("--retries", args.retries, 0),
                               ("--concurrency", args.concurrency, 1), ("--max-tokens", args.max_tokens, 1)):
        if value is not None and value < least:
            return _error(f"{flag} must be at least {least}, got {value}")
    if bad := [pair for pair in args.generator_arg if not pair.partition("=")[0] or "=" not in pair]:
        return _error(f"-M takes KEY=VALUE, got {bad[0]!r}")
    try:
        items = load_items(args.data, args.limit, parse_ids(args.ids) if args.ids else None)
    except (FileNotFoundError, ValueError, RuntimeError) as e:  # DataError, DataUnavailable
        return _error(str(e).splitlines()[0])
    try:
        model = get_model(args.generator, memoize=False, **dict(p.partition("=")[::2] for p in args.generator_arg))
    except Exception as e:  # noqa: BLE001 — any provider's complaint, in one line
        return _error(f"--generator {args.generator}: {(str(e) or type(e).__name__).splitlines()[0]}")
    try:
        s = asyncio.run(generate_rubrics(items, model, args.out, with_reference=args.with_reference,
                                         domain=args.domain, retries=args.retries, concurrency=args.concurrency,
                                         max_tokens=args.max_tokens, progress=not args.quiet))
    except ValueError as e:
        return _error(e)
    print(f"{s.written} rubrics written to {s.out} ({'synthetic' if args.with_reference else 'synthetic_noref'}, "
          f"{args.domain} prompt); {s.already_done} already there; {s.usage.calls} generator calls, "
          f"{s.usage.billed_tokens:,} tokens")
    if s.no_reference:
        print(f"skipped {len(s.no_reference)} rows without a reference answer (--no-reference includes them): "
              + ", ".join(s.no_reference[:5]) + (" ..." if len(s.no_reference) > 5 else ""))
    if s.failures:
        print(f"{len(s.failures)} failed after {1 + args.retries} attempts each (in {s.failures_file}; the same "
              "command again retries them):\n" + "\n".join(f"  {f.prompt_id}: {f.error[:300]}" for f in s.failures),
              file=sys.stderr)
    return 1 if s.failures else 0


def add_rubrics(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "rubrics", help="generate RaR rubrics with a model; rubric dataset statistics (Tables 4-9)",
        description="Rubric synthesis as in RaR v2 §3.2 (Synthetic / Synthetic-NoRef) and the statistics of "
        "RaR v2 Tables 4/5 and 7/8.")
    parser.set_defaults(run=lambda args: (parser.print_help(), 2)[1])
    sub = parser.add_subparsers(title="subcommands", metavar="{generate,stats}")
    gen = sub.add_parser("generate", help="one 7-20 item rubric per question, written to a JSONL file", description=(
        "Ask --generator (any Inspect model) for one rubric per question of --data, validate each answer into a "
        "Rubric (7-20 valid items), retry failures, and append {prompt_id, rubric, provenance} lines to --out as "
        "they are made. Ids already in --out are skipped, so rerunning resumes. Rubrics that still fail are "
        "listed at the end and in OUT_STEM.failures.jsonl, and the exit status is 1."), epilog="example: rareval "
        "rubrics generate --generator openai/o3-mini --data healthbench.jsonl --out rubrics.jsonl --concurrency 8")
    add = gen.add_argument
    add("--generator", required=True, metavar="MODEL", help="Inspect model, e.g. openai/gpt-4o")
    add("-M", "--generator-arg", action="append", default=[], metavar="KEY=VALUE",
        help="model argument for --generator (repeatable), as Inspect's -M")
    add("--data", required=True, metavar="FILE",
        help="HealthBench JSONL (reference: ideal completion) or RaR JSONL/parquet (reference: reference_answer)")
    add("--out", required=True, metavar="FILE", help="rubrics JSONL to append to")
    ref = gen.add_mutually_exclusive_group()
    ref.add_argument("--with-reference", dest="with_reference", action="store_true", default=True, help="ground "
                     "rubrics in the reference answer (Synthetic; default); rows without one are skipped, counted")
    ref.add_argument("--no-reference", dest="with_reference", action="store_false",
                     help="the question only (Synthetic-NoRef)")
    add("--domain", choices=["medicine", "science"], default="medicine",
        help="prompt variant: medical (RaR-Medicine, GPT-4o) or science (RaR-Science, o3-mini)")
    add("--limit", type=int, help="only the first N rows of --data")
    add("--ids", metavar="ID,ID|@FILE", help="only these prompt ids of --data (comma-separated, or @FILE with one "
        "per line)")
    add("--retries", type=int, default=2, help="extra attempts per rubric (default 2)")
    add("--concurrency", type=int, default=4, help="generations in flight (default 4)")
    add("--max-tokens", type=int, default=2048, help="generator max tokens (default 2048)")
    add("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(run=cmd_generate)
    add_stats_parser(sub)
