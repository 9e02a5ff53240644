"""The run store: ``results/runs/<run-id>/``, written and read only here.

A run folder holds:

- ``manifest.json``: the typed run record (:class:`~harness.results.record.RunRecord`,
  with ``format_version``): suite, policies with their content, classifiers, options, provenance;
- ``metrics.parquet`` and ``metrics.csv``: one row per (classifier, policy_version, category);
- ``latency.parquet`` / ``latency.csv``: one row per classifier (binding);
- ``predictions.parquet``: one row per (classifier, binding, example) with the raw label scores;
- ``truth.parquet``: the suite rows scored (id, text, topics, label), so a run is re-scored
  alone (:func:`harness.rescore`).

The folder is written into a temporary sibling and renamed into place at the end, so a run
folder is either complete or absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness._io import atomic_dir, ensure_writable_dir
from harness.classifiers.base import Taxonomy
from harness.errors import InputError, Problem
from harness.paths import results_dir
from harness.policies import Policy
from harness.results.record import RunRecord, read_record
from harness.results.views import RunViews
from harness.runner import Predictions, RunOptions, text_hash
from harness.suites import Example, Suite


def runs_dir(root: Path | None = None) -> Path:
    return Path(root) if root else results_dir() / "runs"


def predictions_table(suite: Suite, preds: Sequence[Predictions]) -> pa.Table:
    """The ``predictions.parquet`` layout: one row per (binding, example)."""
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


@dataclass(repr=False)
class StoredRun(RunViews):
    """A run read back from disk; re-score it with :func:`harness.rescore`.

    It reads as an in-memory result does: :meth:`summary`, :meth:`examples`, :meth:`misses`,
    :meth:`false_alarms`, and a compact display in a notebook.
    """

    path: Path
    record: RunRecord
    metrics: pd.DataFrame
    latency: pd.DataFrame

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def __repr__(self) -> str:
        s = self.record.suite
        names = sorted({c.name for c in self.record.classifiers})
        return (f"StoredRun({self.run_id!r}, suite={s.name!r} ({s.n_examples} examples), "
                f"classifiers={names}, policies={self.record.policy_versions}, path={str(self.path)!r})")

    @cached_property
    def options(self) -> RunOptions:
        return RunOptions(**self.record.options)

    @cached_property
    def policies(self) -> list[Policy]:
        """The policies as recorded with the run (not today's files)."""
        return self.record.load_policies()

    @cached_property
    def suite(self) -> Suite:
        """The scored suite rows (from ``truth.parquet``)."""
        df = pd.read_parquet(self.path / "truth.parquet")

        def clean(r: dict) -> dict:
            # optional columns read back from Parquet hold NaN (not None) for missing values
            return {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}

        rows = [Example.model_validate({**clean(r), "topics": list(r["topics"])}) for r in df.to_dict("records")]
        info = self.record.suite
        s = Suite.from_examples(info.name, rows, version=info.version)
        s.data_hash = info.data_hash
        return s

    @cached_property
    def predictions(self) -> list[Predictions]:
        """The stored predictions, one per classifier binding, in record order."""
        df = pq.read_table(self.path / "predictions.parquet").to_pandas()
        out = []
        for c in self.record.classifiers:
            part = df[(df["classifier"] == c.name) & (df["binding"] == c.binding)]
            scores = (np.stack(part["scores"].to_numpy()).astype(np.float32) if len(part)
                      else np.zeros((0, len(c.labels)), np.float32))
            out.append(Predictions(
                name=c.name, version=c.version, key=c.cache_key, binding=c.binding, labels=list(c.labels),
                taxonomy=Taxonomy.parse(c.taxonomy), scores=scores,
                errors=[e if isinstance(e, str) else None for e in part["error"]],
                latency_single_s=part["latency_single_s"].to_numpy(float),
                latency_batch_s=part["latency_batch_s"].to_numpy(float),
                batch_size=c.batch_size, n_computed=c.n_computed, n_reused=c.n_reused, info=dict(c.endpoint),
            ))
        return out


def save_run(folder: Path, *, record: RunRecord, metrics: pd.DataFrame, latency: pd.DataFrame,
             predictions: pa.Table, truth: pd.DataFrame) -> Path:
    """Write a run folder atomically; returns its path."""
    folder = Path(folder)
    ensure_writable_dir(folder.parent, what="results folder")
    with atomic_dir(folder) as tmp:
        metrics.to_parquet(tmp / "metrics.parquet", index=False)
        metrics.to_csv(tmp / "metrics.csv", index=False)
        latency.to_parquet(tmp / "latency.parquet", index=False)
        latency.to_csv(tmp / "latency.csv", index=False)
        pq.write_table(predictions, tmp / "predictions.parquet")
        truth.to_parquet(tmp / "truth.parquet", index=False)
        (tmp / "manifest.json").write_text(record.to_json(), encoding="utf-8")
    return folder


def list_runs(root: Path | None = None) -> list[Path]:
    """Run folders (complete ones: with a manifest), oldest first by run id."""
    base = runs_dir(root)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").is_file())


def load_run(path_or_id: str | Path, *, root: Path | None = None) -> StoredRun:
    """Read a run folder (by path or by run id under ``results/runs``)."""
    p = Path(path_or_id)
    if not (p / "manifest.json").is_file():
        p = runs_dir(root) / str(path_or_id)
    if not (p / "manifest.json").is_file():
        raise InputError(Problem(f"no run at {str(path_or_id)!r} (looked for manifest.json)", field="run"))
    return StoredRun(path=p, record=read_record(p / "manifest.json"),
                     metrics=pd.read_parquet(p / "metrics.parquet"), latency=pd.read_parquet(p / "latency.parquet"))
