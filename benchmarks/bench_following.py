"""Policy following on the published run: follow rates, clause attribution and the stale-policy
penalty of every system of ``results/run`` (core, test split: 8,292 examples, 17 prediction sets)
between 2023-02-15 and 2024-01-10, with 1,000-resample intervals.

Run: ``.venv/bin/pytest benchmarks/bench_following.py --benchmark-json results/benchmarks/following.json -s``

Measured on the 2-core development machine: follow_table ≈ 6–13 s, clause_table ≈ 0.5 s,
stale_penalty ≈ 17–20 s (the all-rows metrics of 14 categories and the pooled 116k cells).
"""

from __future__ import annotations

import warnings

import pytest

from harness import load_run
from harness.paths import repo_root
from harness.scoring import clause_table, follow_table, stale_penalty

A, B = "2023-02-15", "2024-01-10"


@pytest.fixture(scope="module")
def run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a format-1 record (policies from today's files)
        r = load_run(repo_root() / "results" / "run")
    assert len(r.suite) and r.predictions  # read once, outside the timings
    return r


@pytest.mark.parametrize("fn, budget_s", [(follow_table, 40.0), (clause_table, 5.0), (stale_penalty, 60.0)],
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_following_on_the_published_run(benchmark, run, fn, budget_s):
    out = benchmark.pedantic(fn, args=(run, A, B), rounds=1, iterations=1)
    assert len(out) > 0
    seconds = benchmark.stats.stats.min
    benchmark.extra_info.update({"n_examples": len(run.suite), "n_predictions": len(run.predictions),
                                 "rows": len(out), "seconds": seconds})
    print(f"\n{fn.__name__}: {seconds:.1f} s, {len(out)} rows")
    assert seconds < budget_s
