"""Groups that teach nothing: prompts whose rollouts all scored alike, measured and screened out.

GRPO's advantage is a rollout's reward minus its group's mean (over the prompt's
``num_generations`` rollouts). When every rollout of a prompt scores the same, every advantage is
0: the prompt moves nothing, and its tokens still count in the loss's denominator. TRL measures
the share of such groups over each gathered generation batch (``frac_reward_zero_std``); the run
logs it as ``groups/zero_advantage_share`` in ``metrics.jsonl`` and its mean in ``status.json``.

TRL 1.16 has no mechanism that drops them (DAPO's dynamic sampling is not part of it), so
``--screen-zero-advantage`` adds this filter:

* after each step, :class:`ZeroAdvantageScreen` reads the last generation batch TRL gathered from
  every rank (``trainer._logs``: prompts and rewards, the same on every rank) and screens each
  prompt whose rollouts all scored alike;
* :class:`ScreenedSampler` wraps TRL's ``RepeatSampler``: when a screened prompt's turn comes again
  (a later epoch), a prompt not screened takes its place, drawn in a seeded order, for all of that
  turn's repeats, so batch shapes and groups stay as TRL builds them. Every rank draws the same.

A screened prompt is left out for the rest of the run; once every prompt is screened, prompts are
no longer replaced. The run records how many were screened (``groups/screened``).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from torch.utils.data import Sampler
from transformers import TrainerCallback

#: TRL's logged share of zero-std groups, and the name the run logs it under.
TRL_KEY, SHARE_KEY, SCREENED_KEY = "frac_reward_zero_std", "groups/zero_advantage_share", "groups/screened"


def prompt_key(prompt: Any) -> str:
    """A prompt (conversation) as a hashable key."""
    return json.dumps(prompt, sort_keys=True)


def alike_groups(prompts: list[Any], rewards: list[float]) -> set[str]:
    """Keys of the prompts whose rewards (over all their rollouts in the batch) are all equal."""
    by_prompt: dict[str, list[float]] = defaultdict(list)
    for prompt, reward in zip(prompts, rewards, strict=True):
        by_prompt[prompt_key(prompt)].append(reward)
    return {k for k, values in by_prompt.items() if len(values) > 1 and max(values) - min(values) < 1e-9}


class ZeroAdvantageScreen(TrainerCallback):
    """Screens the prompts whose last group scored alike; see the module docstring."""

    def __init__(self, prompts: list[Any], seed: int = 0):
        self.index = {prompt_key(p): i for i, p in enumerate(prompts)}
        self.screened: set[int] = set()
        self.seed = seed
        self.trainer: Any = None  # set by :func:`attach`

    def on_step_end(self, args, state, control, **kwargs):
        logs = self.trainer._logs  # the last generation batch, gathered over the ranks by TRL
        rewards = [sum(values) for values in zip(*logs["rewards"].values())]
        prompts = list(logs["prompt"])
        if prompts and len(rewards) == len(prompts):
            self.screened |= {self.index[k] for k in alike_groups(prompts, rewards) if k in self.index}

    def replacements(self) -> Iterator[int]:
        """Unscreened prompt indices in a seeded order, cycling; nothing once all are screened."""
        order = list(range(len(self.index)))
        random.Random(self.seed).shuffle(order)
        while True:
            kept = [i for i in order if i not in self.screened]
            if not kept:
                return
            yield from kept


class ScreenedSampler(Sampler):
    """TRL's sampler with each screened prompt's turn given to an unscreened one (module docstring)."""

    def __init__(self, inner: Sampler, screen: ZeroAdvantageScreen):
        self.inner, self.screen = inner, screen

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self) -> Iterator[int]:
        replacements = self.screen.replacements()
        decided: dict[int, int] = {}  # each index's stand-in for this pass, fixed at its first turn (repeats agree)
        for index in self.inner:
            if index not in decided:
                decided[index] = next(replacements, index) if index in self.screen.screened else index
            yield decided[index]


def attach(trainer: Any, prompts: list[Any]) -> ZeroAdvantageScreen:
    """Screen ``trainer``'s training prompts (the dataset's ``prompt`` column, in order)."""
    screen = ZeroAdvantageScreen(prompts, seed=trainer.args.seed)
    screen.trainer = trainer
    original = trainer._get_train_sampler
    trainer._get_train_sampler = lambda dataset=None: ScreenedSampler(original(dataset), screen)
    trainer.add_callback(screen)
    return screen
