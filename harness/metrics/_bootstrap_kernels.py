"""Bootstrap kernels: every resample evaluated as integer weights, resamples in parallel.

Threshold metrics need, per resample and column, four weighted counts; the data are stored
once as a code per (example, column): ``2 * label + predicted``.

Ranking metrics sort each column once (:func:`prepare_ranking`). Per resample the
negatives are walked from the top score down, accumulating their weights in blocks; each
positive records the weighted number of negatives scored at least as high (``fp_ge``) and
strictly higher (``fp_gt``). Then the positives are walked, accumulating ``tp``; a positive
that ends its tie group adds ``G * tp / (tp + fp_ge)`` to AP and ``G * (fp_ge + fp_gt)``
to the ROC-AUC tie-corrected sum, G being the weight of its group. No branch depends on the
data in the inner loops, so the cost is ~n per resample and column.

Resamples are split into contiguous ranges, one per task; a resample's result depends only
on the seed, its number and the data, never on the thread that computed it.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit
from ._radix import split_sorted
from ._rng import resample_key, weight

_BLOCK = 256


@jit(parallel=True)
def confusion_resamples(codes, seed, n_resamples, n_tasks):
    """Weighted counts per resample and column from codes (n, J) = 2*label + predicted.

    Returns int64 arrays ``tp, pred, pos`` of shape (R, J) and ``total`` of shape (R,).
    """
    n, n_cols = codes.shape
    tp = np.zeros((n_resamples, n_cols), np.int64)
    pred = np.zeros((n_resamples, n_cols), np.int64)
    pos = np.zeros((n_resamples, n_cols), np.int64)
    total = np.zeros(n_resamples, np.int64)
    per = (n_resamples + n_tasks - 1) // n_tasks
    for task in prange(n_tasks):
        wv = np.empty(_BLOCK, np.int32)
        a_tp = np.empty(n_cols, np.int64)
        a_pred = np.empty(n_cols, np.int64)
        a_pos = np.empty(n_cols, np.int64)
        for r in range(task * per, min(n_resamples, (task + 1) * per)):
            k1, k2 = resample_key(seed, r)
            a_tp[:] = 0
            a_pred[:] = 0
            a_pos[:] = 0
            tot = np.int64(0)
            for b0 in range(0, n, _BLOCK):
                m = min(_BLOCK, n - b0)
                for q in range(m):
                    wv[q] = weight(b0 + q, k1, k2)
                if n_cols == 1:
                    s_tp = np.int64(0)
                    s_pred = np.int64(0)
                    s_pos = np.int64(0)
                    for q in range(m):
                        w = np.int64(wv[q])
                        c = np.int64(codes[b0 + q, 0])
                        s_tp += w * (c == 3)
                        s_pred += w * (c & 1)
                        s_pos += w * (c >> 1)
                        tot += w
                    a_tp[0] += s_tp
                    a_pred[0] += s_pred
                    a_pos[0] += s_pos
                else:
                    for q in range(m):
                        w = np.int64(wv[q])
                        tot += w
                        if w == 0:
                            continue
                        for j in range(n_cols):
                            c = np.int64(codes[b0 + q, j])
                            a_tp[j] += w * (c == 3)
                            a_pred[j] += w * (c & 1)
                            a_pos[j] += w * (c >> 1)
            tp[r] = a_tp
            pred[r] = a_pred
            pos[r] = a_pos
            total[r] = tot
    return tp, pred, pos, total


def prepare_ranking(labels: np.ndarray, columns: list[np.ndarray]):
    """Sort each score column once; returns the flat arrays :func:`ranking_resamples` needs.

    ``labels`` is a list of uint8 label columns, one per score column (may repeat).
    Raises ``ValueError`` if a score is not finite (callers validate first).
    """
    pos_idx, neg_idx, nb, nbs, pend = [], [], [], [], []
    pos_off, neg_off, ties = [0], [0], []
    for lab, col in zip(labels, columns):
        pk, nk, pi, ni, n_bad = split_sorted(lab, col, with_idx=True)
        if n_bad:
            raise ValueError("non-finite score")
        g_nb, g_nbs, g_end = _rank_structure(pk, nk)
        pos_idx.append(pi[::-1])
        neg_idx.append(ni[::-1])
        nb.append(g_nb)
        nbs.append(g_nbs)
        pend.append(g_end)
        ties.append(bool((g_nb != g_nbs).any()))
        pos_off.append(pos_off[-1] + pi.size)
        neg_off.append(neg_off[-1] + ni.size)

    def cat(parts, dtype):
        return np.ascontiguousarray(np.concatenate(parts).astype(dtype, copy=False)) if parts else np.empty(0, dtype)

    return (
        cat(pos_idx, np.int32),
        np.asarray(pos_off, np.int64),
        cat(nb, np.int32),
        cat(nbs, np.int32),
        cat(pend, np.uint8),
        cat(neg_idx, np.int32),
        np.asarray(neg_off, np.int64),
        np.asarray(ties, np.bool_),
    )


@jit()
def _rank_structure(pos, neg):
    """For positives from the top score down: #negatives >= and > its score, group end flag."""
    n_pos = pos.size - 1
    n_neg = neg.size - 1
    nb = np.empty(n_pos, np.int32)
    nbs = np.empty(n_pos, np.int32)
    end = np.empty(n_pos, np.uint8)
    j = n_neg  # walks negatives downwards; n_neg - j negatives seen
    for p in range(n_pos):
        v = pos[n_pos - p]
        if p > 0 and v == pos[n_pos - p + 1]:  # same tie group as the previous positive
            nbs[p] = nbs[p - 1]
        else:
            while j > 0 and neg[j] > v:
                j -= 1
            nbs[p] = n_neg - j
        while j > 0 and neg[j] == v:
            j -= 1
        nb[p] = n_neg - j
        end[p] = 1 if pos[n_pos - p - 1] != v else 0
    return nb, nbs, end


@jit(parallel=True)
def ranking_resamples(pos_idx, pos_off, nb, nbs, pend, neg_idx, neg_off, ties, n, seed, n_resamples, n_tasks):
    """AP and ROC-AUC per resample and column; arrays of shape (R, J) (NaN: undefined AUC)."""
    n_cols = pos_off.size - 1
    ap = np.empty((n_resamples, n_cols))
    auc = np.empty((n_resamples, n_cols))
    max_pos = 0
    for j in range(n_cols):
        max_pos = max(max_pos, pos_off[j + 1] - pos_off[j])
    per = (n_resamples + n_tasks - 1) // n_tasks
    use_buffer = n_cols > 1
    for task in prange(n_tasks):
        wb = np.empty(n if use_buffer else 0, np.int32)
        fp_ge = np.empty(max_pos, np.int32)
        fp_gt = np.empty(max_pos, np.int32)
        wv = np.empty(_BLOCK, np.int32)
        cum = np.empty(_BLOCK + 1, np.int64)
        tcum = np.empty(_BLOCK, np.int64)
        gsum = np.empty(_BLOCK, np.int64)
        for r in range(task * per, min(n_resamples, (task + 1) * per)):
            k1, k2 = resample_key(seed, r)
            if use_buffer:
                for i in range(n):
                    wb[i] = weight(i, k1, k2)
            for col in range(n_cols):
                p0 = pos_off[col]
                n_pos = pos_off[col + 1] - p0
                q0 = neg_off[col]
                n_neg = neg_off[col + 1] - q0
                has_ties = ties[col]
                # negatives: cumulative weight at each positive's nb / nbs
                base = np.int64(0)
                p = 0
                q = 0
                for c0 in range(0, n_neg, _BLOCK):
                    m = min(_BLOCK, n_neg - c0)
                    if use_buffer:
                        for t in range(m):
                            wv[t] = wb[neg_idx[q0 + c0 + t]]
                    else:
                        for t in range(m):
                            wv[t] = weight(neg_idx[q0 + c0 + t], k1, k2)
                    cum[0] = base
                    for t in range(m):
                        cum[t + 1] = cum[t] + wv[t]
                    end = c0 + m
                    while p < n_pos and nb[p0 + p] <= end:
                        fp_ge[p] = cum[nb[p0 + p] - c0]
                        p += 1
                    if has_ties:
                        while q < n_pos and nbs[p0 + q] <= end:
                            fp_gt[q] = cum[nbs[p0 + q] - c0]
                            q += 1
                    base = cum[m]
                while p < n_pos:
                    fp_ge[p] = base
                    p += 1
                if has_ties:
                    while q < n_pos:
                        fp_gt[q] = base
                        q += 1
                # positives: tp, group sums, contributions
                tp = np.int64(0)
                g = np.int64(0)
                a0 = 0.0
                a1 = 0.0
                a2 = 0.0
                a3 = 0.0
                auc_sum = np.int64(0)
                for c0 in range(0, n_pos, _BLOCK):
                    m = min(_BLOCK, n_pos - c0)
                    if use_buffer:
                        for t in range(m):
                            wv[t] = wb[pos_idx[p0 + c0 + t]]
                    else:
                        for t in range(m):
                            wv[t] = weight(pos_idx[p0 + c0 + t], k1, k2)
                    for t in range(m):
                        w = np.int64(wv[t])
                        e = np.int64(pend[p0 + c0 + t])
                        tp += w
                        g += w
                        tcum[t] = tp
                        gsum[t] = g * e
                        g *= 1 - e
                    t = 0
                    while t + 4 <= m:
                        a0 += gsum[t] * (tcum[t] / max(tcum[t] + fp_ge[c0 + t], 1))
                        a1 += gsum[t + 1] * (tcum[t + 1] / max(tcum[t + 1] + fp_ge[c0 + t + 1], 1))
                        a2 += gsum[t + 2] * (tcum[t + 2] / max(tcum[t + 2] + fp_ge[c0 + t + 2], 1))
                        a3 += gsum[t + 3] * (tcum[t + 3] / max(tcum[t + 3] + fp_ge[c0 + t + 3], 1))
                        t += 4
                    while t < m:
                        a0 += gsum[t] * (tcum[t] / max(tcum[t] + fp_ge[c0 + t], 1))
                        t += 1
                    if has_ties:
                        for t in range(m):
                            auc_sum += gsum[t] * (np.int64(fp_ge[c0 + t]) + fp_gt[c0 + t])
                    else:
                        for t in range(m):
                            auc_sum += gsum[t] * (2 * np.int64(fp_ge[c0 + t]))
                fp = base
                ap[r, col] = ((a0 + a1) + (a2 + a3)) / tp if tp > 0 else 0.0
                if tp > 0 and fp > 0:
                    both = 2.0 * tp * fp
                    auc[r, col] = (both - auc_sum) / both
                else:
                    auc[r, col] = np.nan
    return ap, auc
