"""RaR v2 Table 10 — GRPO hyper-parameters (SPEC §1.6, §2).

No computation: the paper's values beside :class:`rareval.train.presets.Hyperparameters`
(the ``paper`` size every preset trains with by default) and the ``cpu`` size of
:data:`rareval.train.presets.SIZES` that the embedded scale trains with. Runs at any scale.
"""

from __future__ import annotations

from typing import Any

from rareval.experiments.base import Artifact, ReproduceOptions, compare, provenance, register
from rareval.experiments.plan import Plan, Step

#: Table 10 as printed: (paper's name, value, our Hyperparameters field).
PAPER_TABLE10: list[tuple[str, Any, str]] = [
    ("num_rollouts_per_prompt", 16, "num_generations"),
    ("batch_size (effective)", 96, "effective_batch"),
    ("sampling_temperature", 1.0, "temperature"),
    ("warmup_ratio", 0.1, "warmup_ratio"),
    ("learning_rate", 5.0e-06, "learning_rate"),
    ("lr_scheduler_type", "constant_with_warmup", "lr_scheduler_type"),
    ("max_length", 3584, "max_completion_length"),
    ("num_train_steps", 300, "max_steps"),
]


@register
class Table10(Artifact):
    key = "table10"
    title = "Table 10 — GRPO hyper-parameters"
    paper = {name: value for name, value, _ in PAPER_TABLE10}
    needs = "nothing (configuration only)"
    runnable = ("embedded", "paper")

    def paper_rows(self):
        return [(name, value, "") for name, value, _ in PAPER_TABLE10]

    def plan(self, options: ReproduceOptions) -> Plan:
        return Plan(key=self.key, scale=options.scale, runnable=True, steps=[
            Step(kind="none", what="read rareval.train.presets.Hyperparameters() and SIZES['cpu']")])

    def compute(self, options: ReproduceOptions) -> dict[str, Any]:
        from rareval.train.presets import SIZES, Hyperparameters

        ours, cpu = Hyperparameters(), Hyperparameters(**SIZES["cpu"])
        rows = []
        for name, value, field in PAPER_TABLE10:
            row = compare(f"{name} (`{field}`)", value, getattr(ours, field))
            rows.append(row | {"cpu size (embedded)": getattr(cpu, field)})
        return {
            "comparison": rows,
            "extra_columns": ["cpu size (embedded)"],
            "item_header": "hyper-parameter (our field)",
            "ours": ours.model_dump(), "cpu": cpu.model_dump(), "paper": self.paper,
            "notes": [
                "'ours' is rareval.train.presets.Hyperparameters(), the `paper` size of every preset "
                "(`rareval train --preset NAME`); the last column is the `cpu` size (`NAME@cpu`) that the "
                "embedded scale trains with (SmolLM2-135M on 2 cores).",
                "effective batch 96 is read as completions (6 prompts × 16 rollouts); max_length 3584 as the "
                "completion budget (the paper does not say; SPEC §1.6 [UNCERTAIN]).",
                "Not given by the paper, chosen here: KL beta 0, TRL loss 'dapo', seed 0 (see presets.py).",
            ],
            "provenance": provenance(seed=ours.seed, source="rareval/train/presets.py"),
        }
