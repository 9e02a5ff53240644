"""Imported predictions: a system that ran elsewhere, scored from the scores it produced.

``policybench predictions import`` (:mod:`harness.runner.imports`) validates a file of scores
(one row per suite example, one column per label of a known taxonomy) and stores it, with its
provenance, in a folder of its own::

    <imports dir>/<system>/
        import.json       what was imported: taxonomy, labels, suite, provenance, source sha256
        scores.parquet    text_hash, id, scores (list<float32>, in the order of ``labels``)
        crosswalk.yaml    only for a custom crosswalk file: a copy of it, as imported

The imports dir is ``$POLICYBENCH_IMPORTS``, else ``<prediction cache dir>/imported``
(``harness.paths.cache_dir()``, i.e. ``.cache/policybench/imported`` in the repository or
``$POLICYBENCH_CACHE/imported``). Unlike the prediction cache, what is in it cannot be
recomputed here: keep a copy of the source files.

:class:`ImportedPredictions` is the classifier the registry builds for ``imported:<system>``
(or the plain system name when no other classifier has it). Its ``predict`` *looks up* each
text's stored scores: a text it has no score for (an example the import did not cover, or a
suite that changed since) is an item error, excluded from scoring, never a made-up 0. Its
``version`` is the first 12 hex digits of the imported file's sha256, its name carries the
``imported:`` mark into every table, chart and leaderboard, and its provenance (model id,
revision, where and when it ran, source file and sha256, import time) is in ``config()`` and
``endpoint_info()``, so it lands in the run record.

Latency: an imported system's latency was not measured here. The importer commits the scores
to the prediction cache with no latency (so a run that reads them shows none); a run that does
not read that cache (``--no-cache``, another cache folder) times the look-ups, which say nothing
about the system: ``endpoint_info()["latency"]`` says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.errors import ClassifierError, InputError, Problem
from harness.paths import cache_dir

#: The format of ``import.json``.
IMPORT_FORMAT_VERSION = 1
#: The prefix that marks an imported system's classifier name.
PREFIX = "imported:"
META_FILE = "import.json"
SCORES_FILE = "scores.parquet"
CROSSWALK_FILE = "crosswalk.yaml"
#: A system name: letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
SYSTEM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: What the run record says about the latency of an imported system.
LATENCY_NOTE = ("not measured: the scores were imported; times recorded for this system, if any, "
                "are look-ups in the imported store")


def imports_dir() -> Path:
    """Where imported predictions are stored: ``$POLICYBENCH_IMPORTS`` or ``<cache dir>/imported``.

    Examples
    --------
    >>> imports_dir().name in ("imported", Path(os.environ.get("POLICYBENCH_IMPORTS", "imported")).name)
    True
    """
    env = os.environ.get("POLICYBENCH_IMPORTS")
    if env:
        return Path(env).expanduser().resolve()
    return cache_dir() / "imported"


def system_name(name: str) -> str:
    """The system name of ``name`` (``imported:`` removed), checked.

    Examples
    --------
    >>> system_name("imported:my-guard"), system_name("my-guard")
    ('my-guard', 'my-guard')
    >>> system_name("my guard")
    Traceback (most recent call last):
    ...
    harness.errors.InputError: 1 problem in input:
      - field 'name': 'my guard' is not a system name: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit
    """
    text = str(name)
    if text.startswith(PREFIX):
        text = text[len(PREFIX):]
    if not SYSTEM_NAME.fullmatch(text):
        raise InputError(Problem(f"{text!r} is not a system name: use letters, digits, '.', '_' and '-' "
                                 "(at most 64), starting with a letter or digit", field="name"))
    return text


def lookup_hash(text: str) -> str:
    """The key a text's scores are stored under: sha256 of its UTF-8, hex, first 32 characters.

    The same key as the prediction cache's ``text_hash`` (a test holds them equal).

    Examples
    --------
    >>> lookup_hash("hello")
    '2cf24dba5fb0a30e26e83b2ac5b9e29e'
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def imported_systems(root: Path | None = None) -> list[str]:
    """The names of the imported systems (folders that hold an ``import.json``), sorted.

    Examples
    --------
    >>> imported_systems(Path("/nonexistent/imports"))
    []
    """
    d = Path(root) if root is not None else imports_dir()
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / META_FILE).is_file())


def taxonomy_of(meta: Mapping[str, Any], folder: Path | None) -> Taxonomy:
    """The :class:`Taxonomy` an import's labels speak (a custom crosswalk: the stored copy).

    Examples
    --------
    >>> taxonomy_of({"taxonomy": "crosswalk:llama-guard-3"}, None).crosswalk
    'llama-guard-3'
    """
    text = str(meta["taxonomy"])
    if text == "crosswalk-file":
        if folder is None:
            raise InputError(Problem("an import with a custom crosswalk needs its folder", field="taxonomy"))
        return Taxonomy.for_crosswalk(str(Path(folder) / CROSSWALK_FILE))
    return Taxonomy.parse(text)


class MissingImportedScores(ClassifierError):
    """``predict`` was asked for texts the import holds no scores for."""


class ImportedPredictions(Classifier):
    """Scores imported from a system run elsewhere, looked up per text (``policybench predictions import``).

    Parameters
    ----------
    system : str
        The imported system's name (``my-guard`` or ``imported:my-guard``).
    root : path, optional
        The imports folder (default :func:`imports_dir`).

    Examples
    --------
    Built in memory (an import on disk is read by ``ImportedPredictions("my-guard")``):

    >>> clf = ImportedPredictions.from_scores(
    ...     "demo", {"a harmless text": [0.1, 0.0], "a bad text": [0.9, 0.2]},
    ...     labels=["S1", "S2"], taxonomy="crosswalk:llama-guard-3", meta={"model_id": "guard-x"})
    >>> clf.name, clf.taxonomy.describe()
    ('imported:demo', 'crosswalk:llama-guard-3')
    >>> scores, errors = clf.predict_with_errors(["a bad text", "never imported"])
    >>> scores.astype(float).round(2).tolist(), errors[0], errors[1].split(" (")[0]
    ([[0.9, 0.2], [0.0, 0.0]], None, 'no imported score for this text')
    >>> clf.endpoint_info()["origin"], clf.endpoint_info()["model_id"]
    ('imported', 'guard-x')
    """

    description = "Scores imported from a system run elsewhere (policybench predictions import)."
    batch_size = 1024
    #: True: this system's scores were imported, not computed here.
    imported = True

    def __init__(self, system: str, *, root: Path | None = None):
        self.system = system_name(system)
        self.folder: Path | None = (Path(root) if root is not None else imports_dir()) / self.system
        meta_path = self.folder / META_FILE
        if not meta_path.is_file():
            known = imported_systems(self.folder.parent)
            raise InputError(Problem(
                f"no imported predictions named {self.system!r} in {self.folder.parent}; imported: "
                f"{', '.join(known) or '(none)'}; import some with `policybench predictions import`",
                field="classifier"))
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(Problem(f"cannot read the import record: {exc}", file=str(meta_path))) from None
        if not isinstance(meta, dict) or meta.get("format_version") != IMPORT_FORMAT_VERSION:
            raise InputError(Problem(f"not an import record of format {IMPORT_FORMAT_VERSION}",
                                     file=str(meta_path), field="format_version"))
        self._setup(meta)
        self._table: dict[str, int] | None = None
        self._scores: np.ndarray | None = None

    @classmethod
    def from_scores(cls, system: str, scores: Mapping[str, Sequence[float]], *, labels: Sequence[str],
                    taxonomy: str, meta: Mapping[str, Any] | None = None) -> ImportedPredictions:
        """An imported system held in memory: ``scores`` maps each text to its scores per label."""
        self = cls.__new__(cls)
        self.system = system_name(system)
        self.folder = None
        self._setup({"labels": list(labels), "taxonomy": taxonomy, "source_sha256": "0" * 64,
                     "provenance": dict(meta or {})})
        texts = list(scores)
        self._table = {lookup_hash(t): i for i, t in enumerate(texts)}
        self._scores = np.asarray([scores[t] for t in texts], dtype=np.float32).reshape(len(texts), len(self.labels))
        return self

    def _setup(self, meta: Mapping[str, Any]) -> None:
        self.meta = dict(meta)
        self.name = PREFIX + self.system
        self.labels = list(meta["labels"])
        self.taxonomy = taxonomy_of(meta, self.folder)
        self.version = str(meta["source_sha256"])[:12]

    # -- the store -------------------------------------------------------------------------
    def _load(self) -> tuple[dict[str, int], np.ndarray]:
        if self._table is None or self._scores is None:
            import pyarrow.parquet as pq

            assert self.folder is not None
            path = self.folder / SCORES_FILE
            try:
                cols = pq.read_table(path, columns=["text_hash", "scores"]).to_pydict()
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
                raise InputError(Problem(f"cannot read the imported scores: {exc}", file=str(path))) from None
            n, L = len(cols["text_hash"]), len(self.labels)
            scores = np.asarray(cols["scores"], dtype=np.float32).reshape(n, L) if n else np.zeros((0, L), np.float32)
            self._table = {h: i for i, h in enumerate(cols["text_hash"])}
            self._scores = scores
        return self._table, self._scores

    def stored(self) -> tuple[list[str], np.ndarray]:
        """``(text hashes, scores)`` of every stored row (what the importer commits to the cache)."""
        table, scores = self._load()
        return list(table), scores[list(table.values())] if table else scores

    # -- the classifier protocol ------------------------------------------------------------
    def predict_with_errors(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        """The stored scores of ``texts``; a text without any is an item error (its scores 0, unused)."""
        table, stored = self._load()
        out = np.zeros((len(texts), len(self.labels)), np.float32)
        errors: list[str | None] = []
        for i, t in enumerate(texts):
            row = table.get(lookup_hash(t))
            if row is None:
                errors.append(f"no imported score for this text (import {self.system!r} of "
                              f"{self.meta.get('suite', {}).get('name', 'another suite')!r} does not cover it)")
            else:
                out[i] = stored[row]
                errors.append(None)
        return out, errors

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The stored scores of ``texts``; :class:`MissingImportedScores` if any text has none."""
        scores, errors = self.predict_with_errors(texts)
        missing = [i for i, e in enumerate(errors) if e is not None]
        if missing:
            raise MissingImportedScores(f"imported system {self.system!r} has no scores for {len(missing)} of "
                                        f"{len(texts)} texts (first: {str(texts[missing[0]])[:80]!r})")
        return scores

    def config(self) -> dict[str, Any]:
        """What identifies the imported scores (hashed into the prediction-cache key)."""
        cfg: dict[str, Any] = {"origin": "imported", "source_sha256": self.meta["source_sha256"],
                               "taxonomy": str(self.meta["taxonomy"]), "labels": list(self.labels)}
        if self.meta.get("crosswalk_sha256"):
            cfg["crosswalk_sha256"] = self.meta["crosswalk_sha256"]
        return cfg

    def endpoint_info(self) -> dict[str, Any]:
        """Stored with every run: marked ``imported``, with the provenance of the scores."""
        prov = dict(self.meta.get("provenance") or {})
        info: dict[str, Any] = {"origin": "imported", "imported": True, "system": self.system,
                                "model_id": prov.get("model_id"), "revision": prov.get("revision"),
                                "ran_at": prov.get("ran_at"), "ran_where": prov.get("ran_where"),
                                "source_file": self.meta.get("source_file"),
                                "source_format": self.meta.get("source_format"),
                                "source_sha256": self.meta.get("source_sha256"),
                                "imported_at": self.meta.get("imported_at"),
                                "suite": self.meta.get("suite"),
                                "n_missing": len(self.meta.get("missing_ids") or []),
                                "latency": LATENCY_NOTE}
        if self.meta.get("crosswalk_sha256"):
            info["crosswalk_sha256"] = self.meta["crosswalk_sha256"]
        return info

    def describe(self) -> dict[str, Any]:
        row = super().describe()
        row["origin"] = "imported"
        row["provenance"] = self.endpoint_info()
        return row

    def __repr__(self) -> str:
        return (f"ImportedPredictions({self.system!r}, taxonomy={self.taxonomy.describe()!r}, "
                f"labels={len(self.labels)}, version={self.version!r})")
