"""Prediction cache, batching, latency and per-item faults (no policies needed)."""

import numpy as np
import pytest

from harness.errors import ClassifierError
from harness.runner.cache import PredictionCache, classifier_key, text_hash
from harness.runner.predict import run_classifier


class Counting:
    name = "counting"
    version = "1"
    labels = ["a", "b"]
    batch_size = 3

    def __init__(self):
        self.seen = []

    def predict(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t) % 2, 0.25] for t in texts], dtype=np.float32)


class Flaky(Counting):
    name = "flaky"

    def predict(self, texts):
        if any("boom" in t for t in texts):
            raise RuntimeError("model exploded")
        return super().predict(texts)


def test_second_run_reuses_cache(tmp_path):
    texts = [f"text {i}" for i in range(10)] + ["text 1"]  # one repeat
    clf = Counting()
    cache = PredictionCache(tmp_path, classifier_key("counting", "1", {}))
    p1 = run_classifier(clf, texts, cache, latency_sample=2)
    assert p1.n_computed == 10 and p1.n_reused == 0
    assert p1.scores.shape == (11, 2) and p1.scores.dtype == np.float32
    assert np.array_equal(p1.scores[1], p1.scores[10])
    assert np.isfinite(p1.latency_single_s).sum() == 2
    clf2 = Counting()
    p2 = run_classifier(clf2, texts, PredictionCache(tmp_path, cache.key), latency_sample=2)
    assert clf2.seen == [] and p2.n_computed == 0 and p2.n_reused == 10
    assert np.array_equal(p1.scores, p2.scores)


def test_no_cache_recomputes(tmp_path):
    texts = ["x", "y"]
    key = classifier_key("counting", "1", {})
    run_classifier(Counting(), texts, PredictionCache(tmp_path, key))
    clf = Counting()
    p = run_classifier(clf, texts, PredictionCache(tmp_path, key, read=False), latency_sample=0)
    assert p.n_computed == 2 and set(clf.seen) >= {"x", "y"}


def test_item_errors_are_recorded_and_run_goes_on(tmp_path):
    texts = ["fine one", "boom here", "fine two", "also fine"]
    p = run_classifier(Flaky(), texts, PredictionCache(tmp_path, "flaky"), latency_sample=0)
    assert p.errors[1] is not None and "model exploded" in p.errors[1]
    assert [e is None for e in p.errors] == [True, False, True, True]
    assert p.error_mask.tolist() == [False, True, False, False]
    assert np.all(p.scores[1] == 0)


class BadShape(Counting):
    def predict(self, texts):
        return np.zeros((len(texts), 3), np.float32)


class Nan(Counting):
    def predict(self, texts):
        return np.full((len(texts), 2), np.nan, np.float32)


@pytest.mark.parametrize("cls,msg", [(BadShape, "shape"), (Nan, "NaN")])
def test_broken_classifier_stops_with_clear_error(tmp_path, cls, msg):
    with pytest.raises(ClassifierError, match=msg):
        run_classifier(cls(), ["a", "b"], PredictionCache(tmp_path, "bad"))


def test_committed_batches_survive_a_crash(tmp_path):
    class DiesLate(Counting):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def predict(self, texts):
            self.calls += 1
            if self.calls > 3:  # warm-up + 2 batches, then a bug
                return np.zeros((len(texts), 5), np.float32)
            return super().predict(texts)

    texts = [f"t{i}" for i in range(9)]
    key = "dies"
    with pytest.raises(ClassifierError):
        run_classifier(DiesLate(), texts, PredictionCache(tmp_path, key), latency_sample=0)
    committed = PredictionCache(tmp_path, key).load()
    assert len(committed) == 6  # two whole batches of 3, nothing torn
    clf = Counting()
    p = run_classifier(clf, texts, PredictionCache(tmp_path, key), latency_sample=0)
    assert p.n_reused == 6 and p.n_computed == 3


def test_text_hash_stable():
    assert text_hash("abc") == text_hash("abc") != text_hash("abd")
    assert len(text_hash("x")) == 32
