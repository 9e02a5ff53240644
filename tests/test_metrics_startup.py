"""Compiled kernels are cached on disk, the cache folder is configurable, and an install
where nothing can be written still imports and computes.

How fast a second process scores its first block is a speed target, timed against baselines in
``benchmarks/bench_metrics.py``; here are the mechanisms behind it, which do not depend on the
machine's load: importing ``harness.metrics`` loads no heavy library and no other part of the
project, and a second process loads every kernel it runs from the cache instead of compiling.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness

REPO = Path(harness.__file__).resolve().parent.parent

#: What a process that scores its first block runs, then a report of numba's cache use: for every
#: kernel it ran, the signatures loaded from the cache (hits) and compiled (misses).
FIRST_BLOCK = """
import json, sys
import numpy as np
from numba.core.registry import CPUDispatcher
from harness.metrics import precision_recall_f1
rng = np.random.default_rng(0)
y = (rng.random((2000, 14)) < 0.2).astype(np.uint8)
s = rng.random((8, 2000, 14), dtype=np.float32)
assert precision_recall_f1(y, s).f1.shape == (8, 14)
used = {f"{name}.{attr}": (sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values()))
        for name, mod in list(sys.modules.items()) if name.startswith("harness.metrics")
        for attr, f in vars(mod).items() if isinstance(f, CPUDispatcher) and f.signatures}
print(json.dumps(used))
"""


def _run(code: str, env: dict | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_metrics_loads_no_heavy_library_and_no_other_part_of_the_project():
    code = ("import sys, json, harness.metrics; print(json.dumps(sorted(m for m in sys.modules if "
            "m.split('.')[0] in ('pandas', 'sklearn', 'pyarrow', 'matplotlib', 'pydantic', 'duckdb', 'torch') "
            "or (m.startswith('harness.') and not m.startswith('harness.metrics')))))")
    assert json.loads(_run(code)) == []


@pytest.mark.slow
def test_a_second_process_loads_every_kernel_it_runs_from_the_cache():
    first = json.loads(_run(FIRST_BLOCK))  # compiles into the cache if it is cold
    second = json.loads(_run(FIRST_BLOCK))
    assert second and second.keys() == first.keys()
    assert all(hits > 0 and misses == 0 for hits, misses in second.values()), second


@pytest.mark.slow
def test_numba_cache_dir_is_honoured(tmp_path):
    cache = tmp_path / "numba-cache"
    code = "from harness.metrics import resample_weights; resample_weights(0, 1, 3)"
    _run(code, {"NUMBA_CACHE_DIR": str(cache)})
    written = [p.name for p in cache.rglob("*.nbi")]
    assert any(name.startswith("_rng._weights") for name in written), written


@pytest.mark.slow
def test_read_only_install_imports_and_computes(tmp_path):
    # Nowhere to write a cache: the package folder has a *file* named __pycache__, and
    # NUMBA_CACHE_DIR and HOME point below a regular file (so no folder can be made there,
    # even for root, for whom permission bits do not stop writes).
    site = tmp_path / "site"
    shutil.copytree(REPO / "harness", site / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [site / "harness", *(p for p in (site / "harness").rglob("*") if p.is_dir())]:
        (folder / "__pycache__").write_text("not a folder")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    code = """
import numpy as np
import harness.metrics as m
from harness.metrics import _confusion, _ranking
assert type(_confusion._block_counts._cache).__name__ == "NullCache"
assert type(_ranking._ap_auc_sorted._cache).__name__ == "NullCache"
w = m.resample_weights(0, 2, 4)
assert w.shape == (2, 4) and w.min() >= 0
print(m.__file__)
"""
    out = _run(
        code,
        {
            "PYTHONPATH": str(site),
            "PYTHONDONTWRITEBYTECODE": "1",
            "NUMBA_CACHE_DIR": str(blocker / "cache"),
            "HOME": str(blocker / "home"),
            "XDG_CACHE_HOME": str(blocker / "xdg"),
        },
        cwd=tmp_path,
    )
    assert out.strip().startswith(str(site))
