"""The scoring layer re-scores runs: the published run exactly, a stored run under its recorded
policies (not today's files), and under other policies and options."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from harness import RunOptions, load_run, rescore, run_benchmark
from harness.errors import InputError
from harness.paths import policies_dir, repo_root
from harness.results.record import FORMAT_VERSION, parse_record
from tests.helpers import KeywordTopics

PUBLISHED = repo_root() / "results" / "run"


def _numeric(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool]


def assert_same_metrics(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    num = _numeric(b)
    x, y = a[num].to_numpy(float), b[num].to_numpy(float)
    assert np.array_equal(np.isnan(x), np.isnan(y))  # undefined stays undefined
    assert np.nanmax(np.abs(x - y)) <= 1e-12
    for c in a.columns:
        if c not in num:
            assert a[c].astype(str).tolist() == b[c].astype(str).tolist(), c


@pytest.mark.slow
def test_rescore_reproduces_the_published_run_from_its_stored_predictions():
    run = load_run(PUBLISHED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a format-1 record (if the published run predates format 2)
        assert_same_metrics(rescore(run), run.metrics)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rescore")
    policy = tmp / "policy.yaml"
    shutil.copy(policies_dir() / "2023-02-15.yaml", policy)
    res = run_benchmark("smoke", [KeywordTopics()], [policy], out=tmp / "runs", cache_root=tmp / "cache",
                        options=RunOptions(n_resamples=30, latency_sample=0))
    return res, policy


def test_a_stored_run_rescores_identically_and_records_policy_content(stored):
    res, _ = stored
    run = load_run(res.run_dir)
    assert run.record.format_version == FORMAT_VERSION
    assert run.record.policies[0].id == "2023-02-15" and len(run.record.policies[0].sha256) == 64
    assert_same_metrics(rescore(run), run.metrics)
    assert_same_metrics(rescore(res), res.metrics)  # an in-memory result re-scores the same way


def test_an_edited_policy_file_does_not_change_a_stored_run(stored):
    res, policy = stored
    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    for v in data["topics"].values():  # the edit allows everything "adult": its positives vanish
        if v.get("category") == "adult":
            v["verdict"], v["category"] = "allowed", None
    policy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = load_run(res.run_dir)
    assert_same_metrics(rescore(run), run.metrics)  # the recorded policy, not today's file
    changed = rescore(run, [policy])
    adult = lambda df: int(df[df["category"] == "adult"]["n_positive"].iloc[0])  # noqa: E731
    assert adult(run.metrics) > 0 and adult(changed) == 0


def test_rescore_with_other_options_equals_a_fresh_run_with_them(stored, tmp_path):
    res, _ = stored
    run = load_run(res.run_dir)
    again = run_benchmark("smoke", [KeywordTopics()], run.policies, cache_root=tmp_path / "cache",
                          options=RunOptions(n_resamples=30, latency_sample=0, threshold=0.8))
    got = rescore(run, threshold=0.8)
    assert_same_metrics(got.drop(columns=["run_id"]), again.metrics.drop(columns=["run_id"]))
    assert not got["f1"].equals(run.metrics["f1"]) or (got["threshold"] == 0.8).all()
    with pytest.raises(InputError, match="threshold"):
        rescore(run, threshold=1.5)


def test_records_of_an_unknown_format_are_a_clear_error_and_format_1_migrates(stored, tmp_path):
    res, _ = stored
    data = json.loads((Path(res.run_dir) / "manifest.json").read_text())
    with pytest.raises(InputError) as exc:
        parse_record({**data, "format_version": 99}, file="x/manifest.json")
    assert exc.value.problems[0].field == "format_version" and "x/manifest.json" in str(exc.value)
    old = {k: v for k, v in data.items() if k not in ("format_version", "policies", "crosswalks")}
    old["policy_versions"] = ["2023-02-15"]
    for c in old["classifiers"]:
        c.pop("config_sha256")
    with pytest.warns(UserWarning, match="format-1"):
        rec = parse_record(old)
    assert rec.migrated_from == 1 and rec.policies[0].from_disk and rec.policy_versions == ["2023-02-15"]
    with pytest.raises(InputError) as exc:
        parse_record({**data, "suite": {"name": "x"}}, file="m.json")
    assert any(p.field and p.field.startswith("suite.") for p in exc.value.problems)


def test_runs_started_in_the_same_second_get_distinct_ids():
    from harness.policies import load_policy
    from harness.results.benchmark import make_run_id
    from harness.suites import load_suite

    suite, opts = load_suite("smoke"), RunOptions()
    a, b = load_policy("2023-02-15"), load_policy("2024-01-10")
    same_second = ("2026-11-29T10:00:00.100000Z", "2026-11-29T10:00:00.900000Z")
    ids = {make_run_id(suite, t, opts, ["x"], [p]) for t in same_second for p in (a, b)}
    assert len(ids) == 4 and all(i.startswith("20261129T100000Z-smoke-") for i in ids)
