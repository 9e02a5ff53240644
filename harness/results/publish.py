"""``policybench publish``: regenerate ``results/`` from the repository alone.

Runs every built-in system that can run here over the suite's test split under every policy
version, stores the run in ``results/run/`` (committed, so the leaderboard's provenance and
predictions are inspectable), and writes ``results/leaderboard.{md,json,html}`` and
``results/charts/*.{png,svg}``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from harness.runner.atomic import ensure_writable_dir


def publish(*, suite: str = "core", out_dir: Path = Path("results"), n_resamples: int = 1000,
            console: Any = None, classifiers: list[str] | None = None) -> dict[str, Path]:
    from harness.charts import write_charts
    from harness.classifiers.registry import DEFAULT_FIELD
    from harness.results.leaderboard import write_leaderboard
    from harness.results.runs import load_run
    from harness.runner.pipeline import RunOptions, run_benchmark

    out_dir = ensure_writable_dir(Path(out_dir), what="results folder")
    runs_tmp = ensure_writable_dir(out_dir / "runs", what="results folder")
    progress = None
    if console is not None:
        def progress(label: str, done: int, total: int) -> None:
            if done == total:
                console.print(f"  {label}: {done}/{total}")
    res = run_benchmark(suite, classifiers or list(DEFAULT_FIELD), None,
                        options=RunOptions(n_resamples=n_resamples), out=runs_tmp, progress=progress)
    published = out_dir / "run"
    if published.exists():
        shutil.rmtree(published)
    shutil.copytree(res.run_dir, published)
    stored = load_run(published)
    paths = write_leaderboard(stored, out_dir, n_resamples=n_resamples)
    charts_dir = out_dir / "charts"
    if charts_dir.exists():
        shutil.rmtree(charts_dir)
    write_charts(stored, charts_dir)
    paths["charts"] = charts_dir
    paths["run"] = published
    return paths
