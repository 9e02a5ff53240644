"""The main job: predict (runner) → score (scoring) → record and store (results).

    suite ─► predictions (cached per classifier binding and text) ─► per policy version:
             ground truth (projected from topics) + category scores (projected through the
             classifier's taxonomy) ─► harness.metrics kernels ─► run record ─► run folder
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd
import pyarrow as pa

from harness.paths import repo_root
from harness.policies import Policy
from harness.results.record import (ClassifierRecord, PolicyRecord, RunRecord, SkippedBinding, SuiteRecord,
                                    crosswalk_hash)
from harness.results.runs import predictions_table, save_run
from harness.results.views import RunViews
from harness.runner import DEFAULT_SUITE, Predicted, Predictions, RunOptions, predict_all
from harness.runner.manifest import git_commit, machine, package_versions, utcnow
from harness.scoring import ScoringOptions, display_name, latency_table, score_run
from harness.suites import Suite


@dataclass(repr=False)
class RunResult(RunViews):
    """What a run produced (also written to ``run_dir`` when an output folder is given).

    Read it with :meth:`summary` (the headline table), :meth:`examples`, :meth:`misses` and
    :meth:`false_alarms` (per example, for one classifier, policy version and category), or the
    full ``metrics`` and ``latency`` tables; in a notebook it displays as a compact summary.
    """

    run_id: str
    suite: Suite
    metrics: pd.DataFrame
    latency: pd.DataFrame
    predictions: list[Predictions]
    record: RunRecord
    run_dir: Path | None = None
    policies: list[Policy] = field(default_factory=list)

    @cached_property
    def options(self) -> RunOptions:
        return RunOptions(**self.record.options)

    def __repr__(self) -> str:
        names = sorted({p.name for p in self.predictions})
        return (f"RunResult({self.run_id!r}, suite={self.suite.name!r} ({len(self.suite)} examples), "
                f"classifiers={names}, policies={[p.id for p in self.policies]}, "
                f"metrics={len(self.metrics)} rows, run_dir={str(self.run_dir) if self.run_dir else None!r})")


def make_run_id(suite: Suite, started: str, opts: RunOptions, names: Sequence[str],
                policies: Sequence[Policy] = ()) -> str:
    """``<start, to the second>-<suite>-<hash>``; the hash covers the data, options, systems, the
    policies' content and the start time to the microsecond, so two runs started in the same
    second (e.g. under two policies) never share a folder."""
    stamp = started.replace("-", "").replace(":", "")[:15] + "Z"
    pols = [PolicyRecord.of(p).sha256 for p in policies]
    blob = json.dumps([suite.data_hash, opts.to_dict(), list(names), pols, started], sort_keys=True, default=str)
    return f"{stamp}-{suite.name}-{hashlib.sha256(blob.encode()).hexdigest()[:6]}"


def _relative(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)


def _taxonomy(p: Predictions) -> str:
    describe = getattr(p.taxonomy, "describe", None)
    return describe() if callable(describe) else str(p.taxonomy)


def _with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    """``table`` with a leading ``run_id`` column (the other columns unchanged)."""
    return table.add_column(0, "run_id", pa.array([run_id] * table.num_rows, pa.string()))


def build_record(run_id: str, done: Predicted, opts: RunOptions) -> RunRecord:
    """The typed record of a run whose predictions are ``done``."""
    s, preds = done.suite, done.predictions
    taxonomies = [_taxonomy(p) for p in preds]
    crosswalks = sorted({t.partition(":")[2] for t in taxonomies if t.startswith("crosswalk:")})
    return RunRecord(
        run_id=run_id,
        suite=SuiteRecord(name=s.name, version=str(s.version), data_hash=done.full_suite.data_hash, split=opts.split,
                          n_examples=len(s), path=_relative(done.full_suite.path),
                          labels={str(k): int(v) for k, v in pd.Series(s.label_values).value_counts().items()}),
        policies=[PolicyRecord.of(p) for p in done.policies],
        crosswalks={name: crosswalk_hash(name) or "" for name in crosswalks},
        classifiers=[ClassifierRecord(
            name=p.name, version=str(p.version), binding=p.binding, cache_key=p.key,
            config_sha256=done.config_hashes.get(p.key), taxonomy=t, labels=list(p.labels),
            batch_size=int(p.batch_size), n_errors=int(p.error_mask.sum()), n_computed=int(p.n_computed),
            n_reused=int(p.n_reused), endpoint=dict(p.info)) for p, t in zip(preds, taxonomies, strict=True)],
        skipped_bindings=[SkippedBinding(**x) for x in done.skipped],
        options=opts.to_dict(), packages=package_versions(), git=git_commit(), machine=machine(),
        started=done.started, finished=utcnow(),
    )


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
    policies : version ids, policy files or Policy objects; default: every version.
    out : folder under which ``<run-id>/`` is written (None: nothing written).
    progress : ``progress(task, done, total)`` callback.
    """
    opts = options or RunOptions()
    done = predict_all(suite, classifiers, policies, options=opts, cache_root=cache_root, progress=progress)
    run_id = make_run_id(done.suite, done.started, opts, [display_name(p) for p in done.predictions], done.policies)
    metrics = score_run(done.suite, done.predictions, done.policies, ScoringOptions.of(opts), run_id=run_id,
                        progress=progress)
    lat = latency_table(done.predictions, n_resamples=opts.n_resamples, seed=opts.seed)
    lat.insert(0, "run_id", run_id)  # every stored table carries the run id (as metrics do)
    record = build_record(run_id, done, opts)
    result = RunResult(run_id=run_id, suite=done.suite, metrics=metrics, latency=lat, predictions=done.predictions,
                       record=record, policies=done.policies)
    if out is not None:
        result.run_dir = save_run(Path(out) / run_id, record=record, metrics=metrics, latency=lat,
                                  predictions=_with_run_id(predictions_table(done.suite, done.predictions), run_id),
                                  truth=done.suite.to_pandas())
    return result
