"""Artifacts that need GRPO training runs: RaR v2 Tables 1, 2, 3 and 11 (Figure 2 in figure2.py).

Each row of these tables is a policy trained with one preset of
:mod:`rareval.train.presets` (``rareval train --list``), then evaluated on
HealthBench-1k (graded by gpt-4o-mini, SPEC §1.7). They are declared with the
paper's numbers (SPEC §2) so the paper's column renders before ours exists, and
with a plan: the training and evaluation steps and their projected judge calls.
Not runnable yet: ``rareval reproduce`` does not drive training and evaluation.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from rareval.experiments.base import UNION, Artifact, ReproduceOptions, register
from rareval.experiments.plan import Plan, Step

PAPER_POLICY, PAPER_JUDGE = "Qwen/Qwen2.5-7B", "openai/gpt-4o-mini"
EMBEDDED_POLICY, EMBEDDED_JUDGE = "local/smollm-135m", "local/qwen-1.5b"
# Sizes used by the projection (characters; measured on the shipped HealthBench union file, RaR v2 Table 4):
CONVERSATION_CHARS, RESPONSE_CHARS, CRITERION_CHARS = 700, 1_500, 270
RAR_ITEMS, HEALTHBENCH_ITEMS, GRADER_TEMPLATE_CHARS = 7.5, 11.9, 3_200
RUBRIC_TEMPLATE_CHARS, TRAIN_PROMPTS = 1_300, 3_500  # rubric_generate.txt; the paper's ~3.5k training prompts


class Method(NamedTuple):
    """One row: a trained (``preset``) or untrained (``preset=None``) policy and how it was made."""

    label: str
    preset: str | None
    judge: str | None = None  # None: the artifact's default judge
    generator: str | None = None  # rubric generator, where the row names one
    note: str = ""


def run_name(m: Method) -> str:
    """A run directory name unique within a table (rows may share a preset: Tables 3 and 11)."""
    return re.sub(r"[^a-z0-9]+", "-", f"{m.preset}-{m.label}".lower()).strip("-")


def calls_per_completion(preset_name: str) -> float:
    """Judge calls per rollout: 1 for rating strategies, one per criterion for verdict strategies."""
    from rareval.strategies import get_strategy
    from rareval.train.presets import get_preset

    preset = get_preset(preset_name)
    spec = get_strategy(preset.strategy)
    if spec.question == "rating":
        return 1.0
    return len(spec.fixed_rubric) if spec.fixed_rubric else HEALTHBENCH_ITEMS if preset.rubric_source == \
        "physician" else RAR_ITEMS


class TrainingArtifact(Artifact):
    """A table whose rows are trained policies; paper values in ``paper[label][metric]``."""

    metrics: tuple[str, ...] = ("HealthBench-1k overall",)
    evaluation: str = "HealthBench-1k"
    eval_prompts: int = 1_000
    methods: tuple[Method, ...] = ()
    runnable = ()

    @property
    def needs(self) -> str:  # type: ignore[override]
        presets = sorted({m.preset for m in self.methods if m.preset})
        return (f"GRPO training runs of presets {', '.join(presets)} (`rareval train --preset NAME`), then "
                f"{self.evaluation} evaluation graded by gpt-4o-mini")

    def paper_rows(self) -> list[tuple[str, Any, str]]:
        one = len(self.metrics) == 1
        return [(m.label if one else f"{m.label} — {metric}", self.paper[m.label][metric], "%")
                for metric in self.metrics for m in self.methods]

    def plan(self, options: ReproduceOptions) -> Plan:
        from rareval.train.presets import get_preset

        paper = options.scale == "paper"
        size = "paper" if paper else "cpu"
        steps, built = [], set()
        for m in self.methods:
            judge = (m.judge or PAPER_JUDGE) if paper else EMBEDDED_JUDGE
            rubrics = None
            if m.generator:
                noref = "without" in m.note
                generator = m.generator if paper else EMBEDDED_JUDGE
                rubrics = f"rubrics-{generator.split('/')[-1]}-{'noref' if noref else 'ref'}.jsonl"
                if rubrics not in built:  # rows sharing a generator share its rubrics
                    built.add(rubrics)
                    steps.append(Step(
                        kind="build", what=f"rubrics by {generator} ({'without' if noref else 'with'} reference) for "
                        "the training prompts", model=generator, judge_calls=TRAIN_PROMPTS if paper else 0,
                        tokens_per_call=(RUBRIC_TEMPLATE_CHARS + CONVERSATION_CHARS + RESPONSE_CHARS) // 4 + 300,
                        command=f"python -m rareval.cli rubrics generate --generator {generator} --data "
                                f"{'HEALTHBENCH.jsonl' if paper else options.source} --out {rubrics}"
                                + (" --no-reference" if noref else "")))
            if m.preset:
                h = get_preset(m.preset, size).hyper
                calls = int(h.max_steps * h.completions_per_step * calls_per_completion(m.preset))
                per_call = (CONVERSATION_CHARS + h.max_completion_length * 4 + RAR_ITEMS * CRITERION_CHARS
                            + 600) // 4
                data = "HEALTHBENCH.jsonl" if paper else str(options.source)
                policy = PAPER_POLICY if paper else EMBEDDED_POLICY
                steps.append(Step(kind="train", what=f"{m.label}: preset {m.preset}@{size}", model=policy,
                                  judge=judge, judge_calls=calls, tokens_per_call=int(per_call), command=(
                                      f"python -m rareval.cli train --preset {m.preset}@{size} --policy {policy} "
                                      f"--judge {judge} --data {data}" + (f" --rubrics {rubrics}" if rubrics else "")
                                      + f" --out runs/{self.key}/{run_name(m)}")))
            elif m.note:
                steps.append(Step(kind="train", what=f"{m.label}: {m.note}"))
            steps += self.eval_steps(m, paper)
        notes = [] if paper else [f"embedded scale would train {EMBEDDED_POLICY} with {EMBEDDED_JUDGE} on {UNION.name}"
                                  " (cpu size, ~1 min a step) — a demonstration, not the paper's numbers"]
        return Plan(key=self.key, scale=options.scale, runnable=False, needs=self.needs, steps=steps,
                    notes=notes + ["evaluation is not yet driven by `rareval reproduce`"])

    def eval_steps(self, m: Method, paper: bool) -> list[Step]:
        """HealthBench(-1k) graded per criterion by gpt-4o-mini (simple-evals), for one policy."""
        n = self.eval_prompts if paper else 0
        per_call = (GRADER_TEMPLATE_CHARS + CONVERSATION_CHARS + RESPONSE_CHARS + CRITERION_CHARS) // 4
        return [Step(kind="eval", what=f"{m.label}: HealthBench ({self.eval_prompts:,} prompts)", judge=PAPER_JUDGE,
                     items=n, judge_calls=int(n * HEALTHBENCH_ITEMS), tokens_per_call=per_call)]


@register
class Table1(TrainingArtifact):
    key, title = "table1", "Table 1 — rubric source ablation (HealthBench-1k)"
    methods = (Method("Expert-Answer-SFT", None, note="SFT on the physicians' ideal answers (not implemented)"),
               Method("Simple-Likert", "direct-likert"), Method("Reference-Likert", "reference-likert"),
               Method("RaR-Implicit-Synthetic-NoRef", "rar-implicit-synthetic-noref", generator="openai/o3-mini",
                      note="without reference"),
               Method("RaR-Implicit-Synthetic", "rar-implicit", generator="openai/o3-mini"),
               Method("RaR-Implicit-Human", "rar-implicit-human"))
    paper = {"Expert-Answer-SFT": {"HealthBench-1k overall": 20.4}, "Simple-Likert": {"HealthBench-1k overall": 23.9},
             "Reference-Likert": {"HealthBench-1k overall": 31.7},
             "RaR-Implicit-Synthetic-NoRef": {"HealthBench-1k overall": 32.0},
             "RaR-Implicit-Synthetic": {"HealthBench-1k overall": 35.9},
             "RaR-Implicit-Human": {"HealthBench-1k overall": 34.8}}


@register
class Table2(TrainingArtifact):
    key, title = "table2", "Table 2 — rubric design elements (HealthBench-1k)"
    methods = (Method("Essential-Only Rubrics", "essential-only", generator="openai/o3-mini"),
               Method("No Categorical Labels", "no-category-labels", generator="openai/o3-mini"),
               Method("No Pitfall Criteria", "no-pitfalls", generator="openai/o3-mini"),
               Method("All Rubrics", "rar-implicit", generator="openai/o3-mini"))
    paper = {"Essential-Only Rubrics": {"HealthBench-1k overall": 34.9},
             "No Categorical Labels": {"HealthBench-1k overall": 38.8},
             "No Pitfall Criteria": {"HealthBench-1k overall": 37.2}, "All Rubrics": {"HealthBench-1k overall": 37.2}}


def _noref(label: str, generator: str) -> Method:
    return Method(label, "rar-implicit-synthetic-noref", generator=generator, note="without reference")


@register
class Table3(TrainingArtifact):
    key, title = "table3", "Table 3 — rubric generator without reference (HealthBench-1k)"
    methods = (Method("O3-mini (rubrics with reference)", "rar-implicit", generator="openai/o3-mini"),
               _noref("GPT-4o", "openai/gpt-4o"), _noref("GPT-4o-mini", "openai/gpt-4o-mini"),
               _noref("O3-mini", "openai/o3-mini"), _noref("Qwen-72B-Instruct", "vllm/Qwen/Qwen2.5-72B-Instruct"),
               _noref("Qwen-32B-Instruct", "vllm/Qwen/Qwen2.5-32B-Instruct"),
               _noref("Qwen-7B-Instruct", "vllm/Qwen/Qwen2.5-7B-Instruct"))
    paper = {label: {"HealthBench-1k overall": v} for label, v in [
        ("O3-mini (rubrics with reference)", 35.9), ("GPT-4o", 34.2), ("GPT-4o-mini", 32.7), ("O3-mini", 32.4),
        ("Qwen-72B-Instruct", 32.7), ("Qwen-32B-Instruct", 31.1), ("Qwen-7B-Instruct", 31.9)]}


_T11_JUDGES = {"GPT-4o-mini": "openai/gpt-4o-mini", "Qwen-32B-Instruct": "vllm/Qwen/Qwen2.5-32B-Instruct",
               "Qwen-14B-Instruct": "vllm/Qwen/Qwen2.5-14B-Instruct",
               "Qwen-7B-Instruct": "vllm/Qwen/Qwen2.5-7B-Instruct"}


@register
class Table11(TrainingArtifact):
    key, title = "table11", "Table 11 — judge quality for post-training (Qwen2.5-7B policy)"
    metrics = ("RaR-Implicit", "Direct-Likert")
    methods = tuple(Method(label, preset, judge=judge, generator="openai/o3-mini" if preset == "rar-implicit" else None)
                    for label, judge in _T11_JUDGES.items() for preset in ("rar-implicit", "direct-likert"))
    paper = {"GPT-4o-mini": {"RaR-Implicit": 27.9, "Direct-Likert": 25.3},
             "Qwen-32B-Instruct": {"RaR-Implicit": 26.2, "Direct-Likert": 25.4},
             "Qwen-14B-Instruct": {"RaR-Implicit": 25.0, "Direct-Likert": 24.9},
             "Qwen-7B-Instruct": {"RaR-Implicit": 26.7, "Direct-Likert": 22.0}}

    def paper_rows(self) -> list[tuple[str, Any, str]]:
        return [(f"{judge} judge — {metric}", values[metric], "%") for judge, values in self.paper.items()
                for metric in self.metrics]
