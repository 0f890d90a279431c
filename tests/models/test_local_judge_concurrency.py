"""Many samples judged by one in-process model through the real Inspect runner (SmolLM2-135M, CPU).

The model serves one call at a time; the samples run at once and queue for it. Queueing must not
count against a call's ``attempt_timeout``, and the alignment task must not make the judge write
an answer of its own before rating.
"""

import asyncio
import math
import statistics
import time

from inspect_ai import eval as inspect_eval
from inspect_ai.event import ModelEvent
from inspect_ai.model import get_model

from rareval.data.alignment import PreferencePair, Provenance, save_pairs
from rareval.data.healthbench import Message
from rareval.evals.judge_alignment import alignment_task
from rareval.judge import Judge, JudgeConfig
from rareval.rubric import Rubric
from rareval.scoring import score_response

QUESTION = "I have a cold. What should I do?"
ANSWERS = [
    ("Get rest and drink fluids; call a doctor if it gets worse.", "Take antibiotics and rest."),
    ("Rest, fluids and honey tea help most colds.", "Fluids help."),
    ("Plenty of rest and fluids.", "Rest and fluids, and ask for antibiotics."),
    ("Sleep well, drink water and use saline drops.", "Ignore it."),
    ("Rest at home and keep hydrated.", "Go to the emergency room now."),
    ("Drink warm fluids and rest; most colds pass in a week.", "Take leftover antibiotics."),
    ("Rest, fluids, and paracetamol for aches if needed.", "Run a marathon to sweat it out."),
    ("Stay home, rest and drink plenty of fluids.", "Nothing helps, just wait."),
    ("Fluids, rest and a humidifier can ease symptoms.", "Drink less water."),
    ("Rest and fluids; see a doctor if fever lasts over three days.", "Antibiotics cure colds."),
    ("Keep warm, rest and sip fluids often.", "Skip meals and keep working."),
    ("Rest, hydrate, and gargle salt water for a sore throat.", "A cold always needs an X-ray."),
]


def pairs_file(path):
    rubric = Rubric.from_healthbench([{"criterion": "Advises rest", "points": 5, "tags": []}])
    prov = Provenance(source="hand-written", source_sha256="0" * 64)
    pairs = [PreferencePair(pair_id=f"p{i}", prompt_id=f"q{i}", kind="degraded",
                            prompt=(Message(role="user", content=QUESTION),), chosen=chosen, rejected=rejected,
                            physician_rubric=rubric, provenance=prov)
             for i, (chosen, rejected) in enumerate(ANSWERS)]
    return save_pairs(pairs, path)


def judge_config(**fields) -> JudgeConfig:
    return JudgeConfig(cache=False, **fields)  # every rating is a model call


def one_call_seconds() -> float:
    """Median seconds of a few warm Direct-Likert calls here (model loaded, prompt prefix cached)."""
    judge = Judge(model=get_model("local/smollm-135m", n_ctx=2048), role=None, config=judge_config())
    conversation = [{"role": "user", "content": QUESTION}]

    async def rate(answer):
        start = time.perf_counter()
        result = await score_response("direct_likert", judge, conversation, answer)
        assert result.value is not None
        return time.perf_counter() - start

    times = [asyncio.run(rate(answer)) for answer in (ANSWERS[0][0], *ANSWERS[1], *ANSWERS[2])]
    return statistics.median(times[1:])


def test_samples_queueing_for_a_local_judge_lose_no_call_to_the_attempt_timeout(smollm_path, tmp_path):
    """12 pairs at once, 24 rating calls, an attempt_timeout of ~6 calls: every call is made once."""
    single = one_call_seconds()
    timeout = max(3, math.ceil(6 * single))  # room for a slow call on a busy machine; the 24-call queue is longer
    task = alignment_task(pairs=pairs_file(tmp_path / "pairs.jsonl"), condition="likert",
                          grader_config={"cache": False, "timeout": timeout, "max_retries": 2})
    [log] = inspect_eval(task, model="local/smollm-135m", model_args={"n_ctx": 2048}, max_samples=len(ANSWERS),
                         log_dir=str(tmp_path / "logs"), display="none")
    assert log.status == "success"
    waited = max(s.total_time for s in log.samples)
    assert waited > timeout, f"the samples did not queue past the timeout ({waited:.1f}s <= {timeout}s)"
    m = {k: v.value for k, v in log.results.scores[0].metrics.items()}
    assert m["n_scored"] == len(ANSWERS) and m["unscored"] == 0
    for sample in log.samples:
        meta = next(iter(sample.scores.values())).metadata
        assert meta["abstained"] == 0 and meta["judge_usage"]["calls"] == 2, (sample.id, meta)
        calls = [e for e in sample.events if isinstance(e, ModelEvent)]
        assert len(calls) == 2 and not any(e.error for e in calls), (  # the two ratings, each attempted once
            sample.id, [(e.error or "ok")[:80] for e in calls])
