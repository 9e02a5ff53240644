"""Latency per classifier binding: single-item percentiles with CIs, and batch throughput."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness import metrics


def latency_table(preds: Sequence[Any], *, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Latency per classifier: single-item p50/p95/p99/mean (with CIs) and batch throughput."""
    rows = []
    seen = set()
    for p in preds:
        if p.key in seen:
            continue
        seen.add(p.key)
        single = p.latency_single_s[np.isfinite(p.latency_single_s)]
        batch = p.latency_batch_s[np.isfinite(p.latency_batch_s)]
        row: dict[str, Any] = {
            "classifier": p.name,
            "classifier_version": p.version,
            "binding": p.binding,
            "batch_size": p.batch_size,
            "n_single": int(single.size),
            "n_items": int(batch.size),
            "throughput_items_per_s": float(1.0 / batch.mean()) if batch.size and batch.mean() > 0 else float("nan"),
            # the batch phase reused text embeddings computed for another classifier or binding, so
            # its throughput is not this classifier's own cost (single-item latency always is)
            "batch_reused_embeddings": "reused-embeddings" in p.info.get("batch_notes", []),
            "n_errors": int(p.error_mask.sum()),
            "n_computed": p.n_computed,
            "n_reused": p.n_reused,
        }
        for q in ("p50", "p95", "p99", "mean"):  # undefined (NaN) when no item was timed, never absent
            row[f"{q}_s"] = row[f"{q}_low_s"] = row[f"{q}_high_s"] = float("nan")
        if single.size:
            summ = metrics.latency_summary(single, n_resamples=n_resamples, seed=seed)
            for q in ("p50", "p95", "p99", "mean"):
                est = summ[q]
                row[f"{q}_s"] = float(est.estimate)
                row[f"{q}_low_s"] = float(est.low)
                row[f"{q}_high_s"] = float(est.high)
        rows.append(row)
    return pd.DataFrame(rows)
