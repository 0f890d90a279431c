"""`rareval train` on two real CPU ranks (torchrun, gloo), the way accelerate's GPU launcher starts them.

`accelerate launch --cpu --num_processes 2` starts one process (its CPU launcher needs mpirun), so
the ranks are started with `python -m torch.distributed.run`, which is what accelerate runs
underneath on GPUs: the command `rareval train ... --print-launch` prints, run as printed. What must hold: the run directory is written once, judge figures are summed
over the ranks, a budget stops every rank at the same step with one checkpoint, and it still learns.
"""

import json
import os
import shlex
import subprocess
import sys

import pytest

from rareval.train.monitor import read_metrics
from tests.conftest import REPO
from tests.train.test_run import mean_reward, save_tiny_policy, write_train_rows

HACKING = {"hacking/train_reward", "hacking/gold_score", "hacking/gap", "hacking/gap_drift",
           "hacking/rubric_free_score", "hacking/rubric_free_gap", "hacking/rubric_free_gap_drift"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranks")
    save_tiny_policy(root / "policy")
    return root, write_train_rows(root / "rows.jsonl", train=8)


def train(root, data, out, ranks: int, *extra: str) -> subprocess.CompletedProcess:
    """``rareval train`` on ``ranks`` processes, started by the command ``--print-launch`` prints for them."""
    from tests.reliability.llama_server import free_port

    args = ["train", "--preset", "rar-explicit@tiny", "--set", "rubric_source=physician", "--policy",
            str(root / "policy"), "--judge", "scripted/keyword", "--data", str(data), "--out", str(out),
            "--num-processes", str(ranks), *extra]
    command = [sys.executable, "-m", "rareval.cli", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAREVAL_CACHE_DIR": str(root / "cache")}
    if ranks > 1:
        printed = subprocess.run([*command, "--print-launch"], cwd=REPO, env=env, capture_output=True, text=True,
                                 timeout=120)
        assert printed.returncode == 0, printed.stderr[-2000:]
        command = shlex.split(printed.stdout)
        assert command[:5] == [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks)]
        command[5:5] = ["--master_port", str(free_port())]  # tests run side by side; a user keeps the default
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_two_ranks_write_once_sum_the_judge_and_learn(setup):
    root, data = setup
    train(root, data, root / "one", 1, "--set", "max_steps=3")
    two = train(root, data, root / "two", 2, "--set", "max_steps=30")
    control = train(root, data, root / "control", 2, "--set", "max_steps=30", "--set", "learning_rate=0")
    status = json.loads((root / "two" / "status.json").read_text())
    assert status["world_size"] == 2 and json.loads((root / "two" / "config.json").read_text())["world_size"] == 2
    rows, single = read_metrics(root / "two" / "metrics.jsonl"), read_metrics(root / "one" / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 31))  # one line a step, not one per rank
    # each step's judge calls are the whole global batch's: as many as one process over the same batch
    per_step = [b["judge/calls"] - a["judge/calls"] for a, b in zip([{"judge/calls": 0}] + rows, rows)]
    single_step = single[0]["judge/calls"]
    assert single_step > 0 and set(per_step) == {single_step}
    assert sorted(p.name for p in (root / "two").glob("curves*")) == ["curves.png"]
    assert two.stdout.count(" at step 30;") == 1  # one summary line, from the main process
    assert mean_reward(rows, last=10) > mean_reward(read_metrics(root / "control" / "metrics.jsonl"), last=10)
    # --resume continues both ranks from checkpoint-30
    train(root, data, root / "two", 2, "--set", "max_steps=33", "--resume")
    assert [r["step"] for r in read_metrics(root / "two" / "metrics.jsonl")] == list(range(1, 34))
    assert json.loads((root / "two" / "status.json").read_text())["step"] == 33


def test_the_gold_monitor_runs_once_over_two_ranks(setup):
    """Every rank takes part in a check (each answers and scores its share of the held-out prompts; here one
    prompt, so the second rank's share is empty): its figures appear once a checked step, and the judge calls of
    a checked step are those of one process with the same monitor (each question asked once, not once a rank)."""
    root, data = setup
    # the verdict cache off: every question is asked, so a step's calls are fixed by its batch and the checks
    monitor = ["--set", "max_steps=4", "--gold-judge", "scripted/keyword", "--monitor-every", "2",
               "--judge-config", "cache=false"]
    train(root, data, root / "gold-one", 1, *monitor)
    train(root, data, root / "gold-two", 2, *monitor)
    one, two = (read_metrics(root / name / "metrics.jsonl") for name in ("gold-one", "gold-two"))
    assert [r["step"] for r in two] == [1, 2, 3, 4]
    assert [r["step"] for r in two if "hacking/gold_score" in r] == [1, 2, 4]  # the first step, then every 2nd
    calls = [r["judge/calls"] for r in two]
    assert calls == [r["judge/calls"] for r in one]
    # 8 completions × 3 criteria a step, and the training reward's 3 questions on the held-out prompt per check
    assert calls == [24 + 3, 48 + 6, 72 + 6, 96 + 9]


def test_a_budget_stops_every_rank_at_the_same_step_with_one_checkpoint(setup):
    """A budget between one rank's share and the step's total: per rank it would never stop (and ranks
    stopping apart would hang the collective); summed, both stop after step 1."""
    root, data = setup
    train(root, data, root / "single-budget", 1, "--set", "max_steps=1")
    step_tokens = read_metrics(root / "single-budget" / "metrics.jsonl")[0]["judge/billed_tokens"]
    out = root / "budget"
    train(root, data, out, 2, "--set", "max_steps=30", "--max-judge-tokens", str(int(step_tokens * 0.75)))
    status = json.loads((out / "status.json").read_text())
    assert status["ended"] == "budget" and status["step"] == 1 and status["judge/billed_tokens"] == step_tokens
    assert [p.name for p in (out / "checkpoints").glob("checkpoint-*")] == ["checkpoint-1"]


@pytest.mark.parametrize("held_out", [3, pytest.param(1, marks=pytest.mark.slow)])
def test_the_monitor_finishes_a_sharded_run_on_two_ranks(setup, held_out):
    """--shard-policy splits the policy's parameters over the two ranks (FSDP2 as transformers loads it), so every
    forward needs both. A check made by one rank alone hung here at step 1; now each rank answers its share of
    the held-out prompts in lock-step (with 1 prompt, the second rank's share is empty and it still joins in), the
    run finishes, and each check's figures and judge calls are logged once."""
    root, _ = setup
    data = write_train_rows(root / f"rows-{held_out}.jsonl", train=8, held_out=held_out)
    out = root / f"sharded-{held_out}"
    no_cache = ["--judge-config", "cache=false", "--gold-judge-config", "cache=false",
                "--rubric-free-judge-config", "cache=false"]
    train(root, data, out, 2, "--shard-policy", "--set", "max_steps=2", "--gold-judge", "scripted/keyword",
          "--rubric-free-judge", "scripted/keyword", "--monitor-every", "1", *no_cache)
    config = json.loads((out / "config.json").read_text())["grpo_config"]
    assert config["model_init_kwargs"] == {"distributed_config": {"fsdp_size": 2}}
    status = json.loads((out / "status.json").read_text())
    assert status["ended"] == "max_steps" and status["step"] == 2 and status["world_size"] == 2
    rows = read_metrics(out / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2] and all(HACKING <= set(r) for r in rows)
    # each answer: 3 criteria for the gold judge, 1 rating for the rubric-free one, each asked on one rank only
    assert [r["judge/monitor_calls"] for r in rows] == [4 * held_out, 8 * held_out]
    assert (out / "final" / "model.safetensors").exists()
