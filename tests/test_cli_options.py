"""Impossible run options are clear errors (exit 2, naming the option) before anything is predicted."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import InputError
from harness import RunOptions


@pytest.mark.parametrize("args, field", [
    (["--threshold", "1.5"], "threshold"),
    (["--threshold", "-1"], "threshold"),
    (["--limit", "0"], "limit"),
    (["--n-resamples", "0"], "n_resamples"),
    (["--batch-size", "0"], "batch_size"),
    (["--latency-sample", "-5"], "latency_sample"),
    (["--split", "holdout"], "split"),
    (["--restricted-as", "maybe"], "restricted_as"),
    (["--executor", "spark"], "executor"),
])
def test_bad_run_option_exits_2_before_predicting(tmp_path, args, field):
    res = CliRunner().invoke(app, ["run", "--suite", "smoke", "-c", "keyword-rules", "--out", str(tmp_path), *args])
    assert res.exit_code == 2, res.output
    assert field in res.output
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]  # no run was written


def test_run_options_validate_in_python_too():
    with pytest.raises(InputError) as exc:
        RunOptions(threshold=2.0, n_resamples=0)
    assert {p.field for p in exc.value.problems} == {"threshold", "n_resamples"}
    assert RunOptions(split=None, latency_sample=-1).split is None


def test_leaderboard_rank_by_unknown_metric_is_a_clear_error(tmp_path):
    from harness import run_benchmark

    res = run_benchmark("smoke", ["keyword-rules"], ["2023-02-15"], out=tmp_path / "runs",
                        options=RunOptions(n_resamples=10, latency_sample=0), cache_root=tmp_path / "c")
    assert len(repr(res)) < 400 and res.run_id in repr(res)  # a RunResult prints compactly
    out = CliRunner().invoke(app, ["leaderboard", str(res.run_dir), "--out", str(tmp_path / "lb"), "--rank-by", "auc"])
    assert out.exit_code == 2 and "rank_by" in out.output and "average_precision" in out.output
