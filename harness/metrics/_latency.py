"""Latency statistics: p50, p95, p99 and mean with bootstrap confidence intervals."""

from __future__ import annotations

import warnings

import numpy as np
from numba import prange

from ._errors import MetricInputError
from ._jit import n_threads, serial_and_parallel
from ._results import CI, LatencySummary
from ._rng import weight
from ._validate import as_confidence, as_int, as_scores, as_seed

PERCENTILES = (50.0, 95.0, 99.0)


def _latency_resamples_kernel(xs, idx, qs, seed, n_resamples, n_tasks):
    """Per resample: the linear percentiles ``qs`` and the mean of the weighted sample.

    ``xs`` sorted ascending, ``idx`` their example indices (weights are keyed by them).
    Returns (R, len(qs) + 1); NaN for a resample whose weights are all 0.
    """
    n = xs.size
    nq = qs.size
    out = np.empty((n_resamples, nq + 1))
    per = (n_resamples + n_tasks - 1) // n_tasks
    for task in prange(n_tasks):
        w = np.empty(n, np.int32)
        targets = np.empty(2 * nq, np.int64)
        frac = np.empty(nq)
        vals = np.empty(2 * nq)
        for r in range(task * per, min(n_resamples, (task + 1) * per)):
            total = np.int64(0)
            wsum = 0.0
            for k in range(n):
                wk = weight(seed, r, idx[k])
                w[k] = wk
                total += wk
                wsum += wk * xs[k]
            if total == 0:
                out[r, :] = np.nan
                continue
            for q in range(nq):
                h = qs[q] / 100.0 * (total - 1)
                lo = np.int64(np.floor(h))
                targets[2 * q] = lo
                targets[2 * q + 1] = min(lo + 1, total - 1)
                frac[q] = h - lo
            t = 0
            cum = np.int64(0)
            for k in range(n):
                cum += w[k]
                while t < 2 * nq and targets[t] < cum:
                    vals[t] = xs[k]
                    t += 1
                if t == 2 * nq:
                    break
            for q in range(nq):
                a = vals[2 * q]
                b = vals[2 * q + 1]
                out[r, q] = a + frac[q] * (b - a)
            out[r, nq] = wsum / total
    return out


_latency_serial, _latency_parallel = serial_and_parallel(_latency_resamples_kernel)


def latency_summary(latencies_seconds, *, n_resamples=1000, confidence=0.95, seed=0) -> LatencySummary:
    """Median, 95th and 99th percentile and mean of latencies, with bootstrap intervals.

    Parameters
    ----------
    latencies_seconds : array of shape (n,)
        Finite, non-negative latencies (n >= 1), e.g. seconds per example.
    n_resamples : int, default 1000
    confidence : float, default 0.95
    seed : int, default 0

    Returns
    -------
    LatencySummary
        A mapping with ``n`` and ``p50``, ``p95``, ``p99``, ``mean``, each a :class:`CI`.
        The estimates equal ``np.percentile(latencies, q)`` (NumPy's default ``linear``
        method: the value at position ``q/100 * (n - 1)`` of the sorted latencies,
        interpolated) and ``np.mean``. The intervals are percentile intervals of the same
        statistics over Poisson-bootstrap resamples (weights shared with the other metrics'
        bootstrap for the same seed). With few latencies the p99 interval is wide and
        covers less than its nominal level (it cannot reach beyond the largest latency).

    Examples
    --------
    >>> import numpy as np
    >>> lat = np.random.default_rng(0).exponential(0.02, size=1000)
    >>> s = latency_summary(lat, n_resamples=200)
    >>> s["n"], bool(s.p95.low <= s.p95.estimate <= s.p95.high)
    (1000, True)
    >>> float(s.p50.estimate) == float(np.percentile(lat, 50))
    True
    >>> sorted(s.to_dict())
    ['confidence', 'mean', 'n', 'n_resamples', 'p50', 'p95', 'p99']
    """
    x = as_scores(latencies_seconds, "latencies_seconds", ndim=(1,)).astype(np.float64, copy=False)
    if x.size == 0:
        raise MetricInputError("latencies_seconds", "is empty; give at least one latency")
    negative = np.flatnonzero(x < 0)
    if negative.size:
        i = int(negative[0])
        raise MetricInputError(
            "latencies_seconds", f"latencies must be >= 0, got {float(x[i])!r} at index {i}"
        )
    n_resamples = as_int(n_resamples, "n_resamples", minimum=1)
    confidence = as_confidence(confidence)
    seed = as_seed(seed)
    order = np.argsort(x, kind="stable")
    xs = np.ascontiguousarray(x[order])
    qs = np.asarray(PERCENTILES)
    tasks = 1 if x.size * n_resamples < (1 << 20) else max(1, min(n_resamples, n_threads()))
    kernel = _latency_parallel if tasks > 1 else _latency_serial
    values = kernel(xs, order.astype(np.int32), qs, np.uint64(seed), n_resamples, tasks)
    alpha = 1.0 - confidence
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    estimates = list(np.percentile(x, qs)) + [np.mean(x)]
    cis = [
        CI(np.float64(e), np.float64(lo), np.float64(hi), n_resamples, confidence)
        for e, lo, hi in zip(estimates, low, high)
    ]
    return LatencySummary(int(x.size), *cis)
