"""Scoring kernels: exact metrics, bootstrap intervals, paired tests, latency statistics.

NumPy in, NumPy out; options are keyword-only; inputs are validated and bad input raises
:class:`MetricInputError` (a ``ValueError``; the CLI reports it with exit code 2)
naming the argument and the problem. The kernels are numba functions compiled with
``cache=True`` (``NUMBA_CACHE_DIR`` is honoured; without a writable cache they compile in
memory), parallel over numba's threads (``NUMBA_NUM_THREADS``), with results that do not
depend on the thread count.

Shapes: labels ``y_true`` are (n,) or (n, c) of 0/1; scores are (n,), (n, c) or
(k, n, c) -- k classifiers, n examples, c categories. Results per cell have shape (),
(c,) or (k, c).

- :func:`confusion_counts`, :func:`precision_recall_f1` -- a whole block at one threshold
  or a vector of thresholds; equal to scikit-learn's ``zero_division=0`` results.
- :func:`average_precision`, :func:`roc_auc`, :func:`ranking_metrics` (both at once),
  :func:`precision_recall_curve` -- equal to scikit-learn's, ties included.
- :func:`bootstrap_ci`, :func:`bootstrap_cis` (several metrics, shared passes),
  :func:`paired_bootstrap` -- Poisson bootstrap keyed by (seed, resample, example), so
  every metric, every column and both systems of a pair see the same resamples.
- :func:`latency_summary` -- p50/p95/p99/mean with intervals.

Examples
--------
>>> import numpy as np
>>> from harness import metrics
>>> y = np.array([1, 0, 1, 1, 0], dtype=np.uint8)
>>> s = np.array([0.9, 0.6, 0.4, 0.8, 0.1])
>>> float(metrics.precision_recall_f1(y, s).f1)
0.6666666666666666
>>> float(metrics.average_precision(y, s))
0.9166666666666666
"""

from ._bootstrap import METRICS, bootstrap_ci, bootstrap_cis, paired_bootstrap
from ._confusion import confusion_counts, precision_recall_f1
from ._errors import MetricInputError
from ._latency import latency_summary
from ._ranking import average_precision, precision_recall_curve, ranking_metrics, roc_auc
from ._results import CI, Confusion, LatencySummary, PairedResult, RankingMetrics, Scores
from ._rng import resample_weights

__all__ = [
    "CI",
    "METRICS",
    "Confusion",
    "LatencySummary",
    "MetricInputError",
    "PairedResult",
    "RankingMetrics",
    "Scores",
    "average_precision",
    "bootstrap_ci",
    "bootstrap_cis",
    "confusion_counts",
    "latency_summary",
    "paired_bootstrap",
    "precision_recall_curve",
    "precision_recall_f1",
    "ranking_metrics",
    "resample_weights",
    "roc_auc",
]
