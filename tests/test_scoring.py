"""Scoring stored predictions: the cell memo gives identical numbers; metrics equal sklearn."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_score, recall_score

from harness.classifiers.base import Taxonomy
from harness.policies import list_versions, load_policy, topic_keys
from harness.runner.predict import Predictions
from harness.scoring import score_predictions
from harness.suites import load_suite


def _pred(suite, seed):
    rng = np.random.default_rng(seed)
    keys = list(topic_keys())
    n = len(suite)
    return Predictions(name=f"r{seed}", version="1", key=f"k{seed}", binding="", labels=keys,
                       taxonomy=Taxonomy.topics(), scores=rng.random((n, len(keys)), dtype=np.float32),
                       errors=[None] * n, latency_single_s=np.full(n, np.nan), latency_batch_s=np.full(n, 1e-3),
                       batch_size=8)


def _scored_smoke(seed):
    """Random topic scores on smoke, scored under 2023-02-15: (suite, policy, metrics, S, Y, scored mask)."""
    from harness.scoring import category_scores

    suite = load_suite("smoke")
    pred = _pred(suite, seed)
    pol = load_policy("2023-02-15")
    df = score_predictions(suite, pol, [pred], n_resamples=50)
    S, _ = category_scores(pred, pol)
    return suite, pol, df, S, suite.labels(pol), suite.scored_mask


def test_memo_gives_identical_numbers_and_saves_work():
    suite = load_suite("smoke")
    preds = [_pred(suite, 1), _pred(suite, 2)]
    pols = [load_policy(v) for v in list_versions()]
    plain = [score_predictions(suite, p, preds, n_resamples=100) for p in pols]
    memo: dict = {}
    cached = [score_predictions(suite, p, preds, n_resamples=100, memo=memo) for p in pols]
    for a, b in zip(plain, cached):
        assert a.equals(b)
    total_cells = sum(len(f) for f in plain)
    assert len(memo) < total_cells  # versions share unchanged cells


def test_cells_equal_sklearn():
    suite, pol, df, S, Y, m = _scored_smoke(3)
    for j, cat in enumerate(pol.category_keys):
        row = df[df["category"] == cat].iloc[0]
        y, s = Y[m, j], S[m, j]
        assert row["precision"] == pytest.approx(precision_score(y, s >= 0.5, zero_division=0), abs=1e-12)
        assert row["recall"] == pytest.approx(recall_score(y, s >= 0.5, zero_division=0), abs=1e-12)
        assert row["average_precision"] == pytest.approx(average_precision_score(y, s), abs=1e-12)
        assert row["precision_low"] <= row["precision"] <= row["precision_high"]


def test_contrast_metrics_equal_sklearn_on_the_contrast_set():
    from sklearn.metrics import roc_auc_score

    from harness.policies import imitation_mask

    suite, pol, df, S, Y, m = _scored_smoke(4)
    B = imitation_mask(suite.topics, suite.label_values, pol)
    for j, cat in enumerate(pol.category_keys):
        row = df[df["category"] == cat].iloc[0]
        pos, neg = m & (Y[:, j] == 1), m & B[:, j] & (Y[:, j] == 0)
        assert (row["contrast_n_unsafe"], row["contrast_n_benign"]) == (pos.sum(), neg.sum()) and pos.sum() and neg.sum()
        keep = pos | neg
        assert row["contrast_recall"] == pytest.approx((S[pos, j] >= 0.5).mean(), abs=1e-12)
        assert row["contrast_fpr"] == pytest.approx((S[neg, j] >= 0.5).mean(), abs=1e-12)
        assert row["contrast_roc_auc"] == pytest.approx(roc_auc_score(Y[keep, j], S[keep, j]), abs=1e-12)
        assert row["contrast_roc_auc_low"] <= row["contrast_roc_auc"] <= row["contrast_roc_auc_high"]


def test_undefined_metrics_are_nan_not_zero():
    """A category with no positives (legal with restricted counted as allowed) has no AP, recall or F1."""
    suite = load_suite("smoke")
    pred = _pred(suite, 5)
    pol = load_policy("2023-02-15")
    df = score_predictions(suite, pol, [pred], n_resamples=50, restricted_as="allowed")
    legal = df[df["category"] == "legal"].iloc[0]
    assert legal["n_positive"] == 0
    for m in ("recall", "f1", "average_precision", "roc_auc", "average_precision_low", "contrast_recall",
              "contrast_roc_auc"):
        assert np.isnan(legal[m]), m
    assert legal["n_negative"] > 0 and not legal["covered"]  # no topic of legal is a violation: nothing to speak


def test_uncovered_categories_have_no_metrics():
    suite = load_suite("smoke")
    pred = _pred(suite, 6)
    pol = load_policy("2023-02-15")
    only = Predictions(name="m", version="1", key="km", binding="", labels=["malware"], taxonomy=Taxonomy.topics(),
                       scores=pred.scores[:, :1].copy(), errors=[None] * len(suite),
                       latency_single_s=np.full(len(suite), np.nan), latency_batch_s=np.full(len(suite), 1e-3),
                       batch_size=8)
    df = score_predictions(suite, pol, [only], n_resamples=50)
    health = df[df["category"] == "health"].iloc[0]
    assert not health["covered"] and np.isnan(health["precision"]) and np.isnan(health["contrast_fpr"])
    assert not np.isnan(df[df["category"] == "malware"].iloc[0]["contrast_roc_auc"])


def test_a_stored_run_with_pairs_reads_back_as_a_suite(tmp_path):
    """Optional columns (pair_id, group…) are None for public rows: Parquet gives NaN, to_suite gives None."""
    from harness import RunOptions, run_benchmark
    from harness.results.runs import load_run

    suite = load_suite("smoke")
    mixed = suite.from_examples("mixed", suite.examples[:6] + [suite.examples[6].model_copy(
        update={"pair_id": None, "group": None, "form": None, "contrast": None, "review": None})])
    res = run_benchmark(mixed, ["keyword-rules"], ["2023-02-15"], out=tmp_path / "runs",
                        options=RunOptions(split=None, n_resamples=20, latency_sample=0), cache_root=tmp_path / "c")
    back = load_run(res.run_dir).suite
    assert [e.pair_id for e in back.examples] == [e.pair_id for e in mixed.examples]
    assert back.examples[-1].pair_id is None and back.examples[0].pair_id is not None
