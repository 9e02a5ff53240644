"""Latency percentiles and mean with bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.metrics import CI, LatencySummary, MetricInputError, latency_summary, resample_weights


def _weighted_percentile(x, w, q):
    """np.percentile (linear) of the sample in which x[i] appears w[i] times."""
    return np.percentile(np.repeat(x, w), q)


def test_estimates_equal_numpy():
    lat = np.random.default_rng(0).lognormal(-3, 1, 997)
    s = latency_summary(lat, n_resamples=50)
    assert isinstance(s, LatencySummary) and s["n"] == 997
    for key, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        assert s[key].estimate == np.percentile(lat, q)
        assert isinstance(s[key], CI) and s[key].low <= s[key].estimate <= s[key].high
    assert s.mean.estimate == np.mean(lat)


def test_intervals_are_percentiles_of_weighted_resamples():
    lat = np.round(np.random.default_rng(1).exponential(0.05, 300), 3)  # ties too
    R = 30
    s = latency_summary(lat, n_resamples=R, seed=4, confidence=0.8)
    w = resample_weights(4, R, lat.size)
    for key, stat in (
        ("p50", lambda r: _weighted_percentile(lat, w[r], 50)),
        ("p95", lambda r: _weighted_percentile(lat, w[r], 95)),
        ("p99", lambda r: _weighted_percentile(lat, w[r], 99)),
        ("mean", lambda r: np.average(lat, weights=w[r])),
    ):
        values = np.array([stat(r) for r in range(R)])
        low, high = np.percentile(values, [10, 90])
        assert abs(s[key].low - low) <= 1e-12 and abs(s[key].high - high) <= 1e-12


def test_mapping_and_json():
    s = latency_summary([0.1, 0.2, 0.3], n_resamples=20)
    assert list(s) == ["n", "p50", "p95", "p99", "mean"] and len(s) == 5
    d = json.loads(json.dumps(s.to_dict()))
    assert d["n"] == 3 and d["p50"]["estimate"] == pytest.approx(0.2) and d["n_resamples"] == 20
    assert "p95=" in repr(s)
    with pytest.raises(KeyError):
        s["p90"]


def test_single_latency():
    s = latency_summary([0.25], n_resamples=50)
    assert s.p99.estimate == s.p99.low == s.p99.high == 0.25


@pytest.mark.parametrize(
    "lat, text",
    [
        ([], "empty"),
        ([0.1, -0.2], "must be >= 0, got -0.2 at index 1"),
        ([0.1, np.nan], "found NaN at index 1"),
        ([np.inf], "found inf at index 0"),
        ([[0.1]], "1 dimension"),
    ],
)
def test_bad_latencies(lat, text):
    with pytest.raises(MetricInputError) as info:
        latency_summary(lat)
    assert info.value.argument == "latencies_seconds" and text in str(info.value)


def test_same_answer_whatever_the_thread_count():
    import numba

    lat = np.random.default_rng(2).gamma(2.0, 0.01, 3000)  # 3000 x 600 resamples: parallel kernel
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = latency_summary(lat, n_resamples=600, seed=5).to_dict()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = latency_summary(lat, n_resamples=600, seed=5).to_dict()
    finally:
        numba.set_num_threads(before)
    assert one == two
