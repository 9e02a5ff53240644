"""One-vs-rest logistic regression heads, stored as plain arrays (never pickle).

A trained model is a folder:

- ``model.json`` — format, labels, hyper-parameters, training data (suite, split, hash),
  metrics on dev, and ``weights_sha256`` (a digest of the array *contents*, stable across
  saves; used in the prediction-cache key);
- ``arrays.npz`` — numeric arrays only (``coef``, ``intercept``, and e.g. ``idf_word``), read
  with ``numpy.load(..., allow_pickle=False)`` so no object can be unpickled;
- optional JSON side files (e.g. a TF-IDF vocabulary).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import InputError, Problem

FORMAT = "policybench-linear/1"


@dataclass
class LinearHead:
    """Per-label logistic regressions: ``p = sigmoid(X @ coef.T + intercept)``.

    Examples
    --------
    >>> h = LinearHead(["a", "b"], np.array([[1.0, 0.0], [0.0, -1.0]], np.float32), np.zeros(2, np.float32))
    >>> h.predict_proba(np.array([[0.0, 0.0]], np.float32)).tolist()
    [[0.5, 0.5]]
    """

    labels: list[str]
    coef: np.ndarray
    intercept: np.ndarray

    def predict_proba(self, X: Any) -> np.ndarray:
        z = X @ self.coef.T
        z = np.asarray(z, dtype=np.float64) + self.intercept.astype(np.float64)
        out = 0.5 * (1.0 + np.tanh(0.5 * z))  # a sigmoid that cannot overflow
        return np.ascontiguousarray(out, dtype=np.float32)


def fit_head(X: Any, Y: np.ndarray, labels: Sequence[str], *, C: float, class_weight: str | None,
             solver: str = "liblinear", max_iter: int = 2000, random_state: int = 0) -> LinearHead:
    """Fit one binary logistic regression per column of ``Y`` (deterministic)."""
    from sklearn.linear_model import LogisticRegression

    coefs, intercepts = [], []
    for j in range(Y.shape[1]):
        lr = LogisticRegression(C=C, class_weight=class_weight, solver=solver, max_iter=max_iter,
                                random_state=random_state)
        lr.fit(X, Y[:, j])
        coefs.append(lr.coef_[0])
        intercepts.append(lr.intercept_[0])
    return LinearHead(list(labels), np.asarray(coefs, dtype=np.float32), np.asarray(intercepts, dtype=np.float32))


def weights_digest(arrays: dict[str, np.ndarray], extra: Sequence[bytes] = ()) -> str:
    """sha256 over array names, dtypes, shapes and bytes (and ``extra`` blobs), in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    for blob in extra:
        h.update(blob)
    return h.hexdigest()


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    for name, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise ValueError(f"array {name!r} has dtype object; only numeric arrays are stored")
    np.savez_compressed(path, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Numeric arrays from an ``.npz`` (``allow_pickle=False``: object arrays are refused)."""
    if not path.is_file():
        raise InputError(Problem("model file not found; train it with `policybench classifiers train`",
                                 file=str(path)))
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as exc:
        raise InputError(Problem(f"cannot read arrays: {exc}", file=str(path))) from None


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(Problem("model file not found; train it with `policybench classifiers train`",
                                 file=str(path)))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(Problem(f"malformed JSON: {exc.msg}", file=str(path), line=exc.lineno)) from None


def read_model_json(folder: Path, name: str) -> dict[str, Any]:
    """``model.json`` of a trained model, checked for format and name."""
    meta = read_json(folder / "model.json")
    if meta.get("format") != FORMAT or meta.get("name") != name:
        raise InputError(Problem(f"not a {name} model in format {FORMAT} (format={meta.get('format')!r}, "
                                 f"name={meta.get('name')!r})", file=str(folder / "model.json")))
    return meta


def head_from_arrays(arrays: dict[str, np.ndarray], labels: Sequence[str], file: str) -> LinearHead:
    coef, intercept = arrays.get("coef"), arrays.get("intercept")
    if coef is None or intercept is None or coef.shape[0] != len(labels) or intercept.shape != (len(labels),):
        raise InputError(Problem(f"coef/intercept missing or not matching {len(labels)} labels", file=file))
    return LinearHead(list(labels), coef.astype(np.float32), intercept.astype(np.float32))


def trained_on_info(meta: dict[str, Any]) -> dict[str, Any]:
    """What a run stores about a trained model (``endpoint_info``): the suite and split it was fitted on.

    Examples
    --------
    >>> trained_on_info({"trained_on": {"suite": "core", "split": "train", "n_examples": 3, "positives_per_label": {}}})
    {'trained_on': {'suite': 'core', 'suite_version': None, 'suite_data_sha256': None, 'split': 'train', 'n_examples': 3}}
    """
    tr = meta.get("trained_on", {})
    return {"trained_on": {k: tr.get(k) for k in ("suite", "suite_version", "suite_data_sha256", "split", "n_examples")}}
