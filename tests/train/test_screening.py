"""Groups whose rollouts all scored alike: the share is logged, and --screen-zero-advantage leaves them out."""

import json

from trl.trainer.utils import RepeatSampler

from rareval.train.screening import ScreenedSampler, ZeroAdvantageScreen, alike_groups
from tests.train.test_run import QUESTIONS, RUBRIC, prompt_ids, save_tiny_policy


def test_alike_groups_are_those_with_one_reward():
    prompts = [[{"role": "user", "content": q}] for q in ("a", "a", "b", "b", "c")]
    alike = alike_groups(prompts, [1.0, 1.0, 0.0, 0.5, 0.2])
    assert alike == {json.dumps(prompts[0], sort_keys=True)}  # "c" has one rollout here: no group to judge


def test_a_screened_prompt_gives_its_turn_to_another_for_every_repeat():
    prompts = [f"p{i}" for i in range(6)]
    screen = ZeroAdvantageScreen(prompts, seed=0)
    sampler = lambda: RepeatSampler(prompts, mini_repeat_count=4, batch_size=2, repeat_count=3,  # noqa: E731
                                    shuffle=True, seed=0)
    plain = list(sampler())
    screen.screened = {0, 3}
    screened = list(ScreenedSampler(sampler(), screen))
    assert len(screened) == len(plain) and not {0, 3} & set(screened)
    # each group of 4 is one prompt, and every repeat of a chunk holds the same stand-ins
    groups = [screened[i:i + 4] for i in range(0, len(screened), 4)]
    assert all(len(set(g)) == 1 for g in groups)
    chunks = [screened[i:i + 8] for i in range(0, len(screened), 8)]
    assert all(chunks[k] == chunks[k - k % 3] for k in range(len(chunks)))
    screen.screened = set(range(6))  # nothing left to stand in: the data is left as it is
    assert list(ScreenedSampler(sampler(), screen)) == plain


def test_training_logs_the_share_and_screens_a_prompt_that_cannot_be_met(tmp_path):
    """A prompt whose one criterion no rollout can meet scores 0 on every rollout: it is screened, and the
    sampler TRL uses no longer gives it a turn."""
    from rareval.train.data import training_rows
    from rareval.train.monitor import read_metrics
    from rareval.train.presets import get_preset
    from rareval.train.run import RunConfig, build_trainer
    from rareval.train.screening import SCREENED_KEY, SHARE_KEY

    impossible = [{"criterion": "Mentions 'qqzzxxv'", "points": 5, "tags": []}]
    ids = prompt_ids(4)
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"prompt_id": pid, "prompt": [{"role": "user", "content": q}],
                                        "rubrics": impossible if k == 0 else RUBRIC, "example_tags": []}) + "\n"
                            for k, (pid, q) in enumerate(zip(ids, QUESTIONS))))
    preset = get_preset("rar-explicit@tiny").with_overrides({"rubric_source": "physician", "max_steps": 6})
    run = RunConfig(preset=preset, policy=str(save_tiny_policy(tmp_path / "policy")), judge="scripted/keyword",
                    data=str(data), out=str(tmp_path / "run"), screen_zero_advantage=True)
    records = training_rows(preset, data).records
    (tmp_path / "run").mkdir()
    trainer = build_trainer(run, records)
    trainer.train()
    screen = next(c for c in trainer.callback_handler.callbacks if isinstance(c, ZeroAdvantageScreen))
    hopeless = next(i for i, r in enumerate(records) if r["prompt_id"] == ids[0])
    assert hopeless in screen.screened
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, ScreenedSampler) and hopeless not in set(sampler)
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert all(0 <= r[SHARE_KEY] <= 1 for r in rows) and rows[-1][SCREENED_KEY] == len(screen.screened) >= 1
    assert max(r[SHARE_KEY] for r in rows) >= 0.5  # the hopeless prompt is half of a two-prompt step
