"""Counter-based Poisson(1) resampling weights.

The weight of example ``i`` in resample ``r`` of a bootstrap seeded with ``seed`` is a pure
function of ``(seed, r, i)``. Resamples come in groups of 64 (:data:`GROUP`), computed side
by side by the kernels; resample ``r = 64 g + 16 f + q`` (q < 16, f < 4) reads field ``f``
of stream ``m = 16 g + q``:

    key_m = mix64(mix64(seed ^ C) + (m + 1) * G2)        one 64-bit key per stream
    z     = mix64(key_m + (i + 1) * G)                   splitmix64's output function
    u     = bits 16 f .. 16 f + 14 of z                  a uniform 15-bit integer
    w     = #{k : u >= round(2**15 * P(Poisson(1) <= k))}, k = 0..6

(mix64 is splitmix64's finaliser, G and G2 odd constants.) Along ``i`` a stream is the
splitmix64 sequence started at ``key_m``: independent draws; two streams are the same
sequence at offsets ~2**63 apart, so they do not overlap; the four 15-bit fields of one
output are independent bits of it. The weights are Poisson(1) to within 2**-15 per value,
capped at 7 (P(Poisson(1) > 7) = 1e-5). The four weights of one hash are computed at once
with SWAR arithmetic (:func:`packed_weights`), which halves the cost of a weight.

No weight array need be stored, resamples can run on any thread in any order, and every
metric, column and paired system sees the same resamples for the same seed: the weights are
keyed by the example's index in the input, not by its rank.

Note: kernels in other modules inline these helpers; numba's cache does not notice edits
here (clear ``__pycache__`` after changing this file).
"""

from __future__ import annotations

import numpy as np

from ._jit import inline, jit

#: Resamples computed side by side: 16 streams x 4 fields.
GROUP = 64
STREAMS = 16
FIELDS = 4

#: round(2**15 * P(Poisson(1) <= k)) for k = 0..6 (checked by the tests).
POISSON1_CDF15 = (12055, 24109, 30137, 32146, 32648, 32749, 32765)


@inline
def mix64(z):
    """splitmix64's finaliser (a bijection of uint64)."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@inline
def stream_key(seed, m):
    """The 64-bit key of weight stream ``m``."""
    base = mix64(np.uint64(seed) ^ np.uint64(0x5851F42D4C957F2D))
    return mix64(base + np.uint64(m + 1) * np.uint64(0xD1B54A32D192ED03))


@inline
def example_offset(i):
    """``(i + 1) * G``: the part of the counter that depends on the example."""
    return np.uint64(i + 1) * np.uint64(0x9E3779B97F4A7C15)


@inline
def packed_weights(key, offset):
    """Four Poisson(1) weights in the 16-bit fields of a uint64 (SWAR, branch-free).

    Each field's low 15 bits are compared with the thresholds at once: setting bit 15 of
    every field and subtracting the threshold in every field leaves bit 15 set exactly
    where the field is >= the threshold (no borrow crosses a field).
    """
    y = (mix64(key + offset) & np.uint64(0x7FFF7FFF7FFF7FFF)) | np.uint64(0x8000800080008000)
    h = np.uint64(0x8000800080008000)
    s = np.uint64(15)
    w = ((y - np.uint64(12055 * 0x0001000100010001)) & h) >> s
    w += ((y - np.uint64(24109 * 0x0001000100010001)) & h) >> s
    w += ((y - np.uint64(30137 * 0x0001000100010001)) & h) >> s
    w += ((y - np.uint64(32146 * 0x0001000100010001)) & h) >> s
    w += ((y - np.uint64(32648 * 0x0001000100010001)) & h) >> s
    w += ((y - np.uint64(32749 * 0x0001000100010001)) & h) >> s
    w += ((y - np.uint64(32765 * 0x0001000100010001)) & h) >> s
    return w


@inline
def group_keys(seed, g, keys):
    """The 16 stream keys of resample group ``g`` into ``keys``."""
    for q in range(STREAMS):
        keys[q] = stream_key(seed, g * STREAMS + q)


@inline
def group_weights(keys, offset, packed, out):
    """The weights of one example in the 64 resamples of a group: ``out[16 f + q]``."""
    for q in range(STREAMS):
        packed[q] = packed_weights(keys[q], offset)
    for f in range(FIELDS):
        shift = np.uint64(16 * f)
        for q in range(STREAMS):
            out[f * STREAMS + q] = np.int32((packed[q] >> shift) & np.uint64(0xFF))


@inline
def weight(seed, r, i):
    """The Poisson(1) weight of example ``i`` in resample ``r`` (one at a time)."""
    g = r // GROUP
    lane = r % GROUP
    key = stream_key(seed, g * STREAMS + lane % STREAMS)
    shift = np.uint64(16 * (lane // STREAMS))
    return np.int32((packed_weights(key, example_offset(i)) >> shift) & np.uint64(0xFF))


@jit()
def _weights(seed, r0, n_resamples, n):
    out = np.empty((n_resamples, n), np.int32)
    for r in range(n_resamples):
        for i in range(n):
            out[r, i] = weight(seed, r0 + r, i)
    return out


def resample_weights(seed: int, n_resamples: int, n: int, *, start: int = 0) -> np.ndarray:
    """The weights the bootstrap uses: int32 array (n_resamples, n) for resamples
    ``start .. start + n_resamples - 1``. For inspection and tests; kernels recompute them.

    Examples
    --------
    >>> w = resample_weights(0, 2, 5)
    >>> w.shape, w.dtype
    ((2, 5), dtype('int32'))
    >>> bool((resample_weights(0, 1, 5, start=1) == w[1:]).all())
    True
    """
    return _weights(np.uint64(seed % (1 << 64)), start, n_resamples, n)
