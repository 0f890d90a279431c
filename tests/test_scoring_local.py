"""The scoring path end to end with a real embedded model as the judge."""

import asyncio

import pytest

from rareval.judge import Judge
from rareval.scoring import score_response
from rareval.strategies import score
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
    # each verdict is the P(yes) read, against the judge's threshold for that kind of criterion
    for c, criterion in zip(s.criteria, rubric):
        assert c.verdict.met == (c.verdict.p_raw >= judge.threshold_for(criterion)), c.verdict
    # the value is the strategy applied to those verdicts, in HealthBench's range [-6/5, 1]
    assert s.value == score("healthbench", rubric, s.verdicts) and -6 / 5 <= s.value <= 1
