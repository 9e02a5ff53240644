"""Average precision, ROC-AUC and the precision-recall curve against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.metrics import precision_recall_curve as sk_precision_recall_curve

from harness.metrics import (
    MetricInputError,
    average_precision,
    precision_recall_curve,
    ranking_metrics,
    roc_auc,
)


def _sk(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


@st.composite
def ranked(draw, max_n=60):
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    prevalence = draw(st.sampled_from([0.0, 0.05, 0.3, 0.5, 0.9, 1.0]))
    y = (rng.random(n) < prevalence).astype(np.uint8)
    kind = draw(st.sampled_from(["ties", "continuous", "signed", "zeros"]))
    if kind == "ties":
        s = rng.integers(0, draw(st.integers(1, 5)) + 1, n) / 5.0
    elif kind == "continuous":
        s = rng.random(n) + 0.5 * y * rng.random()
    elif kind == "signed":
        s = rng.normal(size=n) * 1e3
    else:  # +0.0 and -0.0 are the same score
        s = np.where(rng.random(n) < 0.5, 0.0, -0.0) + rng.integers(0, 2, n)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return y, s.astype(dtype)


@settings(max_examples=150, deadline=None)
@given(ranked())
def test_ap_auc_curve_equal_sklearn(data):
    y, s = data
    r = ranking_metrics(y, s)
    assert abs(r.average_precision - _sk(average_precision_score, y, s)) <= 1e-12
    assert average_precision(y, s) == r.average_precision
    if 0 < y.sum() < y.size:
        assert abs(r.roc_auc - roc_auc_score(y, s)) <= 1e-12
        assert roc_auc(y, s) == r.roc_auc
    else:
        assert np.isnan(r.roc_auc)
    p, rc, t = precision_recall_curve(y, s)
    sp, src, st_ = _sk(sk_precision_recall_curve, y, s)
    np.testing.assert_array_equal(p, sp)
    np.testing.assert_array_equal(rc, src)
    np.testing.assert_array_equal(t, st_)
    assert t.dtype == st_.dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rounding", [None, 3])
def test_large_inputs_equal_sklearn(dtype, rounding):
    # > 2**17 examples: the multi-threaded split and a radix sort with several passes
    rng = np.random.default_rng(7)
    n = 300_000
    y = (rng.random(n) < 0.2).astype(np.uint8)
    s = rng.random(n) + 0.2 * y
    if rounding is not None:
        s = np.round(s, rounding)
    s = s.astype(dtype)
    r = ranking_metrics(y, s)
    assert abs(r.average_precision - average_precision_score(y, s)) <= 1e-12
    assert abs(r.roc_auc - roc_auc_score(y, s)) <= 1e-12


def test_columns_and_blocks_equal_one_column_at_a_time():
    rng = np.random.default_rng(3)
    y = (rng.random((200, 4)) < 0.3).astype(np.uint8)
    y[:, 3] = 0  # a category without positives
    s = np.round(rng.random((3, 200, 4)), 2)
    r = ranking_metrics(y, s)
    assert r.average_precision.shape == (3, 4) and r.roc_auc.shape == (3, 4)
    for k in range(3):
        for j in range(4):
            one = ranking_metrics(y[:, j], s[k, :, j])
            assert r.average_precision[k, j] == one.average_precision
            assert np.array_equal(r.roc_auc[k, j], one.roc_auc, equal_nan=True)
    np.testing.assert_array_equal(average_precision(y, s[1]), r.average_precision[1])
    assert np.isnan(roc_auc(y, s[0])[3]) and average_precision(y, s[0])[3] == 0.0


def test_degenerate_results_are_documented_values():
    s = np.array([0.2, 0.9, 0.4])
    assert average_precision([1, 1, 1], s) == 1.0 == _sk(average_precision_score, [1, 1, 1], s)
    assert average_precision([0, 0, 0], s) == 0.0 == _sk(average_precision_score, [0, 0, 0], s)
    assert np.isnan(roc_auc([0, 0, 0], s)) and np.isnan(roc_auc([1, 1, 1], s))
    empty = ranking_metrics(np.zeros(0, np.uint8), np.zeros(0))
    assert np.isnan(empty.average_precision) and np.isnan(empty.roc_auc)
    p, r, t = precision_recall_curve([0, 0, 0], s)
    np.testing.assert_array_equal(r, [1, 1, 1, 0])
    np.testing.assert_array_equal(p, [0, 0, 0, 1])
    with pytest.raises(MetricInputError, match="empty"):
        precision_recall_curve([], [])


def test_single_example_and_all_tied():
    assert average_precision([1], [0.3]) == 1.0
    assert roc_auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert average_precision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5


@pytest.mark.parametrize("fn", [average_precision, roc_auc, ranking_metrics, precision_recall_curve])
def test_nonfinite_scores_are_rejected_with_index(fn):
    s = np.linspace(0, 1, 10)
    s[6] = np.nan
    with pytest.raises(MetricInputError, match="found NaN at index 6") as info:
        fn((np.arange(10) % 2).astype(np.uint8), s)
    assert info.value.argument == "y_score"


def test_nonfinite_in_block_column_reports_block_index():
    y = np.zeros((4, 2), np.uint8)
    y[0] = 1
    s = np.zeros((2, 4, 2), np.float32)
    s[1, 2, 0] = -np.inf
    with pytest.raises(MetricInputError, match=r"found -inf at index \(1, 2, 0\)"):
        average_precision(y, s)


def test_curve_is_one_dimensional_only():
    with pytest.raises(MetricInputError, match="1 dimension"):
        precision_recall_curve([[1], [0]], [[0.2], [0.1]])
