"""`rareval rubrics generate` / `stats`: offline Inspect generators (mockllm, scripted), real files and CLI."""

import asyncio
import json
from pathlib import Path

import pytest
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from rareval.cli import main
from rareval.data.cache import DataError
from rareval.rubric import Category
from rareval.rubrics.cli import generate_rubrics, load_items
from rareval.train.data import load_generated_rubrics

UNION = Path(__file__).resolve().parents[3] / "shared" / "data" / "healthbench" / "healthbench_offline_union.jsonl"
PREFIXES = ["Essential", "Essential", "Important", "Important", "Optional", "Pitfall", "Pitfall"]
WEIGHTS = {"Essential": 5, "Important": 3, "Optional": 1, "Pitfall": -1}


def items_json(n: int = 7) -> str:
    """A RaR-format rubric of ``n`` valid items, as a generator would answer."""
    items = [{"title": f"Point {j}", "description": f"{p} Criteria: Mentions point {j}.", "weight": WEIGHTS[p]}
             for j, p in enumerate((PREFIXES * 3)[:n])]
    return "Here is the rubric:\n" + json.dumps(items)


def hb_row(prompt_id: str, question: str, ideal: str | None) -> dict:
    row = {"prompt_id": prompt_id, "prompt": [{"role": "user", "content": question}],
           "rubrics": [{"criterion": "Advises rest.", "points": 5, "tags": ["axis:accuracy"]}], "example_tags": []}
    if ideal is not None:
        row["ideal_completions_data"] = {"ideal_completion": ideal, "ideal_completions_group": "Group 1",
                                         "ideal_completions_ref_completions": []}
    return row


@pytest.fixture
def data(tmp_path) -> Path:
    rows = [hb_row("q-ok-1", "I have a mild fever, what should I do?", "REF-1: rest and fluids."),
            hb_row("q-bad", "GARBAGE please: how do I treat a cold?", "REF-2: rest."),
            hb_row("q-noref", "Is ibuprofen safe with asthma?", None),
            hb_row("q-ok-2", "How much water should I drink daily?", "REF-4: about two litres.")]
    path = tmp_path / "hb.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class Generator:
    """A mockllm answer function: garbage for prompts containing ``bad`` (while ``broken``), else ``n`` items."""

    def __init__(self, bad: str = "GARBAGE", n: int = 7):
        self.bad, self.n, self.prompts, self.broken = bad, n, [], True

    def __call__(self, input, tools, tool_choice, config):
        prompt = "\n".join(m.text for m in input)
        self.prompts.append(prompt)
        text = "I cannot do that {" if self.broken and self.bad in prompt else items_json(self.n)
        out = ModelOutput.from_content("mockllm/model", text)
        out.usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)  # else mockllm fetches tiktoken
        return out

    def model(self):
        return get_model("mockllm/model", custom_outputs=self, memoize=False)


def run(items, gen, out, **kwargs):
    return asyncio.run(generate_rubrics(items, gen.model(), out, progress=False, **kwargs))


def test_generate_with_reference_retries_names_failures_and_resumes(data, tmp_path):
    out, gen = tmp_path / "rubrics.jsonl", Generator()
    s = run(load_items(data), gen, out, retries=2, concurrency=2)
    assert s.written == 2 and s.already_done == 0 and s.no_reference == ["q-noref"]
    assert [f.prompt_id for f in s.failures] == ["q-bad"] and s.failures[0].attempts == 3
    assert s.failures[0].error.count("attempt") == 3 and "no JSON array" in s.failures[0].error
    assert sum("GARBAGE" in p for p in gen.prompts) == 3 and len(gen.prompts) == 5  # retried twice, no more
    assert all("REF-" in p and "<reference_answer>" in p for p in gen.prompts)
    assert s.usage.calls == 5 and s.usage.billed_tokens == 75  # failed attempts are counted too
    failures = [json.loads(line) for line in Path(s.failures_file).read_text().splitlines()]
    assert s.failures_file == str(tmp_path / "rubrics.failures.jsonl") and failures[0]["prompt_id"] == "q-bad"

    loaded = load_generated_rubrics(out)
    assert set(loaded) == {"q-ok-1", "q-ok-2"} and all(len(r) == 7 for r in loaded.values())
    assert loaded["q-ok-1"][5].category is Category.PITFALL and loaded["q-ok-1"][0].weight == 5
    record = json.loads(out.read_text().splitlines()[0])
    assert record["generator"] == "mockllm/model" and record["with_reference"] is True
    assert record["source"] == "synthetic" and record["domain"] == "medicine" and record["attempts"] == 1
    assert record["prompt_version"].startswith("rubric_generate@") and record["dropped"] == []

    gen.broken, gen.prompts = False, []  # resume: only the failed id is asked again
    again = run(load_items(data), gen, out, retries=2)
    assert (again.written, again.already_done, again.failures) == (1, 2, [])
    assert len(gen.prompts) == 1 and "GARBAGE" in gen.prompts[0]
    assert set(load_generated_rubrics(out)) == {"q-ok-1", "q-ok-2", "q-bad"}
    assert not (tmp_path / "rubrics.failures.jsonl").exists()


def test_generate_without_reference_and_science_prompt(data, tmp_path):
    out, gen = tmp_path / "noref.jsonl", Generator()
    s = run(load_items(data), gen, out, with_reference=False, domain="science", retries=0, concurrency=1)
    assert s.written == 3 and s.no_reference == [] and [f.prompt_id for f in s.failures] == ["q-bad"]
    assert len(gen.prompts) == 4 and not any("REF-" in p or "<reference_answer>" in p for p in gen.prompts)
    assert all("Biology, Physics and Chemistry" in p for p in gen.prompts)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["prompt_id"] for r in records} == {"q-ok-1", "q-noref", "q-ok-2"}
    assert all(r["prompt_version"].startswith("rubric_generate_science_noref@") and r["source"] == "synthetic_noref"
               for r in records)
    assert set(load_generated_rubrics(out)) == {"q-ok-1", "q-noref", "q-ok-2"}
    with pytest.raises(DataError, match="field 'with_reference': False there but True in this run"):
        run(load_items(data), gen, out, with_reference=True, domain="science")


@pytest.mark.parametrize("n", [6, 21])
def test_item_count_outside_7_to_20_is_retried_then_failed(data, tmp_path, n):
    gen = Generator(bad="never", n=n)
    s = run(load_items(data, limit=1), gen, tmp_path / "r.jsonl", retries=1)
    assert s.written == 0 and len(gen.prompts) == 2
    assert s.failures[0].prompt_id == "q-ok-1" and f"{n} valid items, need 7-20" in s.failures[0].error


def test_interrupted_write_is_dropped_on_resume(data, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    run(load_items(data, limit=1), Generator(), out)
    out.write_text(out.read_text() + '{"prompt_id": "q-bad", "rub')  # a write cut short
    s = run(load_items(data), Generator(bad="never"), out)
    assert (s.written, s.already_done) == (2, 1) and "incomplete last line" in capsys.readouterr().err
    assert set(load_generated_rubrics(out)) == {"q-ok-1", "q-bad", "q-ok-2"}


def test_cli_generate_with_scripted_generator(data, tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    args = ["rubrics", "generate", "--generator", "scripted/policy", "-M", f"reply={items_json(8)}",
            "--data", str(data), "--out", str(out), "--quiet", "--concurrency", "2"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"3 rubrics written to {out}" in text and "skipped 1 rows without a reference answer" in text
    assert "q-noref" in text and all(len(r) == 8 for r in load_generated_rubrics(out).values())
    assert main(args + ["--no-reference"]) == 2  # same --out, other setting
    assert "field 'with_reference'" in capsys.readouterr().err
    assert main(args) == 0 and "0 rubrics written" in capsys.readouterr().out  # all done already

    chosen = tmp_path / "chosen.jsonl"  # --ids: only these prompts, as a list or a file
    (tmp_path / "ids.txt").write_text("q-bad\n\nq-ok-1\n")
    for ids in ("q-ok-1,q-bad", f"@{tmp_path / 'ids.txt'}"):
        chosen.unlink(missing_ok=True)
        assert main(args[:-5] + ["--out", str(chosen), "--ids", ids, "--quiet"]) == 0
        assert "2 rubrics written" in capsys.readouterr().out
        assert set(load_generated_rubrics(chosen)) == {"q-ok-1", "q-bad"}
    for ids, message in (("q-ok-1,q-nope", "--ids: 1 id(s) not in"), (",", "--ids ',': no prompt id given"),
                         (f"@{tmp_path / 'none.txt'}", "none.txt: no such file")):
        assert main(args[:-5] + ["--out", str(chosen), "--ids", ids]) == 2
        assert message in capsys.readouterr().err

    bad_out = tmp_path / "bad.jsonl"
    assert main(["rubrics", "generate", "--generator", "scripted/malformed", "--data", str(data), "--out",
                 str(bad_out), "--quiet", "--no-reference", "--limit", "2", "--retries", "1"]) == 1
    err = capsys.readouterr().err
    assert "2 failed after 2 attempts each" in err and "q-ok-1: attempt 1" in err and "q-bad" in err
    assert len((tmp_path / "bad.failures.jsonl").read_text().splitlines()) == 2


@pytest.mark.skipif(not UNION.is_file(), reason=f"{UNION} not present")
def test_cli_stats_on_the_union_file(tmp_path, capsys):
    assert main(["rubrics", "stats", str(UNION), "--paper", "medicine", "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| measure | this file (healthbench) | paper (medicine, RaR v2 Tables 4-5) |")
    assert "| examples | 754 | 20,166 |" in out and "Important" in out and "52,748 (34.1%)" in out
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["stats"]["examples"] == 754 and saved["paper"]["examples"] == 20_166


def test_cli_help_and_misuse(data, tmp_path, capsys):
    for argv in (["rubrics", "--help"], ["rubrics", "generate", "--help"], ["rubrics", "stats", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
    assert "Synthetic-NoRef" in capsys.readouterr().out
    assert main(["rubrics"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["rubrics", "generate", "--data", str(data), "--out", "x.jsonl"])
    assert e.value.code == 2 and "--generator" in capsys.readouterr().err
    base = ["rubrics", "generate", "--generator", "scripted/policy", "--data", str(data), "--out",
            str(tmp_path / "o.jsonl")]
    cases = [(base + ["--limit", "0"], "--limit must be at least 1"),
             (base + ["--retries", "-1"], "--retries must be at least 0"),
             (base + ["-M", "novalue"], "-M takes KEY=VALUE"),
             (base[:3] + ["scripted/nonsense"] + base[4:], "--generator scripted/nonsense"),
             (base[:5] + [str(tmp_path / "none.jsonl")] + base[6:], "none.jsonl: no such file"),
             (["rubrics", "stats", str(tmp_path / "none.jsonl")], "none.jsonl: no such file"),
             (["rubrics", "stats", str(data.with_name("odd.jsonl"))], "odd.jsonl, line 1: expected fields")]
    data.with_name("odd.jsonl").write_text('{"text": "hello"}\n')
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.jsonl").exists()
