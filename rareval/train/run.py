"""One training run: TRL's ``GRPOTrainer`` with a preset's reward, data and settings, in a run directory.

rareval does not write a trainer: :func:`grpo_config` maps a :class:`Preset` to TRL's
``GRPOConfig`` and :func:`build_trainer` builds ``GRPOTrainer`` with
:class:`~rareval.reward.RubricReward` as its reward. The run directory holds:

* ``config.json`` — the resolved preset, policy, judge, data and ``GRPOConfig``;
* ``split.json`` — the prompt ids trained on and held out (:mod:`rareval.train.data`);
* ``metrics.jsonl`` — one line per logged step: TRL's reward mean/std, completion
  length and step time, the reward's per-category pass rates and judge failure rate,
  the judge's calls, billed tokens and estimated cost, cumulative, and the share of
  prompts whose rollouts all scored alike (``groups/zero_advantage_share``);
* ``curves.png`` — reward and pass rates against steps, redrawn as the run goes;
* ``checkpoints/checkpoint-N`` — TRL checkpoints (``--resume`` continues from the last);
* ``verdicts.sqlite`` — the run's verdict cache: a resumed or repeated run pays no
  judge call twice;
* ``final/`` — the trained policy and tokenizer; ``status.json`` — how the run ended.

A judge budget (``max_judge_tokens``, ``max_judge_cost``) stops the run cleanly after
the step that crosses it, with a checkpoint; so does the reward-hacking monitor
(:mod:`rareval.train.hacking`) past its ``stop_drift`` (``monitor.json`` keeps its first check's gaps).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rareval.data.cache import write_text_atomic
from rareval.judge.options import ModelArgs
from rareval.train.hacking import MonitorConfig
from rareval.train.policy import load_policy_model, policy_source
from rareval.train.presets import Preset
from rareval.train.ranks import is_main


class RunConfig(BaseModel):
    """Everything a run needs besides the preset's settings; recorded in ``config.json``."""

    model_config = ConfigDict(frozen=True)

    preset: Preset
    policy: str = Field(description="Hugging Face id, local checkpoint directory, or local/NAME (an embedded "
                        "GGUF model converted to transformers).")
    judge: str = Field(description="Inspect model string of the judge (openai/gpt-4o-mini, vllm/..., local/qwen-1.5b, "
                       "scripted/keyword).")
    judge_args: ModelArgs = Field(default_factory=dict, description="Model arguments of the judge for Inspect's "
                                       "get_model (base_url, api_key, …): `--judge-arg KEY=VALUE`.")
    judge_config: dict[str, Any] = Field(default_factory=dict, description="JudgeConfig settings of the judge "
                                         "(reasoning_effort, max_tokens, …): `--judge-config KEY=VALUE`.")
    data: str = Field(description="Training rows: HealthBench JSONL (official format) or RaR rows "
                      "(rareval.train.sources).")
    rubrics: str | None = Field(None, description="Generated rubrics (JSONL of {prompt_id, rubric}) for "
                                "synthetic presets.")
    out: str = Field(description="Run directory.")
    num_processes: int = Field(1, ge=1, description="Training processes; must equal the WORLD_SIZE accelerate "
                               "launches (an accelerate config sets it).")
    bf16: bool | None = Field(None, description="bf16 mixed precision; None: on a GPU that supports it (an "
                              "accelerate config sets it).")
    grpo_settings: dict[str, Any] = Field(default_factory=dict, description="TRL GRPOConfig fields set as given, "
                                          "over what the preset resolves to (`--set vllm_gpu_memory_utilization=0.3`).")
    shard_policy: bool = Field(False, description="Shard the policy's parameters across the ranks with FSDP2 as "
                               "transformers applies it at load (from_pretrained(distributed_config={'fsdp_size': "
                               "N})); runs on CPU ranks (gloo) and GPUs. Checkpoints then hold the model only "
                               "(transformers keeps no optimiser state for it), so such a run cannot be resumed.")
    use_vllm: bool = Field(False, description="Generate rollouts with TRL's vLLM integration (needs a GPU and [gpu]).")
    vllm_mode: str = Field("colocate", description="'colocate' (in-process) or 'server' (`trl vllm-serve`).")
    max_judge_tokens: int | None = Field(None, ge=1, description="Stop after the step whose judge billed tokens "
                                         "cross this budget.")
    max_judge_cost: float | None = Field(None, gt=0, description="Stop after the step whose estimated judge cost "
                                         "(USD) crosses this budget; needs judge_price.")
    judge_price: float = Field(0.0, ge=0, description="USD per million billed judge tokens (0: a local judge).")
    max_judge_failure_rate: float = Field(0.5, gt=0, le=1, description="Stop, with a checkpoint and the judge's "
                                          "error, once this share of the judge's questions abstained over the "
                                          "last judge_failure_window reward calls (a broken judge trains nothing).")
    judge_failure_window: int = Field(3, ge=1, description="Reward calls the judge-failure rate is taken over.")
    screen_zero_advantage: bool = Field(False, description="Leave out, on later visits, each prompt whose "
                                        "rollouts all scored alike (zero advantage; rareval.train.screening).")
    skip_bad_rows: bool = Field(False, description="Leave malformed data rows out, counted in split.json, instead "
                                "of stopping at the first with an error naming its line and field.")
    monitor: MonitorConfig | None = Field(None, description="Reward-hacking monitor (a gold and/or a rubric-free "
                                          "judge on held-out prompts); None: off.")

    @field_validator("judge")
    @classmethod
    def _known_judge(cls, judge: str) -> str:
        from rareval.models.names import check_model_name

        return check_model_name(judge)

    @field_validator("judge_config")
    @classmethod
    def _valid_judge_config(cls, settings: dict[str, Any]) -> dict[str, Any]:
        from rareval.judge.config import judge_config

        judge_config(settings)
        return settings

    @field_validator("policy")
    @classmethod
    def _known_local_policy(cls, policy: str) -> str:
        from rareval.models.names import check_model_name

        return check_model_name(policy) if policy.startswith("local/") else policy


def grpo_config(run: RunConfig) -> Any:
    """The preset's settings as TRL's ``GRPOConfig`` (checked: batch sizes divide, as TRL needs).

    Each process's share of the effective batch is split into the largest per-device batch, at most
    ``per_device_batch``, that divides it; gradient accumulation makes up the rest. A per-device batch or an
    accumulation given with ``--set`` keeps the step's batch: the other is derived (:func:`batch_split`)."""
    import torch
    from trl import GRPOConfig

    h = run.preset.hyper
    completions = h.completions_per_step
    if completions % run.num_processes:
        raise ValueError(f"{completions} completions a step ({h.effective_batch} {h.batch_unit}) is not a multiple "
                         f"of {run.num_processes} process(es); set effective_batch or the number of processes")
    share = completions // run.num_processes  # completions per process per optimiser step
    per_device, accumulation = batch_split(share, h.per_device_batch, run.grpo_settings)
    if completions % h.num_generations:
        raise ValueError(f"effective batch {h.effective_batch} completions must be a multiple of num_generations "
                         f"{h.num_generations} (whole groups of rollouts per step)")
    gpu = torch.cuda.is_available()
    extra: dict[str, Any] = {}
    if run.use_vllm:
        extra = dict(use_vllm=True, vllm_mode=run.vllm_mode,
                     vllm_max_model_length=h.max_completion_length + h.max_prompt_tokens)
    settings = dict(
        output_dir=str(Path(run.out) / "checkpoints"), num_generations=h.num_generations,
        per_device_train_batch_size=per_device, gradient_accumulation_steps=accumulation,
        generation_batch_size=completions,  # one generation batch per optimiser step, on any world size
        temperature=h.temperature, learning_rate=h.learning_rate, lr_scheduler_type=h.lr_scheduler_type,
        warmup_steps=h.warmup_ratio, max_steps=h.max_steps, max_completion_length=h.max_completion_length,
        beta=h.beta, loss_type=h.loss_type, seed=h.seed, save_strategy="steps", save_steps=h.save_steps,
        logging_steps=h.logging_steps, report_to="none", use_cpu=not gpu,
        bf16=run.bf16 if run.bf16 is not None else gpu and torch.cuda.is_bf16_supported(),
        activation_checkpointing=gpu, disable_tqdm=False, **extra)
    if run.shard_policy:  # TRL loads the policy with these (build_trainer passes it by name)
        settings.update(model_init_kwargs={"distributed_config": {"fsdp_size": run.num_processes}},
                        save_only_model=True)
    if "steps_per_generation" in run.grpo_settings:  # TRL takes one of the two; the one given wins
        del settings["generation_batch_size"]
    given = dict(run.grpo_settings)
    if run.shard_policy and isinstance(given.get("model_init_kwargs"), dict):  # the user's, with the sharding
        given["model_init_kwargs"] = {**given["model_init_kwargs"], **settings["model_init_kwargs"]}
    return GRPOConfig(**{**settings, **given})


def refuse_untried(run: RunConfig, accelerate_config: str | None = None) -> None:
    """Refuse, before anything loads, a combination that has not been run: the reward-hacking monitor under
    DeepSpeed or accelerate's FSDP (not installed / not run on CPU where the tests run; the monitor's check is
    run under DDP and under ``--shard-policy``), and ``--shard-policy`` on one process, beside another sharding
    or with vLLM rollouts.
    ``accelerate_config``: the shipped config the run is sized for; a launched rank is known by the environment
    ``accelerate launch`` sets (``ACCELERATE_USE_DEEPSPEED``, ``ACCELERATE_USE_FSDP``) or by ``--set``."""
    from rareval.train.launch import DEEPSPEED_CONFIGS

    def env(name: str) -> bool:
        return os.environ.get(name, "false").lower() == "true"
    deepspeed = accelerate_config in DEEPSPEED_CONFIGS or env("ACCELERATE_USE_DEEPSPEED") or run.grpo_settings.get(
        "deepspeed")
    fsdp = env("ACCELERATE_USE_FSDP") or run.grpo_settings.get("fsdp")
    other = "DeepSpeed" if deepspeed else "accelerate's FSDP" if fsdp else None
    if run.monitor is not None and other:
        raise ValueError(f"{run.monitor.flag}: the reward-hacking monitor is not run under {other}; shard the policy "
                         "with --shard-policy (FSDP2 as transformers loads it) or use --accelerate-config ddp")
    if run.shard_policy and other:
        raise ValueError(f"--shard-policy shards the policy itself: drop {other} (launch with --accelerate-config ddp)")
    if run.shard_policy and run.use_vllm:
        raise ValueError("--shard-policy with --use-vllm has not been run (vLLM loads the weights TRL syncs to it "
                         "whole); use one or the other")
    if run.num_processes > 1 and not os.environ.get("VLLM_BASE_URL"):
        judges = [("--judge", run.judge, run.judge_args)]
        if run.monitor is not None:
            judges += [("--gold-judge", run.monitor.gold_judge, run.monitor.gold_args),
                       ("--rubric-free-judge", run.monitor.rubric_free_judge, run.monitor.rubric_free_args)]
        for flag, model, args in judges:
            if model and model.startswith("vllm/") and not args.get("base_url"):
                raise ValueError(f"{flag} {model} without a server would start a vLLM server on each of the "
                                 f"{run.num_processes} ranks: serve it once (`vllm serve`) and pass {flag}-arg "
                                 "base_url=http://HOST:PORT/v1 (or set VLLM_BASE_URL)")
    if run.shard_policy and run.num_processes < 2:
        raise ValueError("--shard-policy shards the policy across ranks: pass --num-processes N (N >= 2) and start "
                         "N ranks (--print-launch)")


def check_calibrations(run: RunConfig) -> None:
    """Refuse, before anything loads, a ``--judge-calibration`` (or the gold / rubric-free judge's) fitted for
    another judge (:class:`rareval.judge.calibration.CalibrationMismatch`, one line naming the file and both
    judges), rather than at the first reward call, after the policy has loaded."""
    from rareval.judge.calibration import read_calibration
    from rareval.judge.config import judge_config

    judges = [(run.judge, run.judge_config)]
    if run.monitor is not None:
        judges += [(run.monitor.gold_judge, run.monitor.gold_config),
                   (run.monitor.rubric_free_judge, run.monitor.rubric_free_config)]
    for model, settings in judges:
        config = judge_config(settings) if model else None
        if config is not None and config.calibration is not None:
            read_calibration(config.calibration, model, config.calibration_any_judge)


#: TRL's batch settings that ``--set`` may give; :func:`batch_split` derives the other from the preset's batch.
BATCH_FIELDS = ("per_device_train_batch_size", "gradient_accumulation_steps")


def batch_split(share: int, per_device_max: int, grpo_settings: dict[str, Any]) -> tuple[int, int]:
    """``(per_device_train_batch_size, gradient_accumulation_steps)`` whose product is ``share``, a process's
    completions per optimiser step. Either may come from ``--set``; the other is derived from it, so the
    optimiser step keeps the preset's batch (TRL alone would keep the preset's other one and change the step).
    Neither given: the largest per-device batch, at most ``per_device_max``, that divides ``share``."""
    per_device, accumulation = (grpo_settings.get(k) for k in BATCH_FIELDS)
    given = " ".join(f"{k}={grpo_settings[k]}" for k in BATCH_FIELDS if k in grpo_settings)
    if per_device is None and accumulation is None:
        per_device = max(d for d in range(1, min(per_device_max, share) + 1) if share % d == 0)
    if any(part is not None and (int(part) < 1 or share % int(part)) for part in (per_device, accumulation)):
        raise ValueError(f"--set {given} does not divide the {share} completions a process takes each step; "
                         f"use a divisor of {share} (or change effective_batch)")
    per_device = int(per_device or share // int(accumulation))
    accumulation = int(accumulation or share // per_device)
    if per_device * accumulation != share:
        raise ValueError(f"--set {given} makes {per_device * accumulation} completions a process a step, not the "
                         f"preset's {share}; set one of the two (the other follows) or change effective_batch")
    return per_device, accumulation


def step_batch(config: Any, processes: int) -> dict[str, float]:
    """One optimiser step as TRL runs ``config`` on ``processes`` ranks (what ``--dry-run`` prints beside it):
    its completions, their groups (prompts, each with ``num_generations`` rollouts), and how many optimiser
    steps each generation batch serves (1: every step trains on fresh rollouts)."""
    completions = config.per_device_train_batch_size * config.gradient_accumulation_steps * processes
    # TRL's generation batch is steps_per_generation steps' worth on any world size, so its reuse is their ratio
    groups = completions / config.num_generations
    reuse = config.steps_per_generation / config.gradient_accumulation_steps
    return {"completions": completions, "groups": int(groups) if groups.is_integer() else groups,
            "optimiser_steps_per_generation": int(reuse) if reuse.is_integer() else reuse}


def grpo_fields() -> set[str]:
    """The settings of TRL's ``GRPOConfig`` (what ``--set`` reaches past the preset's)."""
    import dataclasses

    from trl import GRPOConfig

    return {f.name for f in dataclasses.fields(GRPOConfig)}


def split_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--set`` settings as ``(preset's, GRPOConfig's)``: a key the preset does not know goes to TRL's
    ``GRPOConfig`` when it is one of its fields (``vllm_gpu_memory_utilization``, ``vllm_tensor_parallel_size``,
    ``vllm_server_host``, ``vllm_server_port``, …); anything else is left to the preset, which names it."""
    from rareval.train.presets import Hyperparameters

    ours = set(Hyperparameters.model_fields) | set(Preset.model_fields)
    unknown = {k: v for k, v in settings.items() if k not in ours}
    trl = {k: v for k, v in unknown.items() if k in grpo_fields()} if unknown else {}
    return {k: v for k, v in settings.items() if k not in trl}, trl


def build_trainer(run: RunConfig, records: list[dict[str, Any]], resume: bool = False,
                  held_out: list[dict[str, Any]] | None = None, policy: tuple[Any, Any] | None = None) -> Any:
    """TRL's ``GRPOTrainer`` for ``run``, with the rubric reward and the run-directory callback
    (and the reward-hacking monitor on ``held_out`` records when ``run.monitor`` is set). ``policy``: the
    ``(model, tokenizer)`` already loaded (:func:`policy_with_tokenizer`); default: loaded here."""
    from datasets import Dataset
    from trl import GRPOTrainer

    from rareval.judge.cache import VerdictCache
    from rareval.judge import Judge
    from rareval.judge.config import judge_config
    from rareval.judge.health import JudgeHealth
    from rareval.reward import RubricReward
    from rareval.train.monitor import RunLog

    out = Path(run.out)
    judge = Judge(run.judge, model_args=run.judge_args,
                  config=judge_config(run.judge_config, prompt_variant=run.preset.judge_prompts,
                                      strip_grader_text=run.preset.strip_grader_text),
                  cache=VerdictCache(out / "verdicts.sqlite"))
    health = JudgeHealth(window=run.judge_failure_window, max_failure_rate=run.max_judge_failure_rate)
    reward = RubricReward(run.preset.strategy, judge=judge, hacking_defence=run.preset.hacking_defence,
                          health=health, **run.preset.strategy_options)
    model, tokenizer = policy or load_policy_model(run.policy)
    if run.shard_policy:  # by name: TRL loads it with grpo_config's distributed_config, sharded as it loads
        model = policy_source(run.policy)
    columns = ["prompt", "rubric", "reference", "prompt_id"]
    dataset = Dataset.from_list([{k: r[k] for k in columns} for r in records])
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=grpo_config(run), train_dataset=dataset,
                          processing_class=tokenizer)
    monitor = None
    if run.monitor is not None:  # on every rank: each answers and scores its share of the held-out prompts
        from rareval.train.hacking import HackingMonitor

        monitor = HackingMonitor(run.monitor, reward, held_out or [], run.preset.hyper.max_completion_length,
                                 trainer=trainer, out=out, resume=resume)
    log = RunLog(out, reward, run, resume=resume, monitor=monitor, loop=getattr(trainer, "async_loop", None))
    if run.screen_zero_advantage:
        from rareval.train.screening import attach

        log.screen = attach(trainer, dataset["prompt"])
    trainer.add_callback(log)
    return trainer


def train(run: RunConfig, resume: bool = False) -> dict[str, Any]:
    """Run (or resume) training; returns the run's final status (also written to ``status.json``)."""
    from rareval.train.data import prompt_counter, split_record, training_rows

    out = Path(run.out)
    refuse_untried(run)
    check_calibrations(run)
    import torch

    if run.grpo_settings.get("fsdp") and not torch.cuda.is_available():
        raise ValueError("--set fsdp: accelerate runs FSDP on GPUs only (on CPU ranks it would train unsharded); "
                         "shard the policy with --shard-policy")
    if resume and run.shard_policy:
        raise ValueError("--resume: a policy sharded at load (--shard-policy) keeps no optimiser state in its "
                         "checkpoints (transformers saves the model only), so its run cannot be resumed")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world != run.num_processes:
        raise ValueError(f"launched on {world} process(es) but the batch is sized for {run.num_processes}; "
                         f"pass --num-processes {world}")
    if resume and not any((out / "checkpoints").glob("checkpoint-*")):
        raise FileNotFoundError(f"{out}: no checkpoint to resume from (checkpoints/checkpoint-N)")
    if not resume and (out / "metrics.jsonl").exists():
        raise FileExistsError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    loaded: list[tuple[Any, Any]] = []  # the policy, loaded when the first prompt is counted (bad data fails first)

    def count_tokens(messages: list[dict[str, str]]) -> int:
        if not loaded:
            loaded.append(policy_with_tokenizer(run.policy))
        return prompt_counter(loaded[0][1])(messages)
    records, held_out, skipped, held_out_records, rule = training_rows(
        run.preset, run.data, run.rubrics, skip_bad_rows=run.skip_bad_rows, count_tokens=count_tokens)
    if run.monitor is not None and not held_out_records:
        raise ValueError(f"{run.monitor.flag}: none of the {len(held_out)} held-out prompts can be scored by the "
                         f"training reward of {run.preset.name!r} (a generated-rubric preset needs rubrics for "
                         "held-out prompts too: `rareval rubrics generate --data` on a file that holds them)")
    out.mkdir(parents=True, exist_ok=True)
    trainer = build_trainer(run, records, resume=resume, held_out=held_out_records,
                            policy=loaded[0] if loaded else None)
    main = is_main()  # every rank trains; only the main process writes the run directory
    if main:
        _write_json(out / "config.json", {"run": run.model_dump(mode="json"), "grpo_config": trainer.args.to_dict(),
                                          "rows": len(records), "world_size": world})
        _write_json(out / "split.json", split_record(run.data, records, held_out, skipped, rule))
    start = time.time()
    trainer.train(resume_from_checkpoint=True if resume else None)
    trainer.save_model(str(out / "final"))
    summary = next((c.summary() for c in trainer.callback_handler.callbacks if hasattr(c, "summary")), {})
    ended = ended_by(trainer.state.global_step, trainer.args.max_steps, summary.get("stopped_by"))
    status = {"ended": ended, "step": trainer.state.global_step, "seconds": round(time.time() - start, 1),
              "world_size": world, **summary}
    if main:
        _write_json(out / "status.json", status)
    return status


def ended_by(step: int, max_steps: int, stopped_by: str | None) -> str:
    """``status.json``'s ``ended``: ``max_steps``, or what stopped the run early — ``judge_failing``,
    ``reward_hacking`` (the monitor's gap drifted past ``--monitor-stop``) or ``budget`` (the judge's)."""
    from rareval.train.hacking import REWARD_HACKING
    from rareval.train.monitor import JUDGE_FAILING

    if step >= max_steps:
        return "max_steps"
    reason = str(stopped_by)
    return ("judge_failing" if reason.startswith(JUDGE_FAILING) else
            "reward_hacking" if reason.startswith(REWARD_HACKING) else "budget")


def policy_with_tokenizer(policy: str) -> tuple[Any, Any]:
    """``(model_or_id, tokenizer)``: :func:`~rareval.train.policy.load_policy_model` with the tokenizer of a Hub
    id loaded too, so prompt budgets are counted as the policy reads them."""
    model, tokenizer = load_policy_model(policy)
    if tokenizer is None:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(policy, padding_side="left")
        except OSError as e:  # not on the Hub, or the Hub unreachable
            raise ValueError(f"policy {policy!r}: its tokenizer cannot be loaded ({str(e).splitlines()[0][:200]}); "
                             "pass a checkpoint folder, local/NAME, or a Hub id this machine can reach") from None
    return model, tokenizer


def _write_json(path: Path, value: Any) -> None:
    write_text_atomic(path, json.dumps(value, indent=1, default=str))
