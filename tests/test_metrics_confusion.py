"""Confusion counts and precision/recall/F1/FPR over blocks, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from harness.metrics import MetricInputError, confusion_counts, precision_recall_f1


def _sk_cell(y, s, threshold):
    pred = (s >= threshold).astype(int)
    p, r, f, _ = precision_recall_fscore_support(
        y, pred, average="binary", zero_division=0, labels=[0, 1], pos_label=1
    )
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    fpr = fp / (fp + tn) if fp + tn else 0.0
    return p, r, f, fpr, tp, fp, fn, tn


@st.composite
def blocks(draw):
    n = draw(st.integers(1, 40))
    c = draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    prevalence = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    y = (rng.random((n, c)) < prevalence).astype(np.uint8)
    levels = draw(st.integers(1, 6))  # few distinct scores: many ties, some on the threshold
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    s = (rng.integers(0, levels + 1, size=(k, n, c)) / levels).astype(dtype)
    threshold = draw(st.sampled_from([0.5, 0.0, 1.0, 1 / 3, -np.inf, np.inf]))
    return y, s, threshold


@settings(max_examples=60, deadline=None)
@given(blocks())
def test_block_equals_sklearn_per_cell(block):
    y, s, threshold = block
    r = precision_recall_f1(y, s, threshold=threshold)
    k, n, c = s.shape
    assert r.precision.shape == (k, c)
    for kk in range(k):
        for j in range(c):
            p, rec, f, fpr, tp, fp, fn, tn = _sk_cell(y[:, j], s[kk, :, j], threshold)
            assert r.precision[kk, j] == p
            assert r.recall[kk, j] == rec
            assert r.f1[kk, j] == f
            assert r.fpr[kk, j] == fpr
            assert (r.tp[kk, j], r.fp[kk, j], r.fn[kk, j], r.tn[kk, j]) == (tp, fp, fn, tn)
            assert r.support[kk, j] == y[:, j].sum()
            assert r.n_negative[kk, j] == n - y[:, j].sum()


THRESHOLDS = st.sampled_from([0.0, 0.2, 0.5, 0.5, 0.7, 1.0, np.inf, -np.inf])


@settings(max_examples=30, deadline=None)
@given(blocks(), st.lists(THRESHOLDS, min_size=1, max_size=40))
def test_threshold_vector_equals_one_call_per_threshold(block, thresholds):
    # up to 40 thresholds: exercises both the counting and the binary-search paths
    y, s, _ = block
    many = confusion_counts(y, s, threshold=np.array(thresholds))
    for q, t in enumerate(thresholds):
        one = confusion_counts(y, s, threshold=t)
        for field in ("tp", "fp", "fn", "tn"):
            np.testing.assert_array_equal(getattr(many, field)[..., q], getattr(one, field))


def test_shapes_follow_inputs():
    rng = np.random.default_rng(0)
    y = (rng.random((50, 3)) < 0.4).astype(np.uint8)
    s = rng.random((4, 50, 3)).astype(np.float32)
    assert confusion_counts(y, s).tp.shape == (4, 3)
    assert confusion_counts(y, s[0]).tp.shape == (3,)
    assert confusion_counts(y, s, threshold=[0.1, 0.9]).tp.shape == (4, 3, 2)
    one = confusion_counts(y[:, 0], s[0, :, 0])
    assert np.ndim(one.tp) == 0 and isinstance(one.tp, np.int64)
    assert one.tp + one.fp + one.fn + one.tn == 50
    assert precision_recall_f1(y[:, 0], s[0, :, 0], threshold=[0.2, 0.5]).f1.shape == (2,)
    assert confusion_counts(y, s).tp.dtype == np.int64


def test_degenerate_inputs_are_defined():
    empty = precision_recall_f1(np.zeros(0, np.uint8), np.zeros(0))
    assert (empty.precision, empty.recall, empty.f1, empty.fpr, empty.tp) == (0.0, 0.0, 0.0, 0.0, 0)
    empty_block = precision_recall_f1(np.zeros((0, 3), np.uint8), np.zeros((2, 0, 3)))
    assert empty_block.f1.shape == (2, 3) and not empty_block.f1.any()
    all_pos = precision_recall_f1(np.ones(4, np.uint8), np.array([0.1, 0.6, 0.7, 0.2]))
    assert (all_pos.precision, all_pos.recall, all_pos.fpr) == (1.0, 0.5, 0.0)
    all_neg = precision_recall_f1(np.zeros(4, np.uint8), np.array([0.1, 0.6, 0.7, 0.2]))
    assert (all_neg.precision, all_neg.recall, all_neg.f1, all_neg.fpr) == (0.0, 0.0, 0.0, 0.5)


def test_score_equal_to_threshold_is_positive_and_thresholds_keep_their_order():
    y = np.array([1, 0, 1], np.uint8)
    s = np.array([0.5, 0.5, 0.49999])
    assert int(confusion_counts(y, s, threshold=0.5).tp) == 1
    r = confusion_counts(y, s, threshold=[0.6, 0.5, -np.inf])
    np.testing.assert_array_equal(r.tp, [0, 1, 2])
    np.testing.assert_array_equal(r.fp, [0, 1, 1])


def test_label_dtypes_are_accepted():
    s = np.array([0.9, 0.1, 0.7])
    expected = confusion_counts(np.array([1, 0, 0], np.uint8), s)
    for y in ([True, False, False], [1, 0, 0], [1.0, 0.0, 0.0], np.array([1, 0, 0], np.int64)):
        assert confusion_counts(y, s) == expected


def test_large_block_parallel_path_matches_numpy():
    rng = np.random.default_rng(1)
    n, c, k = 300_000, 3, 2
    y = (rng.random((n, c)) < 0.2).astype(np.uint8)
    s = rng.random((k, n, c)).astype(np.float32)
    r = confusion_counts(y, s, threshold=0.3)
    pred = s >= 0.3
    np.testing.assert_array_equal(r.tp, (pred & (y[None] == 1)).sum(axis=1))
    np.testing.assert_array_equal(r.fp, (pred & (y[None] == 0)).sum(axis=1))


@pytest.mark.parametrize(
    "y, s, kwargs, argument, text",
    [
        ([1, 0], [0.1, 0.2, 0.3], {}, "y_score", "has 3 scores but y_true has 2 labels"),
        ([1, 2, 0], [0.1, 0.2, 0.3], {}, "y_true", "labels must be 0 or 1, got 2 at index 1"),
        ([1, -1, 0], [0.1, 0.2, 0.3], {}, "y_true", "got -1 at index 1"),
        ([1, 0.5, 0], [0.1, 0.2, 0.3], {}, "y_true", "got 0.5 at index 1"),
        (["a", "b"], [0.1, 0.2], {}, "y_true", "dtype"),
        ([1, 0, 0], [0.1, np.nan, 0.3], {}, "y_score", "found NaN at index 1"),
        ([1, 0, 0], [0.1, 0.2, -np.inf], {}, "y_score", "found -inf at index 2"),
        ([1, 0, 0], [0.1, 0.2, 0.3], {"threshold": np.nan}, "threshold", "NaN"),
        ([1, 0, 0], [0.1, 0.2, 0.3], {"threshold": [[0.5]]}, "threshold", "1-D"),
        ([1, 0, 0], [[0.1], [0.2], [0.3]], {}, "y_score", "pass y_true of shape (n, c)"),
        ([[[1]]], [0.1], {}, "y_true", "1 dimension or 2 dimensions"),
    ],
)
def test_bad_input_names_argument_and_problem(y, s, kwargs, argument, text):
    with pytest.raises(MetricInputError) as info:
        precision_recall_f1(y, s, **kwargs)
    assert info.value.argument == argument
    assert text in str(info.value)
    assert isinstance(info.value, ValueError) and info.value.exit_code == 2  # the CLI exits 2 on it


def test_nan_in_block_reports_full_index():
    y = np.zeros((5, 2), np.uint8)
    s = np.zeros((3, 5, 2))
    s[2, 4, 1] = np.inf
    with pytest.raises(MetricInputError, match=r"found inf at index \(2, 4, 1\)"):
        confusion_counts(y, s)
    with pytest.raises(MetricInputError, match=r"must have shape \(k, n, c\) with \(n, c\) = \(5, 2\)"):
        confusion_counts(y, s[:, :4])
