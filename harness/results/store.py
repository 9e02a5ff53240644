"""Every stored run at once: DataFrames over the run folders (DuckDB over their Parquet files),
and run-against-run comparison with paired tests.

- :func:`run_paths`: the stored run folders (``results/runs/*`` and the published ``results/run``);
- :func:`runs_df`: one row per run (suite, classifiers, policies, commit, times) from the records;
- :func:`metrics_df` / :func:`latency_df`: the ``metrics`` / ``latency`` tables of many runs
  in one DataFrame, read by DuckDB (``read_parquet(..., union_by_name=true)``), ``run_id`` first;
- :func:`compare_runs`: per (classifier, policy_version, category) cell, each headline metric in
  run A and run B and their difference, with a paired bootstrap of ``metric(B) - metric(A)``
  on the examples the two runs share (same example id and same text hash).

As inspect_ai's ``evals_df`` over its logs: the folders are the store, these are views of it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import metrics as _metrics
from harness.errors import InputError, Problem
from harness.paths import results_dir
from harness.results.record import read_record
from harness.results.runs import StoredRun, list_runs, load_run
from harness.runner import text_hash
from harness.scoring import CI_METRICS, CONTRAST_METRICS, ScoredView, bound_to
from harness.suites import Suite

#: The metrics :func:`compare_runs` puts side by side.
COMPARE_METRICS: tuple[str, ...] = CI_METRICS + tuple(f"contrast_{m}" for m in CONTRAST_METRICS)
#: The metrics a paired test can be run on (the all-rows metrics of :func:`harness.metrics.paired_bootstrap`).
TEST_METRICS: tuple[str, ...] = ("precision", "recall", "f1", "fpr", "average_precision", "roc_auc")
_THRESHOLD_METRICS = ("precision", "recall", "f1", "fpr")
_CELL = ["classifier", "policy_version", "category"]

RunRef = str | Path | StoredRun


def run_paths(root: Path | None = None) -> list[Path]:
    """The stored run folders: those under ``root`` (default ``results/runs``), oldest first, and,
    with the default root, the published run ``results/run`` when it exists."""
    paths = list_runs(root)
    published = results_dir() / "run"
    if root is None and (published / "manifest.json").is_file():
        ids = {_read_record(p).run_id for p in paths}
        if _read_record(published).run_id not in ids:  # not a copy of a run already listed
            paths.append(published)
    return paths


def _resolve(runs: Iterable[RunRef] | None, root: Path | None) -> list[Path]:
    if runs is None:
        return run_paths(root)
    out = []
    for r in runs:
        out.append(r.path if isinstance(r, StoredRun) else load_run(r, root=root).path)
    return out


def _read_record(path: Path) -> Any:
    with warnings.catch_warnings():  # a format-1 record migrates; runs_df says so in its columns
        warnings.simplefilter("ignore")
        return read_record(path / "manifest.json")


def _sql_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _table_df(paths: Sequence[Path], name: str) -> pd.DataFrame:
    """``<run>/<name>.parquet`` of every run, in one DataFrame (DuckDB), with ``run_id`` first."""
    import duckdb

    files = [p / f"{name}.parquet" for p in paths if (p / f"{name}.parquet").is_file()]
    if not files:
        return pd.DataFrame(columns=["run_id"])
    con = duckdb.connect()
    try:
        df = con.execute(f"SELECT * FROM read_parquet({_sql_list(files)}, union_by_name = true, filename = true)").df()
    finally:
        con.close()
    # tables written before run_id was a column (latency of older runs) take it from the record
    ids = {str(f): _read_record(f.parent).run_id for f in files}
    from_file = df["filename"].map(ids)
    df["run_id"] = df["run_id"].fillna(from_file) if "run_id" in df else from_file
    df = df.drop(columns=["filename"])
    return df[["run_id"] + [c for c in df.columns if c != "run_id"]]


def _row_counts(paths: Sequence[Path], name: str) -> dict[str, int]:
    """Rows of ``<run>/<name>.parquet`` per file (DuckDB reads only the Parquet metadata)."""
    import duckdb

    files = [p / f"{name}.parquet" for p in paths if (p / f"{name}.parquet").is_file()]
    if not files:
        return {}
    con = duckdb.connect()
    try:
        got = con.execute(f"SELECT filename, count(*) FROM read_parquet({_sql_list(files)}, filename = true) "
                          "GROUP BY filename").fetchall()
    finally:
        con.close()
    return {str(f): int(n) for f, n in got}


def runs_df(root: Path | None = None, *, runs: Iterable[RunRef] | None = None) -> pd.DataFrame:
    """One row per stored run, oldest first.

    Parameters
    ----------
    root : the folder of run folders (default: ``results/runs`` plus the published ``results/run``).
    runs : run ids, folders or :class:`~harness.results.runs.StoredRun` objects instead.

    Returns
    -------
    DataFrame with ``run_id``, ``path``, ``suite``, ``suite_version``, ``split``, ``n_examples``,
    ``classifiers``, ``policy_versions`` (lists), ``n_cells`` (metric rows), ``commit``,
    ``dirty``, ``started``, ``finished``, ``duration_s`` and ``record_format`` (the format the
    record was written in; 1 is migrated when read).
    """
    paths = _resolve(runs, root)
    counts = _row_counts(paths, "metrics")
    rows = []
    for p in paths:
        rec = _read_record(p)
        started, finished = pd.to_datetime(rec.started, utc=True), pd.to_datetime(rec.finished, utc=True)
        rows.append({
            "run_id": rec.run_id, "path": str(p), "suite": rec.suite.name, "suite_version": rec.suite.version,
            "split": rec.suite.split or "all", "n_examples": rec.suite.n_examples,
            "classifiers": sorted({c.name for c in rec.classifiers}), "policy_versions": rec.policy_versions,
            "n_cells": counts.get(str(p / "metrics.parquet"), 0), "commit": rec.git.get("commit"),
            "dirty": rec.git.get("dirty"), "started": started, "finished": finished,
            "duration_s": float((finished - started).total_seconds()),
            "record_format": rec.migrated_from or rec.format_version,
        })
    cols = ["run_id", "path", "suite", "suite_version", "split", "n_examples", "classifiers", "policy_versions",
            "n_cells", "commit", "dirty", "started", "finished", "duration_s", "record_format"]
    return pd.DataFrame(rows, columns=cols)


def metrics_df(runs: Iterable[RunRef] | None = None, *, root: Path | None = None) -> pd.DataFrame:
    """The metrics of every stored run (or of ``runs``): one row per (run, classifier, policy_version,
    category), the columns of each run's ``metrics.parquet`` (their union), ``run_id`` first."""
    return _table_df(_resolve(runs, root), "metrics")


def latency_df(runs: Iterable[RunRef] | None = None, *, root: Path | None = None) -> pd.DataFrame:
    """The latency tables of every stored run (or of ``runs``): one row per (run, classifier binding)."""
    return _table_df(_resolve(runs, root), "latency")


# ------------------------------------------------------------------------------------ compare
def _as_run(run: Any, root: Path | None) -> Any:
    return run if hasattr(run, "predictions") and hasattr(run, "record") else load_run(run, root=root)


def shared_examples(a: Suite, b: Suite) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(ia, ib)`` of the examples two suites share: same id and same text hash, in A's order.

    Examples
    --------
    >>> from harness.suites import Example
    >>> row = dict(label="benign", topics=[], split="test", source="s", source_row="1", license="MIT",
    ...            label_provenance="curated")
    >>> A = Suite.from_examples("a", [Example(id="x", text="hi", **row), Example(id="y", text="yo", **row)])
    >>> B = Suite.from_examples("b", [Example(id="y", text="yo", **row), Example(id="x", text="changed", **row)])
    >>> [i.tolist() for i in shared_examples(A, B)]
    [[1], [0]]
    """
    where = {(e.id, text_hash(e.text)): i for i, e in enumerate(b.examples)}
    pairs = [(i, where[k]) for i, e in enumerate(a.examples) if (k := (e.id, text_hash(e.text))) in where]
    ia = np.array([i for i, _ in pairs], dtype=np.int64)
    ib = np.array([j for _, j in pairs], dtype=np.int64)
    return ia, ib


def _rows(pred: Any, idx: np.ndarray) -> Any:
    """``pred`` restricted to rows ``idx`` (in that order)."""
    from dataclasses import replace

    return replace(pred, scores=pred.scores[idx], errors=[pred.errors[i] for i in idx],
                   latency_single_s=pred.latency_single_s[idx], latency_batch_s=pred.latency_batch_s[idx])


def _pick(preds: Sequence[Any], name: str, policy_id: str) -> Any | None:
    return next((p for p in bound_to(preds, policy_id) if p.name == name), None)


def compare_runs(a: Any, b: Any, *, metric: str = "f1", classifiers: Sequence[str] | None = None,
                 policies: Sequence[str] | None = None, categories: Sequence[str] | None = None,
                 n_resamples: int = 1000, seed: int = 0, root: Path | None = None) -> pd.DataFrame:
    """Run B against run A, cell by cell, with a paired test where they share examples.

    Parameters
    ----------
    a, b : run ids, run folders, stored runs or in-memory results.
    metric : the metric of the paired test, one of :data:`TEST_METRICS`.
    classifiers, policies, categories : compare only these cells (default: all).
    n_resamples, seed : of the paired bootstrap.

    Returns
    -------
    One row per (classifier, policy_version, category) present in both runs: ``covered_a``,
    ``covered_b``; for each of :data:`COMPARE_METRICS` ``<m>_a``, ``<m>_b`` and
    ``<m>_delta`` (B - A; NaN when either is undefined); ``n_shared`` (scored examples both
    runs hold, same id and text); and the paired bootstrap of ``metric(B) - metric(A)`` on
    them: ``test_metric``, ``diff``, ``diff_low``, ``diff_high``, ``p_value``. The test is NaN
    where it is undefined: no shared example, no positive or no negative among them, a cell
    either run does not cover, or a policy version whose recorded content differs between the
    runs. Ground truth is projected from run A's rows under A's recorded policy and
    ``restricted_as``; each side is thresholded at its own run's threshold.
    ``attrs["only_a"]`` / ``attrs["only_b"]`` count the cells present in one run only.
    """
    if metric not in TEST_METRICS:
        raise InputError(Problem(f"cannot test {metric!r}; choose one of {', '.join(TEST_METRICS)}", field="metric"))
    ra, rb = _as_run(a, root), _as_run(b, root)
    ma, mb = ra.metrics, rb.metrics
    keep = _CELL + ["covered"] + [m for m in COMPARE_METRICS]
    left = ma[[c for c in keep if c in ma]]
    right = mb[[c for c in keep if c in mb]]
    both = left.merge(right, on=_CELL, how="outer", suffixes=("_a", "_b"), indicator=True)
    only_a, only_b = int((both["_merge"] == "left_only").sum()), int((both["_merge"] == "right_only").sum())
    for col, wanted in (("classifier", classifiers), ("policy_version", policies), ("category", categories)):
        if wanted:
            both = both[both[col].isin(list(wanted))]
    df = both[both["_merge"] == "both"].drop(columns=["_merge"]).reset_index(drop=True)
    out = df[_CELL].copy()
    out["covered_a"] = df["covered_a"].astype(bool)
    out["covered_b"] = df["covered_b"].astype(bool)
    for m in COMPARE_METRICS:
        va = df[f"{m}_a"].astype(float) if f"{m}_a" in df else pd.Series(np.nan, index=df.index)
        vb = df[f"{m}_b"].astype(float) if f"{m}_b" in df else pd.Series(np.nan, index=df.index)
        out[f"{m}_a"], out[f"{m}_b"], out[f"{m}_delta"] = va, vb, vb - va
    for c in ("n_shared", "diff", "diff_low", "diff_high", "p_value"):
        out[c] = np.nan
    out["test_metric"] = metric
    if len(out):
        _paired_tests(out, ra, rb, metric, n_resamples=n_resamples, seed=seed)
    out["n_shared"] = out["n_shared"].fillna(0).astype(int)
    out = out[_CELL + ["covered_a", "covered_b"] + [f"{m}_{s}" for m in COMPARE_METRICS for s in ("a", "b", "delta")]
              + ["n_shared", "test_metric", "diff", "diff_low", "diff_high", "p_value"]]
    out.attrs.update(run_a=ra.run_id, run_b=rb.run_id, only_a=only_a, only_b=only_b)
    return out


def _paired_tests(out: pd.DataFrame, ra: Any, rb: Any, metric: str, *, n_resamples: int, seed: int) -> None:
    """Fill ``n_shared`` and the paired test columns of ``out`` in place."""
    ia, ib = shared_examples(ra.suite, rb.suite)
    if not len(ia):
        return
    shared = Suite.from_examples(ra.suite.name, [ra.suite.examples[i] for i in ia], version=ra.suite.version)
    pol_a = {p.id: p for p in ra.policies}
    sha_b = {r.id: r.sha256 for r in rb.record.policies}
    sha_a = {r.id: r.sha256 for r in ra.record.policies}
    thr_a, thr_b = float(ra.options.threshold), float(rb.options.threshold)
    confidence = float(ra.options.confidence)
    views: dict[str, ScoredView] = {}
    subs: dict[int, Any] = {}

    def rows(pred: Any, idx: np.ndarray) -> Any:
        if id(pred) not in subs:
            subs[id(pred)] = _rows(pred, idx)
        return subs[id(pred)]

    for (pid, clf), idx in out.groupby(["policy_version", "classifier"]).groups.items():
        if pid not in pol_a or sha_a.get(pid) != sha_b.get(pid):
            continue  # truth under this version would differ between the runs: no paired test
        pa_, pb_ = _pick(ra.predictions, clf, pid), _pick(rb.predictions, clf, pid)
        if pa_ is None or pb_ is None:
            continue
        view = views.get(pid) or views.setdefault(pid, ScoredView(shared, pol_a[pid], ra.options.restricted_as))
        sub_a, sub_b = rows(pa_, ia), rows(pb_, ib)
        valid = view.valid(sub_a, sub_b)
        out.loc[idx, "n_shared"] = int(valid.sum())
        cells = out.loc[idx]
        testable = cells[cells["covered_a"] & cells["covered_b"]]
        cols = [view.column(c) for c in testable["category"]]
        y = view.truth[valid][:, cols]
        ok = (y.sum(axis=0) > 0) & (y.sum(axis=0) < len(y))
        if not ok.any():
            continue
        cols = [c for c, k in zip(cols, ok) if k]
        where = testable.index[ok]
        y = np.ascontiguousarray(view.truth[valid][:, cols])
        sa = np.ascontiguousarray(view.scores(sub_a)[0][valid][:, cols], dtype=np.float64)
        sb = np.ascontiguousarray(view.scores(sub_b)[0][valid][:, cols], dtype=np.float64)
        if metric in _THRESHOLD_METRICS:  # each side flagged at its own run's threshold
            sa, sb = (sa >= thr_a).astype(np.float64), (sb >= thr_b).astype(np.float64)
        res = _metrics.paired_bootstrap(metric, y, sb, sa, n_resamples=n_resamples, confidence=confidence,
                                        seed=seed, threshold=0.5)
        out.loc[where, "diff"] = np.atleast_1d(np.asarray(res.diff, float))
        out.loc[where, "diff_low"] = np.atleast_1d(np.asarray(res.low, float))
        out.loc[where, "diff_high"] = np.atleast_1d(np.asarray(res.high, float))
        out.loc[where, "p_value"] = np.atleast_1d(np.asarray(res.p_value, float))
