"""What a run directory shows while training: metrics per step, curves, and the judge budget.

:class:`RunLog` is a ``transformers`` callback. On every TRL log it appends one JSON
line to ``metrics.jsonl`` (TRL's figures, the reward's ``rubric/*`` figures, the
judge's cumulative calls, billed tokens and estimated cost, and the reward-hacking
monitor's ``hacking/*`` figures on the steps it checks, and the share of groups whose rollouts
all scored alike, ``groups/zero_advantage_share``) and redraws ``curves.png``;
after every step it runs the monitor when due and checks the judge budget and the judge's
health (abstentions over the last reward calls), and once any says stop, saves a checkpoint
and stops. The curves are redrawn at most every
``PLOT_EVERY_S`` seconds, and at the end.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from rareval.data.cache import write_text_atomic
from rareval.judge.usage import Usage
from rareval.train.ranks import is_main, on_any_rank, summed
from rareval.train.screening import SCREENED_KEY, SHARE_KEY, TRL_KEY

#: The curves drawn, in this order: TRL's mean reward, then each category's pass rate.
REWARD_KEY = "reward"
PASS_RATE_PREFIX = "rubric/pass_rate/"
PLOT_EVERY_S = 30.0
#: How ``stopped_by`` starts when the judge failed (``status.json``'s ``ended`` is then ``judge_failing``).
JUDGE_FAILING = "judge failing"


class RunLog(TrainerCallback):
    """Writes ``metrics.jsonl`` and ``curves.png`` and enforces the judge budget of a run."""

    def __init__(self, out: Path, reward: Any, run: Any, resume: bool = False, monitor: Any = None,
                 loop: Any = None):
        self.out, self.reward, self.run = Path(out), reward, run
        self.monitor, self.loop, self.pending = monitor, loop, {}
        self.metrics = self.out / "metrics.jsonl"
        self.stopped_by: str | None = None
        self.plotted_at = 0.0
        self.offset = {"calls": 0, "billed_tokens": 0, "cached": 0, "monitor_calls": 0, "monitor_billed_tokens": 0}
        self.resume = resume
        self.main = is_main()  # only the main process writes; every rank takes part in the sums
        self.screen: Any = None  # the zero-advantage screen, when the run screens (rareval.train.screening)
        self.shares: list[float] = []  # each logged step's share of zero-advantage groups

    def on_train_begin(self, args, state, control, **kwargs):
        """On resume, drop the lines of steps after the checkpoint (they are trained again) and carry
        the cumulative judge figures on from the checkpoint's step (calls the dropped steps made are
        not counted again; their verdicts stay in the run's verdict cache)."""
        if not (self.resume and self.metrics.exists()):
            return
        rows = read_metrics(self.metrics)
        kept = [r for r in rows if r.get("step", 0) <= state.global_step]
        if len(kept) < len(rows) and self.main:
            write_text_atomic(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))
        last = kept[-1:] or [{}]
        self.offset = {k: last[0].get(f"judge/{k}", 0) for k in self.offset}

    def judge_figures(self) -> dict[str, float]:
        """Cumulative judge calls, cached answers, billed tokens and cost of the run, over every rank.

        ``judge/monitor_*`` are the reward-hacking monitor's second judges (gold, rubric-free); their
        tokens count toward ``judge/billed_tokens``, the cost (at ``--judge-price``) and the budget, as
        the training judge's do (``judge/calls`` and ``judge/cached`` are the training judge's alone)."""
        u = self.reward.usage
        m = getattr(self.monitor, "usage", None) or Usage()  # each rank's second judges scored its share
        calls, cached, billed, m_calls, m_billed = (int(x) for x in summed(
            [u.calls, u.cached, u.billed_tokens, m.calls, m.billed_tokens]))
        billed += m_billed + self.offset["billed_tokens"]  # the offset, a logged total, holds the monitor's share
        m_calls += self.offset["monitor_calls"]
        m_billed += self.offset["monitor_billed_tokens"]
        return {"judge/calls": self.offset["calls"] + calls, "judge/cached": self.offset["cached"] + cached,
                "judge/billed_tokens": billed, "judge/monitor_calls": m_calls,
                "judge/monitor_billed_tokens": m_billed, "judge/cost_usd": billed / 1e6 * self.run.judge_price}

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "train_runtime" in logs:  # the end-of-training summary is not a step
            return
        row = {"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, (int, float))},
               **self.judge_figures(), **self.pending}
        if TRL_KEY in logs:  # groups whose rollouts all scored alike (rareval.train.screening)
            row[SHARE_KEY] = logs[TRL_KEY]
            self.shares.append(logs[TRL_KEY])
        if self.screen is not None:
            row[SCREENED_KEY] = len(self.screen.screened)
        self.pending = {}
        if not self.main:
            return
        with self.metrics.open("a") as f:
            f.write(json.dumps(row) + "\n")
        if time.monotonic() - self.plotted_at > PLOT_EVERY_S:
            self.plot()

    def on_train_end(self, args, state, control, **kwargs):
        if self.main:
            self.plot()

    def plot(self) -> None:
        plot_curves(read_metrics(self.metrics), self.out / "curves.png", title=self.run.preset.name)
        self.plotted_at = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if self.monitor is not None and self.monitor.due(state.global_step):
            self.pending = self.monitor.check(kwargs["model"], kwargs["processing_class"], self.loop)
            self.stopped_by = self.monitor.stop_reason(self.pending) or self.stopped_by  # either gap past stop_drift
        # both checks sum over the ranks: every rank makes them every step, whatever the monitor said
        budget, failing = self.over_budget(), self.judge_failing()
        self.stopped_by = self.stopped_by or budget or failing
        if on_any_rank(self.stopped_by is not None):  # every rank decides alike; this is the guard that they stop
            self.stopped_by = self.stopped_by or "stopped with another rank"
            control.should_save = True
            control.should_training_stop = True

    def over_budget(self) -> str | None:
        """Why the judge budget is spent, or None."""
        figures, run = self.judge_figures(), self.run
        if run.max_judge_tokens is not None and figures["judge/billed_tokens"] >= run.max_judge_tokens:
            return f"judge tokens {figures['judge/billed_tokens']:,} ≥ {run.max_judge_tokens:,}"
        if run.max_judge_cost is not None and figures["judge/cost_usd"] >= run.max_judge_cost:
            return f"judge cost ${figures['judge/cost_usd']:.4f} ≥ ${run.max_judge_cost}"
        return None

    def judge_failing(self) -> str | None:
        """Why the judge is failing (:class:`~rareval.judge.health.JudgeHealth`), or None."""
        health = getattr(self.reward, "health", None)
        if health is None:
            return None
        asked, abstained = summed(health.counts())  # the same window on every rank: one decision
        reason = health.failing(int(asked), int(abstained))
        return f"{JUDGE_FAILING}: {reason}" if reason else None

    def summary(self) -> dict[str, Any]:
        share = sum(self.shares) / len(self.shares) if self.shares else None
        screened = {SCREENED_KEY: len(self.screen.screened)} if self.screen is not None else {}
        return {"stopped_by": self.stopped_by, **self.judge_figures(), SHARE_KEY: share, **screened}


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The lines of a ``metrics.jsonl``; a torn last line (a crash mid-write) is skipped."""
    rows = []
    for line in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


#: TRL's mean completion length, drawn when the reward gives no per-criterion pass rates.
LENGTH_KEY = "completions/mean_length"


def plot_curves(rows: list[dict[str, Any]], dest: Path, title: str = "") -> str | None:
    """Reward and per-category pass rates (or, for a rating reward, completion length) against steps,
    written atomically to ``dest``; returns the right panel's title (None: nothing to draw yet)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if REWARD_KEY in r]
    if not rows:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = [r["step"] for r in rows]
    left.plot(steps, [r[REWARD_KEY] for r in rows], label="reward (mean)")
    left.fill_between(steps, [r[REWARD_KEY] - r.get("reward_std", 0) for r in rows],
                      [r[REWARD_KEY] + r.get("reward_std", 0) for r in rows], alpha=0.2)
    left.set(xlabel="step", ylabel="reward", title=f"{title}: reward")
    rates = sorted({k for r in rows for k in r if k.startswith(PASS_RATE_PREFIX)})
    for key in rates:
        pts = [(r["step"], r[key]) for r in rows if key in r]
        right.plot([s for s, _ in pts], [v for _, v in pts], label=key[len(PASS_RATE_PREFIX):])
    if rates:
        right.set(xlabel="step", ylabel="share of criteria met", ylim=(0, 1),
                  title="pass rate by category (pitfall: present)")
    else:  # a rating reward (Likert, RaR-Implicit) has no per-criterion verdicts: show what it drives instead
        pts = [(r["step"], r[LENGTH_KEY]) for r in rows if LENGTH_KEY in r]
        right.plot([s for s, _ in pts], [v for _, v in pts], color="tab:gray", label="completion length (mean)")
        right.set(xlabel="step", ylabel="tokens", title="completion length (a rating reward has no pass rates)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = dest.with_name(dest.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(dest)
    return right.get_title()
