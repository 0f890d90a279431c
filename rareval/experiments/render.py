"""Rendering shared by the artifacts: the comparison table in Markdown, figures as PNG + PDF.

Every output states the scale it ran at and puts the paper's number, ours and the
difference (ours − paper) side by side; where the paper gives no number (RaR v2
Figure 3 is image-only) it says so instead of leaving a blank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PAPER = "RaR v2 (arXiv 2507.17746v2)"
IMAGE_ONLY = "no number (image only)"
SCALE_WORDS = {
    "embedded": "embedded models and shipped data, offline, on a CPU — not the paper's models or data",
    "paper": "the paper's models, judges and data",
    "not run": "not reproduced yet — the paper's column only",
}


def fmt(value: Any) -> str:
    """A cell: thousands separators for counts, 4 significant digits for the rest."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        text = f"{value:.4g}"
        return text if any(ch in text for ch in ".en") else text + ".0"  # 1.0 stays 1.0, as printed
    return str(value)


def fmt_diff(diff: Any) -> str:
    if isinstance(diff, int) and not isinstance(diff, bool):
        return f"{diff:+,}"
    if isinstance(diff, float):
        return f"{diff:+,.1f}" if abs(diff) >= 1000 else f"{diff:+.4g}"
    return fmt(diff)


def scale_line(results: dict[str, Any]) -> str:
    scale = results.get("scale", "?")
    return f"**Scale: {scale}** ({SCALE_WORDS.get(scale, scale)})."


def provenance_lines(prov: dict[str, Any]) -> list[str]:
    """Where the numbers were drawn from, in a few bullet lines."""
    if not prov:
        return []
    lines = ["", "Drawn from:"] + ([f"- source: `{prov['source']}`"] if prov.get("source") else [])
    for d in prov.get("data", []):
        lines.append(f"- data `{d['path']}` (sha256 {(d.get('sha256') or 'n/a')[:12]}…, {d['rows']:,} rows)"
                     + (f" — {d['note']}" if d.get("note") else ""))
    if prov.get("models"):
        lines.append(f"- models: {', '.join(f'`{m}`' for m in prov['models'])}")
    if prov.get("judge"):
        lines.append(f"- judge: `{prov['judge']}`")
    commit = prov.get("commit")
    lines.append(f"- seed {prov.get('seed')}; commit `{commit[:10] if commit else 'unknown'}`"
                 + (" (uncommitted changes)" if prov.get("dirty") else "") + f"; date {prov.get('date')}")
    if prov.get("inspect_logs"):
        lines.append(f"- Inspect logs: {len(prov['inspect_logs'])} files, e.g. `{prov['inspect_logs'][0]}`")
    return lines


def comparison_table(rows: list[dict[str, Any]], extra: list[str] | None = None, image_only: bool = False,
                     item: str = "item") -> list[str]:
    """Markdown rows: item | paper | ours | ours − paper (| extra columns)."""
    extra = extra or []
    head = [item, "paper", "ours", "ours − paper", *extra]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        paper = IMAGE_ONLY if image_only and r["paper"] is None else fmt(r["paper"])
        unit = f" {r['unit']}" if r.get("unit") and r["ours"] is not None else ""
        cells = [r["item"], paper, fmt(r["ours"]) + unit, fmt_diff(r["diff"]), *(fmt(r.get(e)) for e in extra)]
        out.append("| " + " | ".join(cells) + " |")
    return out


def markdown(results: dict[str, Any]) -> str:
    """The whole Markdown page of an artifact's results."""
    lines = [f"# {results['title']}", "", f"Source of the paper's numbers: {PAPER}, SPEC §2. " + scale_line(results),
             ""]
    lines += comparison_table(results.get("comparison", []), results.get("extra_columns"),
                              results.get("paper_image_only", False), results.get("item_header", "item"))
    for section, rows in results.get("sections", {}).items():  # further tables (e.g. per-condition detail)
        lines += ["", f"## {section}", "", *rows]
    if results.get("notes"):
        lines += ["", "Notes:", *(f"- {n}" for n in results["notes"])]
    lines += provenance_lines(results.get("provenance", {}))
    return "\n".join(lines) + "\n"


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results))
    return path


def save_figure(fig, out_dir: str | Path, key: str) -> list[Path]:
    """Save a matplotlib figure as ``<key>.png`` and ``<key>.pdf``; closes it."""
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{key}.png", out / f"{key}.pdf"]
    for p in paths:
        fig.savefig(p, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return paths


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
