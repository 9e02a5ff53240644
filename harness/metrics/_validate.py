"""Checking and normalising metric inputs: labels to uint8, scores to float32/float64.

Every check raises :class:`MetricInputError` naming the argument and the problem: a wrong
shape, labels that are not 0/1, a NaN or infinite score and where it is, an empty input.
"""

from __future__ import annotations

import operator

import numpy as np

from ._errors import MetricInputError
from ._jit import jit


@jit()
def _first_nonfinite(flat):
    """Index of the first NaN/inf in a 1-D float array, or -1."""
    for i in range(flat.size):
        v = flat[i]
        if not (v - v == 0.0):  # NaN - NaN and inf - inf are NaN
            return i
    return -1


@jit()
def _first_not_binary(flat):
    """Index of the first value of a 1-D uint8 array above 1, or -1."""
    for i in range(flat.size):
        if flat[i] > 1:
            return i
    return -1


def _where(shape: tuple[int, ...], flat_index: int) -> str:
    idx = np.unravel_index(flat_index, shape)
    return str(int(idx[0])) if len(idx) == 1 else str(tuple(int(i) for i in idx))


def as_labels(y, name: str = "y_true", ndim: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``y`` as a C-contiguous uint8 array of 0/1 (bool, integer or float 0/1 accepted)."""
    arr = np.asarray(y)
    if arr.ndim not in ndim:
        raise MetricInputError(name, f"must have {_dims(ndim)}, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr).view(np.uint8)
    if arr.dtype == np.uint8:
        out = np.ascontiguousarray(arr)
    elif arr.dtype.kind in "iuf":
        with np.errstate(invalid="ignore"):
            out = arr.astype(np.uint8)
        bad = np.flatnonzero((arr != out).ravel())
        if bad.size:
            i = int(bad[0])
            raise MetricInputError(
                name,
                f"labels must be 0 or 1, got {arr.ravel()[i].item()!r} at index {_where(arr.shape, i)}",
            )
    else:
        raise MetricInputError(name, f"labels must be 0/1 numbers or booleans, got dtype {arr.dtype}")
    i = int(_first_not_binary(out.ravel()))
    if i >= 0:
        raise MetricInputError(
            name, f"labels must be 0 or 1, got {int(out.ravel()[i])} at index {_where(out.shape, i)}"
        )
    return out


def as_scores(
    s, name: str = "y_score", ndim: tuple[int, ...] = (1, 2, 3), check_finite: bool = True
) -> np.ndarray:
    """``s`` as a C-contiguous float32 or float64 array (other numbers become float64).

    With ``check_finite`` a NaN or infinite value is an error that gives its index.
    """
    arr = np.asarray(s)
    if arr.ndim not in ndim:
        raise MetricInputError(name, f"must have {_dims(ndim)}, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise MetricInputError(name, f"scores must be real numbers, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    arr = np.ascontiguousarray(arr)
    if check_finite:
        raise_if_nonfinite(arr, name)
    return arr


def raise_if_nonfinite(arr: np.ndarray, name: str) -> None:
    """Raise if the float array ``arr`` holds a NaN or an infinity, saying where."""
    if arr.size == 0:
        return
    i = int(_first_nonfinite(arr.reshape(-1)))
    if i >= 0:
        v = arr.reshape(-1)[i]
        what = "NaN" if np.isnan(v) else f"{'-' if v < 0 else ''}inf"
        raise MetricInputError(
            name, f"scores must be finite, found {what} at index {_where(arr.shape, i)}"
        )


def block_shapes(y_true: np.ndarray, y_score: np.ndarray, score_name: str = "y_score"):
    """Check that labels and scores line up; return ``(k, n, c, lead)``.

    Accepted: labels (n,) with scores (n,); labels (n, c) with scores (n, c) or (k, n, c).
    ``lead`` is the shape the per-cell results take: ``()``, ``(c,)`` or ``(k, c)``.
    """
    if y_true.ndim == 1:
        if y_score.ndim != 1:
            raise MetricInputError(
                score_name,
                f"must have shape (n,) like y_true {y_true.shape}, got {y_score.shape}; "
                "pass y_true of shape (n, c) for several columns",
            )
        if y_score.shape[0] != y_true.shape[0]:
            raise MetricInputError(
                score_name, f"has {y_score.shape[0]} scores but y_true has {y_true.shape[0]} labels"
            )
        return 1, y_true.shape[0], 1, ()
    n, c = y_true.shape
    if y_score.ndim == 2:
        if y_score.shape != (n, c):
            raise MetricInputError(
                score_name, f"must have shape (n, c) = {(n, c)} like y_true, got {y_score.shape}"
            )
        return 1, n, c, (c,)
    if y_score.ndim == 3:
        if y_score.shape[1:] != (n, c):
            raise MetricInputError(
                score_name, f"must have shape (k, n, c) with (n, c) = {(n, c)}, got {y_score.shape}"
            )
        return y_score.shape[0], n, c, (y_score.shape[0], c)
    raise MetricInputError(
        score_name,
        f"must have shape (n, c) or (k, n, c) for y_true of shape {y_true.shape}, got {y_score.shape}",
    )


def as_thresholds(threshold, name: str = "threshold"):
    """``(thresholds as float64 1-D, is_vector)``; NaN is an error, ±inf is allowed."""
    arr = np.asarray(threshold, dtype=np.float64) if not isinstance(threshold, str) else None
    if arr is None or arr.ndim > 1:
        raise MetricInputError(name, "must be a number or a 1-D array of numbers")
    if np.isnan(arr).any():
        raise MetricInputError(name, "must not be NaN")
    if arr.ndim == 1 and arr.size == 0:
        raise MetricInputError(name, "is an empty array; give at least one threshold")
    return np.ascontiguousarray(arr.reshape(-1)), arr.ndim == 1


def as_int(value, name: str, *, minimum: int) -> int:
    """An integer option at least ``minimum``."""
    try:
        out = operator.index(value)
    except TypeError:
        raise MetricInputError(name, f"must be an integer, got {value!r}") from None
    if out < minimum:
        raise MetricInputError(name, f"must be at least {minimum}, got {out}")
    return int(out)


def as_confidence(value, name: str = "confidence") -> float:
    """A confidence level strictly between 0 and 1."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise MetricInputError(name, f"must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < out < 1.0:
        raise MetricInputError(name, f"must be in (0, 1), got {out}")
    return out


def as_seed(value, name: str = "seed") -> int:
    """A seed: any integer, reduced modulo 2**64."""
    try:
        out = operator.index(value)
    except TypeError:
        raise MetricInputError(name, f"must be an integer, got {value!r}") from None
    return int(out) % (1 << 64)


def _dims(ndim: tuple[int, ...]) -> str:
    names = {1: "1 dimension", 2: "2 dimensions", 3: "3 dimensions"}
    return " or ".join(names[d] for d in ndim)
