"""High volume: 10 classifiers × 14 categories × 6 policy versions over 1,000,000 examples, with
1,000-resample bootstrap CIs on every cell, from stored predictions — through the same scoring
path as ``policybench run`` (:func:`harness.scoring.score_predictions`).

Run: ``.venv/bin/pytest benchmarks/bench_high_volume.py --benchmark-json results/benchmarks/high_volume.json -s``

Reports wall time and peak memory (tracemalloc of numpy allocations + process RSS high-water
mark). The memory bound of the scoring path: the stored label scores (n × L float32 per
classifier) plus, per (classifier, policy version), one projected category block (n × C
float32), the ground truth (n × C uint8) and the kernels' per-thread count buffers — i.e. a few
copies of one score block, independent of the number of resamples.
"""

from __future__ import annotations

import os
import resource
import time
import tracemalloc

import numpy as np
import pytest

from harness.classifiers.base import Taxonomy
from harness.policies import list_versions, load_policy, project_truth, topic_keys
from harness.runner.predict import Predictions
from harness.scoring import score_predictions

N = int(os.environ.get("PB_HIGH_VOLUME_N", "1000000"))
K = 10
R = 1000


class ArraySuite:
    """A suite held as arrays (what stored predictions + truth.parquet give back)."""

    def __init__(self, topics: list[list[str]], labels: list[str]):
        self.topics, self.label_values = topics, labels
        self.scored_mask = np.array([lab != "unknown" for lab in labels])

    def labels(self, policy, *, restricted_as="violation"):
        return project_truth(self.topics, self.label_values, policy, restricted_as=restricted_as)


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    keys = list(topic_keys())
    tid = rng.integers(0, len(keys), N)
    topics = [[keys[i]] for i in tid]
    lab = rng.random(N)
    labels = np.where(lab < 0.5, "unsafe", np.where(lab < 0.98, "benign", "unknown")).tolist()
    preds = []
    ref = load_policy("2023-02-15")
    for k in range(K):
        if k % 2 == 0:  # a topic-level model: 57 labels
            L = len(keys)
            base = np.zeros((N, L), np.float32)
            base[np.arange(N), tid] = (lab < 0.5) * (0.4 + 0.1 * k / K)
            scores = np.clip(base + rng.random((N, L), dtype=np.float32) * 0.6, 0, 1).astype(np.float32)
            tax, names = Taxonomy.topics(), keys
        else:  # a rule pack for the reference version: 14 labels
            names = list(ref.category_keys)
            scores = rng.random((N, len(names)), dtype=np.float32)
            tax = Taxonomy.for_policy(ref.id)
        preds.append(Predictions(name=f"clf{k}", version="1", key=f"k{k}", binding="", labels=names, taxonomy=tax,
                                 scores=scores, errors=[None] * N, latency_single_s=np.full(N, np.nan),
                                 latency_batch_s=np.full(N, 1e-4), batch_size=64))
    return ArraySuite(topics, labels), preds


@pytest.mark.benchmark(group="high-volume")
def test_high_volume_scoring(benchmark):
    suite, preds = _data()
    policies = [load_policy(v) for v in list_versions()]
    # warm the kernels on a small block first (compilation is not part of the measurement)
    small = ArraySuite(suite.topics[:2000], suite.label_values[:2000])
    for p in policies[:1]:
        score_predictions(small, p, [_slice(preds[0], 2000)], n_resamples=20)

    def score_all():
        memo: dict = {}  # as `policybench run` does: cells no policy change touches are scored once
        return [score_predictions(suite, p, preds, n_resamples=R, memo=memo) for p in policies]

    tracemalloc.start()
    t0 = time.perf_counter()
    frames = benchmark.pedantic(score_all, rounds=1, iterations=1)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    block_gb = sum(p.scores.nbytes for p in preds) / 2**30
    cells = sum(len(f) for f in frames)
    benchmark.extra_info.update({"n": N, "classifiers": K, "policy_versions": len(policies), "cells": cells,
                                 "n_resamples": R, "seconds": elapsed, "peak_traced_gb": peak / 2**30,
                                 "max_rss_gb": rss_gb, "stored_scores_gb": block_gb})
    print(f"\nhigh volume: {cells} cells, n={N:,}, {R} resamples: {elapsed:.1f} s; "
          f"peak traced {peak / 2**30:.2f} GB, max RSS {rss_gb:.2f} GB, stored score blocks {block_gb:.2f} GB")
    assert cells == sum(len(p.category_keys) for p in policies) * K
    for f in frames:
        assert f["precision_low"].notna().all() and (f["precision_low"] <= f["precision"] + 1e-12).all()
    # memory bound: the stored scores plus a few copies of one score block
    one_block = N * 57 * 4 / 2**30
    assert peak / 2**30 <= block_gb + 6 * one_block


def _slice(p: Predictions, n: int) -> Predictions:
    return Predictions(name=p.name, version=p.version, key=p.key, binding=p.binding, labels=p.labels,
                       taxonomy=p.taxonomy, scores=p.scores[:n], errors=p.errors[:n],
                       latency_single_s=p.latency_single_s[:n], latency_batch_s=p.latency_batch_s[:n],
                       batch_size=p.batch_size)
