"""The run directory's curves: pass rates for per-criterion rewards, completion length for rating rewards."""

from rareval.train.monitor import plot_curves


def test_curves_show_pass_rates_or_completion_length(tmp_path):
    explicit = [{"step": s, "reward": 0.1 * s, "reward_std": 0.05, "rubric/pass_rate/essential": 0.2 * s}
                for s in (1, 2)]
    rating = [{"step": s, "reward": 0.1 * s, "completions/mean_length": 80 + s} for s in (1, 2)]
    assert "pass rate" in plot_curves(explicit, tmp_path / "explicit.png", "rar-explicit")
    assert "completion length" in plot_curves(rating, tmp_path / "rating.png", "direct-likert")
    for name in ("explicit.png", "rating.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_curves([{"step": 1, "loss": 0.3}], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


class StubMonitor:
    """A monitor whose check says the rubric-free gap drifted past the stop limit."""

    def due(self, step):
        return True

    def check(self, model, tokenizer, loop=None):
        return {"hacking/train_reward": 0.9, "hacking/rubric_free_score": 0.1, "hacking/rubric_free_gap": 0.8,
                "hacking/rubric_free_gap_drift": 0.6}

    def stop_reason(self, figures):
        return "reward hacking: rubric-free gap drift +0.600"


def test_a_monitor_without_a_gold_judge_stops_the_run_with_its_reason(tmp_path):
    from types import SimpleNamespace

    from transformers import TrainerControl

    from rareval.judge.usage import Usage
    from rareval.train.monitor import RunLog

    run = SimpleNamespace(judge_price=0.0, max_judge_tokens=None, max_judge_cost=None)
    log = RunLog(tmp_path, SimpleNamespace(usage=Usage()), run, monitor=StubMonitor())
    control = TrainerControl()
    log.on_step_end(None, SimpleNamespace(global_step=1), control, model=None, processing_class=None)
    assert log.stopped_by == "reward hacking: rubric-free gap drift +0.600"  # no hacking/gap_drift needed
    assert control.should_training_stop and control.should_save
    assert log.pending["hacking/rubric_free_gap"] == 0.8  # logged with the step's line
