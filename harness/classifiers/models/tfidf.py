"""``tfidf-logreg``: TF-IDF n-grams and one-vs-rest logistic regression over topics.

Features: word 1–2-grams and character 3–5-grams within word boundaries (``char_wb``), each
TF-IDF with sublinear term frequency and L2 normalisation, concatenated. Heads: one binary
logistic regression per topic (liblinear, ``C = 4``, balanced class weights, ``random_state
= 0``: deterministic). Trained on a suite's train split only (see
:func:`harness.classifiers.training.train`).

Stored without pickle in ``datasets/models/tfidf-logreg/``: ``model.json`` (labels,
vectoriser settings, training data, dev metrics), ``vocab_word.json`` and ``vocab_char.json``
(terms in column order) and ``arrays.npz`` (``idf_word``, ``idf_char``, ``intercept`` as
float32 and ``coef`` as float16 — half the size, scores move by less than 1e-3; read with
``allow_pickle=False``). The vectorisers are rebuilt from the vocabulary and idf weights.
Word features are capped at 10,000 and character features at 15,000 (by corpus frequency).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.classifiers.models import _linear
from harness.errors import InputError, Problem
from harness.paths import datasets_dir

NAME = "tfidf-logreg"

#: Vectoriser settings (JSON-able; ``ngram_range`` becomes a tuple when used).
VECTORIZERS: dict[str, dict[str, Any]] = {
    "word": {"analyzer": "word", "ngram_range": [1, 2], "lowercase": True, "strip_accents": "unicode",
             "token_pattern": r"(?u)\b\w+\b", "min_df": 2, "max_features": 10000, "sublinear_tf": True},
    "char": {"analyzer": "char_wb", "ngram_range": [3, 5], "lowercase": True, "strip_accents": "unicode",
             "min_df": 2, "max_features": 15000, "sublinear_tf": True},
}
#: Logistic-regression settings of every head.
HEAD: dict[str, Any] = {"C": 4.0, "class_weight": "balanced", "solver": "liblinear", "random_state": 0}


def default_dir() -> Path:
    return datasets_dir() / "models" / NAME


def _vectorizer(params: dict[str, Any], vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    p = dict(params)
    p["ngram_range"] = tuple(p["ngram_range"])
    if vocabulary is not None:  # a fitted vocabulary: min_df / max_features no longer apply
        p.pop("min_df", None)
        p.pop("max_features", None)
        p["vocabulary"] = vocabulary
    return TfidfVectorizer(dtype=np.float32, **p)


def fit(texts: Sequence[str], Y: np.ndarray, labels: Sequence[str]) -> tuple[dict[str, Any], _linear.LinearHead]:
    """Fit the vectorisers and heads (deterministic for the same inputs)."""
    import scipy.sparse as sp

    vecs = {k: _vectorizer(p) for k, p in VECTORIZERS.items()}
    X = sp.hstack([vecs[k].fit_transform(texts) for k in VECTORIZERS], format="csr", dtype=np.float32)
    head = _linear.fit_head(X, Y, labels, C=HEAD["C"], class_weight=HEAD["class_weight"],
                            solver=HEAD["solver"], random_state=HEAD["random_state"])
    return vecs, head


def save(out_dir: Path, vecs: dict[str, Any], head: _linear.LinearHead, meta: dict[str, Any]) -> dict[str, Any]:
    """Write the model folder; returns the ``model.json`` contents."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # coef as float16 (half the size; scores move by < 1e-3), everything else float32
    arrays: dict[str, np.ndarray] = {"coef": head.coef.astype(np.float16), "intercept": head.intercept}
    blobs = []
    for k, v in vecs.items():
        vocab = [t for t, _ in sorted(v.vocabulary_.items(), key=lambda kv: kv[1])]
        text = json.dumps(vocab, ensure_ascii=False)
        (out_dir / f"vocab_{k}.json").write_text(text + "\n", encoding="utf-8")
        blobs.append(text.encode())
        arrays[f"idf_{k}"] = np.asarray(v.idf_, dtype=np.float32)
    _linear.save_arrays(out_dir / "arrays.npz", arrays)
    model = {"format": _linear.FORMAT, "name": NAME, "labels": list(head.labels), "vectorizers": VECTORIZERS,
             "head": HEAD, "weights_sha256": _linear.weights_digest(arrays, blobs), **meta}
    _linear.write_json(out_dir / "model.json", model)
    return model


class TfidfLogReg(Classifier):
    """TF-IDF word and character n-grams with a logistic regression per topic.

    Parameters
    ----------
    model_dir : path, optional
        A trained model folder (default ``datasets/models/tfidf-logreg``).
    """

    name = NAME
    version = "1"
    description = "TF-IDF word 1-2-grams + char 3-5-grams, one-vs-rest logistic regression over topics."
    taxonomy = Taxonomy.topics()
    requirements = ("scikit-learn",)
    batch_size = 256

    def __init__(self, model_dir: str | Path | None = None):
        folder = Path(model_dir) if model_dir else default_dir()
        meta = _linear.read_model_json(folder, NAME)
        arrays = _linear.load_arrays(folder / "arrays.npz")
        self.meta = meta
        self.labels = list(meta["labels"])
        self.head = _linear.head_from_arrays(arrays, self.labels, str(folder / "arrays.npz"))
        self._vecs: dict[str, Any] = {}
        width = 0
        for k, params in meta["vectorizers"].items():
            vocab_list = _linear.read_json(folder / f"vocab_{k}.json")
            idf = arrays.get(f"idf_{k}")
            if not isinstance(vocab_list, list) or idf is None or idf.shape != (len(vocab_list),):
                raise InputError(Problem(f"vocabulary and idf_{k} do not match", file=str(folder / f"vocab_{k}.json")))
            vec = _vectorizer(params, {t: i for i, t in enumerate(vocab_list)})
            vec.idf_ = idf.astype(np.float32)
            self._vecs[k] = vec
            width += len(vocab_list)
        if self.head.coef.shape[1] != width:
            raise InputError(Problem(f"coef has {self.head.coef.shape[1]} columns, vocabularies {width}",
                                     file=str(folder / "arrays.npz")))

    @classmethod
    def available(cls) -> tuple[bool, str]:
        folder = default_dir()
        if not (folder / "model.json").is_file() or not (folder / "arrays.npz").is_file():
            return False, f"not trained: run `policybench classifiers train {NAME}` ({folder} is missing)"
        return True, ""

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        import scipy.sparse as sp

        X = sp.hstack([self._vecs[k].transform(list(texts)) for k in self._vecs], format="csr", dtype=np.float32)
        return self.head.predict_proba(X)

    def config(self) -> dict[str, Any]:
        return {"weights_sha256": self.meta["weights_sha256"]}

    def endpoint_info(self) -> dict[str, Any]:
        """Stored with every run: the suite and split the model was trained on (in-distribution marks)."""
        return _linear.trained_on_info(self.meta)
