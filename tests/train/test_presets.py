"""Training presets: every paper variant resolves to a valid GRPOConfig at every size."""

import pytest

from rareval.train.presets import PRESETS, SIZES, Hyperparameters, get_preset
from rareval.train.run import RunConfig, grpo_config

PAPER_VARIANTS = {"direct-likert", "reference-likert", "rar-predefined", "rar-explicit", "rar-implicit",
                  "rar-implicit-synthetic-noref", "rar-implicit-human", "essential-only", "no-category-labels",
                  "no-pitfalls"}


def run_config(preset, **kwargs):
    return RunConfig(preset=preset, policy="p", judge="scripted/keyword", data="d.jsonl", out="/tmp/run", **kwargs)


def test_every_paper_variant_has_a_preset_with_table_10():
    assert PAPER_VARIANTS <= set(PRESETS)
    h = Hyperparameters()
    assert (h.num_generations, h.effective_batch, h.temperature, h.learning_rate, h.lr_scheduler_type,
            h.warmup_ratio, h.max_steps, h.max_completion_length) == (16, 96, 1.0, 5e-6, "constant_with_warmup",
                                                                       0.1, 300, 3584)


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_resolves_to_a_grpo_config(name, size):
    preset = get_preset(name, size)
    config = grpo_config(run_config(preset))
    h = preset.hyper
    assert config.num_generations == h.num_generations and config.max_steps == h.max_steps
    # TRL counts completions: one optimiser step sees the effective batch, in whole groups of rollouts
    assert config.per_device_train_batch_size * config.gradient_accumulation_steps == h.completions_per_step
    assert config.generation_batch_size % config.num_generations == 0
    assert config.learning_rate == h.learning_rate and config.temperature == h.temperature


def test_paper_size_on_eight_processes_and_with_vllm():
    config = grpo_config(run_config(get_preset("rar-implicit"), num_processes=8, use_vllm=True, vllm_mode="server"))
    # Table 10's 96 read as prompts: 1,536 completions a step, 192 per process in 12 passes of 16
    assert config.per_device_train_batch_size == 16 and config.gradient_accumulation_steps == 12
    assert config.generation_batch_size == 96 * 16
    assert config.use_vllm and config.vllm_mode == "server" and config.vllm_max_model_length == 3584 + 1024


def test_overrides_and_errors():
    preset = get_preset("rar-explicit@cpu").with_overrides({"learning_rate": 1e-4, "rubric_source": "physician"})
    assert preset.hyper.learning_rate == 1e-4 and preset.rubric_source == "physician" and preset.size == "cpu"
    with pytest.raises(ValueError, match="unknown setting.*lerning_rate"):
        preset.with_overrides({"lerning_rate": 1})
    with pytest.raises(ValueError, match="rubric_source"):
        preset.with_overrides({"rubric_source": "oracle"})
    with pytest.raises(KeyError, match="unknown preset 'rar-explict'"):
        get_preset("rar-explict")
    with pytest.raises(ValueError, match="multiple of num_generations"):
        grpo_config(run_config(preset.with_overrides({"effective_batch": 10, "per_device_batch": 10})))


def test_batch_unit_reads_table_10_both_ways():
    paper = get_preset("rar-implicit").hyper
    assert paper.batch_unit == "prompts" and paper.completions_per_step == 1536 and paper.prompts_per_step == 96
    other = get_preset("rar-implicit").with_overrides({"batch_unit": "completions"}).hyper
    assert other.completions_per_step == 96 and other.prompts_per_step == 6
    config = grpo_config(run_config(get_preset("rar-implicit").with_overrides({"batch_unit": "completions"}),
                                    num_processes=8))
    assert config.per_device_train_batch_size * config.gradient_accumulation_steps * 8 == 96
    assert get_preset("rar-implicit@cpu").hyper.completions_per_step == 8  # small sizes count completions


def test_set_reaches_trl_settings_the_preset_does_not_have():
    from rareval.train.run import split_settings

    ours, trl = split_settings({"learning_rate": 1e-5, "vllm_gpu_memory_utilization": 0.3,
                                "vllm_tensor_parallel_size": 2, "vllm_server_host": "10.0.0.2",
                                "vllm_server_port": 8001, "lerning_rate": 1})
    assert ours == {"learning_rate": 1e-5, "lerning_rate": 1}  # the preset names the typo
    config = grpo_config(run_config(get_preset("rar-implicit@tiny"), grpo_settings=trl))
    assert (config.vllm_gpu_memory_utilization, config.vllm_tensor_parallel_size, config.vllm_server_host,
            config.vllm_server_port) == (0.3, 2, "10.0.0.2", 8001)


def test_rar_explicit_strips_grader_text_by_default_and_can_be_turned_off():
    """RaR-Explicit's judge removes grader-addressed text (RELIABILITY.md §3: every probe's lift ≤ 0.05 at no
    extra call); the other presets leave it off; ``--set`` or ``--judge-config`` turns it off."""
    from rareval.judge.config import judge_config

    assert {name for name, p in PRESETS.items() if p.strip_grader_text} == {"rar-explicit"}
    explicit = get_preset("rar-explicit", "cpu")
    assert explicit.strip_grader_text and not explicit.with_overrides({"strip_grader_text": False}).strip_grader_text
    assert judge_config({}, strip_grader_text=explicit.strip_grader_text).strip_grader_text
    assert not judge_config({"strip_grader_text": "false"}, strip_grader_text=True).strip_grader_text
