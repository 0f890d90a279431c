"""RaR v2 Figure 2 — main results: HealthBench overall and GPQA-Diamond (SPEC §1.7, §2).

Qwen2.5-7B trained with each reward (Direct-Likert, Reference-Likert, RaR-Predefined,
RaR-Explicit, RaR-Implicit) beside the untrained base and Instruct models; HealthBench
graded by gpt-4o-mini, GPQA-Diamond the mean of 10 runs with a 95 % CI. Declared with
the paper's overall numbers (the per-axis bars and CI widths are image-only); needs
the training runs and both evaluations, so not runnable yet. Rendered as two bar
panels: the paper's bars, and ours beside them once they exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rareval.experiments.base import register
from rareval.experiments.plan import Step
from rareval.experiments.render import IMAGE_ONLY, PAPER, pyplot, save_figure, write_markdown
from rareval.experiments.training import Method, TrainingArtifact

HB, GPQA = "HealthBench overall", "GPQA-Diamond mean acc"
GPQA_RUNS, GPQA_QUESTIONS = 10, 198


@register
class Figure2(TrainingArtifact):
    key, title, kind = "figure2", "Figure 2 — main results (Qwen2.5-7B; HealthBench and GPQA-Diamond)", "figure"
    metrics = (HB, GPQA)
    evaluation = "HealthBench and GPQA-Diamond (10 runs)"
    eval_prompts = 5_000  # "HealthBench": full or the held-out 1k is [UNCERTAIN] (SPEC §1.7)
    methods = (Method("Qwen2.5-7B (base)", None), Method("Qwen2.5-7B-Instruct", None),
               Method("Direct-Likert", "direct-likert"), Method("Reference-Likert", "reference-likert"),
               Method("RaR-Predefined", "rar-predefined"), Method("RaR-Explicit", "rar-explicit",
                                                                  generator="openai/o3-mini"),
               Method("RaR-Implicit", "rar-implicit", generator="openai/o3-mini"))
    paper = {"Qwen2.5-7B (base)": {HB: 7.7, GPQA: 31.7}, "Qwen2.5-7B-Instruct": {HB: 22.7, GPQA: 35.0},
             "Direct-Likert": {HB: 25.5, GPQA: 34.8}, "Reference-Likert": {HB: 28.9, GPQA: 36.5},
             "RaR-Predefined": {HB: 12.5, GPQA: 31.7}, "RaR-Explicit": {HB: 29.7, GPQA: 36.9},
             "RaR-Implicit": {HB: 31.2, GPQA: 37.6}}
    paper_image_only = ("per-axis HealthBench bars (communication, instruction following, accuracy, context "
                        "awareness, completeness) and the GPQA CI widths")

    def eval_steps(self, m: Method, paper: bool) -> list[Step]:
        gpqa = Step(kind="eval", what=f"{m.label}: GPQA-Diamond, {GPQA_RUNS} runs × {GPQA_QUESTIONS} questions "
                    f"(gpt-4o verifier only where \\boxed{{}} cannot be parsed)",
                    items=GPQA_RUNS * GPQA_QUESTIONS if paper else 0)
        return super().eval_steps(m, paper) + [gpqa]

    def paper_only(self) -> dict[str, Any]:
        out = super().paper_only()
        out["notes"].append(f"The paper gives {IMAGE_ONLY} for the {self.paper_image_only}.")
        return out

    def render(self, results: dict[str, Any], out_dir: str | Path) -> list[Path]:
        """Markdown comparison, and two bar panels: paper (solid) and ours (hatched, where present)."""
        plt = pyplot()
        ours = {r["item"]: r["ours"] for r in results.get("comparison", [])}
        labels = [m.label for m in self.methods]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, metric in zip(axes, self.metrics):
            x = range(len(labels))
            ax.bar([i - 0.2 for i in x], [self.paper[lab][metric] for lab in labels], 0.4, label="paper")
            mine = [ours.get(f"{lab} — {metric}") for lab in labels]
            ax.bar([i + 0.2 for i in x], [v or 0 for v in mine], 0.4, hatch="//", fill=False, label="ours")
            for i, v in enumerate(mine):
                if v is None:
                    ax.text(i + 0.2, 0.5, "not run", rotation=90, ha="center", va="bottom", fontsize=7)
            ax.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=8)
            ax.set_ylabel(f"{metric} (%)")
            ax.set_title(metric)
        axes[0].legend()
        fig.suptitle(f"{self.title}\nscale: {results.get('scale')}; paper = {PAPER} (gpt-4o-mini grader)",
                     fontsize=9)
        fig.tight_layout(rect=(0, 0.05, 1, 0.95))
        fig.text(0.01, 0.01, f"Paper gives {IMAGE_ONLY} for the {self.paper_image_only}.", fontsize=7)
        return [write_markdown(results, Path(out_dir) / f"{self.key}.md"), *save_figure(fig, out_dir, self.key)]
