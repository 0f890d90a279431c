"""Training presets: every GRPO variant of the RaR paper as a typed config.

A :class:`Preset` names the reward (a strategy of :mod:`rareval.strategies`), where its
rubrics come from, what the rubric shows (Table 2's ablations) and the GRPO
hyper-parameters. ``Hyperparameters()`` holds the paper's Table 10 (RaR v2,
SPEC §1.6); :meth:`Preset.scaled` shrinks the same variant to a size a machine can run
(``cpu``: a 2-core CPU in tens of minutes). Choices the paper leaves open, and how
they are made here:

* *effective batch 96* counts **prompts**: 96 prompts × 16 rollouts = 1,536 completions per
  optimiser step (``batch_unit="prompts"``). The paper's own numbers decide it: 300 steps of
  96 prompts visit 28,800 prompts, 1.6 epochs of RaR-Medicine's 17,926 training rows (1.57 of
  RaR-Science's 18,333), while 96 completions (6 prompts a step) would visit 1,800 prompts, a
  tenth of a dataset built for the run. RL trainers of the paper's kind (verl, OpenRLHF) count
  their train batch in prompts too. ``batch_unit="completions"`` (``--batch-unit``) is the other
  reading; TRL counts completions, so :attr:`Hyperparameters.completions_per_step` converts;
* *max_length 3584* is taken as the completion budget (``max_completion_length``;
  vLLM's context is set to it plus the prompt budget ``max_prompt_tokens``);
* *KL*: ``beta = 0`` (TRL's default, no reference model); loss ``dapo`` (TRL's default);
* *Pitfalls* of RaR-Explicit: polarity (a), "avoided" (the paper's footnote 3).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

RubricSource = Literal["physician", "synthetic", "synthetic_noref", "none"]
RubricView = Literal["all", "essential_only", "no_category_labels", "no_pitfalls"]
Size = Literal["paper", "cpu", "tiny"]


class Hyperparameters(BaseModel):
    """GRPO settings. Defaults: RaR v2 Table 10 (SPEC §1.6)."""

    model_config = ConfigDict(frozen=True)

    num_generations: int = Field(16, ge=2, description="Rollouts per prompt (Table 10: 16).")
    effective_batch: int = Field(96, ge=1, description="Batch per optimiser step over all processes, counted in "
                                 "batch_unit (Table 10: 96).")
    batch_unit: Literal["prompts", "completions"] = Field(
        "prompts", description="What effective_batch counts: 'prompts' (each with num_generations rollouts; "
        "Table 10 read this way, see the module docstring) or 'completions' (TRL's unit).")
    per_device_batch: int = Field(16, ge=1, description="Completions per device per forward pass; gradient "
                                  "accumulation makes up the rest of the effective batch.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature of the rollouts (Table 10: 1.0).")
    learning_rate: float = Field(5e-6, ge=0, description="Table 10: 5e-6.")
    lr_scheduler_type: str = Field("constant_with_warmup", description="Table 10: constant with warm-up.")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of the steps spent warming up (Table 10: 0.1).")
    max_steps: int = Field(300, ge=1, description="Optimiser steps (Table 10: 300).")
    max_completion_length: int = Field(3584, ge=1, description="Tokens per rollout (Table 10's max_length 3584, "
                                       "read as the completion budget; the paper does not say).")
    max_prompt_tokens: int = Field(1024, ge=1, description="Prompt budget added to the completion budget for "
                                   "vLLM's context length.")
    beta: float = Field(0.0, ge=0, description="KL coefficient (not given by the paper; 0 loads no reference model).")
    loss_type: str = Field("dapo", description="TRL loss (not given by the paper; TRL's default).")
    seed: int = Field(0, description="Seed of sampling, shuffling and initialisation.")
    save_steps: int = Field(50, ge=1, description="Checkpoint every this many steps (and at the end).")
    logging_steps: int = Field(1, ge=1, description="Metrics every this many steps.")

    @property
    def completions_per_step(self) -> int:
        """Rollouts per optimiser step, over all processes (what TRL's batch sizes count)."""
        return self.effective_batch * (self.num_generations if self.batch_unit == "prompts" else 1)

    @property
    def prompts_per_step(self) -> float:
        """Prompts per optimiser step, over all processes."""
        return self.completions_per_step / self.num_generations


#: How :meth:`Preset.scaled` shrinks a variant. ``cpu``: SmolLM2-135M on 2 cores, ~1 min a step with
#: a local judge; ``tiny``: a randomly initialised test model and a scripted judge, seconds a step.
SIZES: dict[str, dict[str, Any]] = {
    "paper": {},
    "cpu": dict(num_generations=4, effective_batch=8, batch_unit="completions", per_device_batch=8, max_steps=30,
                max_completion_length=96, max_prompt_tokens=512, learning_rate=2e-5, warmup_ratio=0.1, save_steps=10),
    "tiny": dict(num_generations=4, effective_batch=8, batch_unit="completions", per_device_batch=8, max_steps=6,
                 max_completion_length=16, max_prompt_tokens=64, learning_rate=1e-3, lr_scheduler_type="constant", warmup_ratio=0.0,
                 save_steps=10),
}


class Preset(BaseModel):
    """One training variant: the reward, its rubrics and the GRPO settings."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Preset name, as given to `rareval train --preset`.")
    description: str = Field(description="What the variant is, in the paper's words.")
    paper: str = Field(description="Where the paper reports it (RaR v2 numbering).")
    strategy: str = Field(description="Reward strategy (rareval.strategies).")
    rubric_source: RubricSource = Field(description="physician: HealthBench's rubrics; synthetic / synthetic_noref: "
                                        "generated with / without the reference answer (`rareval rubrics "
                                        "generate`); none: the reward needs no instance rubric.")
    rubric_view: RubricView = Field("all", description="Table 2's ablations of what the rubric shows.")
    strategy_options: dict[str, Any] = Field(default_factory=dict, description="Options passed to the strategy.")
    size: Size = Field("paper", description="The scale the hyper-parameters are for.")
    judge_prompts: Literal["default", "hardened"] = Field(
        "default", description="hardened: judge prompts that fence the response as data (RELIABILITY.md).")
    hacking_defence: bool = Field(False, description="Also ask the reward-hacking defence criterion and veto a "
                                  "completion that tries to manipulate the judge (rareval.reward.RubricReward).")
    strip_grader_text: bool = Field(
        False, description="Remove text addressed to the grader from each completion before the judge reads it "
        "(JudgeConfig.strip_grader_text). On for rar-explicit: under RaR-Explicit it cut every manipulation probe's "
        "lift to <= 0.05 with honest answers judged byte-identical, at no extra call (RELIABILITY.md §3); "
        "--set strip_grader_text=false (or --judge-config strip_grader_text=false) turns it off.")
    hyper: Hyperparameters = Field(default_factory=Hyperparameters)

    def scaled(self, size: Size) -> "Preset":
        """The same variant with :data:`SIZES`' hyper-parameters for ``size``."""
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
        return self.model_copy(update={"size": size, "hyper": Hyperparameters(**SIZES[size])})

    def with_overrides(self, overrides: dict[str, Any]) -> "Preset":
        """``--set key=value``: a hyper-parameter (``learning_rate=1e-5``) or a preset field
        (``strategy=veto``); values are validated by the config's types."""
        hyper = {k: v for k, v in overrides.items() if k in Hyperparameters.model_fields}
        rest = {k: v for k, v in overrides.items() if k not in hyper}
        unknown = sorted(set(rest) - set(Preset.model_fields) - {"hyper"})
        if unknown:
            known = sorted(set(Hyperparameters.model_fields) | set(Preset.model_fields) - {"hyper", "name"})
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
        data = self.model_dump()
        data.update(rest)
        data["hyper"] = {**data["hyper"], **hyper}
        try:
            return Preset.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            key = str(err["loc"][-1]) if err["loc"] else "?"
            message = err["msg"].removeprefix("Value error, ")
            raise ValueError(f"--set {key}={overrides.get(key, '')}: {message}") from None

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, name: str) -> str:
        from rareval.strategies import STRATEGIES

        if name not in STRATEGIES:
            raise ValueError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}")
        return name


def _preset(name, description, paper, strategy, rubric_source, rubric_view="all", *, strip_grader_text=False,
            **options) -> Preset:
    return Preset(name=name, description=description, paper=paper, strategy=strategy, rubric_source=rubric_source,
                  rubric_view=rubric_view, strip_grader_text=strip_grader_text, strategy_options=options)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    _preset("direct-likert", "Direct-Likert: the judge rates prompt + response 1-10, no rubric",
            "Figure 2; Table 11", "direct_likert", "none"),
    _preset("reference-likert", "Reference-Likert: 1-10 rating against the reference answer",
            "Figure 2; Table 1", "reference_likert", "none"),
    _preset("rar-predefined", "RaR-Predefined: explicit aggregation over 4 generic criteria",
            "Figure 2", "predefined", "none"),
    _preset("rar-explicit", "RaR-Explicit: a verdict per criterion, category weights (Eq. 1)",
            "Figure 2", "explicit", "synthetic", pitfall_polarity="avoided", strip_grader_text=True),
    _preset("rar-implicit", "RaR-Implicit: one 1-10 rating given the whole rubric (Eq. 2)",
            "Figure 2; Table 1 (Synthetic); Table 11", "implicit", "synthetic"),
    _preset("rar-implicit-synthetic-noref", "RaR-Implicit on rubrics generated without the reference answer",
            "Table 1; Table 3", "implicit", "synthetic_noref"),
    _preset("rar-implicit-human", "RaR-Implicit on HealthBench's physician-written rubrics",
            "Table 1", "implicit", "physician"),
    _preset("essential-only", "Table 2 ablation: only the Essential criteria", "Table 2",
            "implicit", "synthetic", "essential_only"),
    _preset("no-category-labels", "Table 2 ablation: criteria without category labels", "Table 2",
            "implicit", "synthetic", "no_category_labels"),
    _preset("no-pitfalls", "Table 2 ablation: no Pitfall criteria", "Table 2",
            "implicit", "synthetic", "no_pitfalls"),
]}


def get_preset(name: str, size: Size = "paper") -> Preset:
    """A preset by name, scaled to ``size``; a ``NAME@SIZE`` suffix picks the size too."""
    if "@" in name:
        name, size = name.split("@", 1)  # type: ignore[assignment]
    try:
        preset = PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)} (`rareval train --list`)") from None
    return preset.scaled(size) if size != "paper" else preset
