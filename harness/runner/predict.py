"""Running one classifier over texts: cache lookup, batching, latency, per-item faults.

Items on which a classifier raises (or that a hosted adapter reports as failed) are recorded
as errors and excluded from metrics; a classifier that returns scores of the wrong shape or
NaN stops the run with :class:`harness.errors.ClassifierError` (a bug, not a fault), after
every batch before it has been committed to the cache.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from harness.classifiers.base import check_scores
from harness.runner.cache import CachedRow, PredictionCache, text_hash


@dataclass
class Predictions:
    """One classifier's predictions over a suite (aligned with the suite's examples)."""

    name: str
    version: str
    key: str
    binding: str
    labels: list[str]
    taxonomy: Any
    scores: np.ndarray  # (n, L) float32, zeros on error rows
    errors: list[str | None]
    latency_single_s: np.ndarray  # (n,) NaN where not measured
    latency_batch_s: np.ndarray  # (n,) batch time / batch size
    batch_size: int
    n_computed: int = 0
    n_reused: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def error_mask(self) -> np.ndarray:
        return np.array([e is not None for e in self.errors], dtype=bool)


def _name(clf: Any) -> str:
    return str(getattr(clf, "name", type(clf).__name__))


def _call(clf: Any, texts: list[str], n_labels: int) -> tuple[np.ndarray, list[str | None]]:
    """Predict a batch; on an exception fall back to single items and record their errors."""
    who = _name(clf)
    if hasattr(clf, "predict_with_errors"):
        scores, errors = clf.predict_with_errors(texts)
        errors = list(errors)
        scores = np.asarray(scores, dtype=np.float32)
        if scores.shape == (len(texts), n_labels):
            scores = np.where(np.array([e is not None for e in errors])[:, None], 0.0, scores)
        return check_scores(scores, len(texts), n_labels, who=who), errors
    try:
        return check_scores(clf.predict(texts), len(texts), n_labels, who=who), [None] * len(texts)
    except Exception as exc:  # noqa: BLE001 - classify below
        from harness.errors import ClassifierError

        if isinstance(exc, ClassifierError):
            raise
        if len(texts) == 1:
            return np.zeros((1, n_labels), np.float32), [f"{type(exc).__name__}: {exc}"[:500]]
    out = np.zeros((len(texts), n_labels), np.float32)
    errors: list[str | None] = []
    for i, t in enumerate(texts):
        s, e = _call(clf, [t], n_labels)
        out[i] = s[0]
        errors.append(e[0])
    return out, errors


def predict_batch(clf: Any, texts: list[str], *, n_single: int) -> dict[str, Any]:
    """Predict one batch, timing it; time single-item calls for the first ``n_single`` texts."""
    labels = list(clf.labels)
    t0 = time.perf_counter()
    scores, errors = _call(clf, texts, len(labels))
    elapsed = time.perf_counter() - t0
    single = np.full(len(texts), np.nan)
    from harness.classifiers import memo_paused

    with memo_paused():  # a single-item call must pay its full cost, not hit a batch-phase memo
        for i in range(min(n_single, len(texts))):
            t1 = time.perf_counter()
            _call(clf, [texts[i]], len(labels))
            single[i] = time.perf_counter() - t1
    per_item = elapsed / max(1, len(texts))
    return {
        "scores": scores,
        "errors": errors,
        "latency_single_s": single,
        "latency_batch_s": np.full(len(texts), per_item),
    }


def _local_batch(clf: Any, work: tuple[int, list[str]]) -> dict[str, Any]:
    """Predict one batch here; note when its timing reused embeddings computed for another classifier."""
    from harness.classifiers.models._embed import MEMO_STATS

    before = MEMO_STATS["reused"]
    res = predict_batch(clf, work[1], n_single=work[0])
    if 2 * (MEMO_STATS["reused"] - before) > len(work[1]):  # most of the batch was not embedded here
        res["note"] = "reused-embeddings"
    return res


def run_classifier(
    clf: Any,
    texts: Sequence[str],
    cache: PredictionCache,
    *,
    batch_size: int | None = None,
    latency_sample: int = 200,
    on_batch: Callable[[int], None] | None = None,
    compute: Callable[[list[tuple[int, list[str]]]], Any] | None = None,
) -> Predictions:
    """Predict ``texts`` with ``clf``, reusing committed predictions from ``cache``.

    Parameters
    ----------
    latency_sample : int
        How many not-yet-cached items get an extra single-item timed call (after one warm-up
        call); ``-1`` times every item, 0 none.
    on_batch : callable, optional
        Called with the number of items done after each batch (cached items count at once).
    compute : callable, optional
        An executor hook: given the list of ``(first_single_count, batch_texts)`` work items it
        yields ``(index, result_dict)`` pairs as they finish (see :mod:`harness.runner.executors`).
        The default computes in this process, in order.
    """
    labels = list(clf.labels)
    n, L = len(texts), len(labels)
    bs = int(batch_size or getattr(clf, "batch_size", 64) or 64)
    hashes = [text_hash(t) for t in texts]
    first_of: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first_of.setdefault(h, i)
    cached = cache.load(first_of.keys())
    missing = [h for h in first_of if h not in cached]
    occurrences = Counter(hashes)
    if on_batch and len(first_of) - len(missing):
        on_batch(sum(occurrences[h] for h in first_of if h in cached))

    work: list[tuple[int, list[str]]] = []
    budget = len(missing) if latency_sample < 0 else latency_sample
    batches = [missing[i : i + bs] for i in range(0, len(missing), bs)]
    for b in batches:
        k = min(budget, len(b))
        budget -= k
        work.append((k, [texts[first_of[h]] for h in b]))

    if batches and compute is None:
        _call(clf, [texts[first_of[batches[0][0]]]], L)  # warm-up, untimed (executors warm their own)
    results = compute(work) if compute else ((j, _local_batch(clf, w)) for j, w in enumerate(work))
    for j, res in results:
        b = batches[j]
        cache.commit(b, res["scores"], res["errors"], res["latency_single_s"], res["latency_batch_s"], bs,
                     note=res.get("note"))
        for i, h in enumerate(b):
            cached[h] = CachedRow(
                scores=None if res["errors"][i] is not None else res["scores"][i],
                error=res["errors"][i],
                latency_single_s=float(res["latency_single_s"][i]),
                latency_batch_s=float(res["latency_batch_s"][i]),
                batch_size=bs,
                note=res.get("note"),
            )
        if on_batch:
            on_batch(sum(occurrences[h] for h in b))

    scores = np.zeros((n, L), np.float32)
    errors: list[str | None] = []
    single = np.full(n, np.nan)
    batch = np.full(n, np.nan)
    for i, h in enumerate(hashes):
        row = cached[h]
        if row.error is None and row.scores is not None:
            if row.scores.shape != (L,):
                from harness.errors import ClassifierError

                raise ClassifierError(
                    f"cached predictions for {_name(clf)!r} have {row.scores.shape[0]} labels, expected {L};"
                    f" clear {cache.folder} or run with --no-cache"
                )
            scores[i] = row.scores
        errors.append(row.error)
        if first_of[h] == i:
            single[i] = row.latency_single_s
            batch[i] = row.latency_batch_s
    info: dict[str, Any] = {}
    notes = {cached[h].note for h in first_of if cached[h].note}
    if notes:
        info["batch_notes"] = sorted(notes)
    if hasattr(clf, "endpoint_info"):
        try:
            info.update(dict(clf.endpoint_info() or {}))
        except Exception as exc:  # noqa: BLE001
            info["endpoint_info_error"] = str(exc)[:200]
    return Predictions(
        name=_name(clf),
        version=str(getattr(clf, "version", "0")),
        key=cache.key,
        binding="",
        labels=labels,
        taxonomy=getattr(clf, "taxonomy", None),
        scores=scores,
        errors=errors,
        latency_single_s=single,
        latency_batch_s=batch,
        batch_size=bs,
        n_computed=len(missing),
        n_reused=len(first_of) - len(missing),
        info=info,
    )
