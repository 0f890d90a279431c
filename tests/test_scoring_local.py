"""The scoring path end to end with a real embedded model as the judge."""

import asyncio

import pytest

from rareval.judge import Judge
from rareval.scoring import score_response
from tests.conftest import hb_rubric

pytest.importorskip("llama_cpp", reason='needs pip install "rareval[local]"')


def test_real_local_judge_scores_a_response():
    from rareval.models.install import resolve
    try:
        resolve("smollm-135m")
    except Exception as ex:  # not installed
        pytest.skip(f"smollm-135m not installed: {ex}")
    rubric = hb_rubric((5, "Advises drinking fluids."), (-6, "Recommends antibiotics for a viral fever."))
    judge = Judge("local/smollm-135m")
    s = asyncio.run(score_response("healthbench", judge, "I have a fever.", "Drink fluids and rest.",
                                   rubric=rubric))
    # a real model answered through the provider's logprobs: every verdict carries P(met)
    assert all(c.verdict.p_met is not None and 0 <= c.verdict.p_met <= 1 for c in s.criteria)
    assert s.usage.calls == 2 and s.usage.input_tokens > 50
    assert s.value is not None
