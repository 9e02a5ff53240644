"""The run store: ``results/runs/<run-id>/``.

A run folder holds:

- ``metrics.parquet`` and ``metrics.csv``: one row per (classifier, policy_version, category);
- ``latency.parquet`` / ``latency.csv``: one row per classifier (binding);
- ``predictions.parquet``: one row per (classifier, binding, example) with the raw label scores;
- ``truth.parquet``: the suite rows scored (id, topics, label) so a run can be re-scored alone;
- ``manifest.json``: suite name/version/hash, policy versions, classifiers with versions, labels
  and taxonomies, package versions, git commit, machine, start/end time, options.

The folder is written into a temporary sibling and renamed into place at the end, so a run
folder is either complete or absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from harness.paths import results_dir
from harness._io import atomic_dir, ensure_writable_dir


def runs_dir(root: Path | None = None) -> Path:
    return Path(root) if root else results_dir() / "runs"


@dataclass
class StoredRun:
    """A run read back from disk."""

    path: Path
    manifest: dict[str, Any]
    metrics: pd.DataFrame
    latency: pd.DataFrame

    @property
    def run_id(self) -> str:
        return self.manifest.get("run_id", self.path.name)

    def __repr__(self) -> str:
        suite = self.manifest.get("suite", {})
        names = sorted({c.get("name", "?") for c in self.manifest.get("classifiers", [])})
        return (f"StoredRun({self.run_id!r}, suite={suite.get('name')!r} ({suite.get('n_examples')} examples), "
                f"classifiers={names}, policies={self.manifest.get('policy_versions')}, path={str(self.path)!r})")

    def predictions(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "predictions.parquet")

    def truth(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "truth.parquet")

    def to_suite(self):
        """The scored suite rows as a :class:`harness.suites.Suite` (from ``truth.parquet``)."""
        from harness.suites import Example, Suite

        df = self.truth()

        def clean(r: dict) -> dict:
            # optional columns read back from Parquet hold NaN (not None) for missing values
            return {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}

        rows = [Example.model_validate({**clean(r), "topics": list(r["topics"])}) for r in df.to_dict("records")]
        info = self.manifest.get("suite", {})
        s = Suite.from_examples(info.get("name", "run"), rows, version=str(info.get("version", "0")))
        s.data_hash = info.get("data_hash", s.data_hash)
        return s

    def load_predictions(self) -> list:
        """The stored predictions as :class:`harness.runner.predict.Predictions`, in manifest order."""
        import numpy as np

        from harness.classifiers.base import Taxonomy
        from harness.runner.predict import Predictions

        table = pq.read_table(self.path / "predictions.parquet")
        df = table.to_pandas()
        out = []
        for c in self.manifest["classifiers"]:
            part = df[(df["classifier"] == c["name"]) & (df["binding"] == c["binding"])]
            scores = np.stack(part["scores"].to_numpy()).astype(np.float32) if len(part) else np.zeros((0, len(c["labels"])), np.float32)
            out.append(Predictions(
                name=c["name"], version=c["version"], key=c["cache_key"], binding=c["binding"],
                labels=list(c["labels"]), taxonomy=Taxonomy.parse(c["taxonomy"]), scores=scores,
                errors=[e if isinstance(e, str) else None for e in part["error"]],
                latency_single_s=part["latency_single_s"].to_numpy(float),
                latency_batch_s=part["latency_batch_s"].to_numpy(float),
                batch_size=int(c.get("batch_size", 0)), n_computed=int(c.get("n_computed", 0)),
                n_reused=int(c.get("n_reused", 0)), info=c.get("endpoint", {}),
            ))
        return out


def save_run(
    folder: Path,
    *,
    metrics: pd.DataFrame,
    latency: pd.DataFrame,
    predictions: pa.Table,
    truth: pd.DataFrame,
    manifest: dict[str, Any],
) -> Path:
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
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
    return folder


def list_runs(root: Path | None = None) -> list[Path]:
    """Run folders (complete ones: with a manifest), oldest first by run id."""
    base = runs_dir(root)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").is_file())


def load_run(path_or_id: str | Path, *, root: Path | None = None) -> StoredRun:
    """Read a run folder (by path or by run id under ``results/runs``)."""
    from harness.errors import InputError, Problem

    p = Path(path_or_id)
    if not (p / "manifest.json").is_file():
        p = runs_dir(root) / str(path_or_id)
    if not (p / "manifest.json").is_file():
        raise InputError(Problem(f"no run at {str(path_or_id)!r} (looked for manifest.json)", field="run"))
    manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    return StoredRun(
        path=p,
        manifest=manifest,
        metrics=pd.read_parquet(p / "metrics.parquet"),
        latency=pd.read_parquet(p / "latency.parquet"),
    )
