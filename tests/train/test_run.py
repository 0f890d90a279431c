"""`rareval train` end to end: TRL's real GRPOTrainer, a tiny local policy and a scripted judge."""

import json

import pytest

from rareval.cli import main as cli
from rareval.data.healthbench_1k import in_healthbench_1k
from rareval.models.policy import PLAIN_CHAT_TEMPLATE
from rareval.train.monitor import read_metrics
from tests.test_reward_grpo import QUESTIONS, tiny_model

RUBRIC = [{"criterion": "Mentions 'water'", "points": 5, "tags": ["axis:completeness"]},
          {"criterion": "Mentions 'rest'", "points": 3, "tags": ["axis:completeness"]},
          {"criterion": "Recommends 'antibiotics'", "points": -4, "tags": ["axis:accuracy"]}]


def prompt_ids(n, held_out=False):
    """Prompt ids on the wanted side of the HealthBench-1k split."""
    ids, i = [], 0
    while len(ids) < n:
        if in_healthbench_1k(f"p{i}") == held_out:
            ids.append(f"p{i}")
        i += 1
    return ids


def save_tiny_policy(folder):
    """A tiny random chat policy (and tokenizer) saved as a checkpoint folder."""
    model, tokenizer = tiny_model(folder.parent)
    tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_train_rows(path, train=4, held_out=1, ideal=True):
    """HealthBench rows (official format) on :data:`RUBRIC`: ``train`` trainable prompts and ``held_out``
    HealthBench-1k ones."""
    rows = list(zip(prompt_ids(train), QUESTIONS)) + list(zip(prompt_ids(held_out, held_out=True), QUESTIONS))
    extra = {"ideal_completions_data": {"ideal_completion": "Drink water and rest."}} if ideal else {}
    path.write_text("".join(json.dumps({"prompt_id": pid, "prompt": [{"role": "user", "content": q}],
                                        "rubrics": RUBRIC, "example_tags": [], **extra}) + "\n"
                            for pid, q in rows))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    save_tiny_policy(root / "policy")
    return root, write_train_rows(root / "rows.jsonl")


def train_args(root, data, out, *extra):
    return ["train", "--preset", "rar-explicit@tiny", "--set", "rubric_source=physician", "--policy",
            str(root / "policy"), "--judge", "scripted/keyword", "--data", str(data), "--out", str(out), *extra]


def mean_reward(rows, last=None):
    values = [r["reward"] for r in rows if "reward" in r]
    values = values[-last:] if last else values
    return sum(values) / len(values)


def test_train_writes_the_run_directory_resumes_and_learns_over_an_lr0_control(setup, capsys):
    root, data = setup
    run = root / "run"
    assert cli(train_args(root, data, run, "--set", "max_steps=30")) == 0
    for name in ("config.json", "split.json", "metrics.jsonl", "curves.png", "status.json", "verdicts.sqlite"):
        assert (run / name).exists(), name
    assert (run / "checkpoints" / "checkpoint-30").is_dir() and (run / "final" / "config.json").exists()
    split = json.loads((run / "split.json").read_text())
    assert len(split["train_ids"]) == 4 and len(split["held_out_ids"]) == 1
    assert not set(split["train_ids"]) & set(split["held_out_ids"])
    first = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in first] == list(range(1, 31))
    assert {"reward", "reward_std", "rubric/pass_rate/pitfall", "rubric/judge_failure_rate", "judge/calls",
            "judge/billed_tokens", "judge/cost_usd", "completions/mean_length", "step_time"} <= set(first[-1])
    assert first[-1]["judge/calls"] > first[0]["judge/calls"] > 0

    # resume: continue from checkpoint-30 to step 60; the metrics carry on, the judge counts are cumulative.
    # Lines a crashed run wrote after its last checkpoint are dropped, as those steps are trained again.
    with (run / "metrics.jsonl").open("a") as f:
        f.write("".join(json.dumps({"step": s, "judge/calls": 10**6}) + "\n" for s in (31, 32)))
    assert cli(train_args(root, data, run, "--set", "max_steps=60", "--resume")) == 0
    rows = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(1, 61))
    assert first[-1]["judge/calls"] < rows[-1]["judge/calls"] < 10**6
    assert json.loads((run / "status.json").read_text())["step"] == 60

    control = root / "control"
    assert cli(train_args(root, data, control, "--set", "max_steps=30", "--set", "learning_rate=0")) == 0
    lr0 = read_metrics(control / "metrics.jsonl")  # the policy never changes: its mean is its level
    # the rubric reward rises over training, and above the lr=0 control
    assert mean_reward(rows, last=15) > mean_reward(rows[:15]) + 0.1, (mean_reward(rows[:15]), mean_reward(rows, 15))
    assert mean_reward(rows, last=15) > mean_reward(lr0) + 0.1
    assert "at step 60" in capsys.readouterr().out


def test_judge_budget_stops_cleanly_with_a_checkpoint_and_the_monitor_logs(setup):
    root, data = setup
    run = root / "budget"
    assert cli(train_args(root, data, run, "--set", "max_steps=30", "--max-judge-tokens", "1",
                          "--gold-judge", "scripted/keyword", "--set", "judge_prompts=hardened",
                          "--set", "hacking_defence=true", "--judge-arg", "api_key=sk-never-written",
                          "--judge-config", "parse_retries=2", "--gold-judge-config", "verdict_mode=json")) == 0
    recorded = json.loads((run / "config.json").read_text())["run"]
    preset = recorded["preset"]
    assert preset["judge_prompts"] == "hardened" and preset["hacking_defence"] is True
    # the judge settings reach the run and are recorded; the key is not
    assert recorded["judge_args"] == {"api_key": "<redacted>"} and recorded["judge_config"] == {"parse_retries": 2}
    assert recorded["monitor"]["gold_config"] == {"verdict_mode": "json"}
    assert not [f for f in run.iterdir() if f.is_file() and b"sk-never-written" in f.read_bytes()]
    assert "rubric/hacking_veto_rate" in read_metrics(run / "metrics.jsonl")[0]  # the defence criterion was asked
    status = json.loads((run / "status.json").read_text())
    assert status["ended"] == "budget" and status["step"] == 1 and "judge tokens" in status["stopped_by"]
    assert (run / "checkpoints" / "checkpoint-1").is_dir()
    # the reward-hacking monitor checked at step 1, on the held-out prompt
    row = read_metrics(run / "metrics.jsonl")[0]
    assert {"hacking/train_reward", "hacking/gold_score", "hacking/gap", "hacking/gap_drift"} <= set(row)


def test_a_failing_judge_stops_training_with_a_checkpoint_and_its_error(setup, capsys):
    """Every judge call fails: the run stops after the failure window, never trains on, exits 1 naming why."""
    root, data = setup
    run = root / "judge-failing"
    assert cli(train_args(root, data, run, "--set", "max_steps=30", "--judge", "scripted/error",
                          "--judge-failure-window", "2")) == 1
    status = json.loads((run / "status.json").read_text())
    assert status["ended"] == "judge_failing" and status["step"] == 2
    assert "judge failing: the judge abstained on 100%" in status["stopped_by"]
    assert "scripted judge failure" in status["stopped_by"] and "judge_failing at step 2" in capsys.readouterr().out
    assert (run / "checkpoints" / "checkpoint-2").is_dir()


def test_list_dry_run_estimate_and_errors(setup, capsys):
    root, data = setup
    assert cli(["train", "--list"]) == 0
    assert "rar-implicit-human" in capsys.readouterr().out
    assert cli(train_args(root, data, root / "dry", "--dry-run")) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["grpo_config"]["num_generations"] == 4 and resolved["preset"]["strategy"] == "explicit"
    assert cli(train_args(root, data, root / "est", "--estimate", "--judge-price", "0.15")) == 0
    out = capsys.readouterr().out
    assert "(1 held out, skipped none), 4 training rows" in out and "per step: 2 prompts, 8 completions" in out
    assert "per run (6 steps, 3.00 epochs)" in out and "$" in out
    assert not (root / "est").exists()  # an estimate runs nothing
    assert cli(["train", "--preset", "nope", "--policy", "p", "--judge", "j", "--data", str(data),
                "--out", str(root / "x")]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    assert cli(train_args(root, root / "missing.jsonl", root / "x")) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert cli(["train", "--preset", "rar-explicit", "--policy", "p", "--judge", "scripted/keyword",
                "--data", str(data), "--out", str(root / "x")]) == 2
    assert "--rubrics" in capsys.readouterr().err  # synthetic rubrics needed and not given
    rubrics = root / "train-only-rubrics.jsonl"  # generated rubrics for training prompts only
    rubrics.write_text("".join(json.dumps({"prompt_id": json.loads(line)["prompt_id"], "rubric": RUBRIC}) + "\n"
                               for line in data.read_text().splitlines()[:4]))
    assert cli(["train", "--preset", "rar-explicit@tiny", "--policy", str(root / "policy"), "--judge",
                "scripted/keyword", "--data", str(data), "--rubrics", str(rubrics), "--out", str(root / "mon"),
                "--gold-judge", "scripted/keyword"]) == 2
    assert "--gold-judge: none of the 1 held-out prompts can be scored" in capsys.readouterr().err
    assert not (root / "mon").exists()  # refused before anything is written
    assert cli(["train", "--preset", "rar-explicit@tiny", "--policy", str(root / "policy"), "--judge",
                "scripted/keyword", "--data", str(data), "--rubrics", str(rubrics), "--out", str(root / "mon"),
                "--rubric-free-judge", "scripted/keyword"]) == 2  # the error names the flag that was given
    assert "--rubric-free-judge: none of the 1 held-out prompts" in capsys.readouterr().err
    assert cli(train_args(root, data, root / "x", "--set", "lr=1")) == 2
    assert "unknown setting(s) lr" in capsys.readouterr().err
    assert cli(train_args(root, data, root / "x", "--judge-config", "reasoning_effort=extreme")) == 2
    assert "reasoning_effort" in capsys.readouterr().err


def test_a_per_device_batch_set_for_trl_keeps_the_step_batch(setup, capsys):
    """`--set per_device_train_batch_size=4` on rar-explicit@tiny (8 completions, 4 rollouts a prompt): still 2
    groups a step, each generated for its own step; what cannot divide the step's batch is refused in one line."""
    root, data = setup
    for setting, accumulation in (("per_device_train_batch_size=4", 2), ("gradient_accumulation_steps=4", 4)):
        assert cli(train_args(root, data, root / "dry", "--set", setting, "--dry-run")) == 0
        resolved = json.loads(capsys.readouterr().out)
        trl = resolved["grpo_config"]
        completions = trl["per_device_train_batch_size"] * trl["gradient_accumulation_steps"]
        assert trl["gradient_accumulation_steps"] == accumulation and completions == 8
        assert completions // trl["num_generations"] == 2 and trl["generation_batch_size"] == completions
        assert resolved["per_step"] == {"completions": 8, "groups": 2, "optimiser_steps_per_generation": 1}
    assert cli(train_args(root, data, root / "dry", "--set", "per_device_train_batch_size=3", "--dry-run")) == 2
    err = capsys.readouterr().err
    assert err == ("error: --set per_device_train_batch_size=3 does not divide the 8 completions a process takes "
                   "each step; use a divisor of 8 (or change effective_batch)\n")
    assert cli(train_args(root, data, root / "dry", "--set", "per_device_train_batch_size=4", "--set",
                          "gradient_accumulation_steps=1", "--dry-run")) == 2
    assert "makes 4 completions a process a step, not the preset's 8" in capsys.readouterr().err
    assert not (root / "dry").exists()


def test_dry_run_on_two_processes_shows_what_the_ranks_will_run(setup, capsys):
    """On 2 processes: a generation reused for 2 steps (steps_per_generation=2) reads 2, not 1; the sharding
    --shard-policy adds stays beside the model_init_kwargs the user sets (not replaced by them)."""
    root, data = setup
    assert cli(train_args(root, data, root / "dry", "--num-processes", "2", "--set", "steps_per_generation=2",
                          "--dry-run")) == 0
    assert json.loads(capsys.readouterr().out)["per_step"]["optimiser_steps_per_generation"] == 2
    assert cli(train_args(root, data, root / "dry", "--num-processes", "2", "--shard-policy", "--set",
                          'model_init_kwargs={"attn_implementation": "sdpa"}', "--dry-run")) == 0
    kwargs = json.loads(capsys.readouterr().out)["grpo_config"]["model_init_kwargs"]
    assert kwargs == {"attn_implementation": "sdpa", "distributed_config": {"fsdp_size": 2}}
