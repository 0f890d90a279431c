"""RaR v2 Figure 3 — judge alignment across judge sizes (SPEC §1.8).

Judges of several sizes rate a preferred and a dispreferred answer independently; a
pair is right when the preferred one scores higher. Pairwise accuracy (95 % bootstrap
CI) per judge × condition — ``likert`` (paper: blue), ``rubric_ref`` (orange),
``rubric_noref`` (green), ``explicit`` (an extra: RaR-Explicit on the physician
rubric) — through :func:`rareval.evals.judge_alignment.sweep`, drawn against judge size.

The paper's values are image-only: every output says so and compares only its
qualitative finding (rubrics beat Direct-Likert at every size; reference-grounded
rubrics beat reference-free ones). Embedded scale: the ``local/`` judges on
ideal ≻ reference-completion pairs of Group 2 rows from the shipped HealthBench union file, one per
conversation, a seeded random sample stratified by theme within a length budget, each with a ``rubric_ref``
(written with the ideal answer as reference) and a ``rubric_noref`` by ``--generator``
(default ``local/qwen-1.5b``; ``none`` skips those two conditions). The pairs are built
once and saved with provenance as ``figure3_pairs.jsonl``.
Paper scale: the Qwen2.5 judges on 3,027 degraded pairs (``--pairs-file``). Stored rows
are reused when judge, condition, judge settings, judge arguments (``--judge-arg``: another server is another
judge), the judge prompts the condition reads and what it reads from the pairs match
(:func:`~rareval.experiments.figure3_pairs.reuse_key`; Inspect logs under ``<results>/logs``;
the verdict cache does the rest); ``--stored-only`` draws them without running a judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rareval.data.cache import sha256_file
from rareval.experiments.base import (Artifact, NotRunnable, ReproduceOptions, compare, load_results, provenance,
                                      register, rel, write_results)
from rareval.experiments.figure3_pairs import (EMBEDDED_MAX_PAIR_CHARS, FINDINGS, RUBRIC_CONDITIONS, RUBRIC_TOKENS,
                                               calls_per_response, prepare_pairs, reusable, reuse_key,
                                               rubric_generator, runnable_conditions, settings, stored_count,
                                               tokens_per_call)
from rareval.experiments.figure3_plot import MIN_READINGS, draw, judge_order, readable
from rareval.experiments.plan import Plan, Step, tokens
from rareval.experiments.render import IMAGE_ONLY, save_figure, write_markdown
from rareval.experiments.training import CONVERSATION_CHARS, RESPONSE_CHARS


def no_reading(n: int) -> str:
    return "no reading" if not n else f"too few readings (n={n})"


def cell(row: dict, key: str, low: str | None = None, high: str | None = None, digits: int = 3) -> str:
    """A table cell: the value [95 % CI], "no reading" where the judge read no pair of the condition (its row
    stores NaN there, never printed), "—" where the row has no such field."""
    if not row.get("n_scored") or (key in row and not readable(row[key])):
        return "no reading"
    if key not in row:
        return "—"
    return f"{row[key]:.{digits}f}" + (f" [{row[low]:.{digits}f}, {row[high]:.{digits}f}]" if low else "")


def tie_free_cell(row: dict) -> str:
    """A row's tie-free accuracy [95 % CI] as the table shows it, or why it has none (a judge without
    logprobs has no tie-free reading: its ties-wrong and ties-half accuracies are all there is)."""
    from rareval.evals.judge_alignment import no_tie_free

    if row.get("n_expected") and "accuracy_expected" in row:
        part = f" (n={row['n_expected']:.0f} of {row['n_scored']:.0f})" if row["n_expected"] < row["n_scored"] else ""
        return cell(row, "accuracy_expected", "expected_ci_low", "expected_ci_high") + part
    return no_tie_free(row["condition"]) if row.get("n_scored") else "no reading"


def finding_differences(rows: list[dict], judges: list[str], better: str, worse: str,
                        seed: int = 0) -> dict[str, dict]:
    """Per judge: accuracy(``better``) − accuracy(``worse``) on the pairs both conditions read, from each
    pair's expected-rating outcome (tie-free; :func:`rareval.evals.judge_alignment.pair_outcomes`), with a
    paired bootstrap 95 % interval and ``detectable``: the smallest difference these pairs detect with
    power 0.8 at α = 0.05 (:func:`rareval.regress.stats.minimum_detectable_effect`, planned with
    :func:`~rareval.regress.stats.planning_sd` as the checkpoint gate plans it). ``{"mean": None}``: the
    judge read fewer than :data:`MIN_READINGS` shared pairs (``n`` says how many): no interval is drawn from
    them, and ``why`` says so: "no tie-free reading" where the judge read pairs but returned no logprobs
    (:func:`rareval.evals.judge_alignment.no_tie_free`; its ties-wrong outcomes are never used in their
    place). ``read``: shared pairs read at all. Judges whose rows lack either condition, or predate per-pair
    outcomes, are left out."""
    from rareval.evals.judge_alignment import no_tie_free
    from rareval.regress.stats import minimum_detectable_effect, planning_sd
    from rareval.stats import paired_difference

    by = {(r["judge"], r["condition"]): r.get("outcomes") for r in rows}
    out = {}
    for judge in judges:
        b, w = by.get((judge, better)), by.get((judge, worse))
        if not b or not w:
            continue
        ids = sorted(set(b) & set(w))
        out[judge] = d = paired_difference([w[i]["expected"] for i in ids], [b[i]["expected"] for i in ids],
                                           seed=seed)
        d["read"] = sum(any(None not in (b[i][k], w[i][k]) for k in ("strict", "expected")) for i in ids)
        if d["n"] < MIN_READINGS:  # a bootstrap of 1 or 2 pairs gives a zero-width interval, not evidence
            why = no_tie_free(better) if d["read"] and not d["n"] else no_reading(d["n"])
            out[judge] = {"mean": None, "ci95": None, "n": d["n"], "read": d["read"], "why": why}
            continue
        read = [(b[i]["expected"], w[i]["expected"]) for i in ids if None not in (b[i]["expected"], w[i]["expected"])]
        d["detectable"] = minimum_detectable_effect(len(read), planning_sd(*zip(*read)), alpha=0.05, power=0.8)
    return out


@register
class Figure3(Artifact):
    key, title, kind = "figure3", "Figure 3 — judge alignment across judge sizes", "figure"
    paper = None  # image-only (SPEC §1.8, §2)
    needs = "judges (Inspect models) and preference pairs; rubric conditions need pairs with generated rubrics"
    runnable = ("embedded", "paper")

    def plan(self, options: ReproduceOptions) -> Plan:
        judges, conditions, n = settings(options)
        steps, notes = [], [f"the paper gives {IMAGE_ONLY}: only its qualitative finding is compared"]
        paper = options.scale == "paper"
        if options.pairs_file:
            steps.append(Step(kind="data", what=f"pairs from {options.pairs_file} (first {n:,})", items=n))
        elif paper:
            steps.append(Step(kind="build", what=f"{n:,} degraded pairs + rubric_ref/rubric_noref by openai/o3 "
                              "(manual screen not automated)", model="openai/o3", items=n, judge_calls=3 * n,
                              tokens_per_call=tokens(1_300, CONVERSATION_CHARS, RESPONSE_CHARS) + 400,
                              command=f"python -m rareval.cli alignment build --kind degraded --generator openai/o3 "
                                      f"--rubrics --out figure3_pairs.jsonl --limit {n}"))
        elif generator := rubric_generator(options, conditions):
            todo = max(0, n - stored_count(options, conditions))
            steps.append(Step(kind="build", what=f"{n} ideal ≻ reference pairs from {rel(options.source)}, "
                              f"rubric_ref + rubric_noref by {generator} (≤ {RUBRIC_TOKENS} tokens each)"
                              + ("" if todo else " (stored)"), model=generator, items=n, judge_calls=2 * todo,
                              tokens_per_call=tokens(1_300, CONVERSATION_CHARS, RESPONSE_CHARS) + RUBRIC_TOKENS))
        else:
            steps.append(Step(kind="build", what=f"{n} ideal ≻ reference pairs from {rel(options.source)} (no model)",
                              items=n))
            run = [c for c in conditions if c not in RUBRIC_CONDITIONS]
            if skipped := [c for c in conditions if c in RUBRIC_CONDITIONS]:
                notes.append(f"skipped with --generator none: {', '.join(skipped)} (reference pairs carry no "
                             "generated rubrics)")
                conditions = run
        cached = self._cached_rows(options)
        for c in conditions:
            for j in judges:
                hit = (j, c) in cached
                steps.append(Step(kind="eval", what=f"judge {j} · {c}" + (" (cached)" if hit else ""), judge=j,
                                  items=n, judge_calls=0 if hit else int(2 * n * calls_per_response(c)),
                                  tokens_per_call=tokens_per_call(c)))
        needs = "" if (options.pairs_file or not paper) else "a pairs file with degraded answers and rubrics " \
            "(--pairs-file; the build step makes it)"
        return Plan(key=self.key, scale=options.scale, runnable=not needs, needs=needs, steps=steps, notes=notes)

    def partial_path(self, results_dir: str | Path) -> Path:
        """Rows of a run in progress, written as each judge × condition finishes (removed at the end)."""
        return Path(results_dir) / f"{self.key}.partial.json"

    def _cached_rows(self, options: ReproduceOptions) -> dict[tuple[str, str], dict]:
        """Stored rows by (judge, condition): the last complete run's, then those of an interrupted one."""
        if options.force:
            return {}
        rows = []
        for path in (self.results_path(options.results), self.partial_path(options.results)):
            rows += (load_results(path) or {}).get("rows", [])
        return {(r["judge"], r["condition"]): r for r in rows}

    def compute(self, options: ReproduceOptions) -> dict[str, Any]:
        from tqdm import tqdm

        from rareval.evals.judge_alignment import CONDITIONS, judge_size, sweep

        if options.scale == "paper" and not options.pairs_file:
            raise NotRunnable("figure3 at paper scale needs --pairs-file (degraded pairs with rubrics: "
                              "`python -m rareval.cli alignment build --kind degraded --generator openai/o3 "
                              "--rubrics`)")
        judges, conditions, n = settings(options)
        pairs_path, pairs, limit, failures = prepare_pairs(options, n, conditions)
        pairs_sha = sha256_file(pairs_path)
        run, skipped = runnable_conditions(conditions, pairs)
        # what each condition reads (not the whole file), the judge's settings, arguments and prompts
        keys = {c: reuse_key(pairs, c, options.judge_args, options.judge_config) for c in run}
        cached = {(j, c): r for (j, c), r in self._cached_rows(options).items() if c in keys and reusable(r, keys[c])}
        todo = [(j, c) for j in judges for c in run if (j, c) not in cached]  # a judge at a time: its finding
        not_run, todo = (todo, []) if options.stored_only else ([], todo)
        rows = []
        for j, c in tqdm(todo, desc="figure3 judge × condition", disable=len(todo) < 2):
            # fail_fast=0: a judge that answers nothing readable is a result here ("no reading"), not an error
            row = sweep([j], [c], pairs=pairs_path, limit=limit, log_dir=Path(options.results) / "logs",
                        judge_args=options.judge_args, grader_config=options.judge_config, fail_fast=0)[0]
            rows.append(row | {"pairs_sha256": pairs_sha, "size_b": judge_size(j),
                               **{k: v for k, v in keys[c].items() if v or k not in ("judge_config", "judge_args")}})
            write_results({"rows": [*cached.values(), *rows]}, self.partial_path(options.results))  # resumable
        stored = load_results(self.results_path(options.results)) or {}
        wanted = {"judges": judges, "conditions": conditions, "run": run, "skipped": skipped, "pairs": len(pairs),
                  **({"not_run": [f"{j} · {c}" for j, c in not_run]} if not_run else {})}
        if not todo and stored.get("settings") == wanted and stored.get("scale") == options.scale:
            print(f"figure3: every row is stored in {self.results_path(options.results)}; rendering it (--force "
                  "recomputes)")
            # the comparison and the table are derived from the rows: drawn again, so a stored run reads by
            # today's rules (a judge without logprobs: no tie-free reading)
            return {k: v for k, v in stored.items() if k not in ("artifact", "title", "scale")} | {
                "comparison": self.comparison(stored.get("rows", []), judges),
                "sections": {**stored.get("sections", {}),
                             "Accuracy per judge and condition": self.detail(stored.get("rows", []))}}
        done = {(r["judge"], r["condition"]): r for r in rows}
        rows = [done.get((j, c)) or cached[(j, c)] for c in run for j in judges if (j, c) not in not_run]
        source = pairs[0].provenance if pairs else None
        notes = [f"The paper gives {IMAGE_ONLY} for Figure 3; the rows below compare its qualitative finding."]
        notes += [f"Skipped condition {c}: {why}." for c, why in skipped.items()]
        fields = {c: field for c in run if (field := CONDITIONS[c][1])}
        if lacking := {c: n for c, field in fields.items() if (n := sum(getattr(p, field) is None for p in pairs))}:
            notes.append("Pairs whose rubric could not be generated are unscored under that condition ("
                         + "; ".join(f"{c}: {n} of {len(pairs)} pairs have none" for c, n in lacking.items()) + ").")
        if not_run:
            notes.append(f"Not run (--stored-only draws stored rows only): {', '.join(wanted['not_run'])}; "
                         "these judges are kept off the findings that need them.")
        if failures:
            notes.append(f"Rubric generation failed for {len(failures)} conversation(s), replaced by the next "
                         f"eligible one: {'; '.join(f[:160] for f in failures)}.")
        if pairs and pairs[0].rubric_ref is not None and (generator := pairs[0].provenance.generator):
            cap = "" if options.pairs_file else f"≤ {RUBRIC_TOKENS} tokens each; "
            notes.append(f"rubric_ref / rubric_noref written by {generator} ({cap}rubric_ref sees the physician's "
                         "ideal answer, which is also the chosen answer — the leakage the paper leaves open, "
                         "SPEC §1.8).")
        if not options.pairs_file:
            notes.append("Pairs: physician ideal answer ≻ a model reference completion the physicians improved on "
                         "(HealthBench Group 2; implicit preference), not the paper's o3-degraded pairs; one per "
                         "conversation, a seeded random sample stratified by theme among answerable conversations "
                         f"of at most {EMBEDDED_MAX_PAIR_CHARS:,} characters; HealthBench-1k rows excluded.")
        if any(j.startswith("scripted/") for j in judges):
            notes.append("scripted/ judges answer by rule: a plumbing check, not a judge of quality.")
        if len(todo) < len(run) * len(judges):
            notes.append("Some rows came from stored results (rerun with --force to recompute).")
        data = [{"path": rel(pairs_path), "sha256": pairs_sha, "rows": len(pairs),
                 "note": f"pairs built from {source.source} (sha256 {source.source_sha256[:12]}…)" if source else ""}]
        self.partial_path(options.results).unlink(missing_ok=True)  # every row is in the results now
        return {"comparison": self.comparison(rows, judges), "paper_image_only": True, "rows": rows,
                "settings": wanted, "status_note": "scripted judges only (plumbing check)"
                if all(j.startswith("scripted/") for j in judges) else "",
                "sections": {"Accuracy per judge and condition": self.detail(rows)}, "notes": notes,
                "provenance": provenance(models=judges, judge=", ".join(judges), data=data, seed=options.seed,
                                         logs=[rel(r["log"]) for r in rows if r.get("log")])}

    @staticmethod
    def comparison(rows: list[dict], judges: list[str]) -> list[dict]:
        """Per judge × condition accuracy (no paper number), then the paper's qualitative findings, each
        tested per judge by a paired bootstrap of the tie-free accuracy difference (:func:`finding_differences`):
        "yes" when every judge with a reading has its interval above 0, "no" when one has it below, else
        "undecided". A judge with no reading, or a condition not run for it, is named and kept off the finding,
        never read as "no"; a "yes" or "no" then says how many judges it rests on."""
        out = [compare(f"{r['judge']} · {r['condition']} accuracy", None,
                       round(r["accuracy"], 3) if r.get("n_scored") else "no reading") for r in rows]
        have = {(r["judge"], r["condition"]) for r in rows}
        out += [compare(f"{j} · {c} accuracy", None, "not run") for c in dict.fromkeys(c for _, c in have)
                for j in judges if (j, c) not in have]
        for better, worse in FINDINGS:
            diffs = finding_differences(rows, judges, better, worse)
            if not diffs:
                continue
            for judge in judges:
                d = diffs.get(judge)
                shown = "not run" if d is None else d["why"] if d["mean"] is None else (
                    f"{d['mean']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] (n={d['n']}"
                    + (f" of {d['read']} read: the rest without logprobs" if d["n"] < d.get("read", 0) else "")
                    + (f"; smallest detectable ±{d['detectable']:.2f}" if "detectable" in d else "") + ")")
                out.append(compare(f"{judge}: accuracy({better}) − accuracy({worse}), tie-free, paired 95 % CI",
                                   None, shown))
            read = [d for d in diffs.values() if d["mean"] is not None]
            ours = f"undecided (no judge read {MIN_READINGS} pairs)" if not read else \
                "no" if any(d["ci95"][1] < 0 for d in read) else \
                "yes" if all(d["ci95"][0] > 0 for d in read) else "undecided (an interval spans 0)"
            if ours in ("yes", "no") and len(read) < len(judges):
                ours += f" (on the {len(read)} of {len(judges)} judges read)"
            out.append(compare(f"finding: {better} > {worse} at every judge size", "yes", ours))
        return out

    @staticmethod
    def detail(rows: list[dict]) -> list[str]:
        lines = ["| judge | size (B) | condition | accuracy, ties wrong [95% CI] | ties half [95% CI] | tie-free "
                 "(expected rating) [95% CI] | AUC (ties half) | n scored | unscored | ties |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            size = f"{r['size_b']:g}" if r.get("size_b") else "unknown"
            lines.append(f"| {r['judge']} | {size} | {r['condition']} | {cell(r, 'accuracy', 'ci_low', 'ci_high')} | "
                         f"{cell(r, 'accuracy_half', 'half_ci_low', 'half_ci_high')} | {tie_free_cell(r)} | "
                         f"{cell(r, 'auc')} | {r['n_scored']:.0f} | {r['unscored']:.0f} | {cell(r, 'ties', digits=2)} |")
        return lines

    def status(self, results_dir: str | Path) -> str:
        stored = load_results(self.results_path(results_dir))
        if not stored:
            return ("not run yet; embedded scale needs the local judges (`python -m rareval.cli models install "
                    "NAME`), paper scale a pairs file with rubrics and the vLLM judges (see --scale paper)")
        s = stored.get("settings", {})
        return (f"{super().status(results_dir)}: {len(s.get('judges', []))} judges × {', '.join(s.get('run', []))}"
                f" on {s.get('pairs')} pairs" + (f"; skipped {', '.join(s['skipped'])}" if s.get("skipped") else "")
                + (f"; not run: {', '.join(s['not_run'])}" if s.get("not_run") else ""))

    def render(self, results: dict[str, Any], out_dir: str | Path) -> list[Path]:
        """Markdown, and the figure (:func:`rareval.experiments.figure3_plot.draw`): accuracy (95 % CI) against
        judge size with ties counted wrong, counted half and tie-free, then the finding's paired differences."""
        rows = results.get("rows", [])
        if rows:  # the table is derived from the rows: drawn by today's rules, never a stale copy
            results = results | {"sections": {**results.get("sections", {}),
                                              "Accuracy per judge and condition": self.detail(rows)}}
        judges = judge_order(rows)
        diffs = {(b, w): d for b, w in FINDINGS if (d := finding_differences(rows, judges, b, w))}
        fig = draw(results, self.title, diffs)
        return [write_markdown(results, Path(out_dir) / f"{self.key}.md"), *save_figure(fig, out_dir, self.key)]
