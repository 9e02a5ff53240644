"""The dask executor on a 2-worker LocalCluster gives results identical to the local executor."""

from __future__ import annotations

import numpy as np
import pytest

from harness import RunOptions, run_benchmark

pytest.importorskip("dask.distributed")


@pytest.mark.slow
def test_dask_equals_local(tmp_path):
    clfs = ["keyword-rules", "better-profanity"]
    pols = ["2023-02-15", "2024-01-10"]
    base = dict(n_resamples=100, latency_sample=0, batch_size=16, limit=120)
    local = run_benchmark("smoke", clfs, pols, options=RunOptions(**base), cache_root=tmp_path / "c1")
    dask = run_benchmark("smoke", clfs, pols, options=RunOptions(executor="dask", **base), cache_root=tmp_path / "c2")
    assert [p.name + p.binding for p in local.predictions] == [p.name + p.binding for p in dask.predictions]
    for a, b in zip(local.predictions, dask.predictions):
        assert np.array_equal(a.scores, b.scores) and a.errors == b.errors
        assert b.n_computed == a.n_computed > 0
    cols = ["classifier", "policy_version", "category", "tp", "fp", "fn", "tn", "precision", "recall", "f1",
            "average_precision", "precision_low", "precision_high"]
    assert local.metrics[cols].equals(dask.metrics[cols])
