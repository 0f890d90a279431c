"""``ratinglogprobs/keyword``: the scripted ``keyword`` judge whose 1–10 ratings come with logprobs, as a
local or vLLM judge's do. Importing this module registers the provider.

The sampled rating is the scripted one; the next rating up (down from 10) gets probability
``0.05 + 0.9 · (words of the response mod 10) / 10``, so the expected rating breaks ties between equal
ratings by length, the way the scripted Direct-Likert rule already rates (longer is "better"). It is a
plumbing check of the tie-free reading, not a judge of quality.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from inspect_ai.model import (
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelOutput,
    TopLogprob,
    modelapi,
)

from rareval.models.scripted import ScriptedAPI


def _rating_logprobs(rating: int, words: int) -> Logprobs:
    other = rating + 1 if rating < 10 else rating - 1
    p_other = 0.05 + 0.9 * (words % 10) / 10
    alts = sorted([TopLogprob(token=str(rating), logprob=math.log(1 - p_other)),
                   TopLogprob(token=str(other), logprob=math.log(p_other))], key=lambda a: -a.logprob)
    return Logprobs(content=[Logprob(token='{"rating": ', logprob=0.0),
                             Logprob(token=str(rating), logprob=math.log(1 - p_other), top_logprobs=alts),
                             Logprob(token="}", logprob=0.0, top_logprobs=[TopLogprob(token="}", logprob=0.0)])])


@modelapi(name="ratinglogprobs")
class RatingLogprobsAPI(ModelAPI):
    """See the module docstring: ``scripted/<behaviour>``'s answers, ratings with logprobs."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any):  # noqa: B008 (as ScriptedAPI)
        super().__init__(model_name, base_url, api_key, [], config)
        self.scripted = ScriptedAPI(model_name, base_url, api_key, config, **model_args)

    def max_connections(self) -> int:
        return 8

    def should_retry(self, ex: Exception) -> bool:
        return False

    async def generate(self, input, tools, tool_choice, config: GenerateConfig) -> ModelOutput:
        out = await self.scripted.generate(input, tools, tool_choice, config)
        try:
            rating = json.loads(out.completion)["rating"]
        except (ValueError, KeyError, TypeError):
            return out
        prompt = "\n".join(m.text for m in input)
        response = re.search(r"<response(?:-[0-9a-f]{12})?>\n?(.*?)\n?</response", prompt, re.DOTALL)
        if config.logprobs:
            out.choices[0].logprobs = _rating_logprobs(int(rating), len(response.group(1).split()) if response else 0)
        return out
