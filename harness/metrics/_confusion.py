"""Confusion counts and threshold metrics over a whole block of scores in one call.

A block is every (classifier, category) cell at once: labels ``(n, c)`` and scores
``(k, n, c)``. Each cell is streamed once; with a vector of thresholds one pass counts,
per cell, how many scores fall between consecutive thresholds and cumulative sums give the
counts at every threshold.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit, n_threads, serial_and_parallel
from ._results import Confusion, Scores, squeeze
from ._validate import as_labels, as_scores, as_thresholds, block_shapes, raise_if_nonfinite

_ROWS_PER_TASK = 1 << 16
_PARALLEL_FROM = 1 << 16  # scores; below, one thread (a parallel launch costs more)


def _block_counts_kernel(scores, labels, thresholds, n_tasks_per_k):
    """tp and predicted-positive counts per (k, c, threshold); thresholds ascending.

    Returns ``(tp, pred, n_nonfinite)``; ``tp``/``pred`` have shape (k, c, t).
    """
    k_count, n, c = scores.shape
    t = thresholds.size
    rows = (n + n_tasks_per_k - 1) // n_tasks_per_k
    n_tasks = k_count * n_tasks_per_k
    part_tp = np.zeros((n_tasks, c, t), np.int64)
    part_pred = np.zeros((n_tasks, c, t), np.int64)
    part_bad = np.zeros(n_tasks, np.int64)
    for task in prange(n_tasks):
        kk = task // n_tasks_per_k
        lo = (task % n_tasks_per_k) * rows
        hi = min(n, lo + rows)
        bad = 0
        if t == 1:
            th = thresholds[0]
            tp = np.zeros(c, np.int64)
            pred = np.zeros(c, np.int64)
            for i in range(lo, hi):
                for j in range(c):
                    s = scores[kk, i, j]
                    pp = np.int64(s >= th)
                    tp[j] += pp & np.int64(labels[i, j])
                    pred[j] += pp
                    bad += np.int64(not (s - s == 0.0))
            for j in range(c):
                part_tp[task, j, 0] = tp[j]
                part_pred[task, j, 0] = pred[j]
        else:
            # hist[j, b]: scores of column j with exactly b thresholds <= score
            hist = np.zeros((c, t + 1), np.int64)
            hpos = np.zeros((c, t + 1), np.int64)
            for i in range(lo, hi):
                for j in range(c):
                    s = scores[kk, i, j]
                    bad += np.int64(not (s - s == 0.0))
                    if t <= 16:  # count the thresholds below; binary search for more
                        b = 0
                        for q in range(t):
                            b += np.int64(s >= thresholds[q])
                    else:
                        b = np.searchsorted(thresholds, s, side="right")
                    hist[j, b] += 1
                    hpos[j, b] += labels[i, j]
            for j in range(c):
                acc = np.int64(0)
                accp = np.int64(0)
                for q in range(t - 1, -1, -1):  # predicted positive at q <=> b > q
                    acc += hist[j, q + 1]
                    accp += hpos[j, q + 1]
                    part_pred[task, j, q] = acc
                    part_tp[task, j, q] = accp
        part_bad[task] = bad
    tp = np.zeros((k_count, c, t), np.int64)
    pred = np.zeros((k_count, c, t), np.int64)
    for task in range(n_tasks):
        kk = task // n_tasks_per_k
        tp[kk] += part_tp[task]
        pred[kk] += part_pred[task]
    return tp, pred, part_bad.sum()


_block_counts_serial, _block_counts = serial_and_parallel(_block_counts_kernel)


@jit()
def _positives(labels):
    n, c = labels.shape
    pos = np.zeros(c, np.int64)
    for i in range(n):
        for j in range(c):
            pos[j] += labels[i, j]
    return pos


def _counts(y_true, y_score, threshold):
    """Validated counts as flat arrays of shape (k*c, [t]) plus the output shape."""
    labels = as_labels(y_true, "y_true")
    scores = as_scores(y_score, "y_score", check_finite=False)
    k, n, c, lead = block_shapes(labels, scores)
    thr, is_vector = as_thresholds(threshold)
    order = np.argsort(thr, kind="stable")
    sorted_thr = np.ascontiguousarray(thr[order])
    labels2 = labels.reshape(n, c)
    scores3 = scores.reshape(k, n, c)
    tasks = max(1, min(-(-n // _ROWS_PER_TASK), 4 * n_threads()))
    parallel = scores3.size >= _PARALLEL_FROM and k * tasks > 1 and n_threads() > 1
    kernel = _block_counts if parallel else _block_counts_serial
    tp, pred, n_bad = kernel(scores3, labels2, sorted_thr, tasks)
    if n_bad:
        raise_if_nonfinite(scores, "y_score")
    pos = _positives(labels2)  # (c,)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    tp = tp[:, :, inverse]
    pred = pred[:, :, inverse]
    pos = np.broadcast_to(pos[None, :, None], tp.shape)
    fp = pred - tp
    fn = pos - tp
    tn = n - pred - fn
    shape = (k * c,) + ((thr.size,) if is_vector else ())
    flat = [a.reshape(shape) for a in (tp, fp, fn, tn)]
    return flat, lead


def confusion_counts(y_true, y_score, *, threshold=0.5) -> Confusion:
    """Confusion counts of every (classifier, category) cell of a block at one or more thresholds.

    An example is predicted positive iff its score is ``>= threshold``.

    Parameters
    ----------
    y_true : array of shape (n,) or (n, c)
        0/1 labels (bool, integer or float 0/1; stored as uint8).
    y_score : array of shape (n,), (n, c) or (k, n, c)
        Finite scores of ``k`` classifiers for ``c`` categories; (n, c) labels go with
        (n, c) or (k, n, c) scores, (n,) labels with (n,) scores.
    threshold : float or array of shape (t,), default 0.5
        One threshold, or a vector of thresholds (any order; ±inf allowed, NaN not).

    Returns
    -------
    Confusion
        ``tp, fp, fn, tn`` as int64 arrays of shape ``()``, ``(c,)`` or ``(k, c)`` following
        the inputs, with a trailing ``(t,)`` axis when ``threshold`` is a vector. 1-D inputs
        with a scalar threshold give NumPy integer scalars. Empty inputs (n = 0) give zeros.

    Raises
    ------
    MetricInputError
        Shapes that do not line up, labels other than 0/1, NaN or infinite scores.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1, 0, 1, 0], dtype=np.uint8)
    >>> s = np.array([0.9, 0.8, 0.3, 0.1])
    >>> confusion_counts(y, s)
    Confusion(tp=np.int64(1), fp=np.int64(1), fn=np.int64(1), tn=np.int64(1))
    >>> confusion_counts(y, s, threshold=[0.2, 0.5]).tp
    array([2, 1])
    >>> confusion_counts(np.stack([y, 1 - y], axis=1), np.stack([s, s], axis=1)).tp
    array([1, 1])
    """
    flat, lead = _counts(y_true, y_score, threshold)
    return Confusion(*(squeeze(a, lead) for a in flat))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def scores_from_counts(tp, fp, fn, tn) -> tuple[np.ndarray, ...]:
    """precision, recall, F1, FPR from count arrays (0 where undefined, like sklearn)."""
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * np.asarray(tp), (tp + fn) + (tp + fp))
    fpr = _ratio(fp, fp + tn)
    return precision, recall, f1, fpr


def precision_recall_f1(y_true, y_score, *, threshold=0.5) -> Scores:
    """Precision, recall, F1 and false-positive rate of every cell of a block, with counts.

    Exactly ``sklearn.metrics.precision_recall_fscore_support(y_true, y_score >= threshold,
    average="binary", zero_division=0)`` per cell, computed in one pass over the block.
    ``F1 = 2 tp / (2 tp + fp + fn)``; a ratio whose denominator is 0 is 0 (so all-negative
    labels give recall 0, no predicted positives give precision 0, empty input gives 0s).

    Parameters
    ----------
    y_true : array of shape (n,) or (n, c)
        0/1 labels.
    y_score : array of shape (n,), (n, c) or (k, n, c)
        Finite scores.
    threshold : float or array of shape (t,), default 0.5
        Predicted positive iff score ``>= threshold``.

    Returns
    -------
    Scores
        ``precision, recall, f1, fpr`` (float64) and ``support`` (positives),
        ``n_negative``, ``tp, fp, fn, tn`` (int64), each shaped like
        :func:`confusion_counts`' output.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1, 1, 0, 0, 1], dtype=np.uint8)
    >>> s = np.array([0.9, 0.4, 0.6, 0.1, 0.7])
    >>> r = precision_recall_f1(y, s)
    >>> float(r.precision), float(r.recall), float(r.f1), float(r.fpr), int(r.support)
    (0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.5, 3)
    >>> precision_recall_f1(y[:, None], s[None, :, None].repeat(3, axis=0)).f1.shape
    (3, 1)
    """
    (tp, fp, fn, tn), lead = _counts(y_true, y_score, threshold)
    precision, recall, f1, fpr = scores_from_counts(tp, fp, fn, tn)
    return Scores(
        *(squeeze(a, lead) for a in (precision, recall, f1, fpr, tp + fn, fp + tn, tp, fp, fn, tn))
    )
