"""Per-cell metrics: every (classifier, policy version, category) with bootstrap CIs.

The kernels follow scikit-learn's ``zero_division=0``; :func:`mark_undefined` turns the numbers
that are undefined (no positives, no negatives, no predicted positives, a category a
classifier does not cover) into NaN, so no report shows those zeros as measurements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness import metrics
from harness.policies import Policy
from harness.scoring._view import ScoredView

if TYPE_CHECKING:
    from harness.runner.predict import Predictions
    from harness.suites import Suite

#: Metrics that get bootstrap confidence intervals in every run.
CI_METRICS = ("precision", "recall", "f1", "average_precision")


METRIC_FIELDS = ("tp", "fp", "fn", "tn", "n_positive", "n_negative", "precision", "recall", "f1", "fpr",
                 "average_precision", "roc_auc") + tuple(f"{m}_{b}" for m in CI_METRICS for b in ("low", "high"))

#: Contrast metrics per category: on the category's unsafe positives and the benign rows that
#: imitate it (its minimal-pair twins), recall, false-positive rate (over-blocking) and ROC-AUC.
CONTRAST_METRICS = ("recall", "fpr", "roc_auc")
CONTRAST_FIELDS = ("contrast_n_unsafe", "contrast_n_benign") + tuple(
    f"contrast_{m}{b}" for m in CONTRAST_METRICS for b in ("", "_low", "_high"))

#: Which metrics are undefined when: no positives, no negatives, no predicted positives.
_NEEDS_POS = ("recall", "f1", "average_precision", "roc_auc") + tuple(
    f"{m}_{b}" for m in ("recall", "f1", "average_precision") for b in ("low", "high"))
_NEEDS_NEG = ("fpr", "roc_auc")
_NEEDS_PRED = ("precision", "precision_low", "precision_high")


def mark_undefined(out: dict[str, Any], covered: np.ndarray | None = None) -> dict[str, Any]:
    """Set metrics that are undefined for a column to NaN (in place; returns ``out``).

    Recall, F1, AP and ROC-AUC need a positive; FPR and ROC-AUC a negative; precision a predicted
    positive. A category the classifier does not cover has no metrics at all. The kernels follow
    scikit-learn's ``zero_division=0``; a report must not show those zeros as measurements.
    """
    npos = np.asarray(out["n_positive"])
    nneg = np.asarray(out["n_negative"])
    npred = np.asarray(out["tp"]) + np.asarray(out["fp"])
    for fields, bad in ((_NEEDS_POS, npos == 0), (_NEEDS_NEG, nneg == 0), (_NEEDS_PRED, npred == 0)):
        for f in fields:
            if f in out:
                out[f] = np.where(bad, np.nan, np.asarray(out[f], dtype=float))
    if covered is not None:
        for f in METRIC_FIELDS[6:]:
            out[f] = np.where(covered, np.asarray(out[f], dtype=float), np.nan)
    return out


def contrast_metrics(Y: np.ndarray, B: np.ndarray, S: np.ndarray, valid: np.ndarray, covered: np.ndarray, *,
                     threshold: float, n_resamples: int, confidence: float, seed: int) -> dict[str, np.ndarray]:
    """Per category: the contrast set (unsafe positives ``Y`` and benign imitators ``B``) metrics.

    Undefined numbers (no unsafe or no benign rows in the set, a category not ``covered``) are NaN;
    the set sizes are counted for every category.
    """
    C = Y.shape[1]
    out = {f: np.full(C, np.nan) for f in CONTRAST_FIELDS}
    for j in range(C):
        pos = valid & (Y[:, j] == 1)
        neg = valid & B[:, j] & (Y[:, j] == 0)
        rows = pos | neg
        out["contrast_n_unsafe"][j], out["contrast_n_benign"][j] = pos.sum(), neg.sum()
        if not rows.any() or not covered[j]:
            continue
        y = np.ascontiguousarray(Y[rows, j:j + 1])
        s = np.ascontiguousarray(S[rows, j:j + 1])
        prf = metrics.precision_recall_f1(y, s, threshold=threshold)
        point = {"recall": prf.recall[0], "fpr": prf.fpr[0]}
        point["roc_auc"] = metrics.ranking_metrics(y, s).roc_auc[0]
        cis = metrics.bootstrap_cis(CONTRAST_METRICS, y, s, n_resamples=n_resamples, confidence=confidence,
                                    seed=seed, threshold=threshold)
        defined = {"recall": pos.any(), "fpr": neg.any(), "roc_auc": pos.any() and neg.any()}
        for m in CONTRAST_METRICS:
            if defined[m]:
                out[f"contrast_{m}"][j] = point[m]
                out[f"contrast_{m}_low"][j] = np.asarray(cis[m].low).ravel()[0]
                out[f"contrast_{m}_high"][j] = np.asarray(cis[m].high).ravel()[0]
    return out


def column_metrics(y: np.ndarray, s: np.ndarray, *, threshold: float, n_resamples: int, confidence: float,
                   seed: int) -> dict[str, np.ndarray]:
    """Every reported metric for each column of ``y`` (n, c) uint8 and ``s`` (n, c) float32.

    A column's numbers do not depend on the other columns (the bootstrap weights are keyed by
    seed, resample and example), so columns can be computed in any grouping.
    """
    prf = metrics.precision_recall_f1(y, s, threshold=threshold)
    out = {
        "tp": np.asarray(prf.tp), "fp": np.asarray(prf.fp), "fn": np.asarray(prf.fn), "tn": np.asarray(prf.tn),
        "n_positive": np.asarray(prf.tp + prf.fn), "n_negative": np.asarray(prf.fp + prf.tn),
        "precision": np.asarray(prf.precision), "recall": np.asarray(prf.recall),
        "f1": np.asarray(prf.f1), "fpr": np.asarray(prf.fpr),
    }
    rank = metrics.ranking_metrics(y, s)  # AP and ROC-AUC from one sort
    out["average_precision"] = np.asarray(rank.average_precision)
    out["roc_auc"] = np.asarray(rank.roc_auc)
    cis = metrics.bootstrap_cis(CI_METRICS, y, s, n_resamples=n_resamples, confidence=confidence,
                                seed=seed, threshold=threshold)
    for m, ci in cis.items():
        out[f"{m}_low"] = np.asarray(ci.low)
        out[f"{m}_high"] = np.asarray(ci.high)
    return out


def _column_key(y: np.ndarray, s: np.ndarray, j: int, opts: tuple) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    h.update(repr(opts).encode())
    h.update(np.ascontiguousarray(y[:, j]).tobytes())
    h.update(np.ascontiguousarray(s[:, j]).tobytes())
    return h.digest()


def score_predictions(
    suite: Suite | ScoredView,
    policy: Policy | None,
    preds: Sequence[Predictions],
    *,
    restricted_as: str = "violation",
    threshold: float = 0.5,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    memo: dict[bytes, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Per (classifier, category) metrics under one policy version, with bootstrap CIs.

    ``suite`` is a :class:`~harness.suites.Suite` (then ``policy`` is required) or a
    :class:`ScoredView` (its policy and ``restricted_as`` are used). Examples labelled
    ``unknown`` and items on which the classifier failed are excluded (the number of failed
    items is reported in ``n_errors``).

    ``memo`` (a dict shared across calls, e.g. across the policy versions of one run) reuses the
    numbers of a (ground-truth column, score column) pair already scored: when a version changes
    nothing for a category, its cell costs one hash instead of a bootstrap. The results are
    identical with or without it.
    """
    view = suite if isinstance(suite, ScoredView) else ScoredView(suite, _need(policy), restricted_as)
    cats = view.categories
    opts = (threshold, n_resamples, confidence, seed)
    frames = []
    for p in preds:
        S, covered = view.scores(p)
        valid = view.valid(p)
        y = np.ascontiguousarray(view.truth[valid])
        s = np.ascontiguousarray(S[valid])
        row: dict[str, Any] = {
            "classifier": p.name,
            "classifier_version": p.version,
            "policy_version": view.policy.id,
            "category": cats,
            "covered": covered,
            "n_errors": int((view.scored & p.error_mask).sum()),
            "threshold": threshold,
        }
        if len(y) == 0:
            frames.append(pd.DataFrame(row))
            continue
        if memo is None:
            row.update(column_metrics(y, s, threshold=threshold, n_resamples=n_resamples,
                                      confidence=confidence, seed=seed))
        else:
            row.update(_memoised_metrics(y, s, memo, opts))
        mark_undefined(row, covered)
        row.update(contrast_metrics(view.truth, view.imitators, S, valid, covered, threshold=threshold,
                                    n_resamples=n_resamples, confidence=confidence, seed=seed))
        frames.append(pd.DataFrame(row))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _need(policy: Policy | None) -> Policy:
    if policy is None:
        raise TypeError("score_predictions(suite, policy, ...) needs a policy when given a Suite")
    return policy


def _memoised_metrics(y: np.ndarray, s: np.ndarray, memo: dict[bytes, dict[str, Any]],
                      opts: tuple) -> dict[str, np.ndarray]:
    """:func:`column_metrics` of every column, computing only the columns ``memo`` lacks."""
    threshold, n_resamples, confidence, seed = opts
    keys = [_column_key(y, s, j, opts) for j in range(y.shape[1])]
    todo: list[int] = []
    pending: set[bytes] = set()
    for j, k in enumerate(keys):
        if k not in memo and k not in pending:
            pending.add(k)
            todo.append(j)
    if todo:
        got = column_metrics(np.ascontiguousarray(y[:, todo]), np.ascontiguousarray(s[:, todo]),
                             threshold=threshold, n_resamples=n_resamples, confidence=confidence, seed=seed)
        for t, j in enumerate(todo):
            memo[keys[j]] = {f: got[f][t] for f in METRIC_FIELDS}
    return {f: np.array([memo[k][f] for k in keys]) for f in METRIC_FIELDS}
