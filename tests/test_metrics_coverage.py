"""Bootstrap coverage by simulation: samples drawn again and again from a fixed population.

For precision and recall the 95% percentile interval must cover the population value in
93-97% of the trials. Average precision is reported (at n = 2000 and n = 100), not held to
that band: the sample AP is a biased estimate of the population AP in small samples, so its
interval may cover less often. Each call bootstraps 50 trials at once, one per column: the
columns share resample weights but hold independent samples, so each column's interval is
an ordinary bootstrap interval of its own sample.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics import average_precision, bootstrap_ci, precision_recall_f1

N_POPULATION = 1_000_000
N_SAMPLE = 2_000
N_TRIALS = 2_000  # per metric; the binomial standard error of a 95% coverage is 0.5%
N_SMALL = 100  # a small sample for average precision
PER_CALL = 50  # trials per call: each column of a batched call is one trial's sample
THRESHOLD = 0.5


def _population():
    rng = np.random.default_rng(2024)
    y = (rng.random(N_POPULATION) < 0.3).astype(np.uint8)
    s = np.clip(0.3 * y + 0.7 * rng.random(N_POPULATION), 0, 1).astype(np.float32)
    return y, s


@pytest.mark.slow
def test_percentile_interval_coverage(record_property):
    y, s = _population()
    truth = precision_recall_f1(y, s, threshold=THRESHOLD)
    true_values = {
        "precision": float(truth.precision),
        "recall": float(truth.recall),
        "average_precision": float(average_precision(y, s)),
    }
    rng = np.random.default_rng(7)
    covered = {m: 0 for m in true_values}
    for call in range(N_TRIALS // PER_CALL):
        idx = rng.integers(0, N_POPULATION, size=(N_SAMPLE, PER_CALL))
        ys, ss = y[idx], s[idx]
        for metric, value in true_values.items():
            ci = bootstrap_ci(metric, ys, ss, n_resamples=1000, seed=call, threshold=THRESHOLD)
            covered[metric] += int(((ci.low <= value) & (value <= ci.high)).sum())
    coverage = {m: c / N_TRIALS for m, c in covered.items()}
    # average precision again in small samples, where its bias shows
    small = 0
    for call in range(N_TRIALS // PER_CALL):
        idx = rng.integers(0, N_POPULATION, size=(N_SMALL, PER_CALL))
        ci = bootstrap_ci("average_precision", y[idx], s[idx], n_resamples=1000, seed=10_000 + call)
        value = true_values["average_precision"]
        small += int(((ci.low <= value) & (value <= ci.high)).sum())
    coverage[f"average_precision_n{N_SMALL}"] = small / N_TRIALS
    for metric, value in coverage.items():
        record_property(f"coverage_{metric}", value)
    print(f"\n95% bootstrap interval coverage over {N_TRIALS} trials (n={N_SAMPLE}): {coverage}")
    assert 0.93 <= coverage["precision"] <= 0.97
    assert 0.93 <= coverage["recall"] <= 0.97
    assert 0.5 <= coverage["average_precision"] <= 0.99  # reported; biased, see docstring
    assert 0.5 <= coverage[f"average_precision_n{N_SMALL}"] <= 0.99
