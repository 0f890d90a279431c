"""Rubric dataset statistics: the measures of RaR v2 Tables 4, 5, 7 and 8 (SPEC §2).

* Table 4 (RaR-"Medicine") and Table 7 (RaR-Science): number of examples, mean
  rubric items per question, mean question length in words;
* Table 5 (medicine) and Table 8 (science): criteria per category (Essential /
  Important / Optional / Pitfall), counts and percentages of all criteria.

Tables 6 and 9 (topic shares) are :mod:`rareval.experiments.topics`'s.
:func:`rubric_stats` is the pure computation (reused by ``rareval reproduce``),
:func:`report` its Markdown, :func:`add_stats_parser` the ``rareval rubrics stats`` command;
:func:`read_rubric_file` reads the three file kinds ``rareval rubrics stats`` accepts,
detected by their fields: a generated-rubrics JSONL (``prompt_id`` + ``rubric``, as
written by ``rareval rubrics generate``; no question text), a HealthBench JSONL
(``prompt`` + ``rubrics``: physician criteria, categories by points per
:func:`rareval.rubric.healthbench_category`; the question is the last user turn) and
a RaR JSONL or parquet file (``question`` + ``rubric``, categories by prefix).

SPEC §1.3 caveat: third-party forensics find that the paper's "medicine" statistics
(Tables 4/5) match the science data; recompute from the data rather than trust them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from rareval.data.cache import DataError, read_jsonl
from rareval.errors import command_errors
from rareval.rubric import Category, Rubric, RubricError

Kind = Literal["generated", "healthbench", "rar"]
ORDER = (Category.ESSENTIAL, Category.IMPORTANT, Category.OPTIONAL, Category.PITFALL)


class CategoryCount(BaseModel):
    count: int = Field(description="Criteria of this category.")
    percent: float = Field(description="Share of all criteria, in percent.")


class RubricStats(BaseModel):
    """The Table 4/7 aggregates and the Table 5/8 category counts of one rubric set."""

    source: str = Field(default="", description="File or dataset the rubrics came from.")
    kind: str = Field(default="", description="generated | healthbench | rar | paper.")
    examples: int = Field(description="Questions (rubrics) counted.")
    criteria: int = Field(description="Rubric items over all questions.")
    mean_criteria_per_question: float = Field(description="Table 4/7: average rubrics per question.")
    min_criteria: int | None = None
    max_criteria: int | None = None
    mean_question_words: float | None = Field(
        default=None, description="Table 4/7: average question length in words (None when no question text).")
    questions_measured: int = Field(default=0, description="Examples whose question text was available.")
    categories: dict[str, CategoryCount] = Field(description="Table 5/8: per category, in Essential, "
                                                 "Important, Optional, Pitfall order.")


def _paper(table: str, examples: int, mean: float, words: float, counts: dict[Category, tuple[int, float]]):
    return RubricStats(source=f"RaR v2 {table}", kind="paper", examples=examples,
                       criteria=sum(c for c, _ in counts.values()), mean_criteria_per_question=mean,
                       mean_question_words=words, questions_measured=examples,
                       categories={k.value: CategoryCount(count=counts[k][0], percent=counts[k][1]) for k in ORDER})


#: The paper's figures (RaR v2 Tables 4/5 "medicine", Tables 7/8 science; SPEC §2), as printed.
PAPER: dict[str, RubricStats] = {
    "medicine": _paper("Tables 4-5", 20_166, 7.5, 45.0, {
        Category.IMPORTANT: (52_748, 34.1), Category.ESSENTIAL: (47_584, 30.7),
        Category.OPTIONAL: (34_261, 22.1), Category.PITFALL: (20_215, 13.1)}),
    "science": _paper("Tables 7-8", 20_625, 7.5, 52.6, {
        Category.IMPORTANT: (52_315, 34.8), Category.ESSENTIAL: (42_739, 28.4),
        Category.OPTIONAL: (33_622, 22.3), Category.PITFALL: (21_808, 14.5)}),
}


def question_words(text: str) -> int:
    """Length of a question in whitespace-separated words (the Table 4/7 measure)."""
    return len(text.split())


def rubric_stats(rubrics: Iterable[Rubric], questions: Iterable[str | None] | None = None, *,
                 source: str = "", kind: str = "") -> RubricStats:
    """Tables 4/5 (7/8) measures of ``rubrics``; ``questions`` aligned with them (None where unknown)."""
    sizes, counts = [], {c: 0 for c in ORDER}
    for rubric in rubrics:
        sizes.append(len(rubric))
        for criterion in rubric:
            counts[criterion.category] += 1
    words = [question_words(q) for q in (questions or ()) if q is not None]
    total = sum(sizes)
    return RubricStats(
        source=source, kind=kind, examples=len(sizes), criteria=total,
        mean_criteria_per_question=total / len(sizes) if sizes else 0.0,
        min_criteria=min(sizes, default=None), max_criteria=max(sizes, default=None),
        mean_question_words=sum(words) / len(words) if words else None, questions_measured=len(words),
        categories={c.value: CategoryCount(count=n, percent=100 * n / total if total else 0.0)
                    for c, n in counts.items()})


def _records(path: Path) -> Iterable[tuple[int, dict, str]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for n, record in enumerate(pq.read_table(path).to_pylist(), 1):
            yield n, record, "row"
    else:
        for n, record in read_jsonl(path):
            yield n, record, "line"


def detect_kind(record: dict) -> Kind | None:
    """Which rubric file a record belongs to, from its fields."""
    if "prompt_id" in record and "rubric" in record:
        return "generated"
    if "prompt" in record and "rubrics" in record:
        return "healthbench"
    if "question" in record and "rubric" in record:
        return "rar"
    return None


def _last_user_turn(prompt) -> str:
    turns = [m for m in prompt if m.role == "user"] or list(prompt)
    return turns[-1].content


def read_rubric_file(path: str | Path) -> tuple[Kind, list[Rubric], list[str | None]]:
    """``(kind, rubrics, questions)`` of a rubric file; errors name the file, line (row) and field."""
    from rareval.data.healthbench import parse_healthbench_row
    from rareval.data.rar import parse_rar_row

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    kind: Kind | None = None
    rubrics: list[Rubric] = []
    questions: list[str | None] = []
    for n, record, unit in _records(path):
        found = detect_kind(record)
        if found is None or (kind is not None and found != kind):
            expected = f"a {kind} record like the first" if kind else (
                "fields 'prompt_id'+'rubric' (rareval rubrics generate), 'prompt'+'rubrics' (HealthBench) "
                "or 'question'+'rubric' (RaR)")
            raise DataError(f"expected {expected}; got fields {sorted(record)[:8]}", file=path, line=n, unit=unit)
        kind = found
        if kind == "healthbench":
            row = parse_healthbench_row(record, n, file=path)
            rubrics.append(row.rubric)
            questions.append(_last_user_turn(row.prompt))
        elif kind == "rar":
            rar = parse_rar_row(record, n, file=path, unit=unit)
            rubrics.append(rar.rubric)
            questions.append(rar.question)
        else:
            try:
                rubrics.append(Rubric.coerce(record["rubric"]))
            except (RubricError, TypeError, ValueError, json.JSONDecodeError) as e:
                raise DataError(str(e), file=path, line=n, field="rubric", unit=unit) from None
            questions.append(None)
    if kind is None:
        raise DataError("no records", file=path)
    return kind, rubrics, questions


def file_stats(path: str | Path) -> RubricStats:
    """:func:`rubric_stats` of a file read by :func:`read_rubric_file`."""
    kind, rubrics, questions = read_rubric_file(path)
    return rubric_stats(rubrics, questions, source=str(path), kind=kind)


def _num(x: float | int | None, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    return f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}"


def markdown_table(stats: RubricStats, paper: str | None = None) -> str:
    """A Markdown table of the measures, with the paper's column when ``paper`` is 'medicine' or 'science'."""
    ref = PAPER[paper] if paper else None
    head = ["measure", f"this file ({stats.kind})"] + ([f"paper ({paper}, {ref.source})"] if ref else [])
    rows = [
        ("examples", _num(stats.examples), ref and _num(ref.examples)),
        ("rubrics per question (mean)", _num(stats.mean_criteria_per_question, 2),
         ref and _num(ref.mean_criteria_per_question)),
        ("rubrics per question (min-max)", f"{_num(stats.min_criteria)}-{_num(stats.max_criteria)}", ref and "n/a"),
        ("question length, words (mean)", _num(stats.mean_question_words), ref and _num(ref.mean_question_words)),
        ("criteria (all)", _num(stats.criteria), ref and _num(ref.criteria)),
    ]
    for c in ORDER:
        mine = stats.categories[c.value]
        theirs = ref.categories[c.value] if ref else None
        rows.append((c.value.capitalize(), f"{mine.count:,} ({mine.percent:.1f}%)",
                     theirs and f"{theirs.count:,} ({theirs.percent:.1f}%)"))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell for cell in row if cell is not None) + " |" for row in rows]
    return "\n".join(lines)


def report(stats: RubricStats, paper: str | None = None) -> str:
    """:func:`markdown_table` and notes on how the figures were counted."""
    notes = {"healthbench": "HealthBench categories from points (rareval.rubric.healthbench_category): >=7 "
             "essential, 4-6 important, 1-3 optional, <0 pitfall; question = last user turn.",
             "generated": "A generated-rubrics file carries no question text: question length is n/a."}
    lines = [markdown_table(stats, paper), ""] + ([notes[stats.kind]] if stats.kind in notes else [])
    if paper == "medicine":
        lines.append("Caveat (SPEC §1.3): the paper's 'medicine' figures appear to describe the science data.")
    return "\n".join(lines).rstrip()


@command_errors(FileNotFoundError, ValueError)
def cmd_stats(args: argparse.Namespace) -> int:
    stats = file_stats(args.file)
    print(report(stats, args.paper))
    if args.json:
        paper = PAPER[args.paper].model_dump() if args.paper else None
        Path(args.json).write_text(json.dumps({"stats": stats.model_dump(), "paper": paper}, indent=1) + "\n")
    return 0


def add_stats_parser(sub: argparse._SubParsersAction) -> None:
    """``rareval rubrics stats FILE [--paper medicine|science] [--json OUT]``."""
    stats = sub.add_parser(
        "stats", help="examples, rubrics per question, question length, categories (Tables 4-9)",
        description="Statistics of a rubric file as in RaR v2 Tables 4/5 (medicine) and 7/8 (science): a "
        "`rubrics generate` JSONL, a HealthBench JSONL (physician rubrics) or a RaR JSONL/parquet file, "
        "detected by its fields. Prints a Markdown table.")
    stats.add_argument("file", metavar="FILE", help="rubrics, HealthBench or RaR file")
    stats.add_argument("--paper", choices=["medicine", "science"], help="add the paper's figures beside them")
    stats.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    stats.set_defaults(run=cmd_stats)
