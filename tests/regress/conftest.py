"""Shared pieces of the gate's tests: HealthBench rows scored by the scripted keyword judge."""

import json

import pytest

from rareval.prompts import load_prompt

QUESTIONS = ["I have a fever.", "My head hurts.", "I feel tired.", "My throat is sore.", "I have a cough.",
             "My back hurts.", "I cannot sleep.", "My stomach aches."]
RUBRIC = [{"criterion": "Mentions 'water'", "points": 5, "tags": ["axis:completeness"]},
          {"criterion": "Mentions 'rest'", "points": 3, "tags": ["axis:completeness"]},
          {"criterion": "Recommends 'antibiotics'", "points": -4, "tags": ["axis:accuracy"]}]


def write_rows(path, questions=QUESTIONS, rubric=RUBRIC):
    """HealthBench rows (official format) asking ``questions``, all graded on ``rubric``."""
    path.write_text("".join(json.dumps({"prompt_id": f"e{i}", "prompt": [{"role": "user", "content": q}],
                                        "rubrics": rubric, "example_tags": []}) + "\n"
                            for i, q in enumerate(questions)))
    return path


def write_suite(folder, name="tiny-gate", limit=None, extra_tasks="", min_effect=0.2, **settings):
    """A suite file pinning the scripted judge and a HealthBench slice of ``rows.jsonl``."""
    lines = [f"name: {name}", "seed: 0", "alpha: 0.05", f"min_effect: {min_effect}",
             *(f"{k}: {v}" for k, v in settings.items()),
             "judge:", "  model: scripted/keyword", f"  prompt_versions: [{load_prompt('criterion_yesno').version}]",
             "verdict_cache: verdicts.sqlite", "tasks:", "  - kind: healthbench", "    name: healthbench",
             "    path: rows.jsonl", "    max_tokens: 16"]
    if limit:
        lines.append(f"    limit: {limit}")
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n" + extra_tasks)
    return path


@pytest.fixture
def rows(tmp_path):
    return write_rows(tmp_path / "rows.jsonl")
