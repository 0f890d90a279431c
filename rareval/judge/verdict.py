"""What the judge returns: a :class:`Verdict` per criterion and a :class:`Rating` per response.

An abstention is a verdict or rating without a value (``met is None``, ``value is None``) and the
error that caused it; it is never counted as an answer.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Verdict(BaseModel):
    """One criterion's verdict. ``met is None`` means the judge abstained."""

    criterion_id: str
    met: bool | None
    p_met: float | None = Field(None, description="P(met) read from logprobs where the provider exposes them, "
                                "calibrated so that 0.5 is the judge's threshold.")
    p_raw: float | None = Field(None, description="P(met) as read, before calibration.")
    explanation: str = ""
    error: str | None = Field(None, description="Why the judge abstained.")
    prompt_version: str = ""
    cached: bool = False
    response_truncated: bool = Field(False, description="The judge was shown only the start of the response "
                                     "(JudgeConfig.max_response_chars, or cut to fit the judge's context).")
    quote: str | None = Field(None, description="The span of the response the judge quoted as evidence "
                              "(JudgeConfig.evidence); None where it was not asked for one.")
    voided: str | None = Field(None, description="Why the judge's 'yes' that would have earned points was voided "
                               "to 'no' (JudgeConfig.evidence; rareval.judge.evidence): no_quote, quote_not_found or "
                               "quote_in_grader_text. None: not voided.")

    @property
    def abstained(self) -> bool:
        return self.met is None


class Rating(BaseModel):
    """A 1–10 rating. ``value is None`` means the judge abstained."""

    value: int | None
    distribution: dict[int, float] | None = Field(None, description="P(rating) where logprobs are exposed.")
    error: str | None = None
    prompt_version: str = ""
    cached: bool = False
    response_truncated: bool = Field(False, description="The judge was shown only the start of the response.")
