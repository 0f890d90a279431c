"""What ``--candidate`` / ``--baseline`` name: stored results, Inspect logs, a checkpoint or a model.

Resolution, first match wins:

1. an existing JSON file holding gate results or a gate report → **results**
   (a report contributes its candidate's results: last run's candidate is this
   run's baseline);
2. an existing ``.eval`` / ``.json`` file, or a folder of them → **logs**;
3. a ``rareval train`` run folder (``final/config.json``) → its ``final/`` checkpoint;
   a folder whose ``config.json`` names a ``model_type`` → a Hugging Face **checkpoint**;
4. ``hf/NAME`` → a Hugging Face checkpoint by hub id or path;
5. any other ``provider/model`` that is not a path → an Inspect **model** (it can run
   judged and generation tasks, not the likelihood check).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rareval.regress.errors import RegressUsageError
from rareval.regress.items import is_results_file

__all__ = ["Source", "resolve_source"]


class Source(BaseModel):
    """A resolved ``--candidate`` or ``--baseline``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["results", "logs", "checkpoint", "model"]
    spec: str = Field(description="As given on the command line.")
    path: str | None = Field(None, description="Results file, log file or folder, or checkpoint (path or hub id).")
    model: str | None = Field(None, description="Inspect model string (kind 'model').")

    @property
    def runnable(self) -> bool:
        return self.kind in ("checkpoint", "model")


def _has_logs(folder: Path) -> bool:
    return any(p.suffix in (".eval", ".json") for p in folder.iterdir() if p.is_file())


def _is_checkpoint(folder: Path) -> bool:
    """A transformers checkpoint: its ``config.json`` names a ``model_type``."""
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(config, dict) and "model_type" in config


def resolve_source(spec: str, option: str) -> Source:
    """Resolve one side; a spec that is none of the above raises :class:`RegressUsageError`."""
    path = Path(spec).expanduser()
    if path.is_file():
        if is_results_file(path):
            return Source(kind="results", spec=spec, path=str(path))
        if path.suffix in (".eval", ".json"):
            return Source(kind="logs", spec=spec, path=str(path))
        raise RegressUsageError("not an Inspect log (.eval/.json), gate results (.json) or checkpoint folder",
                                file=path, field=option)
    if path.is_dir():
        if (path / "final" / "config.json").is_file():
            return Source(kind="checkpoint", spec=spec, path=str((path / "final").resolve()))
        if _is_checkpoint(path):
            return Source(kind="checkpoint", spec=spec, path=str(path.resolve()))
        if _has_logs(path):
            return Source(kind="logs", spec=spec, path=str(path))
        raise RegressUsageError("folder holds neither Inspect logs nor a checkpoint (config.json)", file=path,
                                field=option)
    if spec.startswith(("/", ".", "~")) or path.suffix in (".eval", ".json", ".yaml"):
        raise RegressUsageError("no such file or folder", file=path, field=option)
    if spec.startswith("hf/") and len(spec) > 3:
        return Source(kind="checkpoint", spec=spec, path=spec[3:])
    if "/" in spec.strip("/"):
        return Source(kind="model", spec=spec, model=spec)
    raise RegressUsageError(f"{spec!r} is not a file, a folder or an Inspect model string (provider/model)",
                            field=option)
