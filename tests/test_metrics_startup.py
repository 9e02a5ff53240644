"""Compiled kernels are cached on disk, the cache folder is configurable, and an install
where nothing can be written still imports and computes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness

REPO = Path(harness.__file__).resolve().parent.parent

FIRST_BLOCK = """
import numpy as np
from harness.metrics import precision_recall_f1
rng = np.random.default_rng(0)
y = (rng.random((2000, 14)) < 0.2).astype(np.uint8)
s = rng.random((8, 2000, 14), dtype=np.float32)
r = precision_recall_f1(y, s)
assert r.f1.shape == (8, 14)
"""


def _run(code: str, env: dict | None = None, cwd: Path | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    return elapsed, proc.stdout


@pytest.mark.slow
def test_second_process_scores_its_first_block_within_1_5_s():
    _run(FIRST_BLOCK)  # compiles into the cache if it is cold
    best = min(_run(FIRST_BLOCK)[0] for _ in range(3))
    assert best < 1.5, f"a process with a warm cache took {best:.2f} s to score its first block"


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
    _, out = _run(
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
