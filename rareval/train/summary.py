"""Finished runs side by side: reward curves and held-out scores in one figure and one JSON.

``rareval train-summary runs/implicit-human runs/direct-likert --out results/train`` reads
each run directory (``config.json``, ``metrics.jsonl``, ``status.json`` and, when
``rareval heldout`` has graded it, ``heldout.json``) and writes ``summary.json`` and
``summary.png``: the reward against steps per run (left; rewards of different presets
are on their own scales — a Likert score and a rubric score are not the same number)
and the held-out score before vs after with 95 % CIs (right; one grader for every run,
so these bars *are* comparable). Each run's curves and the small files its figures come from
(``config.json``, ``metrics.jsonl``, ``status.json``, ``heldout.json``) are copied to
``<out>/<run>/`` — everything but checkpoints and the verdict cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rareval.data.cache import write_text_atomic
from rareval.train.monitor import REWARD_KEY, plot_curves, read_metrics
from rareval.train.screening import TRL_KEY

#: The small files of a run directory that a summary keeps beside its figures.
KEPT = ("config.json", "metrics.jsonl", "status.json", "heldout.json")


def run_summary(run_dir: Path) -> dict[str, Any]:
    """One run's figures: preset, steps, wall time, judge cost, the mean share of zero-advantage groups,
    first/last rewards, held-out result."""
    config = json.loads((run_dir / "config.json").read_text())["run"]
    status = json.loads((run_dir / "status.json").read_text()) if (run_dir / "status.json").exists() else {}
    rows = [r for r in read_metrics(run_dir / "metrics.jsonl") if REWARD_KEY in r]
    heldout = json.loads((run_dir / "heldout.json").read_text()) if (run_dir / "heldout.json").exists() else None
    steps = [r["step_time"] for r in rows if "step_time" in r]
    shares = [r[TRL_KEY] for r in rows if TRL_KEY in r]  # groups whose rollouts all scored alike, per step
    return {"run": run_dir.name, "preset": config["preset"]["name"], "size": config["preset"]["size"],
            "policy": config["policy"], "judge": config["judge"], "status": status,
            "steps_logged": rows[-1]["step"] if rows else 0,
            "mean_step_seconds": sum(steps) / len(steps) if steps else None,
            "zero_advantage_share": sum(shares) / len(shares) if shares else None,
            "rewards": [(r["step"], r[REWARD_KEY]) for r in rows],
            "heldout": None if heldout is None else {
                k: heldout[k] for k in ("judge", "strategy", "difference")} | {
                side: {k: heldout[side][k] for k in ("mean", "ci95", "n", "unscored")} for side in ("before", "after")}}


def summarise_runs(run_dirs: list[str | Path], out: str | Path) -> dict[str, Any]:
    """Write ``summary.json``, ``summary.png`` and each run's ``curves.png`` under ``out``; return the summary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    runs = []
    for run_dir in map(Path, run_dirs):
        if not (run_dir / "config.json").exists() or not (run_dir / "metrics.jsonl").exists():
            raise FileNotFoundError(f"{run_dir}: not a run directory (needs config.json and metrics.jsonl)")
        runs.append(run_summary(run_dir))
        (out / run_dir.name).mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            if (run_dir / name).exists():
                shutil.copyfile(run_dir / name, out / run_dir.name / name)
        plot_curves(read_metrics(run_dir / "metrics.jsonl"), out / run_dir.name / "curves.png",
                    runs[-1]["preset"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for r in runs:
        left.plot([s for s, _ in r["rewards"]], [v for _, v in r["rewards"]], marker="o", ms=3,
                  label=f"{r['preset']} (own reward)")
    left.set(xlabel="step", ylabel="training reward (batch mean)", title="training reward per run")
    graded = [r for r in runs if r["heldout"]]
    for i, r in enumerate(graded):
        for j, side in enumerate(("before", "after")):
            h = r["heldout"][side]
            if h["mean"] is None:
                continue
            x = i + (j - 0.5) * 0.35
            right.bar(x, h["mean"], width=0.33, color="tab:gray" if side == "before" else "tab:blue",
                      yerr=[[h["mean"] - h["ci95"][0]], [h["ci95"][1] - h["mean"]]], capsize=4,
                      label=side if i == 0 else None)
    right.set_xticks(range(len(graded)), [r["preset"] for r in graded])
    if not graded:
        right.text(0.5, 0.5, "no run graded yet:\nrareval heldout --run DIR", ha="center", va="center",
                   transform=right.transAxes, color="tab:gray")
    grader = graded[0]["heldout"] if graded else None
    right.set(ylabel="held-out score (95 % CI)", ylim=(0, 1),
              title="held-out, one grader" + (f": {grader['judge']} · {grader['strategy']}" if grader else ""))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "summary.png", dpi=100)
    plt.close(fig)
    summary = {"runs": runs}
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1, default=str))
    return summary
