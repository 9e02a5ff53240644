"""Sorting scores fast: order-preserving integer keys and an LSD radix sort.

A float's bit pattern, with the sign bit flipped for positives and all bits flipped for
negatives, is an unsigned integer in the same order as the float (``-0.0`` is mapped to
``+0.0`` first, so equal floats have equal keys). Keys sort with a least-significant-digit
radix sort of bytes (4 passes for float32, 8 for float64; a pass whose byte is the same
for every key is skipped), stable, optionally carrying an int32 payload (the example
index). Every finite float has a key above 0, so 0 serves as a sentinel below all keys.
(Byte digits beat 11-bit digits here: the scatter into 256 buckets stays in cache.)

On this project's 2-core machine ``np.sort`` of 10**7 float64 takes ~0.7 s (float32
~0.4 s); the radix sort of the same keys ~0.17 s (float32 ~0.08 s).
"""

from __future__ import annotations

import numpy as np
from numba import prange, types
from numba.extending import overload

from ._jit import jit, n_threads

_SERIAL_BELOW = 1 << 17


def sort_key(x):  # pragma: no cover - replaced by the overload inside numba
    raise NotImplementedError


@overload(sort_key, inline="always")
def _sort_key_impl(x):
    if x == types.float32:

        def impl(x):
            b = np.float32(x + np.float32(0.0)).view(np.uint32)
            m = np.uint32(np.uint32(0) - (b >> np.uint32(31))) | np.uint32(0x80000000)
            return b ^ m

        return impl
    if x == types.float64:

        def impl(x):
            b = np.float64(x + 0.0).view(np.uint64)
            m = np.uint64(np.uint64(0) - (b >> np.uint64(63))) | np.uint64(0x8000000000000000)
            return b ^ m

        return impl
    return None


def key_dtype(score_dtype) -> np.dtype:
    """uint32 keys for float32 scores, uint64 for float64."""
    return np.dtype(np.uint32) if np.dtype(score_dtype) == np.float32 else np.dtype(np.uint64)


def keys_to_floats(keys: np.ndarray, score_dtype) -> np.ndarray:
    """Invert the key transform (vectorised NumPy)."""
    fdt = np.dtype(score_dtype)
    bits = keys.astype(keys.dtype, copy=True)
    top = keys.dtype.type(1) << keys.dtype.type(keys.dtype.itemsize * 8 - 1)
    neg = (keys & top) == 0
    bits[~neg] ^= top
    bits[neg] = ~bits[neg]
    return bits.view(fdt)


@jit()
def _lsd(keys, vals, tkeys, tvals, with_vals):
    """Stable LSD radix sort of ``keys`` (+ ``vals``); returns True if the result is in ``tkeys``.

    One read computes the histograms of every digit; a pass whose digit is the same for
    all keys is skipped (e.g. the low mantissa bits of float32 values stored as float64).
    """
    n = keys.size
    nb = 256
    mask = np.uint64(nb - 1)
    n_pass = keys.itemsize
    hist = np.zeros((n_pass, nb), np.int64)
    for i in range(n):
        k = np.uint64(keys[i])
        for p in range(n_pass):
            hist[p, (k >> np.uint64(8 * p)) & mask] += 1
    src_k, dst_k = keys, tkeys
    src_v, dst_v = vals, tvals
    swapped = False
    for p in range(n_pass):
        h = hist[p]
        trivial = False
        for b in range(nb):
            if h[b] != 0:
                trivial = h[b] == n
                break
        if trivial:
            continue
        offset = 0
        for b in range(nb):
            count = h[b]
            h[b] = offset
            offset += count
        sh = np.uint64(8 * p)
        if with_vals:
            for i in range(n):
                k = src_k[i]
                d = (np.uint64(k) >> sh) & mask
                j = h[d]
                dst_k[j] = k
                dst_v[j] = src_v[i]
                h[d] = j + 1
        else:
            for i in range(n):
                k = src_k[i]
                d = (np.uint64(k) >> sh) & mask
                j = h[d]
                dst_k[j] = k
                h[d] = j + 1
        src_k, dst_k = dst_k, src_k
        src_v, dst_v = dst_v, src_v
        swapped = not swapped
    return swapped


@jit()
def _sort_one(keys, vals, tkeys, tvals, with_vals):
    """Sort one array (stable); True if the result is in the scratch arrays."""
    if keys.size <= 512:
        order = np.argsort(keys, kind="mergesort")
        sk = keys[order]
        keys[:] = sk
        if with_vals:
            sv = vals[order]
            vals[:] = sv
        return False
    return _lsd(keys, vals, tkeys, tvals, with_vals)


@jit(parallel=True)
def _sort_two(k0, v0, t0, tv0, k1, v1, t1, tv1, with_vals):
    """Sort two independent arrays on two threads; which results are in the scratch arrays."""
    out = np.zeros(2, np.bool_)
    for task in prange(2):
        if task == 0:
            out[0] = _sort_one(k0, v0, t0, tv0, with_vals)
        else:
            out[1] = _sort_one(k1, v1, t1, tv1, with_vals)
    return out


@jit(parallel=True)
def _split_column(labels, scores, pos_keys, neg_keys, pos_idx, neg_idx, with_idx, n_chunks):
    """Write the sort keys of positives and of negatives, in example order.

    ``pos_keys``/``neg_keys`` have a slot at index 0 (the sentinel 0), the keys go to
    ``[1:count + 1]`` and one spare slot follows. With ``with_idx`` the example indices go
    to ``pos_idx``/``neg_idx`` (no sentinel, one spare slot). Returns the number of
    non-finite scores seen.
    """
    n = scores.size
    chunk = (n + n_chunks - 1) // n_chunks
    counts = np.zeros(n_chunks, np.int64)
    for t in prange(n_chunks):
        lo = t * chunk
        hi = min(n, lo + chunk)
        c = 0
        for i in range(lo, hi):
            c += labels[i]
        counts[t] = c
    pos_start = np.zeros(n_chunks, np.int64)
    neg_start = np.zeros(n_chunks, np.int64)
    for t in range(1, n_chunks):
        size = min(n, t * chunk) - min(n, (t - 1) * chunk)
        pos_start[t] = pos_start[t - 1] + counts[t - 1]
        neg_start[t] = neg_start[t - 1] + size - counts[t - 1]
    bad = np.zeros(n_chunks, np.int64)
    for t in prange(n_chunks):
        lo = t * chunk
        hi = min(n, lo + chunk)
        p = pos_start[t]
        q = neg_start[t]
        nbad = 0
        # Branch-free: write to both arrays, advance only the one the label says (the arrays
        # have a spare slot at the end for the write that is later overwritten or ignored).
        if with_idx:
            for i in range(lo, hi):
                s = scores[i]
                nbad += np.int64(not (s - s == 0.0))
                k = sort_key(s)
                y = np.int64(labels[i])
                pos_keys[p + 1] = k
                neg_keys[q + 1] = k
                pos_idx[p] = i
                neg_idx[q] = i
                p += y
                q += 1 - y
        else:
            for i in range(lo, hi):
                s = scores[i]
                nbad += np.int64(not (s - s == 0.0))
                k = sort_key(s)
                y = np.int64(labels[i])
                pos_keys[p + 1] = k
                neg_keys[q + 1] = k
                p += y
                q += 1 - y
        bad[t] = nbad
    # A chunk's spare write may have landed on the next chunk's first slot after that
    # chunk wrote it: rewrite each chunk's first positive and first negative.
    for t in range(1, n_chunks):
        lo = t * chunk
        hi = min(n, lo + chunk)
        need_pos = counts[t] > 0
        need_neg = counts[t] < hi - lo
        for i in range(lo, hi):
            if not (need_pos or need_neg):
                break
            if labels[i] and need_pos:
                pos_keys[pos_start[t] + 1] = sort_key(scores[i])
                if with_idx:
                    pos_idx[pos_start[t]] = i
                need_pos = False
            elif not labels[i] and need_neg:
                neg_keys[neg_start[t] + 1] = sort_key(scores[i])
                if with_idx:
                    neg_idx[neg_start[t]] = i
                need_neg = False
    return bad.sum()


@jit()
def _split_serial(labels, scores, pos_keys, neg_keys, pos_idx, neg_idx, with_idx):
    """:func:`_split_column` on one thread (no parallel launch for small inputs)."""
    p = 0
    q = 0
    nbad = 0
    for i in range(scores.size):
        s = scores[i]
        nbad += np.int64(not (s - s == 0.0))
        k = sort_key(s)
        y = np.int64(labels[i])
        pos_keys[p + 1] = k
        neg_keys[q + 1] = k
        if with_idx:
            pos_idx[p] = i
            neg_idx[q] = i
        p += y
        q += 1 - y
    return nbad


def split_sorted(labels: np.ndarray, scores: np.ndarray, *, with_idx: bool = False):
    """Sorted keys (ascending, sentinel 0 at index 0) of the positives and the negatives.

    ``labels`` uint8 and ``scores`` float32/float64, both 1-D and C-contiguous. Returns
    ``(pos_keys, neg_keys, pos_idx, neg_idx, n_nonfinite)``; the index arrays (int32
    example indices in key order, no sentinel) are ``None`` without ``with_idx``. When
    ``n_nonfinite`` > 0 the other results are ``None``.
    """
    n = scores.size
    n_pos = int(np.count_nonzero(labels))
    kdt = key_dtype(scores.dtype)
    sizes = (n_pos, n - n_pos)
    # keys: [sentinel 0, keys..., one spare slot]; indices: [indices..., one spare slot]
    keys = [np.empty(m + 2, kdt) for m in sizes]
    idx = [np.empty(m + 1 if with_idx else 0, np.int32) for m in sizes]
    if n < _SERIAL_BELOW:
        n_bad = int(_split_serial(labels, scores, keys[0], keys[1], idx[0], idx[1], with_idx))
    else:
        n_bad = int(_split_column(labels, scores, keys[0], keys[1], idx[0], idx[1], with_idx, n_threads()))
    if n_bad:
        return None, None, None, None, n_bad
    keys = [k[: m + 1] for k, m in zip(keys, sizes)]
    idx = [i[:m] if with_idx else i for i, m in zip(idx, sizes)]
    tkeys = [np.empty_like(k) for k in keys]
    tidx = [np.empty_like(i) for i in idx]
    for k in keys + tkeys:
        k[0] = 0
    if n >= _SERIAL_BELOW and n_threads() > 1:
        in_scratch = _sort_two(
            keys[0][1:], idx[0], tkeys[0][1:], tidx[0],
            keys[1][1:], idx[1], tkeys[1][1:], tidx[1],
            with_idx,
        )  # fmt: skip
    else:  # no parallel launch for small inputs
        in_scratch = [_sort_one(keys[s][1:], idx[s], tkeys[s][1:], tidx[s], with_idx) for s in (0, 1)]
    out_k = [tkeys[s] if in_scratch[s] else keys[s] for s in (0, 1)]
    out_i = [(tidx[s] if in_scratch[s] else idx[s]) if with_idx else None for s in (0, 1)]
    return out_k[0], out_k[1], out_i[0], out_i[1], 0
