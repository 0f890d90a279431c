"""Judge cost accounting: calls and tokens, billed and computed."""

from __future__ import annotations

from inspect_ai.model import ModelOutput
from pydantic import BaseModel, Field


class Usage(BaseModel):
    """What judging cost. Add two with ``+``.

    ``input_tokens`` are prompt tokens computed at full rate; ``cache_read_tokens``
    are prompt tokens a server served from its prefix cache. An API bills both
    (:attr:`billed_tokens`); a local server only computes the former.
    """

    calls: int = Field(0, description="Model calls made (verdict-cache hits excluded).")
    cached: int = Field(0, description="Answers served from the verdict cache (no call made).")
    input_tokens: int = Field(0, description="Prompt tokens computed (not served from a prefix cache).")
    cache_read_tokens: int = Field(0, description="Prompt tokens the server reused from its prefix cache.")
    output_tokens: int = Field(0, description="Generated tokens.")

    @classmethod
    def of(cls, output: ModelOutput) -> "Usage":
        u = output.usage
        if u is None:
            return cls(calls=1)
        return cls(calls=1, input_tokens=u.input_tokens + (u.input_tokens_cache_write or 0),
                   cache_read_tokens=u.input_tokens_cache_read or 0, output_tokens=u.output_tokens)

    @property
    def billed_tokens(self) -> int:
        """Prompt + completion tokens an API would charge for."""
        return self.input_tokens + self.cache_read_tokens + self.output_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in Usage.model_fields})

    def __radd__(self, other: object) -> "Usage":  # sum() starts from 0
        return self if other == 0 else self + other  # type: ignore[operator]
