"""The main job: suite + classifiers + policy versions → metrics, latency, predictions, manifest.

    suite ─► predictions (cached per classifier and text) ─► per policy version:
             ground truth (projected from topics) + category scores (projected through the
             classifier's taxonomy) ─► harness.metrics kernels ─► run folder
"""

from __future__ import annotations

import math

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from harness.errors import InputError, Problem
from harness.paths import cache_dir
from harness.policies import list_versions, load_policy
from harness.runner.cache import PredictionCache, classifier_key, text_hash
from harness.runner.manifest import git_commit, machine, package_versions, utcnow
from harness.runner.predict import Predictions, run_classifier
from harness.runner.scoring import latency_table, score_predictions
from harness.suites import Suite, load_suite

DEFAULT_SUITE = "core"
DEFAULT_SPLIT = "test"
RESTRICTED_CHOICES = ("violation", "allowed")


@dataclass
class RunOptions:
    """Options of a run (all recorded in the manifest)."""

    split: str | None = DEFAULT_SPLIT
    restricted_as: str = "violation"
    threshold: float = 0.5
    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    batch_size: int | None = None
    latency_sample: int = 200
    use_cache: bool = True
    executor: str = "local"
    scheduler: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        """Reject impossible options before anything is predicted (exit 2, naming the option)."""
        bad: list[Problem] = []

        def check(ok: bool, field: str, msg: str) -> None:
            if not ok:
                bad.append(Problem(f"{msg} (got {getattr(self, field)!r})", field=field))

        check(self.split in (None, "train", "dev", "test"), "split", "must be train, dev, test or all")
        check(self.restricted_as in RESTRICTED_CHOICES, "restricted_as", f"must be one of {RESTRICTED_CHOICES}")
        check(isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold) and 0 <= self.threshold <= 1,
              "threshold", "must be a number in [0, 1] (scores are in [0, 1])")
        check(isinstance(self.n_resamples, int) and self.n_resamples >= 1, "n_resamples", "must be at least 1")
        check(isinstance(self.confidence, float) and 0 < self.confidence < 1, "confidence", "must be in (0, 1)")
        check(self.batch_size is None or (isinstance(self.batch_size, int) and self.batch_size >= 1),
              "batch_size", "must be at least 1")
        check(isinstance(self.latency_sample, int) and self.latency_sample >= -1, "latency_sample",
              "must be -1 (all), 0 (none) or a positive count")
        check(self.limit is None or (isinstance(self.limit, int) and self.limit >= 1), "limit", "must be at least 1")
        check(self.executor in ("local", "dask"), "executor", "must be local or dask")
        if bad:
            raise InputError(bad)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunResult:
    """What a run produced (also written to ``run_dir`` when an output folder is given)."""

    run_id: str
    suite: Suite
    metrics: pd.DataFrame
    latency: pd.DataFrame
    predictions: list[Predictions]
    manifest: dict[str, Any]
    run_dir: Path | None = None
    policies: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        names = sorted({p.name for p in self.predictions})
        return (f"RunResult({self.run_id!r}, suite={self.suite.name!r} ({len(self.suite)} examples), "
                f"classifiers={names}, policies={[getattr(p, 'id', p) for p in self.policies]}, "
                f"metrics={len(self.metrics)} rows, run_dir={str(self.run_dir) if self.run_dir else None!r})")


def _resolve_policies(policies: Sequence[Any] | None) -> list[Any]:
    if not policies:
        return [load_policy(v) for v in list_versions()]
    return [p if hasattr(p, "category_keys") else load_policy(str(p)) for p in policies]


def _resolve_classifiers(classifiers: Sequence[Any] | None) -> list[Any]:
    from harness.classifiers import registry

    names = list(classifiers) if classifiers else list(registry.DEFAULT_FIELD)
    out = []
    for c in names:
        if isinstance(c, str):
            obj = registry.get_classifier(c)
            obj._policybench_spec = c  # lets remote executors rebuild it by name
            out.append(obj)
        else:
            if not hasattr(c, "predict") or not hasattr(c, "labels"):
                raise InputError(Problem(f"{c!r} has no predict() and labels", field="classifier"))
            out.append(c)
    return out


def _bind(clf: Any, pols: Sequence[Any], skipped: list[dict[str, str]]) -> list[tuple[str, Any]]:
    """Bind a policy-conditioned classifier to every version it supports; record the others."""
    from harness.errors import PolicyBenchError

    out = []
    for p in pols:
        try:
            out.append((p.id, clf.for_policy(p)))
        except PolicyBenchError as exc:
            skipped.append({"classifier": str(getattr(clf, "name", clf)), "policy_version": p.id,
                            "reason": str(exc).splitlines()[-1].strip()})
    return out


def _config(clf: Any) -> dict[str, Any]:
    cfg = getattr(clf, "config", None)
    return dict(cfg()) if callable(cfg) else {}


def make_run_id(suite: Suite, started: str, opts: RunOptions, names: Sequence[str]) -> str:
    stamp = started.replace("-", "").replace(":", "")[:15] + "Z"
    blob = json.dumps([suite.data_hash, opts.to_dict(), list(names)], sort_keys=True, default=str)
    return f"{stamp}-{suite.name}-{hashlib.sha256(blob.encode()).hexdigest()[:6]}"


def _predictions_table(suite: Suite, preds: Sequence[Predictions]) -> pa.Table:
    ids = suite.ids
    hashes = [text_hash(t) for t in suite.texts]
    cols: dict[str, list] = {k: [] for k in (
        "classifier", "classifier_version", "binding", "example_id", "text_hash", "scores", "error",
        "latency_single_s", "latency_batch_s")}
    for p in preds:
        n = len(ids)
        cols["classifier"] += [p.name] * n
        cols["classifier_version"] += [p.version] * n
        cols["binding"] += [p.binding] * n
        cols["example_id"] += ids
        cols["text_hash"] += hashes
        cols["scores"] += [row for row in p.scores]
        cols["error"] += list(p.errors)
        cols["latency_single_s"] += p.latency_single_s.tolist()
        cols["latency_batch_s"] += p.latency_batch_s.tolist()
    cols["scores"] = pa.array([np.asarray(r, np.float32) for r in cols["scores"]], type=pa.list_(pa.float32()))
    return pa.table(cols)


def run_benchmark(
    suite: str | Path | Suite = DEFAULT_SUITE,
    classifiers: Sequence[Any] | None = None,
    policies: Sequence[Any] | None = None,
    *,
    options: RunOptions | None = None,
    out: Path | None = None,
    cache_root: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Run classifiers over a suite and score them under every policy version.

    Parameters
    ----------
    suite : name, path or Suite
    classifiers : names (from the registry) or objects with ``labels`` and ``predict``;
        default: the built-in offline field (``harness.classifiers.registry.DEFAULT_FIELD``).
    policies : version ids or Policy objects; default: every version.
    out : folder under which ``<run-id>/`` is written (None: nothing written).
    progress : ``progress(task, done, total)`` callback.
    """
    from harness.runner.executors import make_compute

    opts = options or RunOptions()
    if opts.restricted_as not in RESTRICTED_CHOICES:
        raise InputError(Problem(f"must be one of {RESTRICTED_CHOICES}, got {opts.restricted_as!r}",
                                 field="restricted_as"))
    started = utcnow()
    pols = _resolve_policies(policies)
    full = suite if isinstance(suite, Suite) else load_suite(suite)
    s = full.select(split=opts.split) if opts.split else full
    if opts.limit:
        s = Suite.from_examples(s.name, s.examples[: opts.limit], version=s.version, card=s.card)
        s.path = full.path
    if len(s) == 0:
        raise InputError(Problem(f"suite {full.name!r} has no examples in split {opts.split!r}", field="split"))
    clfs = _resolve_classifiers(classifiers)
    root = Path(cache_root) if cache_root else cache_dir() / "predictions"
    texts = s.texts
    compute_factory = make_compute(opts.executor, opts.scheduler)

    by_policy: dict[str, list[Predictions]] = {p.id: [] for p in pols}
    all_preds: list[Predictions] = []
    skipped: list[dict[str, str]] = []
    from harness.classifiers import embedding_memo

    stack = contextlib.ExitStack()
    stack.enter_context(embedding_memo())  # each text is embedded once for every MiniLM classifier and binding
    try:
        for clf in clfs:
            bound = _bind(clf, pols, skipped) if getattr(clf, "policy_conditioned", False) else [("", clf)]
            for binding, c in bound:
                key = classifier_key(str(getattr(c, "name", type(c).__name__)), str(getattr(c, "version", "0")),
                                     _config(c), binding)
                cache = PredictionCache(root, key, read=opts.use_cache)
                label = f"{getattr(c, 'name', type(c).__name__)}{'@' + binding if binding else ''}"
                done = [0]

                def tick(k: int, label=label, done=done) -> None:
                    done[0] += k
                    if progress:
                        progress(label, done[0], len(texts))

                if progress:
                    progress(label, 0, len(texts))
                pred = run_classifier(
                    c, texts, cache, batch_size=opts.batch_size, latency_sample=opts.latency_sample,
                    on_batch=tick,
                    compute=compute_factory(c, getattr(clf, '_policybench_spec', None), binding) if compute_factory else None,
                )
                pred.binding = binding
                all_preds.append(pred)
                for pid in ([binding] if binding else by_policy.keys()):
                    by_policy[pid].append(pred)
    finally:
        stack.close()
        if compute_factory is not None:
            compute_factory.close()

    frames = []
    cell_memo: dict = {}  # cells that no policy change touches are scored once (identical numbers)
    for p in pols:
        if progress:
            progress(f"scoring {p.id}", 0, 1)
        frames.append(score_predictions(
            s, p, by_policy[p.id], restricted_as=opts.restricted_as, threshold=opts.threshold,
            n_resamples=opts.n_resamples, confidence=opts.confidence, seed=opts.seed, memo=cell_memo))
        if progress:
            progress(f"scoring {p.id}", 1, 1)
    metrics_df = pd.concat(frames, ignore_index=True)
    metrics_df.insert(0, "suite", s.name)
    lat = latency_table(all_preds, n_resamples=opts.n_resamples, seed=opts.seed)
    names = [p.name + (f"@{p.binding}" if p.binding else "") for p in all_preds]
    run_id = make_run_id(s, started, opts, names)
    metrics_df.insert(0, "run_id", run_id)
    manifest = {
        "run_id": run_id,
        "suite": {"name": s.name, "version": s.version, "data_hash": full.data_hash,
                  "split": opts.split, "n_examples": len(s), "path": str(full.path) if full.path else None,
                  "labels": pd.Series(s.label_values).value_counts().to_dict()},
        "policy_versions": [p.id for p in pols],
        "classifiers": [
            {"name": p.name, "version": p.version, "binding": p.binding, "cache_key": p.key,
             "taxonomy": getattr(p.taxonomy, "describe", lambda: str(p.taxonomy))(),
             "labels": p.labels, "batch_size": p.batch_size, "n_errors": int(p.error_mask.sum()),
             "n_computed": p.n_computed, "n_reused": p.n_reused, "endpoint": p.info}
            for p in all_preds
        ],
        "skipped_bindings": skipped,
        "options": opts.to_dict(),
        "packages": package_versions(),
        "git": git_commit(),
        "machine": machine(),
        "started": started,
        "finished": utcnow(),
    }
    result = RunResult(run_id=run_id, suite=s, metrics=metrics_df, latency=lat, predictions=all_preds,
                       manifest=manifest, policies=pols)
    if out is not None:
        from harness.results.runs import save_run

        truth = s.to_pandas()
        result.run_dir = save_run(Path(out) / run_id, metrics=metrics_df, latency=lat,
                                  predictions=_predictions_table(s, all_preds), truth=truth, manifest=manifest)
    return result
