"""RaR-format training data: every container the paper's data comes in, split and validated like HealthBench."""

import json

import pytest

from rareval.data.cache import DataError
from rareval.data.rar import RAR_SCIENCE_FIXTURE
from rareval.train.data import prompt_counter, training_rows
from rareval.train.presets import get_preset
from rareval.train.sources import data_format, load_source, rar_held_out, rar_prompt_id
from tests.data.test_rar import rar_row
from tests.train.test_run import write_train_rows

PRESET = get_preset("rar-implicit-human@tiny").with_overrides({"max_prompt_tokens": 512})


def fixture_rows(split):
    return [json.loads(line) for line in (RAR_SCIENCE_FIXTURE / f"{split}.jsonl").read_text().splitlines()]


def test_the_fixture_folder_trains_on_train_and_holds_out_val():
    source = load_source(RAR_SCIENCE_FIXTURE)
    assert (len(source.pool), len(source.held_out)) == (16, 6) and "'val' split" in source.rule
    row = source.pool[0]
    assert row.prompt[0].role == "user" and row.prompt[0].content == fixture_rows("train")[0]["question"]
    assert row.prompt_id == rar_prompt_id(row.prompt[0].content) and row.ideal_completion
    assert [c.category.value for c in row.rubric][:3] == ["essential", "important", "optional"]
    assert row.rubric[-1].is_pitfall
    rows = training_rows(PRESET, RAR_SCIENCE_FIXTURE)
    assert len(rows.records) == 16 and len(rows.held_out_records) == 6 and rows.rule == source.rule
    assert json.loads(rows.records[0]["rubric"])["criteria"][0]["text"].startswith("States that ice")


def test_a_single_jsonl_or_parquet_file_holds_out_by_hash(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = fixture_rows("train") + fixture_rows("val")
    jsonl = tmp_path / "rar.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    parquet = tmp_path / "rar.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    assert data_format(jsonl) == data_format(parquet) == "rar"
    assert data_format(write_train_rows(tmp_path / "hb.jsonl")) == "healthbench"
    for file in (jsonl, parquet):
        source = load_source(file)
        assert len(source.pool) + len(source.held_out) == 22 and "1 in 10" in source.rule
        assert all(rar_held_out(r.prompt_id) for r in source.held_out)
        assert not any(rar_held_out(r.prompt_id) for r in source.pool)
    # the id is the normalised question's: the same question keeps its id across containers and spacing
    assert rar_prompt_id("What is  an isotope?") == rar_prompt_id("what is an isotope?")


def test_a_saved_datasets_folder(tmp_path):
    import datasets

    saved = tmp_path / "saved"
    datasets.DatasetDict({split: datasets.Dataset.from_list(fixture_rows(split)) for split in ("train", "val")}
                         ).save_to_disk(str(saved))
    source = load_source(saved)
    assert (len(source.pool), len(source.held_out)) == (16, 6)
    assert [r.prompt_id for r in source.pool] == [r.prompt_id for r in load_source(RAR_SCIENCE_FIXTURE).pool]


def test_a_bad_rar_row_names_the_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rar_row()) + "\n" + json.dumps(rar_row(prefixes=("Essential", "Critical"))) + "\n")
    with pytest.raises(DataError) as e:
        training_rows(PRESET, bad)
    assert str(e.value).startswith(f"file {bad}, line 2, field 'rubric[1].description'")
    rows = training_rows(PRESET, bad, skip_bad_rows=True)
    assert rows.skipped == {"malformed row (--skip-bad-rows)": 1} and len(rows.records) + len(rows.held_out) == 1


def test_prompt_budget_counts_the_policys_tokens_and_chat_template(tmp_path):
    from rareval.models.policy import PLAIN_CHAT_TEMPLATE
    from tests.test_reward_grpo import tiny_model

    _, tokenizer = tiny_model(tmp_path)
    tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    count = prompt_counter(tokenizer)
    question = "zq xj vk " * 20  # 180 characters: 45 "tokens" at 4 characters a token, far more for the policy
    messages = [{"role": "user", "content": question}]
    assert count(messages) > 100 and count(messages) > len(tokenizer(question)["input_ids"])  # the template counts
    records = fixture_rows("train")[:3] + [{**fixture_rows("train")[3], "question": question}]
    data = tmp_path / "rar.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    preset = PRESET.with_overrides({"max_prompt_tokens": 90})
    by_chars = training_rows(preset, data)
    by_tokens = training_rows(preset, data, count_tokens=count)
    kept = lambda rows: len(rows.records) + len(rows.held_out_records)  # noqa: E731
    assert kept(by_chars) == 4 and kept(by_tokens) == 3
    assert by_tokens.skipped == {"prompt over max_prompt_tokens (90)": 1}


def test_science_path_trains_on_rar_rows_and_evaluates_on_gpqa_diamond(tmp_path, monkeypatch, capsys):
    """A RaR-Science-style run on the fixture, then its held-out evaluation on GPQA-Diamond through the task."""
    from rareval.cli import main as cli
    from tests.evals.test_gpqa import REAL_ZIP
    from tests.train.test_run import save_tiny_policy

    if not REAL_ZIP.exists():
        pytest.skip("needs ../shared/data/gpqa/gpqa_diamond.zip")
    monkeypatch.setenv("RAREVAL_GPQA_PATH", str(REAL_ZIP))
    policy, run = save_tiny_policy(tmp_path / "policy"), tmp_path / "run"
    assert cli(["train", "--preset", "rar-implicit-human@tiny", "--policy", str(policy), "--judge", "scripted/keyword",
                "--data", str(RAR_SCIENCE_FIXTURE), "--out", str(run), "--set", "max_steps=2",
                "--set", "max_prompt_tokens=256"]) == 0
    split = json.loads((run / "split.json").read_text())
    assert len(split["train_ids"]) == 16 and len(split["held_out_ids"]) == 6 and "'val' split" in split["rule"]
    assert cli(["heldout", "--run", str(run), "--benchmark", "gpqa", "--rows", "3"]) == 0
    out = capsys.readouterr().out
    result = json.loads((run / "heldout.json").read_text())
    assert result["benchmark"] == "gpqa" and result["judge"] is None and "GPQA-Diamond accuracy" in out
    for side in ("before", "after"):
        assert result[side]["n"] == 3 and result[side]["benchmark"] == "gpqa_diamond"
        assert all(i["score"] in (0.0, 1.0) for i in result[side]["items"])
        assert result[side]["log"].endswith(".eval")
    assert result["before"]["policy"] == str(policy) and result["after"]["policy"] == str(run / "final")
    assert result["difference"]["n"] == 3


@pytest.mark.parametrize("data, rows, question_words", [("rar-medicine", 17_926, 45.0), ("rar-science", 18_333, 52.6)])
def test_paper_scale_estimate_offline_projects_from_published_statistics(data, rows, question_words, monkeypatch,
                                                                         capsys, tmp_path):
    from rareval.cli import main as cli

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RAREVAL_DATA_DIR", str(tmp_path))  # nothing cached
    args = ["train", "--preset", "rar-explicit", "--policy", "Qwen/Qwen2.5-7B", "--judge", "openai/gpt-4o-mini",
            "--data", data, "--out", str(tmp_path / "run"), "--judge-price", "0.15"]
    assert cli([*args, "--estimate"]) == 0
    captured = capsys.readouterr()
    assert "is not on this machine" in captured.err and "published statistics" in captured.out
    # Table 10 read as 96 prompts × 16 rollouts; RaR-Explicit asks each of the 7.5 criteria
    assert f"{rows:,} training rows" in captured.out and "per step: 96 prompts, 1,536 completions" in captured.out
    assert "= 11,520 calls" in captured.out and "3,456,000 calls" in captured.out
    assert f"{96 * 300 / rows:.2f} epochs" in captured.out and "assumed (not published)" in captured.out
    assert cli([*args, "--estimate", "--batch-unit", "completions"]) == 0
    assert "per step: 6 prompts, 96 completions" in capsys.readouterr().out
    assert cli([*args, "--dry-run"]) == 0  # paper scale resolves without the data
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["grpo_config"]["generation_batch_size"] == 1536 and not (tmp_path / "run").exists()


def test_rar_rows_train_a_synthetic_rubric_preset_on_their_own_rubrics():
    rows = training_rows(get_preset("rar-explicit@tiny").with_overrides({"max_prompt_tokens": 512}),
                         RAR_SCIENCE_FIXTURE)
    assert len(rows.records) == 16 and all(r["rubric"] for r in rows.records)
