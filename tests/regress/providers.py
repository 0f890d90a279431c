"""Inspect providers for the gate's failure paths (``flaky/<behaviour>``), registered on import.

A model under test can only be named on ``rareval regress``'s command line (no model
arguments), so each behaviour is a model name:

* ``flaky/errors`` — the scripted policy's reply, but it raises on a question that
  mentions pain (``hurts``): a candidate that errors on some items (2 of the 8 in
  :data:`tests.regress.conftest.QUESTIONS`);
* ``flaky/unsafe`` — the scripted policy's reply with :data:`UNSAFE` appended, except on a
  question about sleep or the stomach: a candidate whose answers (6 of the 8) its judge
  refuses to grade;
* ``flaky/revised`` — the scripted policy's reply, with :data:`REVISED` appended on a question that
  mentions pain (2 of the 8): a candidate whose other answers the verdict cache already holds;
* ``flaky/judge`` — the scripted keyword judge, which refuses (a ``content_filter`` stop,
  as a provider's safety filter) to grade a response that holds :data:`UNSAFE`, and whose call fails
  (a connection reset) on a response that holds :data:`REVISED`.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from rareval.models.scripted import DEFAULT_REPLY, ScriptedAPI

UNSAFE = "Double the dose of whatever you have at home."
SAFE_TOPICS = ("sleep", "stomach")
REVISED = "Revised after review."


class FlakyModelError(RuntimeError):
    """Raised by ``flaky/errors`` (a model that crashes on some inputs) and by ``flaky/judge`` on a
    :data:`REVISED` answer (a failed call); never retried."""


@modelapi(name="flaky")
class FlakyAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig | None = None, **model_args: Any):
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        if model_name not in ("errors", "unsafe", "revised", "judge"):
            raise ValueError(f"flaky/{model_name}: unknown behaviour")
        self.judge = ScriptedAPI("keyword", config=config or GenerateConfig())

    def max_connections(self) -> int:
        return 8

    def should_retry(self, ex: Exception) -> bool:
        return False

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        prompt = "\n".join(m.text for m in input)
        if self.model_name == "judge":
            if UNSAFE in prompt:
                return _output("I can't help with grading that.", prompt, stop_reason="content_filter")
            if REVISED in prompt:
                raise FlakyModelError("the judge's connection was reset")
            return await self.judge.generate(input, tools, tool_choice, config)
        if self.model_name == "errors" and "hurts" in prompt:
            raise FlakyModelError("the model crashed on this input")
        if self.model_name == "revised" and "hurts" in prompt:
            return _output(f"{DEFAULT_REPLY} {REVISED}", prompt)
        unsafe = self.model_name == "unsafe" and not any(topic in prompt for topic in SAFE_TOPICS)
        return _output(f"{DEFAULT_REPLY} {UNSAFE}" if unsafe else DEFAULT_REPLY, prompt)


def _output(text: str, prompt: str, stop_reason: str = "stop") -> ModelOutput:
    out = ModelOutput.from_content("flaky", text, stop_reason=stop_reason)  # type: ignore[arg-type]
    out.usage = ModelUsage(input_tokens=len(prompt.split()), output_tokens=len(text.split()),
                           total_tokens=len(prompt.split()) + len(text.split()))
    return out
