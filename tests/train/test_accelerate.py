"""Shipped accelerate configs: each is a file accelerate reads, and each sizes a valid paper-size GRPOConfig."""

import json
import shlex

import pytest

from rareval.cli import build_parser, main
from rareval.train.launch import CONFIG_DIR, CONFIGS, config_path, launch_command, load_config, run_settings
from rareval.train.presets import get_preset
from rareval.train.run import RunConfig, grpo_config

STAGE = {"zero2": 2, "zero3": 3}


def run_config(preset, **kwargs):
    return RunConfig(preset=preset, policy="p", judge="scripted/keyword", data="d.jsonl", out="/tmp/run", **kwargs)


def test_the_shipped_configs_are_the_named_ones():
    assert sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")) == sorted(CONFIGS)
    with pytest.raises(ValueError, match="unknown accelerate config 'fsdp'"):
        config_path("fsdp")


@pytest.mark.parametrize("name", CONFIGS)
def test_config_is_one_accelerate_reads(name):
    from accelerate.commands.config.config_args import ClusterConfig

    config = load_config(name)
    assert {"compute_environment", "distributed_type", "mixed_precision", "num_processes", "num_machines",
            "machine_rank", "use_cpu"} <= set(config)
    assert config["mixed_precision"] == "bf16" and config["num_machines"] == 1 and config["use_cpu"] is False
    if name == "ddp":
        assert config["distributed_type"] == "MULTI_GPU" and "deepspeed_config" not in config
    else:
        assert config["distributed_type"] == "DEEPSPEED"
        assert config["deepspeed_config"]["zero_stage"] == STAGE[name]
    cluster = ClusterConfig.from_yaml_file(config_path(name))  # rejects keys accelerate does not know
    assert cluster.num_processes == config["num_processes"]


@pytest.mark.parametrize("vllm_mode", [None, "colocate", "server"])
@pytest.mark.parametrize("name", CONFIGS)
def test_config_sizes_a_valid_paper_grpo_config(name, vllm_mode):
    settings = run_settings(name)
    vllm = dict(use_vllm=True, vllm_mode=vllm_mode) if vllm_mode else {}
    config = grpo_config(run_config(get_preset("rar-implicit"), **settings, **vllm))
    n = load_config(name)["num_processes"]
    assert settings == {"num_processes": n, "bf16": True}
    # Table 10's batch: 96 prompts × 16 rollouts = 1,536 completions a step
    assert config.per_device_train_batch_size * n * config.gradient_accumulation_steps == 96 * 16
    assert config.generation_batch_size == 96 * 16 and config.num_generations == 16
    assert config.bf16 and not config.fp16
    assert config.use_vllm is bool(vllm_mode)
    if vllm_mode:
        assert config.vllm_mode == vllm_mode


@pytest.mark.parametrize("processes, per_device, accumulation", [(1, 16, 96), (2, 16, 48), (4, 16, 24), (6, 16, 16),
                                                                  (8, 16, 12), (12, 16, 8)])
def test_paper_batch_on_any_process_count_that_divides_it(processes, per_device, accumulation):
    config = grpo_config(run_config(get_preset("rar-implicit"), num_processes=processes))
    assert (config.per_device_train_batch_size, config.gradient_accumulation_steps) == (per_device, accumulation)
    with pytest.raises(ValueError, match="not a multiple of 7 process"):
        grpo_config(run_config(get_preset("rar-implicit"), num_processes=7))


def test_launch_command_runs_rareval_under_accelerate():
    words = shlex.split(launch_command("zero3", ["--preset", "rar-implicit", "--out", "runs/a b"], num_processes=4))
    assert words == ["accelerate", "launch", "--config_file", str(config_path("zero3")), "--num_processes", "4",
                     "-m", "rareval.cli", "train", "--preset", "rar-implicit", "--out", "runs/a b"]


def test_print_launch_repeats_the_arguments(capsys):
    args = ["train", "--preset", "rar-implicit", "--policy", "Qwen/Qwen2.5-7B-Instruct", "--judge", "openai/gpt-4o-mini",
            "--data", "train.jsonl", "--out", "runs/implicit", "--set", "max_steps=50", "--use-vllm",
            "--vllm-mode", "server", "--accelerate-config", "zero2", "--num-processes", "6"]
    assert main([*args, "--print-launch"]) == 0
    words = shlex.split(capsys.readouterr().out)
    assert words[:6] == ["accelerate", "launch", "--config_file", str(config_path("zero2")), "--num_processes", "6"]
    launched = words[words.index("rareval.cli") + 1:]
    assert "--print-launch" not in launched
    parse = lambda argv: {k: v for k, v in vars(build_parser().parse_args(argv)).items()  # noqa: E731
                          if k not in ("run", "train_parser")}
    assert parse(launched) == parse(args)
    base = ["train", "--preset", "rar-implicit", "--policy", "p", "--judge", "j", "--data", "d", "--out", "o"]
    assert main([*base, "--print-launch", "--launcher", "accelerate"]) == 2
    assert "needs --accelerate-config" in capsys.readouterr().err
    assert main([*base, "--print-launch"]) == 2  # torchrun, the default without a config, needs the rank count
    assert "needs --num-processes" in capsys.readouterr().err


def test_print_launch_torchrun_starts_the_ranks_it_claims(capsys):
    """Without an accelerate config (or with --launcher torchrun) the printed command is torch.distributed.run
    with as many ranks as --num-processes; tests/train/test_distributed.py runs it as printed."""
    import sys

    args = ["train", "--preset", "rar-implicit@tiny", "--policy", "p", "--judge", "scripted/keyword", "--data", "d",
            "--out", "o", "--num-processes", "2"]
    assert main([*args, "--print-launch"]) == 0
    words = shlex.split(capsys.readouterr().out)
    assert words[:5] == [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    assert words[5:9] == ["-m", "rareval.cli", "train", "--preset"] and words[words.index("--num-processes") + 1] == "2"
    assert main([*args[:-2], "--accelerate-config", "ddp", "--launcher", "torchrun", "--print-launch"]) == 0
    words = shlex.split(capsys.readouterr().out)  # the config's 8 processes, passed on to the ranks
    assert words[4] == "8" and words[words.index("--num-processes") + 1] == "8"


@pytest.mark.parametrize("name", ["zero2", "zero3"])
def test_the_hacking_monitor_is_refused_under_deepspeed_in_one_line(name, capsys, monkeypatch, tmp_path):
    """Its check has not been run under DeepSpeed (not installed where the tests run): refused before anything
    starts, naming what does run it (tests/train/test_distributed.py), rather than launched untried on 8 GPUs."""
    base = ["train", "--preset", "rar-implicit", "--policy", "p", "--judge", "scripted/keyword", "--data", "d",
            "--out", str(tmp_path / "run")]
    assert main([*base, "--accelerate-config", name, "--gold-judge", "scripted/keyword", "--print-launch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --gold-judge: the reward-hacking monitor is not run under DeepSpeed")
    assert "--accelerate-config ddp" in err and "--shard-policy" in err and err.count("\n") == 1
    assert main([*base, "--accelerate-config", name, "--rubric-free-judge", "scripted/keyword", "--dry-run"]) == 2
    assert "error: --rubric-free-judge: the reward-hacking monitor is not run" in capsys.readouterr().err
    assert main([*base, "--accelerate-config", name, "--dry-run"]) == 0  # DeepSpeed without the monitor: as before
    capsys.readouterr()
    # started by `accelerate launch` with a DeepSpeed file of the user's own: each rank stops before it loads
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    assert main([*base, "--gold-judge", "scripted/keyword"]) == 2
    assert "not run under DeepSpeed" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_shard_policy_loads_sharded_and_is_refused_where_it_cannot_run(capsys, tmp_path):
    """--shard-policy (tests/train/test_distributed.py runs it on two CPU ranks) as --dry-run shows it, and the
    combinations refused in one line before anything loads; so is accelerate's FSDP on CPU ranks, which accelerate
    would run unsharded without a word."""
    base = ["train", "--preset", "rar-implicit@tiny", "--policy", "p", "--judge", "scripted/keyword", "--data", "d",
            "--out", str(tmp_path / "run")]
    assert main([*base, "--shard-policy", "--num-processes", "2", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)["grpo_config"]
    assert config["model_init_kwargs"] == {"distributed_config": {"fsdp_size": 2}} and config["save_only_model"]
    refused = {("--shard-policy", "--dry-run"): "--shard-policy shards the policy across ranks: pass --num-processes",
               ("--shard-policy", "--accelerate-config", "zero3", "--dry-run"): "drop DeepSpeed",
               ("--shard-policy", "--num-processes", "2", "--resume"): "--resume: a policy sharded at load",
               ("--shard-policy", "--num-processes", "2", "--use-vllm", "--print-launch"): "with --use-vllm has not",
               ("--set", "fsdp=true"): "--set fsdp: accelerate runs FSDP on GPUs only"}
    import torch

    if torch.cuda.is_available():  # there accelerate's FSDP does shard
        del refused[("--set", "fsdp=true")]
    for extra, message in refused.items():
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_a_vllm_judge_without_a_server_is_refused_on_several_ranks(capsys, monkeypatch, tmp_path):
    """Inspect starts a vLLM server for a vllm/ model with no base_url: on N ranks, N servers beside the policy.
    Refused in one line naming the flag to pass; with a server given, the run is sized as usual."""
    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    base = ["train", "--preset", "rar-implicit", "--policy", "p", "--data", "d", "--out", str(tmp_path / "run"),
            "--num-processes", "2", "--dry-run"]
    assert main([*base, "--judge", "scripted/keyword", "--gold-judge", "vllm/Qwen/Qwen2.5-7B-Instruct"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --gold-judge vllm/Qwen/Qwen2.5-7B-Instruct without a server would start a vLLM "
                          "server on each of the 2 ranks") and "--gold-judge-arg base_url=" in err
    assert err.count("\n") == 1
    assert main([*base, "--judge", "vllm/Qwen/Qwen2.5-7B-Instruct"]) == 2
    assert "error: --judge vllm/Qwen/Qwen2.5-7B-Instruct without a server" in capsys.readouterr().err
    assert main([*base, "--judge", "vllm/Qwen/Qwen2.5-7B-Instruct", "--judge-arg",
                 "base_url=http://127.0.0.1:8000/v1"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("VLLM_BASE_URL", "http://127.0.0.1:8000/v1")
    assert main([*base, "--judge", "vllm/Qwen/Qwen2.5-7B-Instruct"]) == 0


def test_a_calibration_fitted_for_another_judge_is_refused_before_training(capsys, tmp_path):
    """One line naming the file and both judges, before the policy loads, not a traceback at the first reward."""
    import json

    calib = tmp_path / "calib.json"
    calib.write_text(json.dumps({"judge": "scripted/keyword", "thresholds": {"default": 0.6}}))
    base = ["train", "--preset", "rar-implicit", "--policy", "p", "--data", "d", "--out", str(tmp_path / "run"),
            "--dry-run"]
    assert main([*base, "--judge", "local/smollm-135m", "--judge-calibration", str(calib)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {calib} was fitted for the judge scripted/keyword") and err.count("\n") == 1
    assert main([*base, "--judge", "scripted/keyword", "--gold-judge", "local/smollm-135m",
                 "--gold-judge-calibration", str(calib)]) == 2
    assert "not for local/smollm-135m" in capsys.readouterr().err
    assert main([*base, "--judge", "scripted/keyword", "--judge-calibration", str(calib)]) == 0
