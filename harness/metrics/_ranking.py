"""Average precision, ROC-AUC and the precision-recall curve, equal to scikit-learn's.

The scores of the positives and of the negatives are sorted separately (radix sort of
order-preserving keys, see :mod:`._radix`), then one merge-like pass walks both from the top
score down. A threshold group closes only when the score changes, so tied scores form one
step of the curve, exactly as in ``sklearn.metrics.precision_recall_curve``:

    AP      = sum over groups g of (tp_g - tp_{g-1}) / P * tp_g / (tp_g + fp_g)
    ROC-AUC = P(score of a positive > score of a negative) + 1/2 P(tie)

(AP is the step-function sum, not interpolated.) ROC-AUC is computed from integer counts,
so it is exact; AP is summed in blocks to keep the rounding error near 1e-15.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._errors import MetricInputError
from ._jit import jit
from ._radix import keys_to_floats, split_sorted
from ._results import RankingMetrics, squeeze
from ._validate import as_labels, as_scores, block_shapes, raise_if_nonfinite

_SEGMENTS = 8  # fixed, so that sums are added in the same order whatever the threads
_PARALLEL_FROM = 1 << 17


@jit()
def _ap_auc_segment(pos, neg, i_lo, i_hi, j_lo, j_hi):
    """Walk positives ``pos[i_lo:i_hi]`` and negatives ``neg[j_lo:j_hi]`` (ascending keys,
    every key of the segment above every key below it) from the top down.

    Returns the segment's AP sum (sum over threshold groups with positives of
    group_tp * tp / (tp + fp)) and its ROC-AUC tie-corrected sum
    (sum of group_tp * (fp_ge + fp_gt)), counting tp and fp from the very top.
    The loop goes from positive group to positive group; the one branch that is hard to
    predict (the end of a run of negatives) is taken once per positive group.
    """
    n_pos = pos.size - 1
    n_neg = neg.size - 1
    i = i_hi - 1
    j = j_hi - 1
    tp = n_pos - i  # positives above the segment
    n_neg - j
    auc_sum = np.int64(0)
    block = 0.0
    total = 0.0
    comp = 0.0
    since_flush = 0
    while i >= i_lo:
        v = pos[i]
        while j >= j_lo and neg[j] > v:
            j -= 1
        fp_gt = n_neg - j
        while j >= j_lo and neg[j] == v:
            j -= 1
        fp_ge = n_neg - j
        i0 = i
        i -= 1
        while i >= i_lo and pos[i] == v:
            i -= 1
        gp = i0 - i
        tp += gp
        block += gp * (tp / (tp + fp_ge))
        auc_sum += gp * (fp_ge + fp_gt)
        since_flush += 1
        if since_flush == 1024:  # Kahan-sum blocks of 1024 groups
            y = block - comp
            t = total + y
            comp = (t - total) - y
            total = t
            block = 0.0
            since_flush = 0
    return total + (block - comp), auc_sum


@jit()
def _ap_auc_serial(pos, neg):
    """:func:`_ap_auc_sorted` in one segment on one thread (for small inputs)."""
    n_pos = pos.size - 1
    n_neg = neg.size - 1
    if n_pos == 0:
        return 0.0, np.nan
    if n_neg == 0:
        return 1.0, np.nan
    ap, auc_sum = _ap_auc_segment(pos, neg, 1, n_pos + 1, 1, n_neg + 1)
    both = 2.0 * n_pos * n_neg
    return ap / n_pos, (both - auc_sum) / both


@jit(parallel=True)
def _ap_auc_sorted(pos, neg, n_segments):
    """AP and ROC-AUC from ascending keys with a sentinel 0 at index 0 of each array.

    The merged order is cut into ``n_segments`` score ranges walked in parallel; their
    sums are added in a fixed order, so the result does not depend on the thread count.
    """
    n_pos = pos.size - 1
    n_neg = neg.size - 1
    if n_pos == 0:
        return 0.0, np.nan
    if n_neg == 0:
        return 1.0, np.nan
    n_seg = max(1, min(n_segments, n_pos))
    i_b = np.empty(n_seg + 1, np.int64)
    j_b = np.empty(n_seg + 1, np.int64)
    i_b[0] = 1
    j_b[0] = 1
    i_b[n_seg] = n_pos + 1
    j_b[n_seg] = n_neg + 1
    for q in range(1, n_seg):
        v = pos[1 + (q * n_pos) // n_seg]
        i_b[q] = 1 + np.searchsorted(pos[1:], v)
        j_b[q] = 1 + np.searchsorted(neg[1:], v)
    ap_part = np.zeros(n_seg)
    auc_part = np.zeros(n_seg, np.int64)
    for q in prange(n_seg):
        ap_part[q], auc_part[q] = _ap_auc_segment(pos, neg, i_b[q], i_b[q + 1], j_b[q], j_b[q + 1])
    ap = 0.0
    auc_sum = np.int64(0)
    for q in range(n_seg - 1, -1, -1):
        ap += ap_part[q]
        auc_sum += auc_part[q]
    both = 2.0 * n_pos * n_neg
    return ap / n_pos, (both - auc_sum) / both


@jit()
def _curve_sorted(pos, neg):
    """Per threshold group, from the top score down: (tps, fps, key)."""
    n_pos = pos.size - 1
    n_neg = neg.size - 1
    size = n_pos + n_neg
    tps = np.empty(size, np.float64)
    fps = np.empty(size, np.float64)
    keys = np.empty(size, pos.dtype)
    i = n_pos
    j = n_neg
    tp = 0
    fp = 0
    g = 0
    for _ in range(size):
        a = pos[i]
        b = neg[j]
        if a >= b:
            key = a
            i -= 1
            tp += 1
        else:
            key = b
            j -= 1
            fp += 1
        if max(pos[i], neg[j]) != key:
            tps[g] = tp
            fps[g] = fp
            keys[g] = key
            g += 1
    return tps[:g], fps[:g], keys[:g]


def _column_ap_auc(labels: np.ndarray, scores: np.ndarray, name: str) -> tuple[float, float]:
    if scores.size == 0:
        return np.nan, np.nan
    pos, neg, _, _, n_bad = split_sorted(labels, scores)
    if n_bad:
        raise_if_nonfinite(scores, name)
    if scores.size >= _PARALLEL_FROM:
        return _ap_auc_sorted(pos, neg, _SEGMENTS)
    return _ap_auc_serial(pos, neg)


def _ranking_block(y_true, y_score):
    labels = as_labels(y_true, "y_true")
    scores = as_scores(y_score, "y_score", check_finite=False)
    k, n, c, lead = block_shapes(labels, scores)
    labels2 = labels.reshape(n, c)
    scores3 = scores.reshape(k, n, c)
    ap = np.empty(k * c)
    auc = np.empty(k * c)
    for kk in range(k):
        for j in range(c):
            lab = labels2[:, j] if c == 1 else np.ascontiguousarray(labels2[:, j])
            col = scores3[kk, :, j] if c == 1 else np.ascontiguousarray(scores3[kk, :, j])
            try:
                ap[kk * c + j], auc[kk * c + j] = _column_ap_auc(lab, col, "y_score")
            except MetricInputError:
                raise_if_nonfinite(scores, "y_score")  # report the index in the full array
                raise
    return squeeze(ap, lead), squeeze(auc, lead)


def ranking_metrics(y_true, y_score) -> RankingMetrics:
    """Average precision and ROC-AUC in one pass (one sort of the scores).

    Same inputs, shapes and degenerate-case results as :func:`average_precision` and
    :func:`roc_auc`; cheaper than calling both.

    Examples
    --------
    >>> import numpy as np
    >>> r = ranking_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> float(r.average_precision), float(r.roc_auc)
    (0.8333333333333333, 0.75)
    """
    ap, auc = _ranking_block(y_true, y_score)
    return RankingMetrics(ap, auc)


def average_precision(y_true, y_score):
    """Average precision: the area under the precision-recall step function.

    ``AP = sum_g (R_g - R_{g-1}) P_g`` over the distinct scores g from the top down, equal to
    ``sklearn.metrics.average_precision_score`` (within 1e-12, ties included).

    Parameters
    ----------
    y_true : array of shape (n,) or (n, c)
        0/1 labels.
    y_score : array of shape (n,), (n, c) or (k, n, c)
        Finite scores (float32 scores are ranked as float32).

    Returns
    -------
    float or ndarray
        A NumPy float for 1-D input, else an array of shape (c,) or (k, c), one value per
        column. Degenerate columns, as in scikit-learn 1.9: no positives gives 0.0, only
        positives gives 1.0; an empty input (n = 0) gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> float(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]))
    0.8333333333333333
    >>> average_precision(np.array([[0, 1], [1, 1], [1, 0]]), np.array([[0.2, 0.5], [0.9, 0.5], [0.4, 0.1]]))
    array([1., 1.])
    """
    return _ranking_block(y_true, y_score)[0]


def roc_auc(y_true, y_score):
    """Area under the ROC curve: P(positive outranks negative), ties counting one half.

    Equal to ``sklearn.metrics.roc_auc_score`` (within 1e-12, ties included); computed
    exactly from integer counts.

    Parameters
    ----------
    y_true : array of shape (n,) or (n, c)
        0/1 labels.
    y_score : array of shape (n,), (n, c) or (k, n, c)
        Finite scores.

    Returns
    -------
    float or ndarray
        A NumPy float for 1-D input, else one value per column. A column with only one
        class (or no examples) gives NaN, as scikit-learn 1.9 does (it also warns; this
        does not).

    Examples
    --------
    >>> float(roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]))
    0.75
    >>> float(roc_auc([1, 1], [0.2, 0.3]))
    nan
    """
    return _ranking_block(y_true, y_score)[1]


def precision_recall_curve(y_true, y_score):
    """Precision and recall at every distinct score, equal to scikit-learn's.

    Same output as ``sklearn.metrics.precision_recall_curve(y_true, y_score)`` (with its
    default ``drop_intermediate=False``): ``thresholds`` are the distinct scores ascending;
    ``precision``/``recall`` have one more entry, the last being 1 and 0. With no positive
    label, recall is 1 at every threshold (scikit-learn also warns).

    Parameters
    ----------
    y_true : array of shape (n,)
        0/1 labels.
    y_score : array of shape (n,)
        Finite scores; ``thresholds`` keep their dtype (float32 or float64).

    Returns
    -------
    precision, recall : ndarray of shape (m + 1,)
    thresholds : ndarray of shape (m,)

    Raises
    ------
    MetricInputError
        Empty input, mismatched lengths, labels other than 0/1, NaN or infinite scores.

    Examples
    --------
    >>> p, r, t = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p
    array([0.5       , 0.66666667, 0.5       , 1.        , 1.        ])
    >>> r
    array([1. , 1. , 0.5, 0.5, 0. ])
    >>> t
    array([0.1 , 0.35, 0.4 , 0.8 ])
    """
    labels = as_labels(y_true, "y_true", ndim=(1,))
    scores = as_scores(y_score, "y_score", ndim=(1,), check_finite=False)
    block_shapes(labels, scores)
    if scores.size == 0:
        raise MetricInputError("y_true", "is empty; a curve needs at least one example")
    pos, neg, _, _, n_bad = split_sorted(labels, scores)
    if n_bad:
        raise_if_nonfinite(scores, "y_score")
    tps, fps, keys = _curve_sorted(pos, neg)
    precision = tps / (tps + fps)
    recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    thresholds = keys_to_floats(keys, scores.dtype)
    return (
        np.concatenate([precision[::-1], [1.0]]),
        np.concatenate([recall[::-1], [0.0]]),
        thresholds[::-1].copy(),
    )
