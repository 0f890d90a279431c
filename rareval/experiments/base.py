"""The artifact protocol of ``rareval reproduce``: one class per table or figure of RaR v2.

An :class:`Artifact` declares the paper's numbers (``paper``, copied from SPEC §2,
arXiv v2 numbering), what it ``needs`` (evaluations, training runs, judges, data), a
:meth:`~Artifact.plan` of what would run at a scale, :meth:`~Artifact.run` (compute,
or load cached numbers, and write ``results/paper/<key>.json`` with provenance) and
:meth:`~Artifact.render` (Markdown for tables, PNG + PDF for figures; the paper's
number, ours and the difference side by side, and the scale stated). Artifacts
register themselves with :func:`register`, like :mod:`rareval.strategies`.

Scales: ``embedded`` (embedded models and shipped data, offline, on a CPU) and
``paper`` (the paper's models and judges as Inspect model strings; planned, and run
only when asked).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from rareval.data.cache import sha256_file, write_text_atomic
from rareval.experiments.plan import Plan
from rareval.judge.options import ModelArgs

Scale = Literal["embedded", "paper"]
Kind = Literal["figure", "table"]
REPO = Path(__file__).resolve().parents[2]
UNION = REPO.parent / "shared/data/healthbench/healthbench_offline_union.jsonl"
EMBEDDED_JUDGES = ("local/smollm-135m", "local/gemma-270m", "local/qwen-0.5b", "local/qwen-1.5b")
PAPER_JUDGES = tuple(f"vllm/Qwen/Qwen2.5-{s}-Instruct" for s in ("3B", "7B", "14B", "32B", "72B"))


class NotRunnable(RuntimeError):
    """The artifact cannot be computed at this scale (yet); the message says what it needs."""


class ReproduceOptions(BaseModel):
    """Options of ``rareval reproduce`` that artifacts read (each reads only its own)."""

    scale: Scale = Field("embedded", description="embedded (offline, CPU) or paper (the paper's models).")
    out: Path = Field(Path("paper_figures"), description="Where figures (PNG, PDF) and tables (Markdown) go.")
    results: Path = Field(Path("results/paper"), description="Where the numbers (JSON) and Inspect logs go.")
    force: bool = Field(False, description="Recompute even when matching results are stored.")
    price_per_mtok: float | None = Field(None, ge=0, description="Judge price, USD per million tokens (plan).")
    source: Path = Field(UNION, description="HealthBench JSONL used at embedded scale (the offline union).")
    rar_path: Path | None = Field(None, description="Local RaR file or snapshot directory (paper scale).")
    classifier: str | None = Field(None, description="Tables 6 / 9 topic classifier (Inspect model string, paper "
                                   "scale).")
    judges: list[str] | None = Field(None, description="Figure 3 judges (Inspect model strings).")
    judge_args: ModelArgs = Field(default_factory=dict, description="Figure 3: every judge's model arguments "
                                  "(`--judge-arg`).")
    judge_config: dict[str, Any] = Field(default_factory=dict, description="Figure 3: every judge's JudgeConfig "
                                         "settings (`--judge-config`).")
    conditions: list[str] | None = Field(None, description="Figure 3 conditions.")
    pairs: int | None = Field(None, ge=1, description="Figure 3: number of preference pairs.")
    pairs_file: Path | None = Field(None, description="Figure 3: a pairs file from `rareval alignment build`.")
    generator: str = Field("local/qwen-1.5b", description="Figure 3 at embedded scale: the model that writes each "
                           "pair's rubric_ref and rubric_noref rubrics (built once, saved with the pairs); 'none' "
                           "skips the two rubric conditions.")
    stored_only: bool = Field(False, description="Figure 3: run no judge; draw the stored rows and name each "
                              "judge × condition not run.")
    seed: int = Field(0, description="Seed of bootstrap intervals and sampling.")


def rel(path: str | Path) -> str:
    """``path`` relative to the repository root where it can be (results are committed; no home paths)."""
    resolved = Path(os.path.abspath(path))  # not resolve(): a ../shared that is a link stays ../shared
    if not resolved.is_relative_to(REPO.parent):  # outside the checkout and its shared/ sibling: keep it whole
        return str(resolved)
    return os.path.relpath(resolved, REPO)


def git_commit() -> dict[str, Any]:
    """``{"commit": sha, "dirty": bool}`` of the checkout (dirty: code differs from the commit, new files
    included), or ``{"commit": None}`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rareval", "tasks", "pyproject.toml"],
                               cwd=REPO, capture_output=True, text=True, timeout=10)  # code, new files included
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip() or None if head.returncode == 0 else None,
            "dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None}


def provenance(*, models: list[str] | None = None, judge: str | None = None, data: list[dict] | None = None,
               seed: int = 0, logs: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """What a result was drawn from: models, judge, data (path, sha256, rows), seed, commit, date, logs."""
    return {"models": models or [], "judge": judge, "data": data or [], "seed": seed, **git_commit(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "inspect_logs": logs or [],
            **extra}


def data_entry(path: str | Path, rows: int, note: str = "") -> dict[str, Any]:
    return {"path": rel(path), "sha256": sha256_file(path), "rows": rows, **({"note": note} if note else {})}


def compare(item: str, paper: Any, ours: Any, unit: str = "", digits: int = 2) -> dict[str, Any]:
    """One comparison row: the paper's value, ours and ``ours - paper`` (None where either is missing;
    "same" / "differs" for non-numbers)."""
    if isinstance(paper, (int, float)) and isinstance(ours, (int, float)) and not isinstance(ours, bool):
        diff: Any = round(ours - paper, digits)
    elif paper is None or ours is None:
        diff = None
    else:
        diff = "same" if paper == ours else "differs"
    return {"item": item, "paper": paper, "ours": ours, "diff": diff, "unit": unit}


class Artifact:
    """One table or figure of RaR v2. Subclasses set the class attributes and override what differs."""

    key: ClassVar[str]
    title: ClassVar[str]
    kind: ClassVar[Kind] = "table"
    paper: ClassVar[Any]  # the paper's numbers as data (SPEC §2); None where image-only
    needs: ClassVar[str]
    runnable: ClassVar[tuple[Scale, ...]] = ()  # scales at which run() can compute it now

    # -- what would run ------------------------------------------------------------------------------------
    def plan(self, options: ReproduceOptions) -> Plan:
        """What would run at ``options.scale``; by default nothing runnable, the needs stated."""
        return Plan(key=self.key, scale=options.scale, runnable=options.scale in self.runnable,
                    needs=self.needs)

    # -- computing -----------------------------------------------------------------------------------------
    def compute(self, options: ReproduceOptions) -> dict[str, Any]:
        """The results dict (without provenance fields filled by :meth:`run`); override."""
        raise NotRunnable(f"{self.key} is not reproduced yet: needs {self.needs}")

    def run(self, options: ReproduceOptions) -> dict[str, Any]:
        """Compute (or load cached) numbers and write ``<results>/<key>.json``; returns the results."""
        if options.scale not in self.runnable:
            raise NotRunnable(f"{self.key} cannot run at {options.scale} scale yet: needs {self.needs}")
        results = {"artifact": self.key, "title": self.title, "scale": options.scale, **self.compute(options)}
        write_results(results, self.results_path(options.results))
        return results

    def results_path(self, results_dir: str | Path) -> Path:
        return Path(results_dir) / f"{self.key}.json"

    def paper_only(self) -> dict[str, Any]:
        """Results with the paper's column and no numbers of ours (rendered before a run exists)."""
        return {"artifact": self.key, "title": self.title, "scale": "not run", "comparison": [
            compare(item, value, None, unit) for item, value, unit in self.paper_rows()],
            "notes": [f"Not reproduced yet: needs {self.needs}."], "provenance": {}}

    def paper_rows(self) -> list[tuple[str, Any, str]]:
        """``(item, paper value, unit)`` rows of the paper's numbers; override."""
        return []

    # -- rendering and status ------------------------------------------------------------------------------
    def markdown(self, results: dict[str, Any]) -> str:
        """The Markdown page of ``results`` (the comparison table; override for another layout)."""
        from rareval.experiments.render import markdown

        return markdown(results)

    def render(self, results: dict[str, Any], out_dir: str | Path) -> list[Path]:
        """Markdown table of the comparison (figures override and add PNG + PDF)."""
        from rareval.experiments.render import write_markdown

        return [write_markdown(results, Path(out_dir) / f"{self.key}.md")]

    def status(self, results_dir: str | Path) -> str:
        """Reproduced at which scale and when, or what it still needs."""
        stored = load_results(self.results_path(results_dir))
        if stored is not None:
            when = stored.get("provenance", {}).get("date", "?")
            note = f"; {stored['status_note']}" if stored.get("status_note") else ""
            return f"reproduced at {stored.get('scale', '?')} scale ({when}){note}"
        if self.runnable:
            return f"not run yet; runs at {', '.join(self.runnable)} scale"
        return f"needs {self.needs}"


def write_results(results: dict[str, Any], path: Path) -> Path:
    return write_text_atomic(path, json.dumps(results, indent=1, default=str) + "\n")


def load_results(path: str | Path) -> dict[str, Any] | None:
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


ARTIFACTS: dict[str, Artifact] = {}


def register(cls: type[Artifact]) -> type[Artifact]:
    """Class decorator: register one instance of ``cls`` under ``cls.key``."""
    if cls.key in ARTIFACTS:
        raise ValueError(f"artifact {cls.key!r} registered twice")
    ARTIFACTS[cls.key] = cls()
    return cls


def order(key: str) -> tuple[bool, int]:
    """Figures first, then tables, each by number."""
    return not key.startswith("figure"), int(key.removeprefix("figure").removeprefix("table"))
