"""Bootstrap intervals and paired tests: exact against weighted scikit-learn, deterministic."""

from __future__ import annotations

import decimal
import math
import warnings

import numba
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score

from harness.metrics import (
    METRICS,
    MetricInputError,
    average_precision,
    bootstrap_ci,
    bootstrap_cis,
    paired_bootstrap,
    precision_recall_f1,
    resample_weights,
)
from harness.metrics import _bootstrap_kernels as kernels
from harness.metrics._rng import POISSON1_CDF15


def _data(n=400, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(np.uint8)
    s = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    return y, (np.round(s, 1) if ties else s)


def _weighted(metric, y, s, w, threshold=0.5):
    """The metric on the resample with weights ``w``, by scikit-learn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if metric == "average_precision":
            return average_precision_score(y, s, sample_weight=w)
        if metric == "roc_auc":
            if w[y == 1].sum() == 0 or w[y == 0].sum() == 0:
                return np.nan
            return roc_auc_score(y, s, sample_weight=w)
        pred = (s >= threshold).astype(int)
        if metric == "fpr":
            neg = w[y == 0].sum()
            return (w * ((pred == 1) & (y == 0))).sum() / neg if neg else 0.0
        p, r, f, _ = precision_recall_fscore_support(
            y, pred, sample_weight=w, average="binary", zero_division=0, labels=[0, 1]
        )
        return {"precision": p, "recall": r, "f1": f}[metric]


def test_poisson_thresholds_are_exact():
    decimal.getcontext().prec = 50
    cdf = decimal.Decimal(0)
    for k, threshold in enumerate(POISSON1_CDF15):
        cdf += decimal.Decimal(-1).exp() / math.factorial(k)
        assert threshold == int((cdf * 2**15).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
    assert int((cdf * 2**15).to_integral_value()) < 2**15  # k = 7 is still possible


def test_weights_look_like_independent_poisson_draws():
    w = resample_weights(3, 100, 20_000).astype(np.float64)
    assert abs(w.mean() - 1) < 0.005 and abs(w.var() - 1) < 0.01
    assert abs((w == 0).mean() - math.exp(-1)) < 0.003
    corr = np.corrcoef(w)[np.triu_indices(100, 1)]
    assert abs(corr.std() - 1 / math.sqrt(20_000)) < 0.001  # what independent draws give
    assert abs(np.corrcoef(w[:, :-1].ravel(), w[:, 1:].ravel())[0, 1]) < 0.005
    assert not np.array_equal(resample_weights(4, 1, 100), resample_weights(3, 1, 100))


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("ties", [False, True])
def test_interval_is_percentiles_of_weighted_sklearn(metric, ties):
    y, s = _data(ties=ties)
    R = 40
    ci = bootstrap_ci(metric, y, s, n_resamples=R, seed=11, confidence=0.9)
    w = resample_weights(11, R, y.size)
    values = np.array([_weighted(metric, y, s, w[r]) for r in range(R)])
    low, high = np.nanpercentile(values, [5, 95])
    assert abs(ci.low - low) <= 1e-12 and abs(ci.high - high) <= 1e-12
    assert (ci.n_resamples, ci.confidence) == (R, 0.9)
    full = _weighted(metric, y, s, np.ones(y.size))
    assert abs(ci.estimate - full) <= 1e-12


@pytest.mark.parametrize("metric", ["f1", "average_precision", "roc_auc"])
def test_batched_columns_equal_single_columns(metric):
    rng = np.random.default_rng(2)
    y = (rng.random((300, 3)) < 0.3).astype(np.uint8)
    s = np.round(np.clip(0.3 * y[None] + rng.random((2, 300, 3)), 0, 1), 2)
    block = bootstrap_ci(metric, y, s, n_resamples=60, seed=5)
    assert block.low.shape == (2, 3)
    for k in range(2):
        for j in range(3):
            one = bootstrap_ci(metric, y[:, j], s[k, :, j], n_resamples=60, seed=5)
            got = (block.estimate[k, j], block.low[k, j], block.high[k, j])
            assert got == (one.estimate, one.low, one.high)


@pytest.mark.parametrize("metric", ["recall", "average_precision"])
def test_same_answer_whatever_the_thread_count(metric, monkeypatch):
    monkeypatch.setattr(kernels, "PARALLEL_FROM", 0)  # the parallel kernel even for small data
    y, s = _data(n=3000, ties=True)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            assert kernels._tasks(1, 150, threads) == min(threads, 3)  # 1 thread: the serial kernel
            ys, ss = np.stack([y, y], 1), np.stack([s, s[::-1]], 1)
            results.append(bootstrap_ci(metric, ys, ss, n_resamples=150, seed=9))  # 3 groups
    finally:
        numba.set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(r.low, results[0].low)
        np.testing.assert_array_equal(r.high, results[0].high)


def test_seed_determines_the_interval():
    y, s = _data()
    a = bootstrap_ci("precision", y, s, n_resamples=100, seed=1)
    assert a == bootstrap_ci("precision", y, s, n_resamples=100, seed=1)
    assert a != bootstrap_ci("precision", y, s, n_resamples=100, seed=2)
    assert a.low <= a.estimate <= a.high


def test_undefined_resamples_are_left_out():
    # one positive: many resamples drop it and ROC-AUC is undefined there
    y = np.zeros(30, np.uint8)
    y[0] = 1
    s = np.linspace(1, 0, 30)
    ci = bootstrap_ci("roc_auc", y, s, n_resamples=200, seed=0)
    assert ci.estimate == 1.0 and ci.low == 1.0 and ci.high == 1.0
    all_neg = bootstrap_ci("roc_auc", np.zeros(5, np.uint8), s[:5], n_resamples=20)
    assert np.isnan(all_neg.estimate) and np.isnan(all_neg.low)


@pytest.mark.parametrize("metric", ["precision", "average_precision", "roc_auc"])
def test_paired_difference_interval_and_p_value(metric):
    y, a = _data(n=500, seed=4)
    b = np.round(a + np.random.default_rng(8).normal(0, 0.3, a.size), 1)
    R = 60
    r = paired_bootstrap(metric, y, a, b, n_resamples=R, seed=3)
    w = resample_weights(3, R, y.size)
    d = np.array([_weighted(metric, y, a, w[i]) - _weighted(metric, y, b, w[i]) for i in range(R)])
    d = d[~np.isnan(d)]
    low, high = np.percentile(d, [2.5, 97.5])
    assert abs(r.low - low) <= 1e-12 and abs(r.high - high) <= 1e-12
    p = min(1.0, 2 * min(1 + (d <= 0).sum(), 1 + (d >= 0).sum()) / (1 + d.size))
    assert r.p_value == p
    full = _weighted(metric, y, a, np.ones(y.size)) - _weighted(metric, y, b, np.ones(y.size))
    assert abs(r.diff - full) <= 1e-12


def test_paired_identical_systems_and_clear_winner():
    y, s = _data(n=2000)
    same = paired_bootstrap("f1", y, s, s, n_resamples=100)
    assert (same.diff, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    noisy = np.clip(s + np.random.default_rng(1).normal(0, 0.5, s.size), 0, 1)
    win = paired_bootstrap("average_precision", y, s, noisy, n_resamples=200)
    assert win.diff > 0 and win.low > 0 and win.p_value == 2 / 201


def test_paired_batched_shapes():
    rng = np.random.default_rng(0)
    y = (rng.random((100, 2)) < 0.5).astype(np.uint8)
    a = rng.random((3, 100, 2))
    r = paired_bootstrap("roc_auc", y, a, a[::-1], n_resamples=30)
    assert r.diff.shape == r.p_value.shape == (3, 2)
    np.testing.assert_array_equal(r.diff[1], 0.0)
    expected = average_precision(y, a) - average_precision(y, a[::-1])
    got = paired_bootstrap("average_precision", y, a, a[::-1], n_resamples=5).diff
    np.testing.assert_allclose(got, expected, rtol=0, atol=0)


def test_estimate_is_the_exact_metric():
    y, s = _data(n=300)
    ci = bootstrap_ci("f1", y, s, n_resamples=10, threshold=0.4)
    assert ci.estimate == precision_recall_f1(y, s, threshold=0.4).f1


@pytest.mark.parametrize(
    "call, argument, text",
    [
        (lambda y, s: bootstrap_ci("accuracy", y, s), "metric", "must be one of"),
        (lambda y, s: bootstrap_ci("f1", [], []), "y_true", "empty"),
        (lambda y, s: bootstrap_ci("f1", y, s, threshold=[0.1, 0.2]), "threshold", "single number"),
        (lambda y, s: bootstrap_ci("f1", y, s, confidence=1.0), "confidence", "(0, 1)"),
        (lambda y, s: bootstrap_ci("f1", y, s, n_resamples=0), "n_resamples", "at least 1"),
        (lambda y, s: bootstrap_ci("f1", y, s, n_resamples=2.5), "n_resamples", "integer"),
        (lambda y, s: bootstrap_ci("f1", y, s, seed="x"), "seed", "integer"),
        (lambda y, s: paired_bootstrap("f1", y, s, s[:-1]), "score_b", "has 9 scores"),
        (lambda y, s: paired_bootstrap("f1", y, s, np.where(s > 0.5, np.nan, s)), "score_b", "NaN"),
    ],
)
def test_bad_bootstrap_input(call, argument, text):
    y = np.array([1, 0] * 5, np.uint8)
    s = np.linspace(0, 1, 10)
    with pytest.raises(MetricInputError) as info:
        call(y, s)
    assert info.value.argument == argument and text in str(info.value)


def test_several_metrics_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(6)
    y = (rng.random((400, 2)) < 0.3).astype(np.uint8)
    s = np.round(np.clip(0.3 * y + rng.random((400, 2)), 0, 1), 2)
    names = ["roc_auc", "f1", "precision", "average_precision", "fpr", "recall"]
    together = bootstrap_cis(names, y, s, n_resamples=70, seed=4, threshold=0.6)
    assert list(together) == names
    for m in names:
        one = bootstrap_ci(m, y, s, n_resamples=70, seed=4, threshold=0.6)
        for field in ("estimate", "low", "high"):
            np.testing.assert_array_equal(getattr(together[m], field), getattr(one, field))


@pytest.mark.parametrize("metrics, text", [("f1", "sequence"), ([], "empty"), (["f1", "auc"], "must be one of")])
def test_bad_metric_lists(metrics, text):
    with pytest.raises(MetricInputError, match=text):
        bootstrap_cis(metrics, [1, 0, 1], [0.2, 0.4, 0.9])
