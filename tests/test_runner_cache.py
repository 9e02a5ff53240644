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


def test_text_hash_is_the_pinned_cache_key_format():
    # sha256 of the raw UTF-8 text, first 32 hex characters: changing it orphans every cache
    assert text_hash("abc") == "ba7816bf8f01cfea414140de5dae2223"
    assert len({text_hash("abc"), text_hash("abc "), text_hash("ABC"), text_hash("abd")}) == 4


def test_failed_items_are_not_cached_and_only_they_are_retried(tmp_path):
    texts = ["fine one", "boom here", "fine two", "boom again", "fine three", "boom here"]
    key = "flaky-then-fixed"
    first = run_classifier(Flaky(), texts, PredictionCache(tmp_path, key), latency_sample=0)
    assert [i for i, _ in first.failures()] == [1, 3, 5]
    assert all("model exploded" in why for _, why in first.failures())
    stored = PredictionCache(tmp_path, key).load()
    assert sorted(stored) == sorted(text_hash(t) for t in ("fine one", "fine two", "fine three"))
    assert all(row.error is None and row.scores is not None for row in stored.values())

    healthy = Counting()
    second = run_classifier(healthy, texts, PredictionCache(tmp_path, key), latency_sample=0)
    assert set(healthy.seen) == {"boom here", "boom again"}  # the warm-up repeats one of them
    assert second.n_computed == 2 and second.n_reused == 3
    assert not second.error_mask.any()
    assert np.array_equal(second.scores[[0, 2, 4]], first.scores[[0, 2, 4]])
    assert np.array_equal(second.scores[1], second.scores[5]) and second.scores[1].tolist() == [1.0, 0.25]


def test_no_cache_recomputes_successes_and_failures_alike(tmp_path):
    texts = ["fine one", "boom here"]
    run_classifier(Flaky(), texts, PredictionCache(tmp_path, "k"), latency_sample=0)
    clf = Counting()
    p = run_classifier(clf, texts, PredictionCache(tmp_path, "k", read=False), latency_sample=0)
    assert p.n_computed == 2 and p.n_reused == 0 and set(clf.seen) == set(texts)


def test_a_batch_that_failed_entirely_writes_no_shard(tmp_path):
    cache = PredictionCache(tmp_path, "allbad")
    p = run_classifier(Flaky(), ["boom 1", "boom 2"], cache, latency_sample=0)
    assert p.error_mask.all() and list(cache.folder.glob("shard-*.parquet")) == []


def _old_style_shard(cache, rows):
    """A shard as versions before the fix wrote it: failed items stored with their error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.runner.cache import SCHEMA

    pq.write_table(pa.table({
        "text_hash": [text_hash(t) for t, _, _ in rows],
        "scores": [s for _, s, _ in rows],
        "error": [e for _, _, e in rows],
        "latency_single_s": [float("nan")] * len(rows),
        "latency_batch_s": [0.001] * len(rows),
        "batch_size": [3] * len(rows),
        "note": [None] * len(rows),
    }, schema=SCHEMA), cache.folder / "shard-0-old.parquet")  # sorts before any digest


def test_errors_stored_by_older_versions_are_read_as_not_cached(tmp_path):
    cache = PredictionCache(tmp_path, "old")
    _old_style_shard(cache, [("ok", [0.5, 0.5], None), ("was 500", None, "HTTP 500: gave up after 5 attempts"),
                             ("no scores", None, None)])
    assert list(cache.load()) == [text_hash("ok")]
    clf = Counting()
    p = run_classifier(clf, ["ok", "was 500", "no scores"], cache, latency_sample=0)
    assert set(clf.seen) == {"was 500", "no scores"} and p.n_computed == 2 and p.n_reused == 1
    assert p.errors == [None, None, None] and p.scores[0].tolist() == [0.5, 0.5]
    assert p.scores[1].tolist() == [1.0, 0.25] and p.scores[2].tolist() == [1.0, 0.25]
    # the retried items are now stored as successes; the old error row no longer hides them
    again = Counting()
    assert run_classifier(again, ["ok", "was 500", "no scores"], cache).n_computed == 0 and again.seen == []


def test_a_later_success_wins_over_an_older_stored_error(tmp_path):
    cache = PredictionCache(tmp_path, "both")
    _old_style_shard(cache, [("t", None, "timeout")])
    cache.commit([text_hash("t")], np.array([[0.75, 0.0]], np.float32), [None], [np.nan], [0.01], 3)
    assert cache.load()[text_hash("t")].scores.tolist() == [0.75, 0.0]


@pytest.mark.parametrize("kw, field", [({"batch_size": -1}, "batch_size"), ({"latency_sample": -2}, "latency_sample")])
def test_impossible_options_are_input_errors_before_anything_runs(tmp_path, kw, field):
    from harness.errors import InputError

    clf = Counting()
    with pytest.raises(InputError) as err:
        run_classifier(clf, ["a", "b"], PredictionCache(tmp_path, "opts"), **kw)
    assert [p.field for p in err.value.problems] == [field] and clf.seen == []


# -- scores are validated where they enter (issue 13, item 9) ----------------------------------

class OutOfRange(Counting):
    name = "out-of-range"

    def __init__(self, value):
        super().__init__()
        self.value = value

    def predict(self, texts):
        out = super().predict(texts)
        out[[i for i, t in enumerate(texts) if "odd" in t], 1] = self.value
        return out


@pytest.mark.parametrize("value, what", [(7.0, "the score 7.0"), (-0.5, "the score -0.5"),
                                         (float("nan"), "NaN or infinite"), (float("inf"), "NaN or infinite")])
def test_a_classifier_score_outside_0_1_stops_the_run_naming_classifier_label_and_example(tmp_path, value, what):
    texts = ["plain one", "plain two", "the odd one out", "plain three"]
    with pytest.raises(ClassifierError) as err:
        run_classifier(OutOfRange(value), texts, PredictionCache(tmp_path, "oor"), latency_sample=0, batch_size=2)
    msg = str(err.value)
    assert "'out-of-range'" in msg and what in msg and "'b'" in msg and "the odd one out" in msg
    assert err.value.exit_code == 2
    # the batch before it was committed; the bad batch was not
    assert sorted(PredictionCache(tmp_path, "oor").load()) == sorted(text_hash(t) for t in texts[:2])


def _edit_shard(cache, text, value):
    """Rewrite the committed shard that holds ``text`` with ``value`` as its first score."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for shard in cache.folder.glob("shard-*.parquet"):
        cols = pq.read_table(shard).to_pydict()
        if text_hash(text) in cols["text_hash"]:
            i = cols["text_hash"].index(text_hash(text))
            cols["scores"][i] = [value] + cols["scores"][i][1:]
            pq.write_table(pa.table(cols, schema=pq.read_schema(shard)), shard)
            return shard
    raise AssertionError(f"no shard holds {text!r}")


@pytest.mark.parametrize("value, what", [(5.0, "the score 5.0"), (-1.0, "the score -1.0"),
                                         (float("nan"), "not a finite number"), (None, "not a finite number")])
def test_a_cache_shard_with_a_bad_score_is_an_error_naming_classifier_shard_and_example(tmp_path, value, what):
    from harness.runner.cache import InvalidCachedScores

    texts = [f"text {i}" for i in range(7)]
    cache = PredictionCache(tmp_path, classifier_key("counting", "1", {}))
    run_classifier(Counting(), texts, cache, latency_sample=0)
    shard = _edit_shard(cache, "text 4", value)
    clf = Counting()
    with pytest.raises(InvalidCachedScores) as err:
        run_classifier(clf, texts, PredictionCache(tmp_path, cache.key), latency_sample=0)
    msg = str(err.value)
    assert "'counting'" in msg and str(shard) in msg and "'text 4'" in msg and "example 4" in msg and what in msg
    assert "label 'a'" in msg
    assert "--no-cache" in msg and err.value.exit_code == 2 and clf.seen == []
    # --no-cache does not read the shard, so it recomputes (and the good rows of other runs stay usable)
    p = run_classifier(Counting(), texts, PredictionCache(tmp_path, cache.key, read=False), latency_sample=0)
    assert p.n_computed == 7 and np.isfinite(p.scores).all()
    # a run that does not use the bad row is not affected
    other = run_classifier(Counting(), ["text 0", "text 1"], PredictionCache(tmp_path, cache.key), latency_sample=0)
    assert other.n_reused == 2


def test_valid_shards_pass_the_check_unchanged(tmp_path):
    cache = PredictionCache(tmp_path, "edges")
    cache.commit([text_hash("a"), text_hash("b")], np.array([[0.0, 1.0], [1.0, 0.0]], np.float32),
                 [None, None], [np.nan, np.nan], [0.1, 0.1], 2)
    rows = cache.load()
    assert rows[text_hash("a")].scores.tolist() == [0.0, 1.0] and rows[text_hash("b")].scores.tolist() == [1.0, 0.0]
