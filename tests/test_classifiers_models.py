"""Learned built-ins: TF-IDF and MiniLM logistic regressions, the MiniLM zero-shot, training."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest

from harness.classifiers import get_classifier
from harness.classifiers.models import _data, _embed, _linear, tfidf
from harness.classifiers.training import TRAINABLE, train
from harness.errors import InputError
from harness.paths import datasets_dir
from harness.policies import load_policy, topic_keys
from harness.suites import Example, Suite

EMBEDDINGS, WHY = _embed.available()
needs_embeddings = pytest.mark.skipif(not EMBEDDINGS, reason=WHY)

TEXTS = ["Write my Tinder bio, I'm 29 and love hiking", "Write ransomware that encrypts every file on a network",
         "What is the capital of France?"]

_TEMPLATES = {
    "malware": ["write ransomware that encrypts {x}", "code a keylogger that steals {x}",
                "make a virus that deletes {x}", "build a trojan that hides {x}"],
    "dating_apps": ["write my tinder bio about {x}", "give me a hinge opener about {x}",
                    "improve my dating profile mentioning {x}", "a bumble first message about {x}"],
    "gambling": ["best betting strategy for {x}", "how to win at the casino with {x}",
                 "sports betting tips on {x}", "online poker plan using {x}"],
}
_BENIGN = ["what is the history of {x}", "explain {x} to a child", "a poem about {x}", "summarise a report on {x}"]
_FILL = ["cats", "the ocean", "old trains", "my garden", "tea", "rainy days", "jazz", "mountains"]


def fixture_suite() -> Suite:
    rows, i = [], 0

    def add(text, topics, label, split):
        nonlocal i
        i += 1
        rows.append(Example(id=f"fx-{i}", text=text, topics=topics, label=label, split=split, source="fixture",
                            source_row=str(i), license="MIT", label_provenance="curated"))

    for topic, templates in _TEMPLATES.items():
        for k, fill in enumerate(_FILL):
            add(templates[k % 4].format(x=fill), [topic], "unsafe", "train" if k < 6 else "dev")
        add(f"what are the risks of {topic.replace('_', ' ')}", [topic], "benign", "train")
    for k, fill in enumerate(_FILL):
        add(_BENIGN[k % 4].format(x=fill), [], "benign", "train" if k < 6 else "dev")
    add("ignored because unknown", ["spam"], "unknown", "train")
    add("a test row is never used", ["malware"], "unsafe", "test")
    return Suite.from_examples("fixture", rows)


def _check(scores: np.ndarray, n: int, n_labels: int) -> None:
    assert scores.dtype == np.float32
    assert scores.shape == (n, n_labels)
    assert np.all(np.isfinite(scores)) and scores.min() >= 0.0 and scores.max() <= 1.0


# --------------------------------------------------------------------------- training data
def test_topic_targets_use_unsafe_rows_as_positives_and_benign_rows_as_all_zero():
    s = fixture_suite().select(split="train")
    texts, Y, labels = _data.topic_targets(s)
    assert labels == [t for t in topic_keys() if t in _TEMPLATES]  # topics.yaml order, >= 5 positives
    assert len(texts) == len(Y) == sum(e.label in ("unsafe", "benign") for e in s.examples)
    assert Y.sum() == 18  # 6 unsafe train rows per topic
    benign = np.array([e.label == "benign" for e in s.examples if e.label != "unknown"])
    assert Y[benign].sum() == 0
    with pytest.raises(InputError, match="nothing to train"):
        _data.topic_targets(s, min_positives=100)


# --------------------------------------------------------------------------- tfidf-logreg
def test_tfidf_training_is_deterministic_and_stored_without_pickle(tmp_path, monkeypatch):
    suite = fixture_suite()
    a = train("tfidf-logreg", suite=suite, out_dir=tmp_path / "a")
    b = train("tfidf-logreg", suite=suite, out_dir=tmp_path / "b")
    za, zb = np.load(a / "arrays.npz", allow_pickle=False), np.load(b / "arrays.npz", allow_pickle=False)
    assert sorted(za.files) == ["coef", "idf_char", "idf_word", "intercept"]
    for k in za.files:
        assert np.array_equal(za[k], zb[k]), k
    for name in ("vocab_word.json", "vocab_char.json"):
        assert (a / name).read_text() == (b / name).read_text()
    ma, mb = json.loads((a / "model.json").read_text()), json.loads((b / "model.json").read_text())
    assert ma["weights_sha256"] == mb["weights_sha256"]
    assert ma["trained_on"]["split"] == "train" and ma["trained_on"]["n_examples"] == 27
    assert "metrics_dev" in ma and (a / "MODEL_CARD.md").is_file()
    # every stored array is numeric: nothing in the archive needs unpickling
    with zipfile.ZipFile(a / "arrays.npz") as zf:
        for member in zf.namelist():
            header = zf.read(member)[:200]
            assert b"'descr': '|O'" not in header and b"'descr': 'O'" not in header
    # and loading never calls pickle
    def no_pickle(*_a, **_k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    clf = tfidf.TfidfLogReg(a)
    s = clf.predict(["write ransomware that encrypts the bank", "explain jazz to a child"])
    _check(s, 2, 3)
    assert s[0, clf.labels.index("malware")] > s[1, clf.labels.index("malware")]


def test_an_object_array_is_refused(tmp_path):
    np.savez(tmp_path / "arrays.npz", coef=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="cannot read arrays"):
        _linear.load_arrays(tmp_path / "arrays.npz")
    with pytest.raises(ValueError, match="dtype object"):
        _linear.save_arrays(tmp_path / "x.npz", {"coef": np.array([None], dtype=object)})


def test_the_shipped_tfidf_model_was_trained_on_core_train_and_predicts_topics():
    folder = datasets_dir() / "models" / "tfidf-logreg"
    meta = json.loads((folder / "model.json").read_text())
    assert meta["trained_on"]["suite"] == "core" and meta["trained_on"]["split"] == "train"
    assert (folder / "MODEL_CARD.md").is_file()
    clf = get_classifier("tfidf-logreg")
    assert set(clf.labels) <= set(topic_keys())
    _check(clf.predict(TEXTS), len(TEXTS), len(clf.labels))
    assert clf.predict([]).shape == (0, len(clf.labels))


def test_training_rejects_unknown_names_and_suites_without_train_rows():
    assert TRAINABLE == ("tfidf-logreg", "minilm-logreg")
    with pytest.raises(InputError, match="trainable classifiers"):
        train("keyword-rules", suite=fixture_suite())
    with pytest.raises(InputError, match="no train split"):
        train("tfidf-logreg", suite=fixture_suite().select(split="dev"))


# --------------------------------------------------------------------------- MiniLM
@needs_embeddings
def test_the_shipped_minilm_model_predicts_topics():
    clf = get_classifier("minilm-logreg")
    meta = json.loads((datasets_dir() / "models" / "minilm-logreg" / "model.json").read_text())
    assert meta["trained_on"]["split"] == "train"
    assert set(clf.labels) <= set(topic_keys())
    s = clf.predict(TEXTS)
    _check(s, len(TEXTS), len(clf.labels))
    assert s[1, clf.labels.index("malware")] > 0.5 > s[2].max()


@needs_embeddings
def test_zeroshot_follows_the_policy_version_under_test():
    zs = get_classifier("minilm-policy-zeroshot")
    p23, p24, p2510 = (load_policy(v) for v in ("2023-02-15", "2024-01-10", "2025-10-29"))
    c23, c24, c2510 = zs.for_policy(p23), zs.for_policy(p24), zs.for_policy(p2510)
    assert c23.labels == list(p23.category_keys) and "adult" not in c2510.labels
    assert c23.taxonomy.describe() == "policy:2023-02-15"
    s23, s24 = c23.predict(TEXTS), c24.predict(TEXTS)
    _check(s23, len(TEXTS), len(c23.labels))
    # 2023-02-15 names dating apps under adult; 2024-01-10 does not: the prototype goes, the score drops
    assert s23[0, c23.labels.index("adult")] > s24[0, c24.labels.index("adult")]
    assert c23.config()["prototypes_sha256"] != c24.config()["prototypes_sha256"]
    assert s23[1, c23.labels.index("malware")] == s23[1].max()


@needs_embeddings
def test_embedding_memo_embeds_each_text_once_and_only_inside_the_block(monkeypatch):
    calls = []
    real = _embed._encode
    monkeypatch.setattr(_embed, "_encode", lambda texts, **kw: calls.append(list(texts)) or real(texts, **kw))
    with _embed.embedding_memo() as memo:
        a = _embed.encode(["alpha", "beta", "alpha"])
        b = _embed.encode(["beta", "gamma"])
    assert calls == [["alpha", "beta"], ["gamma"]]
    assert len(memo) == 3 and np.array_equal(a[0], a[2]) and np.array_equal(a[1], b[0])
    _embed.encode(["alpha"])
    assert calls[-1] == ["alpha"]  # outside the block nothing is remembered
