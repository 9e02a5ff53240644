"""Bootstrap confidence intervals and paired bootstrap tests of metrics.

The bootstrap is the Poisson bootstrap: in each resample every example gets an independent
Poisson(1) weight (how many times it is drawn), from a counter-based generator keyed by
``(seed, resample, example index)`` (:mod:`._rng`). So a seed gives the same answer
whatever the thread count, every column of a batch and both systems of a paired test are
evaluated on the same resamples, and no resampled copy of the data is made. The interval is
the percentile interval of the resampled metric values.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._bootstrap_kernels import MAX_EXAMPLES, confusion_resamples, prepare_ranking, ranking_resamples
from ._confusion import precision_recall_f1, scores_from_counts
from ._errors import MetricInputError
from ._jit import n_threads
from ._ranking import ranking_metrics
from ._results import CI, PairedResult, squeeze
from ._validate import (
    as_confidence,
    as_int,
    as_labels,
    as_scores,
    as_seed,
    as_thresholds,
    block_shapes,
)

THRESHOLD_METRICS = ("precision", "recall", "f1", "fpr")
RANKING_METRICS = ("average_precision", "roc_auc")
METRICS = THRESHOLD_METRICS + RANKING_METRICS


def _check_metric(metric) -> str:
    if metric not in METRICS:
        raise MetricInputError("metric", f"must be one of {', '.join(METRICS)}; got {metric!r}")
    return metric


def _inputs(y_true, scores: dict[str, object], threshold, n_resamples, confidence, seed):
    labels = as_labels(y_true, "y_true")
    arrays = {}
    shape = None
    for name, s in scores.items():
        arr = as_scores(s, name)
        k, n, c, lead = block_shapes(labels, arr, name)
        if shape is not None and arr.shape != shape:
            raise MetricInputError(
                name, f"must have the same shape as the other scores {shape}, got {arr.shape}"
            )
        shape = arr.shape
        arrays[name] = arr.reshape(k, n, c)
    if n == 0:
        raise MetricInputError("y_true", "is empty; a bootstrap needs at least one example")
    if n > MAX_EXAMPLES:
        raise MetricInputError("y_true", f"has {n} examples; the bootstrap takes at most {MAX_EXAMPLES}")
    thr, is_vector = as_thresholds(threshold)
    if is_vector:
        raise MetricInputError("threshold", "must be a single number for a bootstrap")
    return (
        labels.reshape(n, c),
        arrays,
        (k, n, c, lead),
        float(thr[0]),
        as_int(n_resamples, "n_resamples", minimum=1),
        as_confidence(confidence),
        as_seed(seed),
    )


def _estimates(metrics: tuple[str, ...], labels, scores3, threshold) -> dict[str, np.ndarray]:
    """Each metric on the full data, flat (k*c,)."""
    out = {}
    if any(m in THRESHOLD_METRICS for m in metrics):
        prf = precision_recall_f1(labels, scores3, threshold=threshold)
        out.update({m: np.asarray(getattr(prf, m)).reshape(-1) for m in THRESHOLD_METRICS})
    if any(m in RANKING_METRICS for m in metrics):
        r = ranking_metrics(labels, scores3)
        out.update({m: np.asarray(getattr(r, m)).reshape(-1) for m in RANKING_METRICS})
    return {m: out[m] for m in metrics}


def _resampled(metrics: tuple[str, ...], labels, blocks: list[np.ndarray], threshold, n_resamples, seed):
    """Metric values of shape (R, J) per metric: the columns of every block, in order.

    The threshold metrics come from one pass over the data, the ranking metrics from another.
    """
    n, c = labels.shape
    out: dict[str, np.ndarray] = {}
    if any(m in THRESHOLD_METRICS for m in metrics):
        codes = np.concatenate(
            [
                ((s >= threshold).astype(np.uint8) + 2 * labels[None, :, :]).transpose(1, 0, 2).reshape(n, -1)
                for s in blocks
            ],
            axis=1,
        )
        counts = confusion_resamples(np.ascontiguousarray(codes), seed, n_resamples, n_threads())
        tp, pred, pos, total = counts
        fp = pred - tp
        fn = pos - tp
        tn = total[:, None] - pred - fn
        out.update(zip(THRESHOLD_METRICS, scores_from_counts(tp, fp, fn, tn)))
    if any(m in RANKING_METRICS for m in metrics):
        lab_cols, score_cols = [], []
        for s in blocks:
            for kk in range(s.shape[0]):
                for j in range(c):
                    lab_cols.append(np.ascontiguousarray(labels[:, j]))
                    score_cols.append(np.ascontiguousarray(s[kk, :, j]))
        idx, code, offsets = prepare_ranking(lab_cols, score_cols)
        ap, auc = ranking_resamples(idx, code, offsets, n, seed, n_resamples, n_threads())
        out.update(average_precision=ap, roc_auc=auc)
    return {m: out[m] for m in metrics}


def _interval(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - confidence
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        low, high = np.nanpercentile(values, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    return low, high


def bootstrap_ci(
    metric,
    y_true,
    y_score,
    *,
    n_resamples=1000,
    confidence=0.95,
    seed=0,
    threshold=0.5,
) -> CI:
    """Percentile bootstrap confidence interval of a metric.

    Parameters
    ----------
    metric : {"precision", "recall", "f1", "fpr", "average_precision", "roc_auc"}
        Threshold metrics use ``score >= threshold`` and ``zero_division=0``.
    y_true : array of shape (n,) or (n, c)
        0/1 labels (n >= 1).
    y_score : array of shape (n,), (n, c) or (k, n, c)
        Finite scores; each (classifier, category) column gets its own interval, all
        columns on the same resamples.
    n_resamples : int, default 1000
    confidence : float, default 0.95
        The interval is [q(a/2), q(1 - a/2)] of the resampled values, a = 1 - confidence
        (NumPy's linear percentiles).
    seed : int, default 0
        The same seed gives the same interval, whatever numba's thread count.
    threshold : float, default 0.5

    Returns
    -------
    CI
        ``estimate`` (the metric on the full data, exactly as :func:`precision_recall_f1`
        or :func:`average_precision` / :func:`roc_auc` give it), ``low``, ``high``:
        NumPy floats for 1-D input, else arrays of shape (c,) or (k, c);
        ``n_resamples`` and ``confidence``.

    Notes
    -----
    Each resample weights every example by an independent Poisson(1) count (the Poisson
    bootstrap, asymptotically the same as drawing n examples with replacement). A resample
    where the metric is undefined (ROC-AUC with one class) is left out of the percentiles;
    a column where it always is gets NaN. Average precision is biased upwards in small
    samples, so its interval covers less often than its nominal level.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(500) < 0.3).astype(np.uint8)
    >>> s = np.clip(0.3 * y + 0.7 * rng.random(500), 0, 1)
    >>> ci = bootstrap_ci("recall", y, s, n_resamples=200, seed=1)
    >>> bool(ci.low <= ci.estimate <= ci.high), ci.n_resamples
    (True, 200)
    >>> bootstrap_ci("average_precision", y[:, None], s[:, None], n_resamples=50).low.shape
    (1,)
    """
    metric = _check_metric(metric)
    return bootstrap_cis(
        [metric], y_true, y_score, n_resamples=n_resamples, confidence=confidence, seed=seed, threshold=threshold
    )[metric]


def bootstrap_cis(
    metrics,
    y_true,
    y_score,
    *,
    n_resamples=1000,
    confidence=0.95,
    seed=0,
    threshold=0.5,
) -> dict[str, CI]:
    """:func:`bootstrap_ci` of several metrics at once, sharing the passes over the data.

    The threshold metrics (precision, recall, F1, FPR) come from one pass over the resamples,
    the ranking metrics (average precision, ROC-AUC) from another; each interval equals what
    :func:`bootstrap_ci` gives for the same arguments (the same seed gives the same
    resamples).

    Parameters
    ----------
    metrics : sequence of str
        Names from ``METRICS``.
    y_true, y_score, n_resamples, confidence, seed, threshold
        As in :func:`bootstrap_ci`.

    Returns
    -------
    dict
        Metric name -> :class:`CI`, in the order given.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(300) < 0.4).astype(np.uint8)
    >>> s = np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1)
    >>> cis = bootstrap_cis(["precision", "recall", "average_precision"], y, s, n_resamples=100)
    >>> list(cis), cis["recall"] == bootstrap_ci("recall", y, s, n_resamples=100)
    (['precision', 'recall', 'average_precision'], True)
    """
    if isinstance(metrics, str):
        raise MetricInputError("metrics", f"must be a sequence of metric names, got the string {metrics!r}")
    names = tuple(dict.fromkeys(_check_metric(m) for m in metrics))
    if not names:
        raise MetricInputError("metrics", "is empty; name at least one metric")
    labels, arrays, (k, n, c, lead), thr, n_resamples, confidence, seed = _inputs(
        y_true, {"y_score": y_score}, threshold, n_resamples, confidence, seed
    )
    scores3 = arrays["y_score"]
    estimates = _estimates(names, labels, scores3, thr)
    values = _resampled(names, labels, [scores3], thr, n_resamples, seed)
    out = {}
    for m in names:
        low, high = _interval(values[m], confidence)
        out[m] = CI(squeeze(estimates[m], lead), squeeze(low, lead), squeeze(high, lead), n_resamples, confidence)
    return out


def paired_bootstrap(
    metric,
    y_true,
    score_a,
    score_b,
    *,
    n_resamples=1000,
    confidence=0.95,
    seed=0,
    threshold=0.5,
) -> PairedResult:
    """Paired bootstrap of the difference ``metric(a) - metric(b)`` on the same examples.

    Both systems are scored on the same resamples, so the interval and test account for
    the examples they share.

    Parameters
    ----------
    metric : {"precision", "recall", "f1", "fpr", "average_precision", "roc_auc"}
    y_true : array of shape (n,) or (n, c)
    score_a, score_b : arrays of the same shape: (n,), (n, c) or (k, n, c)
    n_resamples, confidence, seed, threshold
        As in :func:`bootstrap_ci`.

    Returns
    -------
    PairedResult
        ``diff`` on the full data, its percentile interval ``low``, ``high``, and the
        two-sided ``p_value`` for "no difference": with d* the resampled differences
        (undefined ones left out), ``p = min(1, 2 min(1 + #{d* <= 0}, 1 + #{d* >= 0}) /
        (1 + #d*))`` -- the smallest level at which the percentile interval excludes 0,
        never exactly 0. Shapes as in :func:`bootstrap_ci`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(2000) < 0.5).astype(np.uint8)
    >>> good = y + rng.normal(0, 0.5, 2000)
    >>> bad = y + rng.normal(0, 2.0, 2000)
    >>> r = paired_bootstrap("roc_auc", y, good, bad, n_resamples=200)
    >>> bool(r.diff > 0 and r.low > 0 and r.p_value < 0.05)
    True
    >>> float(paired_bootstrap("f1", y, good, good, n_resamples=50).p_value)
    1.0
    """
    metric = _check_metric(metric)
    labels, arrays, (k, n, c, lead), thr, n_resamples, confidence, seed = _inputs(
        y_true, {"score_a": score_a, "score_b": score_b}, threshold, n_resamples, confidence, seed
    )
    a, b = arrays["score_a"], arrays["score_b"]
    diff = _estimates((metric,), labels, a, thr)[metric] - _estimates((metric,), labels, b, thr)[metric]
    values = _resampled((metric,), labels, [a, b], thr, n_resamples, seed)[metric]
    cols = k * c
    d = values[:, :cols] - values[:, cols:]
    low, high = _interval(d, confidence)
    valid = ~np.isnan(d)
    n_valid = valid.sum(axis=0)
    below = ((d <= 0) & valid).sum(axis=0)
    above = ((d >= 0) & valid).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.minimum(1.0, 2.0 * np.minimum(1 + below, 1 + above) / (1 + n_valid))
    p = np.where(n_valid > 0, p, np.nan)
    d_, lo_, hi_, p_ = (squeeze(a, lead) for a in (diff, low, high, p))
    return PairedResult(d_, lo_, hi_, p_, n_resamples, confidence)
