"""Judge prompts as versioned text files.

Each prompt's version is the first 10 hex digits of the sha256 of its text, so any
edit to a prompt changes the version, and verdicts cached under an older prompt are
never reused (the version is part of every verdict and of the cache key).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str

    @property
    def version(self) -> str:
        return f"{self.name}@{hashlib.sha256(self.text.encode()).hexdigest()[:10]}"

    def render(self, **fields: str) -> str:
        return self.text.format(**fields)


@cache
def load_prompt(name: str, variant: str = "default") -> Prompt:
    """Load ``rareval/prompts/<name>.txt``, or ``<name>_<variant>.txt`` for another ``variant``
    (``JudgeConfig.prompt_variant``, e.g. ``hardened``)."""
    name = name if variant == "default" else f"{name}_{variant}"
    path = files(__package__).joinpath(f"{name}.txt")
    if not path.is_file():
        raise FileNotFoundError(f"no judge prompt named {name!r} in {files(__package__)}")
    return Prompt(name=name, text=path.read_text())
