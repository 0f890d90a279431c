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
