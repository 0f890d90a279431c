"""Figure 3 drawn for a reader who takes it in at a glance (a 2 × 2 grid at page width).

Panels (a)–(c): pairwise accuracy per condition against judge size — ties counted wrong, ties counted half,
tie-free (expected rating). Panel (d): the finding, rubric − Likert per judge with its paired 95 % interval,
the zero line and, shaded behind each interval, ± the smallest difference those pairs detect. Judges run in
size order on every x axis. A judge with nothing to draw in a panel gets one short label in its (greyed)
column, never a stacked list; the legends sit below the grid, outside every panel; no cell or label says
``nan`` (a condition nobody read is "no reading").
"""

from __future__ import annotations

import math
from typing import Any

from rareval.experiments.figure3_pairs import SHOWN
from rareval.experiments.render import IMAGE_ONLY, PAPER, pyplot

MIN_READINGS = 10  # shared pairs a judge must read for a point or a finding interval to be drawn
SHORT = {"likert": "Likert", "rubric_human": "physician rubric", "rubric_ref": "rubric with ref",
         "rubric_noref": "rubric w/o ref", "explicit": "Explicit"}  # a tick label's "not drawn:" line
NO_LOGPROBS = "no tie-free reading\n(no logprobs)"
PANEL_INCHES, DPI = (6.4, 4.0), 130  # two panels across: ~1,700 px wide as saved


def readable(value: Any) -> bool:
    """A number that can be drawn or printed (a condition nobody read stores NaN)."""
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


def judge_order(rows: list[dict]) -> list[str]:
    """Judges by size, smallest first; judges of unknown size at the right."""
    from rareval.evals.judge_alignment import judge_size

    return sorted({r["judge"] for r in rows}, key=lambda j: (judge_size(j) is None, judge_size(j) or 0, j))


def too_few(counts: list[float]) -> str:
    """The one label of a judge with nothing drawn: "no reading", or "too few readings (n = a–b)"."""
    ns = sorted({int(n or 0) for n in counts})
    if ns[-1] == 0:
        return "no reading"
    return "too few readings\n(n = " + (f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}–{ns[-1]}") + ")"


def accuracy_panels(rows: list[dict]) -> list[tuple[str, str, str, str, str]]:
    """(value, CI low, CI high, count, title) of each accuracy panel the rows can fill."""
    panels = [("accuracy", "ci_low", "ci_high", "n_scored", "accuracy, ties counted wrong (the paper's likely rule)")]
    if rows and all("accuracy_half" in r for r in rows):
        panels.append(("accuracy_half", "half_ci_low", "half_ci_high", "n_scored", "accuracy, ties counted half"))
    if any("accuracy_expected" in r for r in rows):
        panels.append(("accuracy_expected", "expected_ci_low", "expected_ci_high", "n_expected",
                       "tie-free accuracy (expected rating; needs logprobs)"))
    return panels


def drawn(row: dict, key: str, count: str) -> bool:
    """A point is drawn from at least MIN_READINGS readings (a point from 2 readings is not a point)."""
    return readable(row.get(key)) and (row.get(count) or 0) >= MIN_READINGS


def why_not_drawn(rows: list[dict], key: str, count: str) -> str:
    """Why none of a judge's rows gives a point in the panel of ``key``."""
    if key == "accuracy_expected" and any(r.get("n_scored") and "accuracy_expected" not in r for r in rows):
        return NO_LOGPROBS
    return too_few([r.get(count) if readable(r.get(key)) else 0 for r in rows])


def why_no_difference(diffs: list[dict]) -> str:
    """The one label of a judge none of whose findings has an interval."""
    if any(d["read"] and not d["n"] for d in diffs):
        return NO_LOGPROBS
    return too_few([d["n"] for d in diffs])


def mark_empty(ax: Any, x: int, why: str) -> None:
    """A judge with nothing drawn in a panel: its column greyed, one short label in it (above the middle line)."""
    ax.axvspan(x - 0.42, x + 0.42, color="0.94", lw=0, zorder=0)
    ax.text(x, 0.78, why, transform=ax.get_xaxis_transform(), ha="center", va="center", fontsize=7.5, color="0.35")


def set_ticks(ax: Any, judges: list[str], notes: dict[str, str]) -> None:
    from rareval.evals.judge_alignment import judge_size

    names = [f"{j.split('/')[-1]}\n({judge_size(j):g}B)" if judge_size(j) else f"{j}\n(size unknown)"
             for j in judges]
    ax.set_xticks(range(len(judges)), [n + (f"\n{notes[j]}" if j in notes else "") for n, j in zip(names, judges)],
                  fontsize=7.5)
    ax.set_xlim(-0.5, max(len(judges) - 0.5, 0.5))


def draw_accuracy(ax: Any, rows: list[dict], judges: list[str], panel: tuple, colors: dict[str, str]) -> None:
    """One accuracy panel: per condition, points (95 % CI) joined across judges of known size; a judge
    without a point breaks the line (nothing is drawn through a judge that could not be read)."""
    from rareval.evals.judge_alignment import judge_size

    key, low, high, count, title = panel
    conditions = list(colors)
    for k, condition in enumerate(conditions):
        by = {r["judge"]: r for r in rows if r["condition"] == condition and drawn(r, key, count)}
        shift = 0.07 * (k - (len(conditions) - 1) / 2)  # conditions side by side, not on top of each other
        line = [by[j][key] if j in by and judge_size(j) is not None else math.nan for j in judges]
        ax.plot([x + shift for x in range(len(judges))], line, color=colors[condition], lw=1.3)
        points = [(judges.index(j), r) for j, r in by.items()]
        if points:
            ax.errorbar([x + shift for x, _ in points], [r[key] for _, r in points], capsize=2.5, marker="o", ms=4,
                        yerr=[[r[key] - r[low] for _, r in points], [r[high] - r[key] for _, r in points]],
                        ls="none", color=colors[condition])
    notes = {}
    for x, judge in enumerate(judges):
        mine = [r for r in rows if r["judge"] == judge]
        missing = [r for r in mine if not drawn(r, key, count)]
        if missing and len(missing) == len(mine):
            mark_empty(ax, x, why_not_drawn(mine, key, count))
        elif missing:
            notes[judge] = "not drawn: " + ", ".join(SHORT.get(r["condition"], r["condition"]) for r in missing)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--", zorder=0.5)
    set_ticks(ax, judges, notes)
    ax.set_ylim(-0.03, 1.05)
    ax.set_ylabel("pairwise preference accuracy")
    ax.set_title(title, fontsize=9.5)


def draw_differences(ax: Any, diffs: dict, judges: list[str], colors: dict[tuple, str]) -> None:
    """The finding's panel: per judge, accuracy(better) − accuracy(worse) with its paired 95 % CI, ± the
    smallest detectable difference shaded behind it, and the zero line; one label where a judge has none."""
    reach = 0.1
    for k, (pair, by_judge) in enumerate(diffs.items()):
        shift = 0.13 * (k - (len(diffs) - 1) / 2)
        read = [(judges.index(j) + shift, d) for j, d in by_judge.items() if d["mean"] is not None]
        for x, d in read:
            if "detectable" in d:
                ax.bar(x, 2 * d["detectable"], bottom=-d["detectable"], width=0.11, color=colors[pair], alpha=0.16,
                       lw=0, zorder=0.6)
            reach = max(reach, abs(d["ci95"][0]), abs(d["ci95"][1]), d.get("detectable", 0))
        if read:
            ax.errorbar([x for x, _ in read], [d["mean"] for _, d in read], capsize=2.5, marker="o", ms=4,
                        yerr=[[d["mean"] - d["ci95"][0] for _, d in read], [d["ci95"][1] - d["mean"] for _, d in read]],
                        ls="none", color=colors[pair])
    notes = {}
    for x, judge in enumerate(judges):
        mine = [(pair, by[judge]) for pair, by in diffs.items() if judge in by]
        none = [d for _, d in mine if d["mean"] is None]
        if mine and len(none) == len(mine):
            mark_empty(ax, x, why_no_difference(none))
        elif none:
            notes[judge] = "not drawn: " + ", ".join(SHORT.get(p[0], p[0]) for p, d in mine if d["mean"] is None)
    ax.axhline(0, color="black", lw=0.9, zorder=0.5)
    set_ticks(ax, judges, notes)
    ax.set_ylim(-1.2 * reach, 1.2 * reach)
    ax.set_ylabel("accuracy difference (tie-free, paired)")
    ax.set_title("the finding: rubric − Likert, paired 95 % CI; shaded: ± smallest detectable", fontsize=9.5)


def legends(fig: Any, colors: dict[str, str], pair_colors: dict[tuple, str], letters: str) -> None:
    """Two legends below the grid, outside every panel: the conditions of the accuracy panels, and the
    differences of the finding panel with what its shading and zero line mean."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    accuracy = [Line2D([], [], color=c, marker="o", ms=4, label=SHOWN.get(k, k)) for k, c in colors.items()]
    accuracy.append(Line2D([], [], color="grey", lw=0.8, ls="--", label="chance (0.5)"))
    fig.legend(handles=accuracy, loc="outside lower left", ncol=2, fontsize=8, title_fontsize=8.5, frameon=False,
               title=f"panels {letters}: condition")
    if pair_colors:
        finding = [Line2D([], [], color=c, marker="o", ms=4, ls="none",
                          label=f"{SHOWN.get(b, b)} − {SHOWN.get(w, w)}") for (b, w), c in pair_colors.items()]
        finding += [Line2D([], [], color="black", lw=0.9, label="no difference"),
                    Patch(color="grey", alpha=0.3, lw=0,
                          label="± smallest detectable difference (power 0.8, α 0.05)")]
        fig.legend(handles=finding, loc="outside lower right", ncol=2, fontsize=8, title_fontsize=8.5,
                   frameon=False, title="finding panel: paired difference (tie-free)")


def headline(results: dict[str, Any], title: str) -> str:
    """The figure's title lines: what it is, its scale and pairs, what the paper claims, what was left out."""
    s = results.get("settings", {})
    lines = [title, (f"scale: {results.get('scale')}; {s.get('pairs', '?')} pairs. Paper ({PAPER}, Fig. 3): "
                     f"{IMAGE_ONLY}; its finding: rubrics beat Direct-Likert at every judge size, most for small "
                     "judges.")]
    if s.get("skipped"):
        lines.append(f"Skipped: {', '.join(s['skipped'])} (no generated rubrics in the pairs).")
    if s.get("not_run"):
        lines.append(f"Not run: {', '.join(n.split('/')[-1] for n in s['not_run'])}.")
    return "\n".join(lines)


def draw(results: dict[str, Any], title: str, diffs: dict) -> Any:
    """The whole figure: accuracy panels then the finding panel, two across, legends below."""
    plt = pyplot()
    rows = results.get("rows", [])
    judges = judge_order(rows)
    panels = accuracy_panels(rows)
    n = len(panels) + bool(diffs)
    cols = min(n, 2)
    fig, grid = plt.subplots((n + cols - 1) // cols, cols, squeeze=False, layout="constrained",
                             figsize=(PANEL_INCHES[0] * cols, PANEL_INCHES[1] * ((n + cols - 1) // cols) + 1.6))
    axes = [ax for line in grid for ax in line]
    for ax in axes[n:]:
        fig.delaxes(ax)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {c: cycle[k % len(cycle)] for k, c in enumerate(dict.fromkeys(r["condition"] for r in rows))}
    pair_colors = {p: colors.get(p[0], "grey") if p[1] == "likert" else cycle[(len(colors) + k) % len(cycle)]
                   for k, p in enumerate(diffs)}
    for k, (ax, panel) in enumerate(zip(axes, panels)):
        draw_accuracy(ax, rows, judges, panel[:4] + (f"({'abcd'[k]}) {panel[4]}",), colors)
        if not rows:
            ax.text(0.5, 0.5, "not run yet", ha="center", transform=ax.transAxes)
    if diffs:
        draw_differences(axes[len(panels)], diffs, judges, pair_colors)
        axes[len(panels)].set_title(f"({'abcd'[len(panels)]}) {axes[len(panels)].get_title()}", fontsize=9.5)
    for ax in axes[max(n - cols, 0):n]:
        ax.set_xlabel("judge (ordered by size)")
    if rows:
        legends(fig, colors, pair_colors, f"(a)–({'abcd'[len(panels) - 1]})" if len(panels) > 1 else "(a)")
    fig.suptitle(headline(results, title), fontsize=9.5)
    return fig

