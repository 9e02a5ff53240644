"""The command line's options: impossible values are clear errors (exit 2, naming the option) before anything
is predicted; choices, --version, run --json and unwrapped piped output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import RunOptions
from harness.cli import app
from harness.errors import InputError


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
    assert field in res.output or f"--{field.replace('_', '-')}" in res.output  # the option, by either name
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]  # no run was written


@pytest.mark.parametrize("option, bad, allowed", [
    ("--split", "holdout", ["train", "dev", "test", "all"]),
    ("--restricted-as", "maybe", ["violation", "allowed"]),
    ("--executor", "spark", ["local", "dask"]),
])
def test_options_with_a_few_values_are_choices_named_in_help_and_errors(option, bad, allowed):
    res = CliRunner().invoke(app, ["run", option, bad])
    assert res.exit_code == 2
    assert all(f"'{a}'" in res.output for a in allowed), res.output  # the message lists what is allowed
    helptext = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"}).output
    assert "|".join(allowed) in helptext


def test_the_cli_choices_are_the_librarys_values():
    from harness.cli import ExecutorChoice, RestrictedChoice, SplitChoice
    from harness.options import EXECUTORS, SPLITS
    from harness.policies.model import RESTRICTED_AS

    assert SplitChoice.__args__ == (*SPLITS, "all")
    assert RestrictedChoice.__args__ == RESTRICTED_AS and ExecutorChoice.__args__ == EXECUTORS


def test_version_option_prints_the_installed_version():
    import harness

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"policybench {harness.__version__}"
    assert harness.__version__ != "0+unknown"


def test_run_json_has_the_run_folder_and_latency_and_piped_tables_are_not_wrapped(tmp_path):
    deep = tmp_path / ("a-long-results-folder-name-" * 9)  # the line is longer than 200 columns
    args = ["run", "--suite", "smoke", "-c", "keyword-rules", "-c", "profanity-check", "-p", "2023-02-15",
            "--n-resamples", "10", "--latency-sample", "5", "--out", str(deep)]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    run_dir = Path(info["run_dir"])
    assert run_dir.parent == deep and run_dir.name == info["run_id"] and (run_dir / "manifest.json").is_file()
    assert {r["classifier"] for r in info["latency"]} == {"keyword-rules", "profanity-check"}
    assert all(r["p50_s"] > 0 and r["run_id"] == info["run_id"] for r in info["latency"])
    assert {r["classifier"] for r in info["metrics"]} == {"keyword-rules", "profanity-check"}
    assert [r["policy_version"] for r in info["summary"]] == ["2023-02-15"] * 2
    # the same run as tables, piped: the path and every name are whole on their lines (no 80-column wrap)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert any(line.startswith("results: ") and line.endswith(str(deep / line.split("/")[-1])) for line in lines)
    assert any("profanity-check" in line for line in lines) and max(map(len, lines)) > 80


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
