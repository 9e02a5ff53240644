"""Paired comparison of two systems on the same rows of one category."""

from __future__ import annotations

from typing import Any

from harness import metrics
from harness.scoring._view import ScoredView


def paired_test(view: ScoredView, a: Any, b: Any, category: str, metric: str, *, n_resamples: int = 1000,
                seed: int = 0, threshold: float = 0.5) -> Any | None:
    """Paired bootstrap of ``metric(a) - metric(b)`` on the rows both scored, in one category.

    Returns the :func:`harness.metrics.paired_bootstrap` result, or None when the test is
    undefined (no positive or no negative row among the rows both systems scored).
    """
    j = view.column(category)
    Sa, _ = view.scores(a)
    Sb, _ = view.scores(b)
    valid = view.valid(a, b)
    y = view.truth[valid, j]
    if not 0 < y.sum() < len(y):
        return None
    return metrics.paired_bootstrap(metric, y, Sa[valid, j], Sb[valid, j], n_resamples=n_resamples, seed=seed,
                                    threshold=threshold)
