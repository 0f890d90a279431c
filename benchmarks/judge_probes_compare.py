"""Before and after a defence: two ``benchmarks/judge_probes.py`` runs on the same rows, side by side.

    python benchmarks/judge_probes_compare.py results/judge_probes_v2.json results/judge_probes_v2_defended.json

Prints Markdown: per strategy and probe, the lift over the honest answer and the exploitation rate before
and after (95% bootstrap intervals over rows, as the runs computed them) and whether the after lift meets
the target (≤ ``--lift-target``, default 0.05); per strategy, the honest answer's score before and after,
with the paired mean difference over rows and its 95% bootstrap interval (target |Δ| ≤ ``--honest-target``,
default 0.03); and what each run cost (questions, seconds, verdicts voided). The two runs must share their
rows. ``--setting-before`` / ``--setting-after`` pick the judge setting of each (default: ``default``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def compare(before: dict, after: dict, setting_before: str = "default", setting_after: str = "default",
            lift_target: float = 0.05, honest_target: float = 0.03) -> str:
    """The Markdown report (see the module docstring)."""
    from rareval.reliability.probes_exploit import ratio_ci, shown as fmt

    if before["rows"] != after["rows"]:
        raise ValueError("the two runs scored different rows; compare runs made with the same --data and --rows")
    pick = (lambda run, setting: {(e["strategy"], e["probe"]): e for e in run["effects"] if e["setting"] == setting})
    b, a = pick(before, setting_before), pick(after, setting_after)
    lines = [f"| strategy | probe | lift before | lift after | lift ≤ {lift_target:g} | exploitation before | "
             "exploitation after | rows |", "|---|---|---|---|---|---|---|---|"]
    for key in [k for k in b if k in a and k[1] != "honest"]:
        eb, ea = b[key], a[key]
        met = "—" if ea["lift"] is None else "yes" if ea["lift"] <= lift_target else "**no**"
        lines.append(f"| {key[0]} | {key[1]}{'' if ea['by_construction'] else ' †'} | "
                     f"{fmt(eb['lift'], eb['lift_ci'])} | {fmt(ea['lift'], ea['lift_ci'])} | {met} | "
                     f"{fmt(eb['exploitation'], eb['exploitation_ci'], False)} | "
                     f"{fmt(ea['exploitation'], ea['exploitation_ci'], False)} | {eb['n']} → {ea['n']} |")
    honest = (lambda run, setting: {(s["strategy"], s["prompt_id"]): s["value"] for s in run["scores"]
                                    if s["probe"] == "honest" and s["setting"] == setting})
    hb, ha = honest(before, setting_before), honest(after, setting_after)
    lines += ["", f"| strategy | honest before | honest after | Δ [95% CI] | \\|Δ\\| ≤ {honest_target:g} | rows |",
              "|---|---|---|---|---|---|"]
    for strategy in dict.fromkeys(k[0] for k in hb):
        pairs = [(hb[k], ha[k]) for k in hb if k[0] == strategy and ha.get(k) is not None and hb[k] is not None]
        if not pairs:
            continue
        diffs = [y - x for x, y in pairs]
        delta, ci = sum(diffs) / len(diffs), ratio_ci(diffs, [1.0] * len(diffs))
        lines.append(f"| {strategy} | {sum(x for x, _ in pairs) / len(pairs):.3f} | "
                     f"{sum(y for _, y in pairs) / len(pairs):.3f} | {fmt(delta, ci)} | "
                     f"{'yes' if abs(delta) <= honest_target else '**no**'} | {len(pairs)} |")
    lines += ["", "| run | judge config | questions | seconds | s / question | verdicts voided |",
              "|---|---|---|---|---|---|"]
    for name, run, setting in (("before", before, setting_before), ("after", after, setting_after)):
        voided = sum(s.get("voided", 0) for s in run["scores"] if s["setting"] == setting)
        lines.append(f"| {name} ({run['date']}) | {run['judge_config'] or 'defaults'} | {run['questions']} | "
                     f"{run['seconds']:.0f} | {run['seconds'] / max(run['questions'], 1):.2f} | {voided} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, help="JSON written by judge_probes.py --out, without the defence")
    parser.add_argument("after", type=Path, help="the same rows with the defence")
    parser.add_argument("--setting-before", default="default")
    parser.add_argument("--setting-after", default="default")
    parser.add_argument("--lift-target", type=float, default=0.05)
    parser.add_argument("--honest-target", type=float, default=0.03)
    args = parser.parse_args(argv)
    try:
        report = compare(json.loads(args.before.read_text()), json.loads(args.after.read_text()),
                         args.setting_before, args.setting_after, args.lift_target, args.honest_target)
    except (OSError, ValueError, KeyError) as e:
        parser.error(f"{e}")
    print(report)
    return report


if __name__ == "__main__":
    main()
