"""Training the learned built-ins on a suite's *train* split (never dev or test).

:func:`train` fits a model on ``suite.select(split="train")``, stores it without pickle in
``datasets/models/<name>/`` (or ``out_dir``), evaluates it on the dev split and writes a
``MODEL_CARD.md`` next to it. ``policybench classifiers train`` calls it.
"""

from __future__ import annotations

import datetime as _dt
import platform
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.models import _data
from harness.errors import InputError, Problem

#: The classifiers :func:`train` knows, in training order.
TRAINABLE: tuple[str, ...] = ("tfidf-logreg", "minilm-logreg")


def _pkg(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "missing"


def _fit_tfidf(train_texts: list[str], Y: np.ndarray, labels: list[str]) -> tuple[Callable, Callable]:
    from harness.classifiers.models import tfidf

    vecs, head = tfidf.fit(train_texts, Y, labels)

    def save(out: Path, meta: dict[str, Any]) -> dict[str, Any]:
        return tfidf.save(out, vecs, head, meta)

    def load(out: Path) -> Any:
        return tfidf.TfidfLogReg(out)

    return save, load


def _fit_minilm(train_texts: list[str], Y: np.ndarray, labels: list[str]) -> tuple[Callable, Callable]:
    from harness.classifiers.models import _embed, minilm

    ok, why = _embed.available()
    if not ok:
        raise InputError(Problem(f"cannot train minilm-logreg: {why}", field="classifier"))
    E = _embed.encode(train_texts, batch_size=256)
    head = minilm.fit_embeddings(E, Y, labels)

    def save(out: Path, meta: dict[str, Any]) -> dict[str, Any]:
        return minilm.save(out, head, meta)

    def load(out: Path) -> Any:
        return minilm.MiniLmLogReg(out)

    return save, load


#: Leave-one-source-out: sources with at least this many training rows are held out in turn.
LOSO_MIN_ROWS = 100


def _fit_columns(fit: Callable[[np.ndarray], Any], Y: np.ndarray, labels: list[str]) -> Callable[[Any], np.ndarray]:
    """Fit on the columns of ``Y`` that have both classes; the others always score 0."""
    keep = [j for j in range(Y.shape[1]) if 0 < Y[:, j].sum() < len(Y)]
    head = fit(np.ascontiguousarray(Y[:, keep]))

    def predict(X: Any) -> np.ndarray:
        out = np.zeros((X.shape[0], len(labels)), dtype=np.float32)
        out[:, keep] = head.predict_proba(X)
        return out

    return predict


def leave_one_source_out(name: str, train_split: Any, labels: list[str], *,
                         min_rows: int = LOSO_MIN_ROWS) -> dict[str, Any]:
    """Generalisation to an unseen source: fit without each source in turn and score its rows.

    For every source with at least ``min_rows`` training rows: the any-topic detection rate on its
    unsafe rows and false-positive rate on its benign rows at threshold 0.5, and the any-topic
    ROC-AUC where it has both labels, for the model fitted *without* it ("held out") and for the
    model fitted on everything ("seen"). A model that learned the policy rather than a source's
    phrasing loses little when the source is held out.
    """
    import scipy.sparse as sp
    from sklearn.metrics import roc_auc_score

    from harness.classifiers.models import _linear

    texts, Y, _ = _data.topic_targets(train_split, labels)
    rows = [e for e in train_split.examples if e.label in ("unsafe", "benign")]
    sources = np.array([e.source for e in rows])
    if name == "tfidf-logreg":
        from harness.classifiers.models import tfidf

        def fold(mask: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
            vecs = {k: tfidf._vectorizer(p) for k, p in tfidf.VECTORIZERS.items()}
            fit_texts = [t for t, m in zip(texts, mask) if m]
            X = sp.hstack([vecs[k].fit_transform(fit_texts) for k in vecs], format="csr", dtype=np.float32)
            pred = _fit_columns(lambda Yk: _linear.fit_head(X, Yk, labels, C=tfidf.HEAD["C"],
                                                            class_weight=tfidf.HEAD["class_weight"],
                                                            solver=tfidf.HEAD["solver"],
                                                            random_state=tfidf.HEAD["random_state"]), Y[mask], labels)
            return lambda idx: pred(sp.hstack([vecs[k].transform([texts[i] for i in idx]) for k in vecs],
                                              format="csr", dtype=np.float32))
    else:
        from harness.classifiers.models import _embed, minilm

        E = _embed.encode(texts, batch_size=256)

        def fold(mask: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
            pred = _fit_columns(lambda Yk: minilm.fit_embeddings(E[mask], Yk, labels), Y[mask], labels)
            return lambda idx: pred(E[idx])

    def summary(scores: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        s = scores.max(axis=1) if scores.size else np.zeros(len(y))
        out: dict[str, Any] = {
            "detection_rate_unsafe": round(float((s[y == 1] >= 0.5).mean()), 4) if (y == 1).any() else None,
            "fpr_benign": round(float((s[y == 0] >= 0.5).mean()), 4) if (y == 0).any() else None,
            "roc_auc": round(float(roc_auc_score(y, s)), 4) if 0 < y.sum() < len(y) else None,
        }
        return out

    everything = fold(np.ones(len(texts), dtype=bool))
    result: dict[str, Any] = {}
    for src in sorted(set(sources)):
        idx = np.flatnonzero(sources == src)
        if len(idx) < min_rows:
            continue
        y = np.array([1 if rows[i].label == "unsafe" else 0 for i in idx])
        held = fold(sources != src)
        result[src] = {"n_rows": int(len(idx)), "n_unsafe": int(y.sum()),
                       "held_out": summary(held(idx), y), "seen": summary(everything(idx), y)}
    return result


_FITTERS: dict[str, Callable[..., tuple[Callable, Callable]]] = {
    "tfidf-logreg": _fit_tfidf,
    "minilm-logreg": _fit_minilm,
}


def train(name: str, *, suite: Any = "core", out_dir: str | Path | None = None,
          evaluate_dev: bool = True, write_card: bool = True, generalisation: bool = False) -> Path:
    """Train ``name`` on the train split of ``suite`` and store it; returns the model folder.

    Parameters
    ----------
    name : {"tfidf-logreg", "minilm-logreg"}
    suite : str, path or Suite
        A suite name (``core``), folder, or a loaded :class:`~harness.suites.Suite`.
    out_dir : path, optional
        Where to write (default ``datasets/models/<name>``).
    evaluate_dev, write_card : bool
        Score the dev split into ``model.json`` / write ``MODEL_CARD.md``.
    generalisation : bool
        Also run :func:`leave_one_source_out` on the train split (one refit per source) and report
        it in ``model.json`` and the model card.

    Raises
    ------
    harness.errors.InputError
        Unknown name, a suite without a train split, or missing dependencies.
    """
    from harness.paths import datasets_dir
    from harness.suites import Suite, load_suite

    if name not in _FITTERS:
        raise InputError(Problem(f"cannot train {name!r}; trainable classifiers: {', '.join(TRAINABLE)}",
                                 field="classifier"))
    full = suite if isinstance(suite, Suite) else load_suite(suite)
    train_split = full.select(split="train")
    if len(train_split) == 0:
        raise InputError(Problem(f"suite {full.name!r} has no train split", field="split"))
    texts, Y, labels = _data.topic_targets(train_split)
    t0 = time.perf_counter()
    save, load = _FITTERS[name](texts, Y, labels)
    fit_s = time.perf_counter() - t0
    out = Path(out_dir) if out_dir else datasets_dir() / "models" / name
    meta: dict[str, Any] = {
        "trained_on": {
            "suite": full.name, "suite_version": full.version, "suite_data_sha256": full.data_hash,
            "split": "train", "n_examples": int(len(texts)), "n_unsafe": int((Y.max(axis=1) > 0).sum()),
            "min_positives": _data.MIN_POSITIVES, "positives_per_label": {l: int(n) for l, n in zip(labels, Y.sum(axis=0))},
        },
        "trained_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "fit_seconds": round(fit_s, 1),
        "software": {"python": platform.python_version(), "scikit-learn": _pkg("scikit-learn"),
                     "numpy": _pkg("numpy"), "torch": _pkg("torch"),
                     "sentence-transformers": _pkg("sentence-transformers")},
    }
    model = save(out, meta)
    if evaluate_dev:
        dev = full.select(split="dev")
        if len(dev):
            dtexts, dY, _ = _data.topic_targets(dev, labels)
            clf = load(out)
            scores = clf.predict(dtexts)
            model["metrics_dev"] = _data.evaluate(scores, dY, labels)
            from harness.classifiers.models import _linear

            _linear.write_json(out / "model.json", model)
    if generalisation:
        model["leave_one_source_out"] = leave_one_source_out(name, train_split, list(model["labels"]))
        from harness.classifiers.models import _linear

        _linear.write_json(out / "model.json", model)
    if write_card:
        from harness.classifiers.models._card import write_model_card

        write_model_card(out, model)
    return out
