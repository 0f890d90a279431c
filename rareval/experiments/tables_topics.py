"""RaR v2 Table 6 (medical topics, n = 20,166) and Table 9 (STEM topics, n = 20,625) (SPEC §2).

The paper gives each RaR-Medicine / RaR-Science train+val question one topic and
prints counts and shares; it does not say which model labelled them.

* **Paper scale** — RaR-Medicine / RaR-Science train + val (``--rar-path`` or the Hub)
  labelled by an Inspect model (``--classifier``, default :data:`DEFAULT_CLASSIFIER`)
  with the paper's own topic names (:func:`rareval.experiments.topics.label_topics`);
  same taxonomy, so each topic's count and share is compared with the paper's.
  Planned (projected calls and cost) unless ``--run``.
* **Embedded scale** — no model; stand-in data with their own taxonomy: the shipped
  HealthBench union file and its rows' ``theme:`` tags (Table 6), the shipped
  GPQA-Diamond and its subdomains (Table 9). The taxonomies differ from the paper's,
  so the paper's table and ours are printed side by side and no per-row difference
  is computed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, ClassVar

from rareval.data.cache import sha256_file
from rareval.experiments.base import (REPO, Artifact, NotRunnable, ReproduceOptions, compare, data_entry,
                                      provenance, register, rel)
from rareval.experiments.plan import Plan, Step, tokens
from rareval.experiments.render import PAPER, comparison_table, fmt, provenance_lines, scale_line
from rareval.experiments.topics import (PROMPT, UNCLASSIFIED, gpqa_subdomains, healthbench_themes, label_topics,
                                        render_prompt, shares)
from rareval.prompts import load_prompt
from rareval.rubrics.stats import PAPER as PAPER_STATS

DEFAULT_CLASSIFIER = "openai/gpt-4o-mini"
GPQA_ZIP = REPO.parent / "shared/data/gpqa/gpqa_diamond.zip"
CHARS_PER_WORD = 6  # projected question length: the paper's mean words (Tables 4 / 7) × this
ANSWER_TOKENS = 8
SIDE_BY_SIDE = ("**Taxonomies differ.** The paper's topics are one LLM label per RaR-{D} question from its own "
                "list of {k}; ours are {ours}. Different topics over different data: the two tables sit side by "
                "side by rank only, and no per-row differences are computed.")


class TopicTable(Artifact):
    """Table 6 or 9: topic counts and shares, the paper's beside ours."""

    domain: ClassVar[str]  # "medicine" | "science": the RaR dataset
    field: ClassVar[str]  # the dataset in the labelling prompt's words
    ours: ClassVar[str]  # the embedded stand-in's taxonomy, in words
    paper: ClassVar[dict[str, tuple[int, float]]]
    runnable = ("embedded", "paper")

    @property
    def topics(self) -> list[str]:
        return list(self.paper)

    @property
    def n_paper(self) -> int:
        return sum(n for n, _ in self.paper.values())

    @property
    def dataset(self) -> str:
        return f"RaR-{self.domain.capitalize()}"

    def paper_rows(self):
        return [(topic, n, "") for topic, (n, _) in self.paper.items()]

    def paper_topics(self) -> list[dict[str, Any]]:
        return [{"topic": t, "count": n, "percent": pct} for t, (n, pct) in self.paper.items()]

    # -- plan ----------------------------------------------------------------------------------------------
    def plan(self, options: ReproduceOptions) -> Plan:
        if options.scale == "embedded":
            return Plan(key=self.key, scale="embedded", runnable=True, steps=[self.embedded_step(options)],
                        notes=["no model: the stand-in's own topic field is counted"])
        model = options.classifier or DEFAULT_CLASSIFIER
        words = PAPER_STATS[self.domain].mean_question_words or 50.0
        per_call = tokens(render_prompt("", self.topics, self.field)) + tokens(int(words * CHARS_PER_WORD)) \
            + ANSWER_TOKENS
        n, version = self.n_paper, load_prompt(PROMPT).version
        return Plan(key=self.key, scale="paper", runnable=True, steps=[
            Step(kind="data", what=f"{self.dataset} train+val questions ({n:,} in the paper; --rar-path or the Hub)",
                 items=n),
            Step(kind="eval", what=f"one topic label per question by {model} (prompt {version}, the paper's "
                 f"{len(self.topics)} topic names)", judge=model, items=n, judge_calls=n, tokens_per_call=per_call,
                 command=f"python -m rareval.cli reproduce --table {self.key.removeprefix('table')} --scale paper "
                         f"--run --classifier {model}")],
            notes=["labels already in the verdict cache are not asked again (the projection assumes none are); an "
                   "unreadable answer is asked once more (not projected)",
                   f"the paper does not name its topic classifier; {DEFAULT_CLASSIFIER} is only the default "
                   "(--classifier MODEL)"])

    def embedded_step(self, options: ReproduceOptions) -> Step:
        raise NotImplementedError

    # -- compute -------------------------------------------------------------------------------------------
    def compute(self, options: ReproduceOptions) -> dict[str, Any]:
        return self.embedded(options) if options.scale == "embedded" else self.at_paper_scale(options)

    def embedded(self, options: ReproduceOptions) -> dict[str, Any]:
        raise NotImplementedError

    def at_paper_scale(self, options: ReproduceOptions) -> dict[str, Any]:
        from rareval.judge.cache import VerdictCache

        questions, data = rar_questions(self.domain, options.rar_path)
        model = options.classifier or DEFAULT_CLASSIFIER
        got = asyncio.run(label_topics(model, questions, self.topics, self.field, cache=VerdictCache(),
                                       progress=True))
        ours = {s.topic: s for s in shares(got.labels)}
        rows = [compare("examples", self.n_paper, len(questions))]
        for topic, (n, pct) in self.paper.items():
            mine = ours.get(topic)
            rows += [compare(f"{topic} (count)", n, mine.count if mine else 0),
                     compare(f"{topic} (%)", pct, mine.percent if mine else 0.0, digits=1)]
        if UNCLASSIFIED in ours:
            rows += [compare(f"{UNCLASSIFIED} (count)", None, ours[UNCLASSIFIED].count),
                     compare(f"{UNCLASSIFIED} (%)", None, ours[UNCLASSIFIED].percent)]
        notes = [f"Labels by `{got.model}` (prompt {got.prompt_version}), one of the paper's {len(self.topics)} "
                 f"topic names per question; {got.cached:,} from the verdict cache, {got.usage.calls:,} calls.",
                 f"{got.unclassified:,} questions named no listed topic and are counted as '{UNCLASSIFIED}'"
                 + (f" ({got.errors:,} of them after a failed call)" if got.errors else "") + ".",
                 "The paper does not say which model labelled its topics, so the labels may differ by classifier."]
        return {"taxonomy": "paper", "n": len(questions), "unclassified": got.unclassified,
                "paper_topics": self.paper_topics(), "ours_topics": [s.model_dump() for s in ours.values()],
                "comparison": rows, "notes": notes, "status_note": f"labelled by {got.model}",
                "provenance": provenance(models=[got.model], data=data, seed=options.seed,
                                         prompt_version=got.prompt_version, usage=got.usage.model_dump())}

    def stand_in_results(self, labels: list[str], taxonomy: str, source_note: str, data: list[dict],
                         options: ReproduceOptions, **extra: Any) -> dict[str, Any]:
        unclassified = labels.count(UNCLASSIFIED)
        missing = (f"{unclassified:,} of {len(labels):,} stand-in rows carry no topic and are counted as "
                   f"'{UNCLASSIFIED}'." if unclassified else f"Every one of the {len(labels):,} stand-in rows carries "
                   "a topic.")
        notes = [source_note, missing,
                 f"At paper scale (`--scale paper --run --classifier MODEL`) {self.dataset} train+val is labelled "
                 "with the paper's topic names and compared row by row."]
        return {"taxonomy": taxonomy, "n": len(labels), "unclassified": unclassified,
                "taxonomy_note": SIDE_BY_SIDE.format(D=self.domain.capitalize(), k=len(self.topics), ours=self.ours),
                "paper_topics": self.paper_topics(), "ours_topics": [s.model_dump() for s in shares(labels)],
                "comparison": [], "notes": notes, **extra,
                "status_note": f"stand-in data with their own taxonomy ({taxonomy}), not the paper's topics",
                "provenance": provenance(data=data, seed=options.seed)}

    # -- render --------------------------------------------------------------------------------------------
    def markdown(self, results: dict[str, Any]) -> str:
        return topic_markdown(results, self.paper_topics())

    def render(self, results: dict[str, Any], out_dir: str | Path) -> list[Path]:
        path = Path(out_dir) / f"{self.key}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown(results))
        return [path]


def rar_questions(domain: str, rar_path: Path | None) -> tuple[list[str], list[dict]]:
    """RaR-``domain`` train + val questions (the paper's population) and the data they came from."""
    from rareval.data.cache import DataUnavailable
    from rareval.data.rar import load_rar

    questions, data = [], []
    for split in ("train", "val"):
        try:
            rows = load_rar(domain, split, path=rar_path)
        except DataUnavailable as e:
            raise NotRunnable(f"RaR-{domain.capitalize()} is not available here (online-only): {e.reason or e}; "
                              f"pass a downloaded snapshot with --rar-path") from None
        questions += [r.question for r in rows]
        src = Path(str(rows.source))
        data.append({"path": f"{rel(src) if src.exists() else rows.source} [{split}]",
                     "sha256": sha256_file(src) if src.is_file() else None, "rows": len(rows)})
    return questions, data


def _share_cells(share: dict[str, Any] | None) -> list[str]:
    if share is None:
        return ["", "", ""]
    return [share["topic"], fmt(share["count"]), f"{share['percent']:.1f}"]


def side_by_side(paper: list[dict], ours: list[dict], taxonomy: str) -> list[str]:
    """Markdown rows: the paper's topic table and ours beside it, by rank; no differences."""
    head = ["rank", "paper topic", "count", "%", f"ours: {taxonomy}", "count", "%"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i in range(max(len(paper), len(ours))):
        cells = [str(i + 1), *_share_cells(paper[i] if i < len(paper) else None),
                 *_share_cells(ours[i] if i < len(ours) else None)]
        lines.append("| " + " | ".join(cells) + " |")
    total = lambda rows: fmt(sum(r["count"] for r in rows))  # noqa: E731
    lines.append(f"| total | | {total(paper)} | | | {total(ours)} | |")
    return lines


def topic_markdown(results: dict[str, Any], paper: list[dict]) -> str:
    """The Markdown page of Table 6 or 9 at any scale."""
    lines = [f"# {results['title']}", "", f"Source of the paper's numbers: {PAPER}, SPEC §2. " + scale_line(results),
             ""]
    paper = results.get("paper_topics") or paper
    if results.get("taxonomy") == "paper":  # the paper's topic names: compared row by row
        lines += comparison_table(results.get("comparison", []))
    elif results.get("ours_topics") is not None:
        lines += [results["taxonomy_note"], ""] if results.get("taxonomy_note") else []
        lines += side_by_side(paper, results["ours_topics"], results.get("taxonomy", "ours"))
    else:
        lines += ["| topic | count | % |", "|---|---|---|",
                  *(f"| {p['topic']} | {fmt(p['count'])} | {p['percent']:.1f} |" for p in paper)]
    for section, rows in results.get("sections", {}).items():
        lines += ["", f"## {section}", "", *rows]
    if results.get("notes"):
        lines += ["", "Notes:", *(f"- {n}" for n in results["notes"])]
    lines += provenance_lines(results.get("provenance", {}))
    return "\n".join(lines) + "\n"


@register
class Table6(TopicTable):
    key, title = "table6", "Table 6 — medical topics (n = 20,166)"
    domain, field = "medicine", "medical"
    needs = "RaR-Medicine train+val and a topic classifier (an Inspect model), or the shipped stand-in"
    ours = ("the HealthBench theme tags (`example_tags` \"theme:…\") of the shipped stand-in rows, which name the "
            "kind of conversation (emergency referrals, context seeking, …), not a medical subject")
    paper = {"Medical Diagnosis": (10_147, 50.3), "Medical Treatment": (3_235, 16.0),
             "Medical Knowledge": (2_557, 12.7), "Medical Diag. and Mngmnt": (2_033, 10.1),
             "Medical Biology": (770, 3.8), "Other": (428, 2.1), "Medical Ethics": (377, 1.9),
             "Health Physics": (276, 1.4), "Epidemiology & Pub. Health": (216, 1.1),
             "General Medicine": (113, 0.6), "Forensic Medicine": (14, 0.1)}

    def embedded_step(self, options: ReproduceOptions) -> Step:
        return Step(kind="data", what=f"HealthBench theme tags of {rel(options.source)} (stand-in for RaR-Medicine)")

    def embedded(self, options: ReproduceOptions) -> dict[str, Any]:
        labels = healthbench_themes(options.source)
        note = (f"Embedded scale: the shipped HealthBench offline union file ({len(labels):,} rows) stands in for "
                "RaR-Medicine, which is online-only; each row's topic is its own `theme:` tag, no model is run.")
        data = [data_entry(options.source, len(labels), "HealthBench stand-in for RaR-Medicine; theme tags only")]
        return self.stand_in_results(labels, "HealthBench theme", note, data, options)


@register
class Table9(TopicTable):
    key, title = "table9", "Table 9 — STEM topics (n = 20,625)"
    domain, field = "science", "science (STEM)"
    needs = "RaR-Science train+val and a topic classifier (an Inspect model), or the shipped stand-in"
    ours = ("GPQA-Diamond's own subdomains (its `Subdomain` field; the high-level domains are listed below), "
            "for 198 graduate-level questions")
    paper = {"General Chemistry": (3_163, 15.3), "Quantum Mechanics": (3_158, 15.3),
             "Physical Chemistry": (2_761, 13.4), "Statistical Mechanics": (2_530, 12.3),
             "Organic Chemistry": (2_059, 10.0), "General Physics": (1_439, 7.0),
             "Condensed Matter Physics": (1_387, 6.7), "Genetics": (1_378, 6.7),
             "Molecular Biology": (815, 4.0), "Astrophysics": (409, 2.0), "Inorganic Chemistry": (407, 2.0),
             "Analytical Chemistry": (398, 1.9), "Electromagnetism": (239, 1.2), "Optics": (143, 0.7),
             "High Energy Physics": (116, 0.6), "Electromagnetic Theory": (105, 0.5),
             "Electromagnetics": (72, 0.3), "Relativistic Mechanics": (46, 0.2)}

    def embedded_step(self, options: ReproduceOptions) -> Step:
        source = gpqa_source()
        return Step(kind="data", what=f"GPQA-Diamond subdomains of {rel(source) if source else 'the GPQA cache'} "
                    "(stand-in for RaR-Science; no question text is read out)")

    def embedded(self, options: ReproduceOptions) -> dict[str, Any]:
        from rareval.data.gpqa import GPQA_CSV_NAME, GPQA_SHA256

        source = gpqa_source()
        pairs = gpqa_subdomains(source)
        note = (f"Embedded scale: the shipped GPQA-Diamond ({len(pairs)} questions, password-zipped, read through "
                "`rareval.data.gpqa`) stands in for RaR-Science, which is online-only; each question's topic is "
                "its own subdomain, no model is run, and only the subdomain fields are kept.")
        entry_note = "GPQA-Diamond stand-in for RaR-Science; subdomain fields only"
        data = [data_entry(source, len(pairs), entry_note) if source else
                {"path": f"<rareval data cache>/gpqa/{GPQA_CSV_NAME}", "sha256": GPQA_SHA256, "rows": len(pairs),
                 "note": entry_note}]
        domains = shares(d for d, _ in pairs)
        section = ["| domain | count | % |", "|---|---|---|",
                   *(f"| {s.topic} | {fmt(s.count)} | {s.percent:.1f} |" for s in domains)]
        return self.stand_in_results([s for _, s in pairs], "GPQA-Diamond subdomain", note, data, options,
                                     ours_domains=[s.model_dump() for s in domains],
                                     sections={"GPQA-Diamond high-level domains (ours)": section})


def gpqa_source() -> Path | None:
    """The GPQA-Diamond file to read: ``$RAREVAL_GPQA_PATH``, else the shipped zip; None: the loader's cache."""
    if os.environ.get("RAREVAL_GPQA_PATH"):
        return Path(os.environ["RAREVAL_GPQA_PATH"]).expanduser()
    return GPQA_ZIP if GPQA_ZIP.is_file() else None
