"""Bootstrap kernels: resamples as integer weights, 64 resamples per pass over the data.

A pass walks the data once and carries a group of 64 resamples side by side ("lanes"): for
each example it draws the 64 weights (16 hashes of 4 weights, :mod:`._rng`) and updates 64
sets of counters with the same instructions, which the compiler turns into SIMD. Groups
are spread over numba's threads. A resample's result depends only on the seed, its number
and the data, never on the thread that computed it.

With several columns (and a table that fits in cache) the weights of a group are computed
once into an (n, 64) byte table shared by the columns; otherwise each column hashes again
(reading a large table in each column's score order would miss the cache at every step).

Threshold metrics need four weighted counts per resample and column; the data are stored
once as one code per (example, column): ``2 * label + predicted``.

Ranking metrics sort each column once (:func:`prepare_ranking`) into one sequence from the
top score down, each element coded with its label, whether it ends its tie group, and
whether that group holds a positive. Walking it, a group's end adds
``G * tp / (tp + fp)`` to AP and ``G * (2 fp - N_g)`` to the tie-corrected ROC-AUC sum,
G and N_g being the weights of the group's positives and negatives -- scikit-learn's
threshold groups, weighted.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit, serial_and_parallel
from ._radix import split_sorted
from ._rng import GROUP, STREAMS, example_offset, group_keys, group_weights

LANES = GROUP  # resamples per pass (64: their one-byte weights of an example fill a cache line)
BUFFER_BYTES = 1 << 20
MAX_EXAMPLES = 1 << 28  # weighted counts (weights <= 7) are summed in int32


@jit()
def _fill_weights(keys, n, out):
    """``out[i, lane]``: the weight of example i in resample lane of the group (uint8)."""
    packed = np.empty(STREAMS, np.uint64)
    w = np.empty(LANES, np.int32)
    for i in range(n):
        group_weights(keys, example_offset(i), packed, w)
        for lane in range(LANES):
            out[i, lane] = w[lane]


@jit()
def _confusion_group(codes, keys, tp, pred, pos, total):
    """Weighted counts of a group's 64 resamples, added to tp/pred/pos (J, 64) and total (64,)."""
    n, n_cols = codes.shape
    w = np.zeros(LANES, np.int32)
    packed = np.empty(STREAMS, np.uint64)
    for i in range(n):
        group_weights(keys, example_offset(i), packed, w)
        for lane in range(LANES):
            total[lane] += w[lane]
        for j in range(n_cols):
            c = np.int32(codes[i, j])
            m_pred = -(c & 1)  # all ones or zero
            m_pos = -(c >> 1)
            m_tp = m_pred & m_pos
            for lane in range(LANES):
                pred[j, lane] += w[lane] & m_pred
                pos[j, lane] += w[lane] & m_pos
                tp[j, lane] += w[lane] & m_tp


def _confusion_resamples(codes, seed, n_resamples, n_tasks):
    """Weighted counts per resample and column from codes (n, J) = 2*label + predicted.

    Returns int64 arrays ``tp, pred, pos`` of shape (R, J) and ``total`` of shape (R,).
    Weighted counts are summed in int32 (weights are at most 7): n must stay below 2**28.
    """
    n, n_cols = codes.shape
    n_groups = (n_resamples + LANES - 1) // LANES
    tp = np.zeros((n_groups, n_cols, LANES), np.int32)
    pred = np.zeros((n_groups, n_cols, LANES), np.int32)
    pos = np.zeros((n_groups, n_cols, LANES), np.int32)
    total = np.zeros((n_groups, LANES), np.int32)
    per = (n_groups + n_tasks - 1) // n_tasks
    for task in prange(n_tasks):
        keys = np.empty(STREAMS, np.uint64)
        for g in range(task * per, min(n_groups, (task + 1) * per)):
            group_keys(seed, g, keys)
            _confusion_group(codes, keys, tp[g], pred[g], pos[g], total[g])
    out = []
    for arr in (tp, pred, pos):
        flat = np.ascontiguousarray(arr.transpose(0, 2, 1)).reshape(n_groups * LANES, n_cols)
        out.append(flat[:n_resamples].astype(np.int64))
    tp, pred, pos = out
    total = total.reshape(n_groups * LANES)[:n_resamples].astype(np.int64)
    return tp, pred, pos, total


_confusion_serial, _confusion_parallel = serial_and_parallel(_confusion_resamples)


@jit()
def _merge_order(pos, neg, pos_idx, neg_idx, idx_out, code_out):
    """Merge positives and negatives from the top score down; code = label | end<<1 | haspos<<2."""
    n_pos = pos.size - 1
    n_neg = neg.size - 1
    i = n_pos
    j = n_neg
    has_pos = 0
    for k in range(n_pos + n_neg):
        a = pos[i]
        b = neg[j]
        if a >= b:
            key = a
            idx_out[k] = pos_idx[i - 1]
            label = 1
            i -= 1
        else:
            key = b
            idx_out[k] = neg_idx[j - 1]
            label = 0
            j -= 1
        has_pos |= label
        end = 1 if max(pos[i], neg[j]) != key else 0
        code_out[k] = label | (end << 1) | ((end & has_pos) << 2)
        if end:
            has_pos = 0


def prepare_ranking(labels: list[np.ndarray], columns: list[np.ndarray]):
    """Sort each score column once: ``(idx, code, offsets)`` for :func:`ranking_resamples`.

    ``labels`` holds one uint8 label column per score column. Raises ``ValueError`` if a
    score is not finite (callers validate first).
    """
    n = columns[0].size if columns else 0
    idx = np.empty(n * len(columns), np.int32)
    code = np.empty(n * len(columns), np.uint8)
    offsets = np.arange(len(columns) + 1, dtype=np.int64) * n
    for c, (lab, col) in enumerate(zip(labels, columns)):
        pk, nk, pi, ni, n_bad = split_sorted(lab, col, with_idx=True)
        if n_bad:
            raise ValueError("non-finite score")
        _merge_order(pk, nk, pi, ni, idx[c * n : (c + 1) * n], code[c * n : (c + 1) * n])
    return idx, code, offsets


@jit()
def _ranking_group(idx, code, keys, wbuf, use_buffer, ap_out, auc_out):
    """AP and ROC-AUC of one column for the 64 resamples of a group."""
    n = idx.size
    st = np.zeros((5, LANES), np.int32)  # weight, tp, fp, group tp, group fp (one array: SIMD)
    fs = np.zeros((2, LANES))  # AP sum, ROC-AUC tie-corrected sum
    packed = np.empty(STREAMS, np.uint64)
    w = np.empty(LANES, np.int32)
    for k in range(n):
        c = code[k]
        if use_buffer:
            i = idx[k]
            for lane in range(LANES):
                st[0, lane] = wbuf[i, lane]
        else:
            group_weights(keys, example_offset(idx[k]), packed, w)
            for lane in range(LANES):
                st[0, lane] = w[lane]
        m_pos = -np.int32(c & 1)
        m_neg = ~m_pos
        for lane in range(LANES):
            wp = st[0, lane] & m_pos
            wn = st[0, lane] & m_neg
            st[1, lane] += wp
            st[2, lane] += wn
            st[3, lane] += wp
            st[4, lane] += wn
        if c & 2:  # the tie group ends here
            if c & 4:  # and holds a positive
                for lane in range(LANES):
                    t = np.float64(st[1, lane])
                    f = np.float64(st[2, lane])
                    g = np.float64(st[3, lane])
                    fs[0, lane] += g * (t / max(t + f, 1.0))
                    fs[1, lane] += g * (2.0 * f - st[4, lane])
            for lane in range(LANES):
                st[3, lane] = 0
                st[4, lane] = 0
    for lane in range(LANES):
        tp = st[1, lane]
        fp = st[2, lane]
        ap_out[lane] = fs[0, lane] / tp if tp > 0 else 0.0
        both = 2.0 * tp * fp
        auc_out[lane] = (both - fs[1, lane]) / both if both > 0 else np.nan


def _ranking_resamples(idx, code, offsets, n, seed, n_resamples, n_tasks):
    """AP and ROC-AUC per resample and column: arrays (R, J); NaN where AUC is undefined."""
    n_cols = offsets.size - 1
    n_groups = (n_resamples + LANES - 1) // LANES
    ap = np.empty((n_groups, n_cols, LANES))
    auc = np.empty((n_groups, n_cols, LANES))
    per = (n_groups + n_tasks - 1) // n_tasks
    # Several columns share one weight table, if it stays in cache; above that, reading it in
    # each column's score order misses the cache and hashing again is faster.
    use_buffer = n_cols > 1 and n * LANES <= BUFFER_BYTES
    for task in prange(n_tasks):
        keys = np.empty(STREAMS, np.uint64)
        wbuf = np.empty((n if use_buffer else 0, LANES), np.uint8)
        for g in range(task * per, min(n_groups, (task + 1) * per)):
            group_keys(seed, g, keys)
            if use_buffer:
                _fill_weights(keys, n, wbuf)
            for col in range(n_cols):
                lo = offsets[col]
                hi = offsets[col + 1]
                _ranking_group(idx[lo:hi], code[lo:hi], keys, wbuf, use_buffer, ap[g, col], auc[g, col])
    ap_r = np.ascontiguousarray(ap.transpose(0, 2, 1)).reshape(n_groups * LANES, n_cols)[:n_resamples]
    auc_r = np.ascontiguousarray(auc.transpose(0, 2, 1)).reshape(n_groups * LANES, n_cols)[:n_resamples]
    return ap_r, auc_r


_ranking_serial, _ranking_parallel = serial_and_parallel(_ranking_resamples)

#: below this many (example, column, resample) steps a bootstrap runs on one thread
PARALLEL_FROM = 1 << 22


def _tasks(work: int, n_resamples: int, n_threads: int) -> int:
    groups = -(-n_resamples // LANES)
    return 1 if work < PARALLEL_FROM else max(1, min(groups, n_threads))


def confusion_resamples(codes, seed, n_resamples, n_threads):
    """Weighted counts per resample and column from codes (n, J) = 2*label + predicted.

    Returns int64 arrays ``tp, pred, pos`` of shape (R, J) and ``total`` of shape (R,).
    """
    tasks = _tasks(codes.size * n_resamples, n_resamples, n_threads)
    kernel = _confusion_parallel if tasks > 1 else _confusion_serial
    return kernel(codes, np.uint64(seed), n_resamples, tasks)


def ranking_resamples(idx, code, offsets, n, seed, n_resamples, n_threads):
    """AP and ROC-AUC per resample and column: arrays (R, J); NaN where AUC is undefined."""
    tasks = _tasks(idx.size * n_resamples, n_resamples, n_threads)
    kernel = _ranking_parallel if tasks > 1 else _ranking_serial
    return kernel(idx, code, offsets, n, np.uint64(seed), n_resamples, tasks)
