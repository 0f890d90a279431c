"""``rareval train``: every RaR variant from one command, on TRL's GRPOTrainer."""

from __future__ import annotations

import argparse
import json
import sys

from rareval.data.cache import DataUnavailable
from rareval.errors import command_errors
from rareval.judge.config import parse_settings
from rareval.judge.options import add_judge_options, judge_options
from rareval.train.launch import CONFIGS, launch_command, run_settings, torchrun_command

EPILOG = """examples:
  rareval train --list
  rareval train --preset rar-implicit-human --size cpu --policy local/smollm-135m --judge local/qwen-1.5b \\
      --data ../shared/data/healthbench/healthbench_offline_union.jsonl --out runs/implicit-human --dry-run
  rareval train --preset rar-explicit --rubrics rubrics.jsonl ... --estimate --judge-price 0.15
  rareval train --preset rar-explicit --policy Qwen/Qwen2.5-7B --judge openai/gpt-4o-mini \
      --data rar-medicine --out runs/x --estimate --judge-price 0.15   # paper scale, published statistics
  rareval train ... --out runs/implicit-human --resume          # continue from the last checkpoint
  rareval train ... --accelerate-config zero3 --print-launch     # the multi-GPU command line (8 GPUs)
  rareval train ... --num-processes 2 --print-launch             # 2 ranks on this machine (torchrun; CPU too)
  rareval train ... --num-processes 2 --shard-policy --print-launch  # the same, the policy sharded (FSDP2)
"""


def launch_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The ``rareval train`` arguments that give ``args`` again, less ``--print-launch``."""
    out: list[str] = []
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        skipped = ("help", "print_launch", "launcher")
        if not action.option_strings or action.dest in skipped or value == action.default:
            continue
        flag = action.option_strings[-1]
        if action.nargs == 0:
            out.append(flag)
        elif isinstance(value, list):
            out += [item for v in value for item in (flag, str(v))]
        else:
            out += [flag, str(value)]
    return out


def data_shape(preset, args: argparse.Namespace):
    """The sizes ``--estimate`` projects from: measured on ``--data``'s training rows, or, for ``rar-medicine`` /
    ``rar-science`` when their rows are not on this machine, the published statistics."""
    from rareval.train.data import training_rows
    from rareval.train.estimate import PAPER_DATA, shape_of

    try:
        records, held_out, skipped, *_ = training_rows(preset, args.data, args.rubrics,
                                                       skip_bad_rows=args.skip_bad_rows)
    except DataUnavailable as e:
        if args.data not in PAPER_DATA:
            raise
        print(f"{args.data} is not on this machine ({str(e).splitlines()[0]}); projecting from its published "
              "statistics", file=sys.stderr)
        return PAPER_DATA[args.data]
    return shape_of(records, f"{args.data} ({len(held_out)} held out, skipped {skipped or 'none'})")


@command_errors(KeyError, ValueError, FileNotFoundError, FileExistsError, DataUnavailable)
def cmd_train(args: argparse.Namespace) -> int:
    from rareval.train.presets import PRESETS, get_preset

    if args.list:
        width = max(map(len, PRESETS))
        for p in PRESETS.values():
            print(f"{p.name:<{width}}  {p.strategy:<16} rubrics: {p.rubric_source:<15} {p.paper:<28} {p.description}")
        print("\nsizes: paper (Table 10), cpu, tiny — `--size cpu` or NAME@cpu")
        return 0
    missing = [f"--{k}" for k in ("preset", "policy", "judge", "data", "out") if getattr(args, k) is None]
    if missing:
        raise ValueError(f"rareval train needs {', '.join(missing)} (or --list)")
    from rareval.train.hacking import MonitorConfig
    from rareval.train.run import (
        RunConfig,
        check_calibrations,
        grpo_config,
        refuse_untried,
        split_settings,
        step_batch,
    )

    launcher = args.launcher or ("accelerate" if args.accelerate_config else "torchrun")
    if args.print_launch and launcher == "accelerate" and not args.accelerate_config:
        raise ValueError(f"--print-launch --launcher accelerate needs --accelerate-config ({', '.join(CONFIGS)})")
    if args.print_launch and launcher == "torchrun" and not (args.num_processes or args.accelerate_config):
        raise ValueError("--print-launch --launcher torchrun needs --num-processes N (the ranks to start)")
    launched = run_settings(args.accelerate_config) if args.accelerate_config else {}
    settings, grpo_settings = split_settings(parse_settings(args.set, "--set value"))
    if args.batch_unit:
        settings["batch_unit"] = args.batch_unit
    preset = get_preset(args.preset, args.size).with_overrides(settings)
    judge_args, judge_settings = judge_options(args)
    gold_args, gold_settings = judge_options(args, "--gold-judge")
    free_args, free_settings = judge_options(args, "--rubric-free-judge")
    for flag, given in (("--gold-judge", gold_args or gold_settings),
                        ("--rubric-free-judge", free_args or free_settings)):
        if given and not getattr(args, flag[2:].replace("-", "_")):  # settings of a judge nobody asked for
            raise ValueError(f"{flag}-arg / {flag}-config / {flag}-calibration need {flag} MODEL")
    run = RunConfig(preset=preset, policy=args.policy, judge=args.judge, judge_args=judge_args,
                    judge_config=judge_settings, grpo_settings=grpo_settings, data=args.data, rubrics=args.rubrics,
                    out=args.out, num_processes=args.num_processes or launched.get("num_processes", 1),
                    bf16=launched.get("bf16"), use_vllm=args.use_vllm, shard_policy=args.shard_policy,
                    vllm_mode=args.vllm_mode, max_judge_tokens=args.max_judge_tokens,
                    max_judge_cost=args.max_judge_cost, judge_price=args.judge_price,
                    max_judge_failure_rate=args.max_judge_failure_rate,
                    judge_failure_window=args.judge_failure_window,
                    skip_bad_rows=args.skip_bad_rows, screen_zero_advantage=args.screen_zero_advantage,
                    monitor=MonitorConfig(gold_judge=args.gold_judge, gold_args=gold_args, gold_config=gold_settings,
                                          rubric_free_judge=args.rubric_free_judge, rubric_free_args=free_args,
                                          rubric_free_config=free_settings, every=args.monitor_every,
                                          rows=args.monitor_rows, warn_drift=args.monitor_warn,
                                          stop_drift=args.monitor_stop)
                    if args.gold_judge or args.rubric_free_judge else None)
    refuse_untried(run, args.accelerate_config)
    check_calibrations(run)
    if run.max_judge_cost is not None and not run.judge_price:
        raise ValueError("--max-judge-cost needs --judge-price (USD per million billed judge tokens)")
    if args.print_launch:
        grpo_config(run)  # fails here, not on every GPU, when the batch does not divide
        again = launch_args(args.train_parser, args)
        if launcher == "torchrun":
            if not args.num_processes:
                again += ["--num-processes", str(run.num_processes)]
            print(torchrun_command(again, run.num_processes))
            return 0
        import torch

        if not torch.cuda.is_available():
            print("note: without GPUs, accelerate launch starts one process; --launcher torchrun starts them all",
                  file=sys.stderr)
        print(launch_command(args.accelerate_config, again, args.num_processes))
        return 0
    if args.dry_run:
        config = grpo_config(run)
        print(json.dumps({"preset": preset.model_dump(mode="json"), "grpo_config": config.to_dict(),
                          "per_step": step_batch(config, run.num_processes)}, indent=1, default=str))
        return 0
    if args.estimate:
        from rareval.train.estimate import estimate, report

        shape = data_shape(preset, args)
        print(report(preset, estimate(preset, shape, args.judge_price), args.judge_price))
        return 0
    from rareval.train.run import train

    status = train(run, resume=args.resume)
    from rareval.train.ranks import is_main

    if is_main():  # one line for the run, not one per rank
        print(f"{args.out}: {status['ended']} at step {status['step']}; judge {status['judge/calls']:,} calls, "
              f"{status['judge/billed_tokens']:,} billed tokens" + (f"; stopped by {status['stopped_by']}"
                                                                    if status.get("stopped_by") else ""))
    return 1 if status["ended"] == "judge_failing" else 0


def add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train", help="train a RaR variant or baseline with GRPO (TRL)",
        description="Build TRL's GRPOTrainer with a preset's reward (rubric judge), data and Table 10 "
        "hyper-parameters, and run it in a run directory (config, split, metrics.jsonl, curves.png, "
        "checkpoints, verdict cache).", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="print the presets and exit")
    parser.add_argument("--preset", help="a preset name (see --list); NAME@SIZE picks the size")
    parser.add_argument("--size", choices=["paper", "cpu", "tiny"], default="paper",
                        help="paper: Table 10; cpu: a 2-core CPU run; tiny: a test-sized run")
    parser.add_argument("--policy", help="Hugging Face id, checkpoint directory, or local/NAME (embedded model)")
    parser.add_argument("--judge", help="Inspect model of the judge, e.g. openai/gpt-4o-mini or local/qwen-1.5b")
    add_judge_options(parser)
    parser.add_argument("--data", help="training rows: HealthBench JSONL (official format), or RaR-Medicine / "
                        "RaR-Science rows as JSONL, Parquet, a folder of split files or a `datasets` save_to_disk "
                        "folder (rareval/data/rar_science_fixture is a small one)")
    parser.add_argument("--rubrics", help="generated rubrics, JSONL of {prompt_id, rubric} (synthetic presets)")
    parser.add_argument("--skip-bad-rows", action="store_true", help="leave malformed --data rows out and count "
                        "them (split.json) instead of stopping at the first, named by line and field")
    parser.add_argument("--screen-zero-advantage", action="store_true", help="leave out, on later visits, each "
                        "prompt whose rollouts all scored alike (they teach nothing); the share is logged either "
                        "way as groups/zero_advantage_share")
    parser.add_argument("--out", help="run directory")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting, e.g. --set learning_rate=1e-5 --set max_steps=50 (repeatable): "
                        "a preset field, a hyper-parameter, or any field of TRL's GRPOConfig "
                        "(vllm_gpu_memory_utilization=0.3, vllm_tensor_parallel_size=2, vllm_server_host=10.0.0.2, "
                        "vllm_server_port=8001)")
    parser.add_argument("--batch-unit", choices=["prompts", "completions"], help="what the preset's effective "
                        "batch counts (Table 10's 96: prompts by default at the paper size; see `rareval reproduce "
                        "--table 10`)")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved preset and GRPOConfig; run nothing")
    parser.add_argument("--estimate", action="store_true", help="print projected judge calls, tokens and cost")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.add_argument("--max-judge-tokens", type=int, help="stop cleanly, with a checkpoint, past this many "
                        "billed judge tokens")
    parser.add_argument("--max-judge-cost", type=float, help="stop cleanly past this judge cost in USD")
    parser.add_argument("--judge-price", type=float, default=0.0, help="USD per million billed judge tokens")
    parser.add_argument("--max-judge-failure-rate", type=float, default=0.5, help="stop, with a checkpoint and "
                        "the judge's error, once this share of judge questions abstained over the last "
                        "--judge-failure-window reward calls (default 0.5)")
    parser.add_argument("--judge-failure-window", type=int, default=3, help="reward calls the failure rate is "
                        "taken over (default 3)")
    monitor = parser.add_argument_group("reward-hacking monitor (off without --gold-judge or --rubric-free-judge; "
                                        "either or both)")
    monitor.add_argument("--gold-judge", metavar="MODEL", help="second judge (Inspect model) that scores held-out "
                         "answers with HealthBench's scoring on the physician rubric (hacking/gap)")
    add_judge_options(monitor, "--gold-judge")
    monitor.add_argument("--rubric-free-judge", metavar="MODEL", help="judge (Inspect model) that rates the same "
                         "held-out answers Direct-Likert, 1-10 with no rubric and no reference "
                         "(hacking/rubric_free_gap): it catches a policy that games the rubric itself")
    add_judge_options(monitor, "--rubric-free-judge")
    monitor.add_argument("--monitor-every", type=int, default=10, help="check every N steps (default 10)")
    monitor.add_argument("--monitor-rows", type=int, default=8, help="held-out prompts per check (default 8)")
    monitor.add_argument("--monitor-warn", type=float, default=0.15, help="warn when either gap (train vs gold, "
                         "train vs rubric-free) has drifted this far since the first check (default 0.15)")
    monitor.add_argument("--monitor-stop", type=float, help="stop, with a checkpoint, when either gap drifts past "
                         "this")
    scale = parser.add_argument_group("multi-GPU (accelerate launch; DeepSpeed and vLLM: the [gpu] extra)")
    scale.add_argument("--accelerate-config", choices=CONFIGS,
                       help="size the run for a shipped accelerate config (rareval/train/accelerate/NAME.yaml): "
                       "its process count and bf16")
    scale.add_argument("--print-launch", action="store_true", help="print the command that starts these "
                       "arguments' ranks and exit (see --launcher)")
    scale.add_argument("--launcher", choices=["accelerate", "torchrun"], help="what --print-launch prints: "
                       "`accelerate launch --config_file` (the default with --accelerate-config; GPUs), or "
                       "`python -m torch.distributed.run --nproc_per_node N` (the default otherwise; starts N ranks "
                       "on any machine, CPU included)")
    scale.add_argument("--num-processes", type=int, help="training processes (default: the accelerate config's, "
                       "else 1); pass the same number to accelerate launch")
    scale.add_argument("--shard-policy", action="store_true", help="shard the policy's parameters across the "
                       "ranks (FSDP2 as transformers applies it at load); runs on CPU ranks and GPUs, with the "
                       "reward-hacking monitor too; its checkpoints hold the model only (no --resume)")
    scale.add_argument("--use-vllm", action="store_true", help="generate rollouts with vLLM (GPU, [gpu] extra)")
    scale.add_argument("--vllm-mode", choices=["colocate", "server"], default="colocate",
                       help="colocate: vLLM in each training process; server: `trl vllm-serve` on other GPUs")
    parser.set_defaults(run=cmd_train, train_parser=parser)
