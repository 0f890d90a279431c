"""What an artifact would run, and what the judge would cost, before anything runs.

A :class:`Plan` is a list of :class:`Step` (one evaluation, training run or data
pass) with projected calls and tokens per call. Tokens are counted as characters / 4
(:data:`CHARS_PER_TOKEN`, as in :mod:`rareval.train.estimate`); the cost is
``tokens / 1e6 × price`` when a per-million-token price is given. The verdict cache
makes repeated questions free, which the projection does not assume: it is an
upper bound. ``build`` steps (rubric or degraded-answer generation) are counted as
generator calls, apart from judge calls.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from rareval.train.estimate import CHARS_PER_TOKEN


class Step(BaseModel):
    """One unit of work of a plan."""

    kind: str = Field(description="eval | train | build | data | none")
    what: str = Field(description="What runs, in words (model, condition, data).")
    model: str | None = Field(None, description="Model under test, trained or generating (Inspect model string).")
    judge: str | None = Field(None, description="Judge model (Inspect model string).")
    items: int = Field(0, description="Pairs, prompts or rows processed.")
    judge_calls: int = Field(0, description="Projected calls (judge calls; generator calls for a build step).")
    tokens_per_call: int = Field(0, description="Projected billed tokens per call (characters / 4).")
    command: str | None = Field(None, description="The command that runs this step on its own.")

    @property
    def tokens(self) -> int:
        return self.judge_calls * self.tokens_per_call


class Plan(BaseModel):
    """What ``rareval reproduce`` would do for one artifact at one scale."""

    key: str
    scale: str
    runnable: bool = Field(description="Whether `reproduce` can compute it at this scale now.")
    needs: str = Field("", description="What it needs (shown when not runnable).")
    steps: list[Step] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def judge_calls(self) -> int:
        """Calls to judges (training rewards, evaluation grading, alignment ratings)."""
        return sum(s.judge_calls for s in self.steps if s.kind != "build")

    @property
    def generator_calls(self) -> int:
        """Calls to generators that build data (rubrics, degraded answers)."""
        return sum(s.judge_calls for s in self.steps if s.kind == "build")

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.steps)

    def cost(self, price_per_mtok: float | None) -> float | None:
        """Projected USD for every call at ``price_per_mtok`` (None when no price is given)."""
        return None if price_per_mtok is None else self.tokens / 1e6 * price_per_mtok

    def text(self, price_per_mtok: float | None = None) -> str:
        """The plan as lines for the terminal."""
        head = f"{self.key} @ {self.scale} scale: " + ("runnable" if self.runnable else f"needs {self.needs}")
        lines = [head]
        for step in self.steps:
            calls = f"{step.judge_calls:,} calls × ~{step.tokens_per_call:,} tok" if step.judge_calls else "no calls"
            lines.append(f"  - [{step.kind}] {step.what} ({calls})" + (f"\n      $ {step.command}"
                                                                       if step.command else ""))
        cost = self.cost(price_per_mtok)
        money = f"; ~${cost:,.2f} at ${price_per_mtok:g}/Mtok" if cost is not None else \
            " (give --price-per-mtok for a cost)" if self.tokens else ""
        lines.append(f"  projected: {self.judge_calls:,} judge calls + {self.generator_calls:,} generator calls; "
                     f"~{self.tokens:,} tokens{money}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def tokens(*texts: str | int) -> int:
    """Tokens of some texts (strings, or character counts) at :data:`CHARS_PER_TOKEN`."""
    return int(sum(len(t) if isinstance(t, str) else t for t in texts) / CHARS_PER_TOKEN) + 1
