"""Counter-based Poisson(1) resampling weights.

The weight of example ``i`` in resample ``r`` of a bootstrap seeded with ``seed`` is a pure
function of ``(seed, r, i)``:

    key_r = mix64(mix64(seed ^ C) + (r + 1) * G2)          one 64-bit key per resample
    u     = mix64(key_r + (i + 1) * G) >> 32                splitmix64's output function
    w     = #{k : u >= round(2**32 * P(Poisson(1) <= k))}   k = 0..11

(mix64 is splitmix64's finaliser, G and G2 odd constants.) For one resample this is the
splitmix64 sequence started at ``key_r``, so the weights are independent draws; two
resamples are the same sequence at offsets ~2**63 apart, so they do not overlap. The
weights are Poisson(1) to within 2**-32 per value, capped at 12.

No weight array need be stored, resamples can run on any thread in any order, and every
metric, column and paired system sees the same resamples for the same seed: the weights are
keyed by the example's index in the input, not by its rank.

Note: kernels in other modules inline these helpers; numba's cache does not notice edits
here (clear ``__pycache__`` after changing this file).
"""

from __future__ import annotations

import numpy as np

from ._jit import inline, jit

#: round(2**32 * P(Poisson(1) <= k)) for k = 0..11 (checked by the tests).
POISSON1_CDF32 = (
    1580030169, 3160060337, 3950075422, 4213413783, 4279248374, 4292415292,
    4294609778, 4294923276, 4294962463, 4294966817, 4294967253, 4294967292,
)  # fmt: skip


@inline
def mix64(z):
    """splitmix64's finaliser (a bijection of uint64)."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


GOLDEN = 0x9E3779B97F4A7C15


@inline
def resample_key(seed, r):
    """The 64-bit key of resample ``r``."""
    base = mix64(np.uint64(seed) ^ np.uint64(0x5851F42D4C957F2D))
    return mix64(base + np.uint64(r + 1) * np.uint64(0xD1B54A32D192ED03))


@inline
def example_offset(i):
    """``(i + 1) * G``: the part of the counter that depends on the example."""
    return np.uint64(i + 1) * np.uint64(0x9E3779B97F4A7C15)


@inline
def weight_at(key, offset):
    """The weight for a resample key and an example offset (see :func:`example_offset`)."""
    return poisson1(np.uint32(mix64(key + offset) >> np.uint64(32)))


@inline
def poisson1(u):
    """A Poisson(1) count from a uniform uint32 (branch-free, vectorisable)."""
    w = np.int32(0)
    w += np.int32(u >= np.uint32(1580030169))
    w += np.int32(u >= np.uint32(3160060337))
    w += np.int32(u >= np.uint32(3950075422))
    w += np.int32(u >= np.uint32(4213413783))
    w += np.int32(u >= np.uint32(4279248374))
    w += np.int32(u >= np.uint32(4292415292))
    w += np.int32(u >= np.uint32(4294609778))
    w += np.int32(u >= np.uint32(4294923276))
    w += np.int32(u >= np.uint32(4294962463))
    w += np.int32(u >= np.uint32(4294966817))
    w += np.int32(u >= np.uint32(4294967253))
    w += np.int32(u >= np.uint32(4294967292))
    return w


@inline
def weight(i, key):
    """The Poisson(1) weight of example ``i`` in the resample with key ``key``."""
    return weight_at(key, example_offset(i))


@jit()
def _weights(seed, r0, n_resamples, n):
    out = np.empty((n_resamples, n), np.int32)
    for r in range(n_resamples):
        key = resample_key(seed, r0 + r)
        for i in range(n):
            out[r, i] = weight(i, key)
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
