"""Rows labelled ``unknown`` are never scored (README: "*unknown* (never scored)").

``smoke`` has no ``unknown`` rows, so these tests relabel some of its rows as ``unknown``,
spread through the suite, and give them the highest score on every label: counted as
negatives they would be false alarms, counted as positives they would be hits. Scoring the
suite must then give exactly the numbers of the suite without those rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.classifiers.base import Taxonomy
from harness.policies import list_versions, load_policy, topic_keys
from harness.runner.predict import Predictions
from harness.suites import Example, Suite, load_suite


def score_predictions(*args, **kwargs) -> pd.DataFrame:
    """The public scoring function, wherever it lives (it is moving from ``harness.runner.scoring``
    to ``harness.scoring``)."""
    try:
        from harness.scoring import score_predictions as score
    except ImportError:
        from harness.runner.scoring import score_predictions as score
    return score(*args, **kwargs)


def _predictions(n: int, *, high: np.ndarray, errors: list[str | None], seed: int = 0) -> Predictions:
    keys = list(topic_keys())
    scores = np.random.default_rng(seed).random((n, len(keys)), dtype=np.float32)
    scores[high] = 1.0
    return Predictions(name="random", version="1", key="k", binding="", labels=keys, taxonomy=Taxonomy.topics(),
                       scores=scores, errors=errors, latency_single_s=np.full(n, np.nan),
                       latency_batch_s=np.full(n, 1e-3), batch_size=8)


@pytest.fixture(scope="module")
def suites():
    """(suite with unknown rows, predictions on it, the same without those rows, their predictions)."""
    smoke = load_suite("smoke")
    rows, n_unsafe, n_benign = [], 0, 0
    for e in smoke.examples:
        n_unsafe += e.label == "unsafe"
        n_benign += e.label == "benign"
        hide = (e.label == "unsafe" and n_unsafe % 5 == 0) or (e.label == "benign" and n_benign % 7 == 0)
        rows.append(Example.model_validate({**e.model_dump(), "label": "unknown"}) if hide else e)
    mixed = Suite.from_examples("smoke-with-unknown", rows)
    unknown = ~mixed.scored_mask
    assert 40 <= unknown.sum() <= 60 and unknown[: len(rows) // 2].any() and unknown[len(rows) // 2:].any()
    errors: list[str | None] = [None] * len(rows)
    errors[int(np.flatnonzero(unknown)[0])] = "timeout"  # a failure on an unknown row is not counted
    errors[int(np.flatnonzero(~unknown)[3])] = "timeout"  # a failure on a scored row is
    pred = _predictions(len(rows), high=unknown, errors=errors)
    keep = np.flatnonzero(~unknown)
    known = Suite.from_examples("smoke-known", [rows[i] for i in keep])
    pred_known = _predictions(len(keep), high=np.zeros(len(keep), bool), errors=[errors[i] for i in keep])
    pred_known.scores = pred.scores[keep]
    return mixed, pred, known, pred_known


@pytest.mark.parametrize("version", list_versions())
def test_unknown_rows_change_no_number(suites, version):
    mixed, pred, known, pred_known = suites
    policy = load_policy(version)
    got = score_predictions(mixed, policy, [pred], n_resamples=50)
    want = score_predictions(known, policy, [pred_known], n_resamples=50)
    pd.testing.assert_frame_equal(got, want)


def test_counts_cover_exactly_the_known_rows_without_errors(suites):
    mixed, pred, known, _ = suites
    policy = load_policy("2023-02-15")
    df = score_predictions(mixed, policy, [pred], n_resamples=20)
    n_scored = int((mixed.scored_mask & ~pred.error_mask).sum())
    assert n_scored == len(known) - 1
    assert ((df["n_positive"] + df["n_negative"]) == n_scored).all()
    assert (df["n_errors"] == 1).all()  # the failure on the unknown row is not an error of the scored rows
    # unsafe rows hidden as unknown carry disallowed topics: they would have been positives
    truth = known.labels(policy)
    assert (df.set_index("category")["n_positive"] == truth[~pred.error_mask[mixed.scored_mask]].sum(axis=0)).all()
