"""Scoring stored predictions under policy versions with the :mod:`harness.metrics` kernels.

Predictions are computed once per (classifier, text); ground truth and the projection from a
classifier's labels to a policy's categories are recomputed per policy version here.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from harness import metrics
from harness.policies import label_category_matrix, project_scores

#: Metrics that get bootstrap confidence intervals in every run.
CI_METRICS = ("precision", "recall", "f1", "average_precision")


def category_scores(pred: Any, policy: Any, *, restricted_as: str = "violation") -> tuple[np.ndarray, np.ndarray]:
    """A classifier's scores per category of ``policy``: ``(scores (n, C), covered (C,))``.

    ``covered[c]`` is False when none of the classifier's labels maps to category ``c`` (its
    score there is then 0: the classifier does not speak that category).
    """
    M = label_category_matrix(pred.labels, pred.taxonomy, policy, restricted_as=restricted_as)
    return project_scores(pred.scores, M), M.any(axis=0)


def score_predictions(
    suite: Any,
    policy: Any,
    preds: Sequence[Any],
    *,
    restricted_as: str = "violation",
    threshold: float = 0.5,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Per (classifier, category) metrics under one policy version, with bootstrap CIs.

    Examples labelled ``unknown`` and items on which the classifier failed are excluded (the
    number of failed items is reported in ``n_errors``).
    """
    Y = suite.labels(policy, restricted_as=restricted_as)
    scored = suite.scored_mask
    cats = list(policy.category_keys)
    frames = []
    for p in preds:
        S, covered = category_scores(p, policy, restricted_as=restricted_as)
        err = p.error_mask
        valid = scored & ~err
        y = np.ascontiguousarray(Y[valid])
        s = np.ascontiguousarray(S[valid])
        row: dict[str, Any] = {
            "classifier": p.name,
            "classifier_version": p.version,
            "policy_version": policy.id,
            "category": cats,
            "covered": covered,
            "n_errors": int((scored & err).sum()),
            "threshold": threshold,
        }
        if len(y) == 0:
            frames.append(pd.DataFrame(row))
            continue
        prf = metrics.precision_recall_f1(y, s, threshold=threshold)
        row.update(
            n_positive=np.asarray(prf.tp + prf.fn), n_negative=np.asarray(prf.fp + prf.tn),
            tp=np.asarray(prf.tp), fp=np.asarray(prf.fp), fn=np.asarray(prf.fn), tn=np.asarray(prf.tn),
            precision=np.asarray(prf.precision), recall=np.asarray(prf.recall),
            f1=np.asarray(prf.f1), fpr=np.asarray(prf.fpr),
        )
        rank = metrics.ranking_metrics(y, s)  # AP and ROC-AUC from one sort
        row.update(average_precision=np.asarray(rank.average_precision), roc_auc=np.asarray(rank.roc_auc))
        cis = metrics.bootstrap_cis(CI_METRICS, y, s, n_resamples=n_resamples, confidence=confidence,
                                    seed=seed, threshold=threshold)
        for m, ci in cis.items():
            row[f"{m}_low"] = np.asarray(ci.low)
            row[f"{m}_high"] = np.asarray(ci.high)
        frames.append(pd.DataFrame(row))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
            "n_errors": int(p.error_mask.sum()),
            "n_computed": p.n_computed,
            "n_reused": p.n_reused,
        }
        if single.size:
            summ = metrics.latency_summary(single, n_resamples=n_resamples, seed=seed)
            for q in ("p50", "p95", "p99", "mean"):
                est = summ[q]
                row[f"{q}_s"] = float(est.estimate)
                row[f"{q}_low_s"] = float(est.low)
                row[f"{q}_high_s"] = float(est.high)
        rows.append(row)
    return pd.DataFrame(rows)
