"""The result types of :mod:`harness.metrics`.

Fields are NumPy arrays whose shape follows the inputs (see each function), or NumPy
scalars when the inputs were 1-D.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np


class Confusion(NamedTuple):
    """Confusion counts (int64): true/false positives, false/true negatives."""

    tp: Any
    fp: Any
    fn: Any
    tn: Any


class Scores(NamedTuple):
    """Threshold metrics with their counts.

    ``support`` is the number of positives (tp + fn), ``n_negative`` of negatives (fp + tn).
    Undefined ratios are 0 (scikit-learn's ``zero_division=0``).
    """

    precision: Any
    recall: Any
    f1: Any
    fpr: Any
    support: Any
    n_negative: Any
    tp: Any
    fp: Any
    fn: Any
    tn: Any


class RankingMetrics(NamedTuple):
    """Average precision and ROC-AUC of the same scores."""

    average_precision: Any
    roc_auc: Any


class CI(NamedTuple):
    """A metric on the full data and its bootstrap percentile interval [low, high]."""

    estimate: Any
    low: Any
    high: Any
    n_resamples: int
    confidence: float


class PairedResult(NamedTuple):
    """``diff = metric(a) - metric(b)`` on the full data, its interval and two-sided p-value."""

    diff: Any
    low: Any
    high: Any
    p_value: Any
    n_resamples: int
    confidence: float


class LatencySummary(Mapping):
    """Latency percentiles and mean, each a :class:`CI`, and the number of latencies ``n``.

    Both ``summary.p95.high`` and ``summary["p95"].high`` work; :meth:`to_dict` gives plain
    floats for JSON.
    """

    _keys = ("n", "p50", "p95", "p99", "mean")

    def __init__(self, n: int, p50: CI, p95: CI, p99: CI, mean: CI):
        self.n, self.p50, self.p95, self.p99, self.mean = n, p50, p95, p99, mean

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        parts = [f"n={self.n}"]
        for key in self._keys[1:]:
            ci = self[key]
            parts.append(f"{key}={ci.estimate:.6g} [{ci.low:.6g}, {ci.high:.6g}]")
        return "LatencySummary(" + ", ".join(parts) + ")"

    def to_dict(self) -> dict:
        """``{"n": int, "p50": {"estimate", "low", "high"}, ...}`` with plain floats."""
        out: dict = {"n": int(self.n)}
        for key in self._keys[1:]:
            ci = self[key]
            out[key] = {"estimate": float(ci.estimate), "low": float(ci.low), "high": float(ci.high)}
        out["n_resamples"] = int(self.p50.n_resamples)
        out["confidence"] = float(self.p50.confidence)
        return out


def squeeze(arr: np.ndarray, lead: tuple[int, ...]):
    """Reshape a flat per-cell array to ``lead`` (+ trailing dims); 0-d becomes a NumPy scalar."""
    out = arr.reshape(lead + arr.shape[1:])
    return out[()] if out.ndim == 0 else out
