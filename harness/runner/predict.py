"""Running one classifier over texts: cache lookup, batching, latency, per-item faults.

:func:`run_classifier` goes through named steps: :func:`plan` (dedupe the texts, read the cache,
cut the rest into batches), the batches (:func:`predict_batch`, here or on an executor),
:func:`commit` (each batch to the cache as it arrives) and :func:`assemble` (the
:class:`Predictions`, aligned with the texts).

Items on which a classifier raises (or that a hosted adapter reports as failed) are recorded
as errors and excluded from metrics; they are never stored in the cache, so the next run
retries exactly those items. A classifier that returns scores of the wrong shape or NaN stops
the run with :class:`harness.errors.ClassifierError` (a bug, not a fault), after every batch
before it has been committed to the cache.

The runner talks to classifiers only through the protocol of :mod:`harness.classifiers.base`:
``predict`` (or ``predict_with_errors``), and the optional shared-work hooks
(``shared_work()``, ``unshared_work()``, ``last_batch_info()``); :func:`shared_work` combines
the first of these for a whole run.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.classifiers.base import BatchInfo, check_scores
from harness.errors import ClassifierError, InputError, Problem
from harness.runner.cache import CachedRow, InvalidCachedScores, PredictionCache, text_hash

#: The batch note recorded when most of a batch was served from another classifier's work.
REUSED_NOTE = "reused-embeddings"

Work = list[tuple[int, list[str]]]


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

    def failures(self) -> list[tuple[int, str]]:
        """``(index, reason)`` of every failed item (excluded from metrics, retried by the next run)."""
        return [(i, e) for i, e in enumerate(self.errors) if e is not None]


def _name(clf: Any) -> str:
    return str(getattr(clf, "name", type(clf).__name__))


# -- the shared-work hooks of the protocol ---------------------------------------------------

@contextlib.contextmanager
def shared_work(classifiers: Iterable[Any]) -> Iterator[None]:
    """One context within which the classifiers reuse expensive shared work (e.g. embeddings).

    Enters each classifier's optional ``shared_work()`` context (classifiers without one are
    skipped), in order, and leaves them in reverse order. Policy-bound copies made inside the
    block share the work too.

    Examples
    --------
    >>> class Plain:
    ...     labels = ["x"]
    >>> with shared_work([Plain()]):
    ...     pass
    """
    with contextlib.ExitStack() as stack:
        for clf in classifiers:
            hook = getattr(clf, "shared_work", None)
            if callable(hook):
                stack.enter_context(hook())
        yield


def _unshared(clf: Any) -> ContextManager[Any]:
    hook = getattr(clf, "unshared_work", None)
    return hook() if callable(hook) else contextlib.nullcontext()


def _reused_items(clf: Any) -> int:
    hook = getattr(clf, "last_batch_info", None)
    info = hook() if callable(hook) else None
    return int(info.n_reused) if isinstance(info, BatchInfo) else 0


# -- one call -------------------------------------------------------------------------------

@dataclass
class _Outcome:
    """Scores, one error (or None) per item, and the items the classifier took from shared work."""

    scores: np.ndarray
    errors: list[str | None]
    n_reused: int = 0


def _with_errors(clf: Any, texts: list[str], n_labels: int) -> _Outcome:
    """A classifier that reports per-item failures itself (the hosted adapters)."""
    scores, errors = clf.predict_with_errors(texts)
    errors = list(errors)
    scores = np.asarray(scores, dtype=np.float32)
    if scores.shape == (len(texts), n_labels):
        scores = np.where(np.array([e is not None for e in errors])[:, None], 0.0, scores)
    return _Outcome(check_scores(scores, len(texts), n_labels, who=_name(clf), texts=texts,
                                 labels=list(clf.labels)), errors, _reused_items(clf))


def _call(clf: Any, texts: list[str], n_labels: int) -> _Outcome:
    """Predict a batch; on an exception fall back to single items and record their errors."""
    if hasattr(clf, "predict_with_errors"):
        return _with_errors(clf, texts, n_labels)
    try:
        scores = check_scores(clf.predict(texts), len(texts), n_labels, who=_name(clf), texts=texts,
                              labels=list(clf.labels))
    except ClassifierError:
        raise
    except Exception as exc:  # noqa: BLE001 - a fault of these items, not a bug
        failed_reused = _reused_items(clf)
        if len(texts) == 1:
            return _Outcome(np.zeros((1, n_labels), np.float32), [f"{type(exc).__name__}: {exc}"[:500]],
                            failed_reused)
        return _one_by_one(clf, texts, n_labels, failed_reused)
    return _Outcome(scores, [None] * len(texts), _reused_items(clf))


def _one_by_one(clf: Any, texts: list[str], n_labels: int, n_reused: int) -> _Outcome:
    out = _Outcome(np.zeros((len(texts), n_labels), np.float32), [], n_reused)
    for i, t in enumerate(texts):
        one = _call(clf, [t], n_labels)
        out.scores[i] = one.scores[0]
        out.errors.append(one.errors[0])
        out.n_reused += one.n_reused
    return out


def warm_up(clf: Any, text: str = "warm-up") -> None:
    """One untimed call (loads models, opens connections); its result is discarded."""
    _call(clf, [text], len(clf.labels))


def predict_batch(clf: Any, texts: list[str], *, n_single: int) -> dict[str, Any]:
    """Predict one batch, timing it; time single-item calls for the first ``n_single`` texts.

    Returns a dict with ``scores``, ``errors``, ``latency_single_s``, ``latency_batch_s`` and,
    when most of the batch was served from another classifier's work, ``note``.
    """
    n_labels = len(clf.labels)
    t0 = time.perf_counter()
    outcome = _call(clf, texts, n_labels)
    elapsed = time.perf_counter() - t0
    single = np.full(len(texts), np.nan)
    with _unshared(clf):  # a single-item call must pay its full cost, not reuse the batch's work
        for i in range(min(n_single, len(texts))):
            t1 = time.perf_counter()
            _call(clf, [texts[i]], n_labels)
            single[i] = time.perf_counter() - t1
    res = {
        "scores": outcome.scores,
        "errors": outcome.errors,
        "latency_single_s": single,
        "latency_batch_s": np.full(len(texts), elapsed / max(1, len(texts))),
    }
    if BatchInfo(n_items=len(texts), n_reused=outcome.n_reused).reused:
        res["note"] = REUSED_NOTE
    return res


# -- the steps of run_classifier ------------------------------------------------------------

@dataclass
class Plan:
    """What one classifier run must compute: distinct texts, rows already known, batches to do."""

    texts: Sequence[str]
    hashes: list[str]
    first_of: dict[str, int]  # text hash → index of its first occurrence
    rows: dict[str, CachedRow]  # known rows by hash: the cache's, then each computed batch's
    batches: list[list[str]]  # hashes to compute, one list per batch
    work: Work  # (items to time singly, batch texts), one per batch
    batch_size: int
    n_reused: int
    counts: Counter  # text hash → occurrences among the texts

    @property
    def n_computed(self) -> int:
        return sum(len(b) for b in self.batches)

    def occurrences(self, hashes: Iterable[str]) -> int:
        """How many of the texts (duplicates included) these distinct hashes stand for."""
        return sum(self.counts[h] for h in hashes)


def plan(texts: Sequence[str], cache: PredictionCache, *, batch_size: int, latency_sample: int) -> Plan:
    """Dedupe ``texts``, read committed rows from ``cache`` and cut the rest into batches.

    ``latency_sample`` items (``-1``: all) of the batches, first batches first, get an extra
    single-item timed call.
    """
    hashes = [text_hash(t) for t in texts]
    first_of: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first_of.setdefault(h, i)
    rows = cache.load(first_of.keys())
    missing = [h for h in first_of if h not in rows]
    batches = [missing[i : i + batch_size] for i in range(0, len(missing), batch_size)]
    budget = len(missing) if latency_sample < 0 else latency_sample
    work: Work = []
    for b in batches:
        k = min(budget, len(b))
        budget -= k
        work.append((k, [texts[first_of[h]] for h in b]))
    return Plan(texts, hashes, first_of, rows, batches, work, batch_size,
                n_reused=len(first_of) - len(missing), counts=Counter(hashes))


def _compute_here(clf: Any, work: Work) -> Iterator[tuple[int, dict[str, Any]]]:
    """The default executor: an untimed warm-up call, then each batch in order, in this process."""
    if work:
        warm_up(clf, work[0][1][0])
    for j, (n_single, batch) in enumerate(work):
        yield j, predict_batch(clf, batch, n_single=n_single)


def commit(cache: PredictionCache, p: Plan, j: int, res: dict[str, Any]) -> None:
    """Store batch ``j``'s successful items in ``cache``; keep all its rows (failures too) for this run."""
    b = p.batches[j]
    note = res.get("note")
    cache.commit(b, res["scores"], res["errors"], res["latency_single_s"], res["latency_batch_s"],
                 p.batch_size, note=note)
    for i, h in enumerate(b):
        err = res["errors"][i]
        p.rows[h] = CachedRow(scores=None if err is not None else res["scores"][i], error=err,
                              latency_single_s=float(res["latency_single_s"][i]),
                              latency_batch_s=float(res["latency_batch_s"][i]),
                              batch_size=p.batch_size, note=note)


def _check_width(row: CachedRow, n_labels: int, clf: Any, cache: PredictionCache) -> None:
    if row.scores is not None and row.scores.shape != (n_labels,):
        raise ClassifierError(
            f"cached predictions for {_name(clf)!r} have {row.scores.shape[0]} labels, expected {n_labels};"
            f" clear {cache.folder} or run with --no-cache"
        )


def _endpoint_info(clf: Any, p: Plan) -> dict[str, Any]:
    """Batch notes of the rows used, then what the classifier reports about its endpoint."""
    info: dict[str, Any] = {}
    notes = {p.rows[h].note for h in p.first_of if p.rows[h].note}
    if notes:
        info["batch_notes"] = sorted(notes)
    if hasattr(clf, "endpoint_info"):
        try:
            info.update(dict(clf.endpoint_info() or {}))
        except Exception as exc:  # noqa: BLE001
            info["endpoint_info_error"] = str(exc)[:200]
    return info


def assemble(clf: Any, p: Plan, cache: PredictionCache) -> Predictions:
    """The :class:`Predictions` over ``p.texts`` (latency on each text's first occurrence only)."""
    labels = list(clf.labels)
    n = len(p.hashes)
    scores = np.zeros((n, len(labels)), np.float32)
    errors: list[str | None] = []
    single, batch = np.full(n, np.nan), np.full(n, np.nan)
    for i, h in enumerate(p.hashes):
        row = p.rows[h]
        _check_width(row, len(labels), clf, cache)
        if row.error is None and row.scores is not None:
            scores[i] = row.scores
        errors.append(row.error)
        if p.first_of[h] == i:
            single[i], batch[i] = row.latency_single_s, row.latency_batch_s
    return Predictions(
        name=_name(clf), version=str(getattr(clf, "version", "0")), key=cache.key, binding="",
        labels=labels, taxonomy=getattr(clf, "taxonomy", None), scores=scores, errors=errors,
        latency_single_s=single, latency_batch_s=batch, batch_size=p.batch_size,
        n_computed=p.n_computed, n_reused=p.n_reused, info=_endpoint_info(clf, p),
    )


def _check_options(batch_size: int, latency_sample: int) -> None:
    bad = []
    if batch_size < 1:
        bad.append(Problem(f"must be at least 1 (got {batch_size})", field="batch_size"))
    if not isinstance(latency_sample, int) or latency_sample < -1:
        bad.append(Problem(f"must be -1 (all), 0 (none) or a positive count (got {latency_sample!r})",
                           field="latency_sample"))
    if bad:
        raise InputError(bad)


class ProgressCounter:
    """Items done so far for one task, reported to ``progress(task, done, total)`` on each step.

    Use an instance as ``run_classifier``'s ``on_batch``.

    Examples
    --------
    >>> seen = []
    >>> tick = ProgressCounter("kw", 5, lambda *a: seen.append(a))
    >>> tick(2); tick(3); tick.done, seen
    (5, [('kw', 2, 5), ('kw', 5, 5)])
    """

    def __init__(self, task: str, total: int, progress: Callable[[str, int, int], None] | None = None):
        self.task, self.total, self.progress = task, total, progress
        self.done = 0

    def __call__(self, k: int) -> None:
        self.done += k
        if self.progress:
            self.progress(self.task, self.done, self.total)


def run_classifier(
    clf: Any,
    texts: Sequence[str],
    cache: PredictionCache,
    *,
    batch_size: int | None = None,
    latency_sample: int = 200,
    on_batch: Callable[[int], None] | None = None,
    compute: Callable[[Work], Any] | None = None,
) -> Predictions:
    """Predict ``texts`` with ``clf``, reusing committed predictions from ``cache``.

    Parameters
    ----------
    batch_size : int, optional
        Items per batch (default: the classifier's ``batch_size``, else 64).
    latency_sample : int
        How many not-yet-cached items get an extra single-item timed call (after one warm-up
        call); ``-1`` times every item, 0 none.
    on_batch : callable, optional
        Called with the number of items done by each batch (cached items count at once).
    compute : callable, optional
        An executor hook: given the list of ``(first_single_count, batch_texts)`` work items it
        yields ``(index, result_dict)`` pairs as they finish (see :mod:`harness.runner.executors`).
        The default computes in this process, in order.

    Returns
    -------
    Predictions
        Failed items have zero scores and an error message; they were not cached.
    """
    bs = int(batch_size or getattr(clf, "batch_size", 64) or 64)
    _check_options(bs, latency_sample)
    try:
        p = plan(texts, cache, batch_size=bs, latency_sample=latency_sample)
    except InvalidCachedScores as exc:  # name the classifier and the example, not only the shard
        i = next((k for k, t in enumerate(texts) if text_hash(t) == exc.text_hash), None)
        example = f"example {i} of the run ({str(texts[i])[:80]!r})" if i is not None else "an example"
        labels = list(getattr(clf, "labels", ()))
        label = repr(str(labels[exc.label_index])) if exc.label_index < len(labels) else f"#{exc.label_index}"
        raise InvalidCachedScores(
            f"classifier {_name(clf)!r}: the cached prediction for {example} in shard {exc.shard} holds the "
            f"score {exc.value!r} for label {label}, which is {exc.reason}; delete that shard, or run with "
            "--no-cache, to compute it again", shard=exc.shard, text_hash=exc.text_hash,
            label_index=exc.label_index, value=exc.value, reason=exc.reason) from None
    if on_batch and p.n_reused:
        on_batch(p.occurrences(h for h in p.first_of if h in p.rows))
    results = compute(p.work) if compute else _compute_here(clf, p.work)
    for j, res in results:
        commit(cache, p, j, res)
        if on_batch:
            on_batch(p.occurrences(p.batches[j]))
    return assemble(clf, p, cache)
