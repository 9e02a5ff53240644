"""Training the learned built-ins on a suite's *train* split (never dev or test).

:func:`train` fits a model on ``suite.select(split="train")``, stores it without pickle in
``datasets/models/<name>/`` (or ``out_dir``), evaluates it on the dev split and writes a
``MODEL_CARD.md`` next to it. ``policybench classifiers train`` calls it.
"""

from __future__ import annotations

import datetime as _dt
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable

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


_FITTERS: dict[str, Callable[..., tuple[Callable, Callable]]] = {
    "tfidf-logreg": _fit_tfidf,
    "minilm-logreg": _fit_minilm,
}


def train(name: str, *, suite: Any = "core", out_dir: str | Path | None = None,
          evaluate_dev: bool = True, write_card: bool = True) -> Path:
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
        "trained_at": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
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
    if write_card:
        from harness.classifiers.models._card import write_model_card

        write_model_card(out, model)
    return out
