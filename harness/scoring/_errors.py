"""Error analysis: the rows a classifier gets most wrong in one category."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from harness.scoring._view import ScoredView

ErrorKind = Literal["misses", "false_alarms"]


def worst_errors(view: ScoredView, pred: Any, category: str, *, kind: ErrorKind = "misses",
                 threshold: float = 0.5, n: int = 10) -> pd.DataFrame:
    """The ``n`` worst misses (positives with the lowest scores below ``threshold``) or false alarms
    (negatives with the highest scores at or above it) of ``pred`` in ``category``.

    Columns: ``id``, ``text``, ``score``, ``topics``, ``source``; rows most wrong first. Rows with
    an unknown label or a classifier error are never listed.
    """
    if kind not in ("misses", "false_alarms"):
        raise ValueError(f"kind must be 'misses' or 'false_alarms', got {kind!r}")
    j = view.column(category)
    S, _ = view.scores(pred)
    s, y, valid = S[:, j], view.truth[:, j], view.valid(pred)
    if kind == "misses":
        idx = np.where(valid & (y == 1) & (s < threshold))[0]
        idx = idx[np.argsort(s[idx], kind="stable")][:n]
    else:
        idx = np.where(valid & (y == 0) & (s >= threshold))[0]
        idx = idx[np.argsort(-s[idx], kind="stable")][:n]
    ex = view.suite.examples
    return pd.DataFrame({
        "id": [ex[i].id for i in idx], "text": [ex[i].text for i in idx],
        "score": s[idx].astype(float), "topics": [list(ex[i].topics) for i in idx],
        "source": [ex[i].source for i in idx],
    }, columns=["id", "text", "score", "topics", "source"])
