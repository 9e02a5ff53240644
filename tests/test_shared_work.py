"""The shared-work hooks of the classifier protocol, as the runner uses them.

The runner knows no classifier's internals: a classifier offers ``shared_work()``,
``unshared_work()`` and ``last_batch_info()``, and the runner turns "most of this batch was
reused" into the ``reused-embeddings`` batch note that the latency table reports.
"""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from harness.classifiers.base import BatchInfo, Classifier, SharesWork
from harness.runner.cache import PredictionCache
from harness.runner.predict import REUSED_NOTE, run_classifier, shared_work

_MEMO: dict[str, float] | None = None  # the toy's "embeddings" shared by every instance


class Memoising(Classifier):
    """A toy with shared work: a process-wide memo of per-text features, as MiniLM has."""

    name, version, labels, batch_size = "memo-toy", "1", ["a"], 4

    def __init__(self, tag: str):
        self.tag = tag
        self.paused_calls: list[bool] = []
        self._info = BatchInfo()

    @contextlib.contextmanager
    def shared_work(self):
        global _MEMO
        outer = _MEMO
        _MEMO = {} if outer is None else outer
        try:
            yield
        finally:
            _MEMO = outer

    @contextlib.contextmanager
    def unshared_work(self):
        global _MEMO
        saved, _MEMO = _MEMO, None
        try:
            yield
        finally:
            _MEMO = saved

    def last_batch_info(self) -> BatchInfo:
        return self._info

    def predict(self, texts):
        self.paused_calls.append(_MEMO is None)
        reused = 0
        out = []
        for t in texts:
            if _MEMO is not None and t in _MEMO:
                reused += 1
            elif _MEMO is not None:
                _MEMO[t] = len(t) / 100
            out.append([len(t) / 100])
        self._info = BatchInfo(len(texts), reused)
        return np.array(out, np.float32)


TEXTS = [f"text number {i}" for i in range(10)]


def test_the_toy_and_the_minilm_models_implement_the_protocol():
    assert isinstance(Memoising("x"), SharesWork)
    from harness.classifiers.models import minilm, zeroshot

    for cls in (minilm.MiniLmLogReg, zeroshot.MiniLmPolicyZeroShot):
        assert cls.shared_work is not Classifier.shared_work and cls.last_batch_info is not Classifier.last_batch_info


def test_second_classifier_inside_shared_work_gets_the_reused_note(tmp_path):
    a, b = Memoising("a"), Memoising("b")
    with shared_work([a, b]):
        pa = run_classifier(a, TEXTS, PredictionCache(tmp_path, "a"), latency_sample=3)
        pb = run_classifier(b, TEXTS, PredictionCache(tmp_path, "b"), latency_sample=3)
    assert "batch_notes" not in pa.info
    assert pb.info["batch_notes"] == [REUSED_NOTE]
    assert np.array_equal(pa.scores, pb.scores)
    # batch calls saw the memo, the three timed single-item calls did not (they pay full cost)
    assert b.paused_calls.count(True) == 3 and b.paused_calls.count(False) == 1 + 3  # warm-up + 3 batches


def test_without_shared_work_nothing_is_reused(tmp_path):
    a, b = Memoising("a"), Memoising("b")
    run_classifier(a, TEXTS, PredictionCache(tmp_path, "a"), latency_sample=0)
    pb = run_classifier(b, TEXTS, PredictionCache(tmp_path, "b"), latency_sample=0)
    assert "batch_notes" not in pb.info


def test_a_batch_only_partly_reused_is_not_flagged(tmp_path):
    a, b = Memoising("a"), Memoising("b")
    with shared_work([a]):  # one context is enough: it is shared by every instance
        run_classifier(a, TEXTS[:4], PredictionCache(tmp_path, "a"), latency_sample=0)
        half = TEXTS[:2] + ["fresh one", "fresh two"]  # 2 of 4 reused: not "most"
        pb = run_classifier(b, half, PredictionCache(tmp_path, "b"), batch_size=4, latency_sample=0)
    assert "batch_notes" not in pb.info


def test_shared_work_leaves_its_contexts_on_error():
    a = Memoising("a")
    with pytest.raises(RuntimeError):
        with shared_work([a, object()]):  # an object without the hook is skipped
            assert _MEMO == {}
            raise RuntimeError
    assert _MEMO is None


def test_the_runner_does_not_reach_into_classifier_internals():
    root = Path(__file__).resolve().parents[1] / "harness" / "runner"
    for name in ("predict.py", "executors.py"):
        src = (root / name).read_text()
        assert "_embed" not in src and "MEMO_STATS" not in src and "memo_paused" not in src, name
    assert "import _call" not in (root / "executors.py").read_text()


needs_embeddings = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None, reason="needs the embeddings extra")


@needs_embeddings
def test_zeroshot_bindings_share_embeddings_through_the_hook(tmp_path):
    from harness.classifiers import get_classifier
    from harness.policies import load_policy

    zs = get_classifier("minilm-policy-zeroshot")
    texts = [f"how do I pick a lock, variant {i}" for i in range(12)]
    with shared_work([zs]):
        b1, b2 = (zs.for_policy(load_policy(v)) for v in ("2023-02-15", "2024-01-10"))
        p1 = run_classifier(b1, texts, PredictionCache(tmp_path, "z1"), latency_sample=2)
        p2 = run_classifier(b2, texts, PredictionCache(tmp_path, "z2"), latency_sample=2)
    assert "batch_notes" not in p1.info and p2.info["batch_notes"] == [REUSED_NOTE]
    assert b2.last_batch_info().n_items == 1  # the last call was a timed single item ...
    assert b2.last_batch_info().n_reused == 0  # ... outside the memo
    fresh = zs.for_policy(load_policy("2024-01-10"))
    p3 = run_classifier(fresh, texts, PredictionCache(tmp_path, "z3"), latency_sample=0)
    assert "batch_notes" not in p3.info
    assert np.allclose(p2.scores, p3.scores, atol=1e-6)
