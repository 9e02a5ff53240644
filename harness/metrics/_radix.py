"""Sorting scores fast: order-preserving integer keys and an LSD radix sort.

A float's bit pattern, with the sign bit flipped for positives and all bits flipped for
negatives, is an unsigned integer in the same order as the float (``-0.0`` is mapped to
``+0.0`` first, so equal floats have equal keys). Keys sort with a least-significant-digit
radix sort of 11-bit digits (3 passes for float32, 6 for float64), stable, optionally
carrying an int32 payload (the example index), split over numba's threads. Every finite
float has a key above 0, so 0 serves as a sentinel below all keys.

On this project's 2-core machine ``np.sort`` of 10**7 float64 takes ~0.7 s; the radix sort
of the same keys ~0.15 s (float32: ~0.06 s).
"""

from __future__ import annotations

import numpy as np
from numba import prange, types
from numba.extending import overload

from ._jit import jit, n_threads

_BITS = 11
_SERIAL_BELOW = 1 << 17
_SMALL = 512


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
def _small_sort(keys, vals, with_vals):
    order = np.argsort(keys, kind="mergesort")
    sk = keys[order]
    keys[:] = sk
    if with_vals:
        sv = vals[order]
        vals[:] = sv


@jit(parallel=True)
def _lsd(keys, vals, tkeys, tvals, with_vals, n_chunks):
    """Stable LSD radix sort of ``keys`` (+ ``vals``); returns True if the result is in ``tkeys``."""
    n = keys.size
    nb = 1 << 11
    mask = np.uint64(nb - 1)
    nbits = keys.itemsize * 8
    n_pass = (nbits + 10) // 11
    chunk = (n + n_chunks - 1) // n_chunks
    hist = np.zeros((n_chunks, nb), np.int64)
    src_k, dst_k = keys, tkeys
    src_v, dst_v = vals, tvals
    swapped = False
    for p in range(n_pass):
        sh = np.uint64(p * 11)
        hist[:, :] = 0
        for t in prange(n_chunks):
            lo = t * chunk
            hi = min(n, lo + chunk)
            for i in range(lo, hi):
                hist[t, (np.uint64(src_k[i]) >> sh) & mask] += 1
        trivial = False
        for b in range(nb):
            total = 0
            for t in range(n_chunks):
                total += hist[t, b]
            if total != 0:
                trivial = total == n
                break
        if trivial:
            continue
        offset = 0
        for b in range(nb):
            for t in range(n_chunks):
                count = hist[t, b]
                hist[t, b] = offset
                offset += count
        for t in prange(n_chunks):
            lo = t * chunk
            hi = min(n, lo + chunk)
            h = hist[t]
            if with_vals:
                for i in range(lo, hi):
                    k = src_k[i]
                    d = (np.uint64(k) >> sh) & mask
                    j = h[d]
                    dst_k[j] = k
                    dst_v[j] = src_v[i]
                    h[d] = j + 1
            else:
                for i in range(lo, hi):
                    k = src_k[i]
                    d = (np.uint64(k) >> sh) & mask
                    j = h[d]
                    dst_k[j] = k
                    h[d] = j + 1
        src_k, dst_k = dst_k, src_k
        src_v, dst_v = dst_v, src_v
        swapped = not swapped
    return swapped


def radix_sort(keys: np.ndarray, vals: np.ndarray | None = None, *, tkeys=None, tvals=None):
    """Sort ``keys`` ascending (stable), permuting ``vals`` alike; returns ``(keys, vals)``.

    The inputs are overwritten; the results are either the inputs or ``tkeys``/``tvals``
    (scratch arrays of the same shape, allocated when not given).
    """
    with_vals = vals is not None
    v = vals if with_vals else np.empty(0, np.int32)
    n = keys.size
    if n <= _SMALL:
        _small_sort(keys, v, with_vals)
        return keys, vals
    tk = np.empty_like(keys) if tkeys is None else tkeys
    tv = (np.empty_like(v) if tvals is None else tvals) if with_vals else np.empty(0, np.int32)
    chunks = 1 if n < _SERIAL_BELOW else n_threads()
    swapped = _lsd(keys, v, tk, tv, with_vals, chunks)
    if swapped:
        return tk, (tv if with_vals else None)
    return keys, vals


@jit(parallel=True)
def _split_column(labels, scores, pos_keys, neg_keys, pos_idx, neg_idx, with_idx, n_chunks):
    """Write the sort keys of positives and of negatives, in example order.

    ``pos_keys``/``neg_keys`` have one extra slot at index 0 (the sentinel 0); keys go to
    ``[1:]``. With ``with_idx`` the example indices go to ``pos_idx``/``neg_idx`` (no
    sentinel). Returns the number of non-finite scores seen.
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
        for i in range(lo, hi):
            s = scores[i]
            nbad += np.int64(not (s - s == 0.0))
            k = sort_key(s)
            if labels[i]:
                p += 1
                pos_keys[p] = k
                if with_idx:
                    pos_idx[p - 1] = i
            else:
                q += 1
                neg_keys[q] = k
                if with_idx:
                    neg_idx[q - 1] = i
        bad[t] = nbad
    return bad.sum()


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
    out = []
    bufs = []
    for size in (n_pos, n - n_pos):
        a = np.empty(size + 1, kdt)
        a[0] = 0
        ia = np.empty(size if with_idx else 0, np.int32)
        bufs.append((a, ia))
    (pa, pia), (na, nia) = bufs
    chunks = 1 if n < _SERIAL_BELOW else n_threads()
    n_bad = int(_split_column(labels, scores, pa, na, pia, nia, with_idx, chunks))
    if n_bad:
        return None, None, None, None, n_bad
    for a, ia in bufs:
        b = np.empty_like(a)
        b[0] = 0
        ib = np.empty_like(ia) if with_idx else None
        sk, si = radix_sort(a[1:], ia if with_idx else None, tkeys=b[1:], tvals=ib)
        out.append((a if sk.base is a or sk is a else b, si))
    (pk, pi), (nk, ni) = out
    return pk, nk, pi, ni, 0
