"""``policybench publish``: regenerate ``results/`` from the repository alone.

Runs every built-in system that can run here over the suite's test split under every policy
version, stores the run in ``results/run/`` (committed, so the leaderboard's provenance and
predictions are inspectable), and writes ``results/leaderboard.{md,json,html}`` and
``results/charts/*.{png,svg}``.

Atomic as a whole: the run, leaderboard and charts are written into a staging folder inside
``out_dir`` first; only when all of them succeeded are the published entries swapped in (each a
rename, rolled back if one fails), so a failure at any point leaves the previous publication as
it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness._io import ensure_writable_dir
from harness.paths import as_umask

#: What a publication consists of, inside ``out_dir``.
PUBLISHED = ("run", "charts", "leaderboard.json", "leaderboard.md", "leaderboard.html")


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Move every published entry from ``staging`` into ``out_dir``; undo all of it on failure."""
    trash = staging / ".previous"
    trash.mkdir()
    moved: list[str] = []
    try:
        for name in PUBLISHED:
            if (out_dir / name).exists():
                os.replace(out_dir / name, trash / name)
            moved.append(name)
            os.replace(staging / name, out_dir / name)
    except OSError:
        for name in reversed(moved):
            if (out_dir / name).exists() and not (staging / name).exists():
                os.replace(out_dir / name, staging / name)
            if (trash / name).exists():
                os.replace(trash / name, out_dir / name)
        raise


def publish(*, suite: str = "core", out_dir: Path = Path("results"), n_resamples: int = 1000,
            console: Any = None, classifiers: list[str] | None = None) -> dict[str, Path]:
    from harness.charts import write_charts
    from harness.classifiers.registry import DEFAULT_FIELD
    from harness.options import RunOptions
    from harness.results.benchmark import run_benchmark
    from harness.results.leaderboard import write_leaderboard
    from harness.results.runs import load_run

    out_dir = ensure_writable_dir(Path(out_dir), what="results folder")
    runs_tmp = ensure_writable_dir(out_dir / "runs", what="results folder")
    progress = None
    if console is not None:
        def progress(label: str, done: int, total: int) -> None:
            if done == total:
                console.print(f"  {label}: {done}/{total}")
    res = run_benchmark(suite, classifiers or list(DEFAULT_FIELD), None,
                        options=RunOptions(n_resamples=n_resamples), out=runs_tmp, progress=progress)
    staging = Path(tempfile.mkdtemp(prefix=".publish-", dir=out_dir))
    as_umask(staging, directory=True)
    try:
        assert res.run_dir is not None  # run_benchmark(out=...) always writes the run
        shutil.copytree(res.run_dir, staging / "run")
        stored = load_run(staging / "run")
        write_leaderboard(stored, staging, n_resamples=n_resamples)
        write_charts(stored, staging / "charts")
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    paths = {"json": out_dir / "leaderboard.json", "md": out_dir / "leaderboard.md",
             "html": out_dir / "leaderboard.html", "charts": out_dir / "charts", "run": out_dir / "run"}
    return paths
