"""The run store as DataFrames (DuckDB over the run folders), run-against-run comparison with paired
tests, the per-example error analysis of a run, its summary and compact displays, and the
``policybench runs`` commands (also on the published run ``results/run``)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from harness import RunOptions, compare_runs, latency_df, load_run, metrics_df, run_benchmark, runs_df
from harness.cli import TestMetricChoice, app
from harness.errors import InputError
from harness.results.runs import predictions_table
from harness.results.store import TEST_METRICS, shared_examples
from harness.results.views import summary_table
from harness.scoring import latency_table

PUBLISHED = Path(__file__).resolve().parents[1] / "results" / "run"
POLICIES = ["2023-02-15", "2024-01-10"]
CLASSIFIERS = ["keyword-rules", "tfidf-logreg", "better-profanity"]  # the last covers one category


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three runs of the smoke suite in one store: A, B (threshold 0.3) and C (the first 100 rows)."""
    base = tmp_path_factory.mktemp("store")
    root, cache = base / "runs", base / "cache"
    opts = dict(n_resamples=20, latency_sample=5)
    a = run_benchmark("smoke", CLASSIFIERS, POLICIES, options=RunOptions(**opts), out=root, cache_root=cache)
    b = run_benchmark("smoke", CLASSIFIERS, POLICIES, options=RunOptions(threshold=0.3, **opts), out=root,
                      cache_root=cache)
    c = run_benchmark("smoke", CLASSIFIERS, POLICIES, options=RunOptions(limit=100, **opts), out=root,
                      cache_root=cache)
    assert len({a.run_id, b.run_id, c.run_id}) == 3
    return {"root": root, "a": a, "b": b, "c": c}


# ------------------------------------------------------------------------------ the store
def test_every_stored_table_carries_the_run_id_and_keeps_its_columns(runs):
    a = runs["a"]
    for name in ("metrics", "latency", "predictions"):
        df = pd.read_parquet(a.run_dir / f"{name}.parquet")
        assert df.columns[0] == "run_id" and set(df["run_id"]) == {a.run_id}, name
    lat = pd.read_parquet(a.run_dir / "latency.parquet")
    assert list(lat.columns[1:]) == list(latency_table(a.predictions).columns)
    pred_cols = pq.read_schema(a.run_dir / "predictions.parquet").names
    assert pred_cols[1:] == predictions_table(a.suite, a.predictions).column_names
    # a stored run still reads back its predictions with the extra column
    stored = load_run(a.run_dir)
    assert [p.name for p in stored.predictions] == [p.name for p in a.predictions]
    assert np.array_equal(stored.predictions[0].scores, a.predictions[0].scores)


def test_runs_df_lists_every_run_with_its_record(runs):
    df = runs_df(runs["root"])
    assert sorted(df["run_id"]) == sorted(runs[k].run_id for k in "abc")
    row = df.set_index("run_id").loc[runs["c"].run_id]
    assert row["suite"] == "smoke" and row["n_examples"] == 100 and row["split"] == "test"
    assert row["classifiers"] == sorted(CLASSIFIERS) and row["policy_versions"] == POLICIES
    assert row["n_cells"] == len(runs["c"].metrics)
    assert row["record_format"] == 2 and row["duration_s"] >= 0
    assert Path(row["path"]) == runs["c"].run_dir


def test_metrics_df_and_latency_df_hold_every_run_row_for_row(runs):
    m = metrics_df(root=runs["root"])
    assert len(m) == sum(len(runs[k].metrics) for k in "abc") and m.columns[0] == "run_id"
    a = runs["a"]
    got = m[m["run_id"] == a.run_id].sort_values(["classifier", "policy_version", "category"]).reset_index(drop=True)
    want = a.metrics.sort_values(["classifier", "policy_version", "category"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
    lat = latency_df(root=runs["root"])
    assert lat.groupby("run_id").size().to_dict() == {runs[k].run_id: len(runs[k].latency) for k in "abc"}


def test_latency_written_before_run_id_was_a_column_takes_it_from_the_record(runs, tmp_path):
    old = tmp_path / "runs" / "old"
    shutil.copytree(runs["a"].run_dir, old)
    lat = pd.read_parquet(old / "latency.parquet").drop(columns=["run_id"])
    lat.to_parquet(old / "latency.parquet", index=False)
    got = latency_df(root=tmp_path / "runs")
    assert set(got["run_id"]) == {runs["a"].run_id} and len(got) == len(lat)


# ------------------------------------------------------------------------------ compare
def test_a_run_compared_with_itself_differs_nowhere(runs):
    a = runs["a"]
    df = compare_runs(a, a, n_resamples=50)
    assert len(df) == len(a.metrics) and df.attrs["only_a"] == df.attrs["only_b"] == 0
    deltas = df[[c for c in df if c.endswith("_delta")]].to_numpy(float)
    assert np.all((deltas == 0) | np.isnan(deltas))
    tested = df[df["diff"].notna()]
    assert len(tested) > 0 and (tested["diff"] == 0).all() and (tested["p_value"] == 1).all()
    assert (df["n_shared"] == int(a.suite.scored_mask.sum())).all()


def test_compare_flags_each_side_at_its_own_runs_threshold(runs):
    a, b = runs["a"], runs["b"]
    df = compare_runs(a.run_dir, b.run_dir, n_resamples=50)  # by folder: the stored runs
    both = df.dropna(subset=["f1_a", "f1_b"])
    key = ["classifier", "policy_version", "category"]
    fa = a.metrics.set_index(key)["f1"]
    fb = b.metrics.set_index(key)["f1"]
    for r in both.itertuples():
        k = (r.classifier, r.policy_version, r.category)
        assert r.f1_a == pytest.approx(fa[k]) and r.f1_b == pytest.approx(fb[k])
        assert r.f1_delta == pytest.approx(fb[k] - fa[k])
    tested = df.dropna(subset=["diff"])
    # same rows, so the paired difference on the full data is the difference of the two runs' numbers
    assert np.allclose(tested["diff"], tested["f1_delta"], atol=1e-9)
    assert (tested["diff"] != 0).any(), "a lower threshold changed no F1: the test cannot tell the sides apart"
    assert ((tested["diff_low"] <= tested["diff"]) & (tested["diff"] <= tested["diff_high"])).all()
    assert tested["p_value"].between(0, 1).all()
    # average precision does not depend on the threshold: no difference at all
    ap = compare_runs(a, b, metric="average_precision", n_resamples=20).dropna(subset=["diff"])
    assert len(ap) and (ap["diff"] == 0).all()


def test_compare_tests_on_the_examples_both_runs_hold(runs):
    a, c = runs["a"], runs["c"]
    ia, ic = shared_examples(a.suite, c.suite)
    assert len(ia) == len(c.suite) == 100 and [a.suite.ids[i] for i in ia] == [c.suite.ids[i] for i in ic]
    df = compare_runs(a, c, n_resamples=20)
    assert (df["n_shared"] == int(c.suite.scored_mask.sum())).all()
    tested = df.dropna(subset=["diff"])
    # the same predictions on the shared rows: no paired difference, whatever the full-suite numbers say
    assert len(tested) and (tested["diff"] == 0).all()
    assert (df["f1_delta"].fillna(0) != 0).any()


def test_compare_filters_cells_and_rejects_an_unknown_test_metric(runs):
    df = compare_runs(runs["a"], runs["b"], classifiers=["tfidf-logreg"], policies=["2024-01-10"], n_resamples=10)
    assert set(df["classifier"]) == {"tfidf-logreg"} and set(df["policy_version"]) == {"2024-01-10"}
    with pytest.raises(InputError, match="average_precision"):
        compare_runs(runs["a"], runs["b"], metric="auc")
    assert list(TestMetricChoice.__args__) == list(TEST_METRICS)  # the CLI's choices are the store's


# ------------------------------------------------------------------------------ per example
@pytest.mark.parametrize("classifier, policy", [("tfidf-logreg", "2023-02-15"), ("keyword-rules", "2024-01-10")])
def test_examples_agree_with_the_metrics_of_their_cell(runs, classifier, policy):
    a = runs["a"]
    cell = a.metrics[(a.metrics["classifier"] == classifier) & (a.metrics["policy_version"] == policy)
                     & a.metrics["covered"] & (a.metrics["n_positive"] > 0)].iloc[0]
    cat = cell["category"]
    ex = a.examples(classifier, policy, cat)
    assert len(ex) == len(a.suite) and list(ex["id"]) == a.suite.ids
    counts = ex["outcome"].value_counts()
    assert counts.get("true_positive", 0) == cell["tp"] and counts.get("miss", 0) == cell["fn"]
    assert counts.get("false_alarm", 0) == cell["fp"] and counts.get("true_negative", 0) == cell["tn"]
    scored = ex[ex["outcome"] != "not_scored"]
    assert (scored["decision"] == (scored["score"] >= a.options.threshold)).all()
    assert (scored["truth"] == scored["outcome"].isin(["true_positive", "miss"])).all()

    misses = a.misses(classifier, policy, cat)
    assert len(misses) == cell["fn"] and set(misses["id"]) == set(ex.loc[ex["outcome"] == "miss", "id"])
    assert misses["score"].is_monotonic_increasing
    alarms = a.false_alarms(classifier, policy, cat, n=3)
    assert len(alarms) == min(3, cell["fp"]) and alarms["score"].is_monotonic_decreasing
    # a lower threshold turns misses into hits, never the reverse
    low = a.examples(classifier, policy, cat, threshold=0.05)
    assert (low["outcome"] == "miss").sum() <= counts.get("miss", 0)
    # one implementation: the stored run gives the same rows
    stored = load_run(a.run_dir)
    pd.testing.assert_frame_equal(stored.examples(classifier, policy, cat), ex)


def test_examples_reject_what_the_run_cannot_answer(runs):
    a = runs["a"]
    with pytest.raises(InputError, match="keyword-rules"):
        a.examples("nope", "2023-02-15", "malware")
    uncovered = a.metrics[~a.metrics["covered"].astype(bool)]
    assert len(uncovered)
    m = uncovered.iloc[0]
    with pytest.raises(InputError, match="does not cover"):
        a.examples(m["classifier"], m["policy_version"], m["category"])
    with pytest.raises(InputError, match="no category"):
        a.examples("tfidf-logreg", "2023-02-15", "not-a-category")


# ------------------------------------------------------------------------------ summary and display
def test_summary_is_macro_over_covered_categories_where_defined(runs):
    c = runs["c"]  # 100 rows: some covered categories have no positive, so no recall or F1
    s = c.summary()
    assert len(s) == len(c.metrics.groupby(["classifier", "policy_version"]))
    for r in s.itertuples():
        part = c.metrics[(c.metrics["classifier"] == r.classifier) & (c.metrics["policy_version"] == r.policy_version)
                         & c.metrics["covered"]]
        assert r.n_covered == len(part) and r.f1_n == part["f1"].notna().sum()
        assert (np.isnan(r.f1) and r.f1_n == 0) or r.f1 == pytest.approx(part["f1"].dropna().mean())
    assert (s["f1_n"] < s["n_covered"]).any(), "no undefined F1 in the limited run: the test shows nothing"
    pd.testing.assert_frame_equal(load_run(c.run_dir).summary(), s)
    assert s.equals(summary_table(c.metrics))


def test_runs_and_their_parts_display_compactly(runs):
    from harness import diff, load_policy

    a = runs["a"]
    stored = load_run(a.run_dir)
    for obj in (a, stored):
        assert len(repr(obj)) < 500 and a.run_id in repr(obj)
        h = obj._repr_html_()
        assert a.run_id in h and "<table" in h and "tfidf-logreg" in h and len(h) < 50_000
    assert len(repr(a.suite)) < 200 and "<table" in a.suite._repr_html_()
    p = load_policy("2024-01-10")
    assert len(repr(p)) < 300 and "2024-01-10" in repr(p) and "<table" in p._repr_html_()
    d = diff("2023-02-15", "2024-01-10")
    assert len(repr(d)) < 300 and "dating_apps" in d._repr_html_()


# ------------------------------------------------------------------------------ the command line
def test_runs_list_show_and_compare_on_the_command(runs, tmp_path):
    root, a, b = runs["root"], runs["a"], runs["b"]
    cli = CliRunner()
    got = cli.invoke(app, ["runs", "list", "--root", str(root), "--json"])
    assert got.exit_code == 0, got.output
    assert sorted(r["run_id"] for r in json.loads(got.stdout)) == sorted(runs[k].run_id for k in "abc")

    # piped (not a terminal): a long path is printed whole, on one line
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "runs"
    shutil.copytree(a.run_dir, deep / a.run_id)
    got = cli.invoke(app, ["runs", "list", "--root", str(deep)])
    assert got.exit_code == 0 and any(str(deep / a.run_id) in line for line in got.stdout.splitlines())

    got = cli.invoke(app, ["runs", "show", str(a.run_dir), "--json"])
    assert got.exit_code == 0, got.output
    info = json.loads(got.stdout)
    assert info["record"]["run_id"] == a.run_id and len(info["summary"]) == len(a.summary())

    got = cli.invoke(app, ["runs", "compare", str(a.run_dir), str(b.run_dir), "-c", "tfidf-logreg", "--n-resamples",
                           "20", "--json"])
    assert got.exit_code == 0, got.output
    res = json.loads(got.stdout)
    assert res["run_a"] == a.run_id and res["run_b"] == b.run_id
    assert {c["classifier"] for c in res["cells"]} == {"tfidf-logreg"}
    assert any(c["diff"] not in (None, 0) for c in res["cells"])
    got = cli.invoke(app, ["runs", "compare", str(a.run_dir), str(b.run_dir), "--metric", "auc"])
    assert got.exit_code == 2 and "roc_auc" in got.output
    got = cli.invoke(app, ["runs", "show", str(tmp_path / "nothing-here")])
    assert got.exit_code == 2 and "no run" in got.output


@pytest.mark.skipif(not (PUBLISHED / "manifest.json").is_file(), reason="no published run")
def test_runs_commands_work_on_the_published_run():
    cli = CliRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an older (format-1) record would migrate with a warning
        got = cli.invoke(app, ["runs", "show", str(PUBLISHED), "--json"])
        assert got.exit_code == 0, got.output
        info = json.loads(got.stdout)
        assert info["record"]["format_version"] == 2 and info["summary"]
        assert all(len(p["sha256"]) == 64 for p in info["record"]["policies"])
        got = cli.invoke(app, ["runs", "compare", str(PUBLISHED), str(PUBLISHED), "-c", "keyword-rules",
                               "-p", "2023-02-15", "--n-resamples", "10", "--json"])
        assert got.exit_code == 0, got.output
        cells = json.loads(got.stdout)["cells"]
        assert len(cells) == 14 and all(c["diff"] in (None, 0) for c in cells)
        assert any(c["diff"] == 0 for c in cells) and all(c["n_shared"] > 0 for c in cells)
        listed = runs_df(runs=[PUBLISHED])
        assert listed["record_format"].tolist() == [2] and listed["n_cells"].iloc[0] > 0
