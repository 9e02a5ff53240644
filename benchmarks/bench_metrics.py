"""Benchmarks of harness.metrics against their baselines, measured in the same run.

Run (not part of the default ``pytest`` run, which collects ``tests/`` only)::

    .venv/bin/pytest benchmarks/bench_metrics.py --benchmark-json results/benchmarks/metrics.json

Each benchmark times its baseline(s) with ``time.perf_counter`` (best of a few runs) and
the kernel with pytest-benchmark (several rounds); both are compared best against best --
the machine is shared, and the fastest run is the one least disturbed -- and the ratios
from our median round are recorded too. Timings and ratios go to ``extra_info`` (in the
saved JSON) and each test asserts its target.
Targets (2-core machine):

- AP + ROC-AUC at n = 10**7: >= 15x faster than ``average_precision_score`` and within 2x of
  one ``np.sort`` of the same scores;
- a 1,000-resample bootstrap CI of AP at n = 10**6: >= 100x faster than a loop of sklearn
  calls on resampled data (20 resamples timed, scaled by 50), and under 2.5 s;
- precision/recall/F1 for 8 classifiers x 14 categories at n = 10**6: >= 100x faster than a
  per-cell sklearn loop;
- a second process (warm kernel cache) scores its first block >= 5x faster than a process
  that compiles the kernels (empty cache) and within 6x of a process that only imports numpy
  and numba and makes the same data (the floor any numba-backed scorer pays; measured 2-3.5x
  on a loaded machine). On the idle project machine that is about 1 s; the absolute time is
  recorded, not asserted (the machine is shared, and a busy one more than doubled it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_recall_fscore_support

from harness.metrics import bootstrap_ci, precision_recall_f1, ranking_metrics


def best_time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def timings(benchmark) -> tuple[float, float]:
    """(best, median) round of the benchmarked kernel.

    Under ``--benchmark-disable`` the kernel ran once and its result was checked; there are no
    rounds to compare, so the test stops here, skipped.
    """
    if benchmark.stats is None:
        pytest.skip("--benchmark-disable: the result was checked, the speed targets were not timed")
    return float(benchmark.stats.stats.min), float(benchmark.stats.stats.median)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ap_and_roc_auc_1e7(benchmark, dtype):
    rng = np.random.default_rng(0)
    n = 10**7
    y = (rng.random(n) < 0.3).astype(np.uint8)
    s = (0.3 * y + rng.random(n)).astype(dtype)
    ranking_metrics(y[:1000], s[:1000])  # load the kernels
    sklearn_s = best_time(lambda: average_precision_score(y, s), repeat=1)
    sort_s = best_time(lambda: np.sort(s))
    result = benchmark.pedantic(ranking_metrics, args=(y, s), rounds=5, warmup_rounds=1)
    assert abs(result.average_precision - average_precision_score(y, s)) <= 1e-12
    ours, ours_median = timings(benchmark)
    info = {
        "n": n,
        "dtype": dtype,
        "sklearn_average_precision_s": sklearn_s,
        "np_sort_s": sort_s,
        "speedup_vs_sklearn_ap": sklearn_s / ours,
        "ratio_to_np_sort": ours / sort_s,
        "speedup_vs_sklearn_ap_median_round": sklearn_s / ours_median,
        "ratio_to_np_sort_median_round": ours_median / sort_s,
    }
    benchmark.extra_info.update(info)
    print(f"\n{info}")
    assert sklearn_s / ours >= 15
    assert ours <= 2 * sort_s


def test_bootstrap_ci_of_ap_1e6(benchmark):
    rng = np.random.default_rng(1)
    n = 10**6
    y = (rng.random(n) < 0.3).astype(np.uint8)
    s = (0.3 * y + rng.random(n)).astype(np.float32)
    bootstrap_ci("average_precision", y[:1000], s[:1000], n_resamples=16)

    def sklearn_loop(n_resamples: int = 20):
        loop_rng = np.random.default_rng(2)
        for _ in range(n_resamples):
            idx = loop_rng.integers(0, n, n)
            average_precision_score(y[idx], s[idx])

    loop_20_s = best_time(sklearn_loop, repeat=1)
    sklearn_1000_s = loop_20_s * 1000 / 20
    ci = benchmark.pedantic(
        bootstrap_ci, args=("average_precision", y, s), kwargs={"n_resamples": 1000, "seed": 0}, rounds=3
    )
    assert ci.low <= ci.estimate <= ci.high
    ours, ours_median = timings(benchmark)
    info = {
        "n": n,
        "n_resamples": 1000,
        "sklearn_loop_20_resamples_s": loop_20_s,
        "sklearn_loop_1000_resamples_scaled_s": sklearn_1000_s,
        "speedup_vs_sklearn_loop": sklearn_1000_s / ours,
        "speedup_vs_sklearn_loop_median_round": sklearn_1000_s / ours_median,
        "median_round_s": ours_median,
    }
    benchmark.extra_info.update(info)
    print(f"\n{info}")
    assert sklearn_1000_s / ours >= 100
    assert ours_median < 2.5


def test_precision_recall_f1_block_8x14_1e6(benchmark):
    rng = np.random.default_rng(3)
    k, n, c = 8, 10**6, 14
    y = (rng.random((n, c)) < 0.1).astype(np.uint8)
    s = rng.random((k, n, c), dtype=np.float32)
    precision_recall_f1(y[:100], s[:, :100])

    def sklearn_cells():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for kk in range(k):
                for j in range(c):
                    pred = s[kk, :, j] >= 0.5
                    precision_recall_fscore_support(y[:, j], pred, average="binary", zero_division=0)

    sklearn_s = best_time(sklearn_cells, repeat=1)
    result = benchmark.pedantic(precision_recall_f1, args=(y, s), rounds=5, warmup_rounds=1)
    assert result.f1.shape == (k, c)
    ours, ours_median = timings(benchmark)
    info = {
        "k": k,
        "n": n,
        "c": c,
        "sklearn_per_cell_loop_s": sklearn_s,
        "speedup_vs_sklearn": sklearn_s / ours,
        "speedup_vs_sklearn_median_round": sklearn_s / ours_median,
    }
    benchmark.extra_info.update(info)
    print(f"\n{info}")
    assert sklearn_s / ours >= 100


DATA = """
import numpy as np
rng = np.random.default_rng(0)
y = (rng.random((2000, 14)) < 0.2).astype(np.uint8)
s = rng.random((8, 2000, 14), dtype=np.float32)
"""
FIRST_BLOCK = DATA + """
from harness.metrics import precision_recall_f1
assert precision_recall_f1(y, s).f1.shape == (8, 14)
"""
#: The floor of any process that scores with numba kernels: the interpreter, numpy, numba, the data.
NUMBA_FLOOR = "import numba\n" + DATA


def _process(code: str, **env: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **env})


def test_second_process_first_block(benchmark, tmp_path):
    _process(FIRST_BLOCK)  # fills the kernel cache if it is cold
    benchmark.pedantic(_process, args=(FIRST_BLOCK,), rounds=5)
    ours, ours_median = timings(benchmark)
    floor_s = best_time(lambda: _process(NUMBA_FLOOR))
    cold_s = best_time(lambda: _process(FIRST_BLOCK, NUMBA_CACHE_DIR=str(tmp_path / "empty-cache")), repeat=1)
    info = {
        "process_start_to_first_block_s": ours,
        "median_round_s": ours_median,
        "numba_floor_s": floor_s,
        "cold_cache_s": cold_s,
        "ratio_to_numba_floor": ours / floor_s,
        "speedup_vs_cold_cache": cold_s / ours,
        "ratio_to_numba_floor_median_round": ours_median / floor_s,
        "speedup_vs_cold_cache_median_round": cold_s / ours_median,
    }
    benchmark.extra_info.update(info)
    print(f"\n{info}")
    assert cold_s / ours >= 5
    assert ours <= 6 * floor_s
