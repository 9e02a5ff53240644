"""Training targets over topics, and the dev-split evaluation written into model cards.

Targets: an ``unsafe`` example is positive for each of its topics; a ``benign`` example (a
contrast example that only resembles its topics) is negative for every topic; ``unknown``
examples are left out. The labels are the topics with at least ``min_positives`` unsafe
training examples, in the order of ``datasets/policies/topics.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.errors import InputError, Problem

MIN_POSITIVES = 5


def topic_targets(suite: Any, labels: Sequence[str] | None = None, *,
                  min_positives: int = MIN_POSITIVES) -> tuple[list[str], np.ndarray, list[str]]:
    """``(texts, Y uint8 (n, L), labels)`` from a suite's unsafe and benign examples.

    Examples
    --------
    >>> from harness.suites import Example, Suite
    >>> ex = lambda i, t, lab: Example(id=str(i), text=f"text {i}", topics=t, label=lab, split="train",
    ...                                source="doc", source_row=str(i), license="MIT", label_provenance="curated")
    >>> s = Suite.from_examples("d", [ex(1, ["malware"], "unsafe"), ex(2, ["malware"], "benign"),
    ...                               ex(3, ["spam"], "unknown")])
    >>> texts, Y, labels = topic_targets(s, min_positives=1)
    >>> labels, Y.tolist()
    (['malware'], [[1], [0]])
    """
    rows = [e for e in suite.examples if e.label in ("unsafe", "benign")]
    if labels is None:
        from harness.policies import topic_keys

        counts: dict[str, int] = {}
        for e in rows:
            if e.label == "unsafe":
                for t in e.topics:
                    counts[t] = counts.get(t, 0) + 1
        labels = [t for t in topic_keys() if counts.get(t, 0) >= min_positives]
    labels = list(labels)
    if not labels:
        raise InputError(Problem(
            f"suite {getattr(suite, 'name', '?')!r} has no topic with {min_positives} or more unsafe examples "
            "in this split: nothing to train", field="suite"))
    col = {t: j for j, t in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=np.uint8)
    for i, e in enumerate(rows):
        if e.label == "unsafe":
            for t in e.topics:
                if t in col:
                    Y[i, col[t]] = 1
    return [e.text for e in rows], Y, labels


def evaluate(scores: np.ndarray, Y: np.ndarray, labels: Sequence[str], *, threshold: float = 0.5) -> dict[str, Any]:
    """Per-label and averaged AP / F1 / precision / recall at ``threshold`` (for model cards)."""
    from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

    per: dict[str, dict[str, Any]] = {}
    aps = []
    pred = scores >= threshold
    for j, lab in enumerate(labels):
        y = Y[:, j]
        n_pos = int(y.sum())
        row: dict[str, Any] = {"n_pos": n_pos}
        if 0 < n_pos < len(y):
            row["ap"] = round(float(average_precision_score(y, scores[:, j])), 4)
            aps.append(row["ap"])
        row["f1"] = round(float(f1_score(y, pred[:, j], zero_division=0)), 4)
        per[lab] = row
    any_y = Y.max(axis=1) if Y.size else np.zeros(len(Y), np.uint8)
    any_s = scores.max(axis=1) if scores.size else np.zeros(len(Y), np.float32)
    out: dict[str, Any] = {
        "n_examples": int(len(Y)),
        "macro_ap": round(float(np.mean(aps)), 4) if aps else None,
        "micro_precision": round(float(precision_score(Y.ravel(), pred.ravel(), zero_division=0)), 4),
        "micro_recall": round(float(recall_score(Y.ravel(), pred.ravel(), zero_division=0)), 4),
        "micro_f1": round(float(f1_score(Y.ravel(), pred.ravel(), zero_division=0)), 4),
        "per_label": per,
    }
    if 0 < any_y.sum() < len(any_y):
        out["any_topic_roc_auc"] = round(float(roc_auc_score(any_y, any_s)), 4)
        out["any_topic_ap"] = round(float(average_precision_score(any_y, any_s)), 4)
    return out
