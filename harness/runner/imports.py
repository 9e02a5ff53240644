"""Importing predictions of a system run elsewhere (``policybench predictions import``).

A file of scores — CSV, JSONL or Parquet — holds one row per example of a suite, keyed by the
example's ``id`` (or, without an ``id`` column, by its ``text``), and one score column per label
of a known taxonomy:

- ``topics``: topic keys of ``datasets/policies/topics.yaml``;
- ``policy:<version>``: the category keys of that policy version;
- a crosswalk name (``crosswalk:<name>`` or just ``<name>``: ``omni-moderation``,
  ``openai-moderation`` (= ``openai-moderation-2023``, the text-moderation-007/latest set),
  ``openai-moderation-2022``, ``llama-guard-3``, ``llama-guard-4``, ``ailuminate``; see
  :func:`harness.policies.list_crosswalks`), whose label keys or aliases name the columns;
- a custom crosswalk file (``path/to/crosswalk.yaml``), copied into the import.

A file may give scores for a subset of the taxonomy's labels (the categories no given label
speaks to are then not covered). Provenance — ``model_id``, ``revision``, ``ran_at`` (ISO 8601),
``ran_where`` — comes from the flags or from a header in the file: leading ``# key: value`` lines
in a CSV, a first line ``{"_provenance": {...}}`` in a JSONL file, the key-value metadata
``policybench.provenance`` (a JSON object) of a Parquet file; a flag wins over the header.

The whole file is validated before anything is stored: every example of the suite (or of
``split``) has a row (or, with ``allow_missing``, the missing ones are listed in the import and
become item errors, excluded from scoring), every key names an example once, every score is a
finite number in [0, 1], every column is a label. All problems are reported at once as an
:class:`~harness.errors.InputError` naming the file, line (for Parquet: the row number, 1-based)
and field. Then the import is written atomically under
:func:`harness.classifiers.imported.imports_dir` (the whole folder appears at once, or not at all),
and its scores are committed to the prediction cache under the key of the classifier
``imported:<system>`` (with no latency: none was measured here).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from harness._io import atomic_dir, write_json
from harness.classifiers.imported import (
    CROSSWALK_FILE,
    IMPORT_FORMAT_VERSION,
    META_FILE,
    SCORES_FILE,
    ImportedPredictions,
    imports_dir,
    system_name,
)
from harness.errors import InputError, Problem
from harness.paths import cache_dir
from harness.runner.cache import PredictionCache, classifier_key, text_hash

#: The file formats, by file extension.
FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                           ".pq": "parquet"}
#: Provenance keys a header or the flags may give.
PROVENANCE_KEYS = ("model_id", "revision", "ran_at", "ran_where")
#: Crosswalk names accepted besides the files' own: the moderation adapter's historical name.
CROSSWALK_ALIASES = {"openai-moderation": "openai-moderation-2023"}
#: The key columns: an example's id, or its text.
KEY_COLUMNS = ("id", "text")
#: Key of the Parquet key-value metadata that holds the provenance header.
PARQUET_PROVENANCE_KEY = b"policybench.provenance"
#: Missing examples listed in an error message (the rest are counted).
_SHOWN = 20


@dataclass(frozen=True)
class LabelSet:
    """A taxonomy's labels as columns: canonical keys in order, and every accepted column name."""

    taxonomy: str                       # as stored: "topics", "policy:<v>", "crosswalk:<name>", "crosswalk-file"
    keys: tuple[str, ...]
    names: dict[str, str]               # column name (key or alias) -> key
    crosswalk_file: Path | None = None  # a custom crosswalk file to copy into the import


@dataclass
class ImportSummary:
    """What :func:`import_predictions` stored."""

    system: str
    classifier: str
    folder: Path
    suite: str
    taxonomy: str
    labels: list[str]
    n_rows: int
    n_required: int
    missing_ids: list[str]
    version: str
    source_sha256: str
    cache_key: str
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "classifier": self.classifier, "folder": str(self.folder),
                "suite": self.suite, "taxonomy": self.taxonomy, "labels": self.labels, "n_rows": self.n_rows,
                "n_required": self.n_required, "n_missing": len(self.missing_ids),
                "missing_ids": self.missing_ids, "version": self.version, "source_sha256": self.source_sha256,
                "cache_key": self.cache_key, "provenance": self.provenance}


# -- taxonomies --------------------------------------------------------------------------------

def resolve_taxonomy(text: str) -> LabelSet:
    """The labels of a taxonomy given as ``topics``, ``policy:<version>``, a crosswalk name or file.

    Examples
    --------
    >>> ls = resolve_taxonomy("llama-guard-3")
    >>> ls.taxonomy, ls.keys[:3], ls.names["S1"]
    ('crosswalk:llama-guard-3', ('S1', 'S2', 'S3'), 'S1')
    >>> resolve_taxonomy("omni-moderation").names["self_harm"]
    'self-harm'
    >>> resolve_taxonomy("policy:2024-01-10").taxonomy
    'policy:2024-01-10'
    >>> resolve_taxonomy("nonsense")
    Traceback (most recent call last):
    ...
    harness.errors.InputError: 1 problem in input:
      - field 'taxonomy': unknown taxonomy 'nonsense': use topics, policy:<version> (2021-11-15, 2022-06-07, 2023-02-15, 2024-01-10, 2025-01-29, 2025-10-29), a crosswalk (ailuminate, llama-guard-3, llama-guard-4, omni-moderation, openai-moderation, openai-moderation-2022, openai-moderation-2023) or a crosswalk file (.yaml)
    """
    from harness.policies import list_crosswalks, list_versions, load_crosswalk, load_policy, topic_keys

    raw = str(text).strip()
    if raw == "topics":
        keys = tuple(topic_keys())
        return LabelSet("topics", keys, {k: k for k in keys})
    if raw.startswith("policy:"):
        version = raw.partition(":")[2]
        if version not in list_versions():
            raise InputError(Problem(f"unknown policy version {version!r} in taxonomy {raw!r}; versions: "
                                     f"{', '.join(list_versions())}", field="taxonomy"))
        keys = tuple(load_policy(version).category_keys)
        return LabelSet(f"policy:{version}", keys, {k: k for k in keys})
    if raw.endswith((".yaml", ".yml")):
        path = Path(raw).expanduser()
        if not path.is_file():
            raise InputError(Problem(f"crosswalk file {raw!r} does not exist", field="taxonomy"))
        cw = load_crosswalk(path)  # an InputError naming file, line and field when it is bad
        return _crosswalk_labels("crosswalk-file", cw, crosswalk_file=path.resolve())
    name = raw.partition(":")[2] if raw.startswith("crosswalk:") else raw
    name = CROSSWALK_ALIASES.get(name, name)
    if name in list_crosswalks():
        return _crosswalk_labels(f"crosswalk:{name}", load_crosswalk(name))
    names = sorted({*list_crosswalks(), *CROSSWALK_ALIASES})
    raise InputError(Problem(
        f"unknown taxonomy {raw!r}: use topics, policy:<version> ({', '.join(list_versions())}), a crosswalk "
        f"({', '.join(names)}) or a crosswalk file (.yaml)", field="taxonomy"))


def _crosswalk_labels(taxonomy: str, cw: Any, *, crosswalk_file: Path | None = None) -> LabelSet:
    names: dict[str, str] = {}
    for lab in cw.labels:
        for n in (lab.key, *lab.aliases):
            names[n] = lab.key
    return LabelSet(taxonomy, tuple(cw.labels_keys), names, crosswalk_file)


# -- reading the file ---------------------------------------------------------------------------

@dataclass
class _Table:
    """A file's rows as read: the header's columns (with the line of each), rows and provenance."""

    columns: dict[str, int]                           # column -> line where it is declared
    rows: list[tuple[int, dict[str, Any]]]            # (line, values)
    provenance: dict[str, Any] = field(default_factory=dict)
    provenance_line: int | None = None


def file_format(path: Path, fmt: str | None = None) -> str:
    """``csv``, ``jsonl`` or ``parquet``: ``fmt`` when given, else from the extension.

    Examples
    --------
    >>> file_format(Path("scores.ndjson")), file_format(Path("x.txt"), "csv")
    ('jsonl', 'csv')
    """
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise InputError(Problem(f"unknown format {fmt!r}: use csv, jsonl or parquet", field="format"))
        return fmt
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise InputError(Problem(f"cannot tell the format of {Path(path).name!r} from its extension "
                                 f"({', '.join(FORMATS)}); pass --format", file=str(path), field="format"))
    return found


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(Problem(f"not UTF-8 (byte 0x{data[exc.start]:02x})", file=str(path), line=line)) from None


def _read_csv(path: Path, data: bytes) -> _Table:
    lines = _decode(path, data).splitlines(keepends=True)
    prov: dict[str, Any] = {}
    first = None
    skip = 0
    for i, line in enumerate(lines):
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip():
                prov[key.strip()] = value.strip()
                first = first or i + 1
            skip = i + 1
        elif not line.strip() and skip == i:
            skip = i + 1
        else:
            break
    reader = csv.reader(io.StringIO("".join(lines[skip:]), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(Problem(f"not a readable CSV header: {exc}", file=str(path), line=skip + 1)) from None
    if not header or all(not h.strip() for h in header):
        raise InputError(Problem("no header row (id or text, then one column per label)", file=str(path),
                                 line=skip + 1))
    header_line = skip + reader.line_num
    header = [h.strip() for h in header]
    table = _Table(columns={}, rows=[], provenance=prov, provenance_line=first)
    problems = []
    for h in header:
        if h in table.columns:
            problems.append(Problem(f"column {h!r} appears twice in the header", file=str(path), line=header_line,
                                    field=h))
        table.columns.setdefault(h, header_line)
    end = reader.line_num
    try:
        for rec in reader:
            start, end = skip + end + 1, reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue  # a blank line
            if len(rec) != len(header):
                problems.append(Problem(f"{len(rec)} fields, the header has {len(header)}", file=str(path),
                                        line=start))
                continue
            table.rows.append((start, dict(zip(header, rec))))
    except csv.Error as exc:
        problems.append(Problem(f"unparsable CSV: {exc}", file=str(path), line=skip + reader.line_num))
    if problems:
        raise InputError(problems)
    return table


def _read_jsonl(path: Path, data: bytes) -> _Table:
    table = _Table(columns={}, rows=[])
    problems = []
    for i, line in enumerate(_decode(path, data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            problems.append(Problem(f"not JSON: {exc}", file=str(path), line=i))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem("expected a JSON object", file=str(path), line=i))
            continue
        if "_provenance" in obj:
            if table.rows or table.provenance_line is not None or set(obj) != {"_provenance"} \
                    or not isinstance(obj["_provenance"], dict):
                problems.append(Problem("a provenance header must be the first line, alone: "
                                        '{"_provenance": {"model_id": ..., ...}}', file=str(path), line=i,
                                        field="_provenance"))
                continue
            table.provenance, table.provenance_line = dict(obj["_provenance"]), i
            continue
        for k in obj:
            table.columns.setdefault(k, i)
        table.rows.append((i, obj))
    if problems:
        raise InputError(problems)
    return table


def _read_parquet(path: Path) -> _Table:
    try:
        pf = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for unreadable files
        raise InputError(Problem(f"not a readable Parquet file: {exc}", file=str(path))) from None
    table = _Table(columns={c: 1 for c in pf.column_names},
                   rows=list(enumerate(pf.to_pylist(), start=1)))
    meta = pf.schema.metadata or {}
    if PARQUET_PROVENANCE_KEY in meta:
        try:
            prov = json.loads(meta[PARQUET_PROVENANCE_KEY])
        except ValueError:
            prov = None
        if not isinstance(prov, dict):
            raise InputError(Problem("the Parquet metadata policybench.provenance is not a JSON object",
                                     file=str(path), field="policybench.provenance"))
        table.provenance = prov
    return table


def read_scores_file(path: Path, fmt: str, data: bytes) -> _Table:
    """The rows of a scores file (``data`` is its content, already read)."""
    if fmt == "csv":
        return _read_csv(path, data)
    if fmt == "jsonl":
        return _read_jsonl(path, data)
    return _read_parquet(path)


# -- validation ---------------------------------------------------------------------------------

def _score(value: Any, fmt: str) -> float | str:
    """A float in [0, 1], or why the value is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "no score (empty)"
    if isinstance(value, bool):
        return f"{value!r} is not a number"
    if isinstance(value, str):
        if fmt != "csv":
            return f"{value!r} is a string, not a number"
        try:
            value = float(value.strip())
        except ValueError:
            return f"{value.strip()!r} is not a number"
    if not isinstance(value, (int, float, np.floating, np.integer)):
        return f"{value!r} is not a number"
    v = float(value)
    if not math.isfinite(v):
        return f"the score {value!r} is not a finite number"
    if not 0.0 <= v <= 1.0:
        return f"the score {value!r} is outside [0, 1]"
    return v


def _provenance(table: _Table, path: Path, flags: dict[str, str | None]) -> tuple[dict[str, Any], list[Problem]]:
    """The provenance (header, then flags) and its problems."""
    problems = []
    for k in table.provenance:
        if k not in PROVENANCE_KEYS:
            problems.append(Problem(f"unknown provenance key {k!r}; use {', '.join(PROVENANCE_KEYS)}",
                                    file=str(path), line=table.provenance_line, field=k))
    prov: dict[str, Any] = {k: table.provenance.get(k) for k in PROVENANCE_KEYS}
    prov.update({k: v for k, v in flags.items() if v is not None})
    for k in PROVENANCE_KEYS:
        v = prov.get(k)
        if v is not None and not isinstance(v, str):
            problems.append(Problem(f"{k} must be a string (got {v!r})", file=str(path),
                                    line=table.provenance_line, field=k))
        elif isinstance(v, str):
            prov[k] = v.strip() or None
    if isinstance(prov.get("ran_at"), str):
        try:
            datetime.fromisoformat(prov["ran_at"].replace("Z", "+00:00"))
        except ValueError:
            from_flag = flags.get("ran_at") is not None
            problems.append(Problem(f"ran_at {prov['ran_at']!r} is not an ISO 8601 date or time "
                                    "(e.g. 2026-11-20 or 2026-11-20T14:03:00Z)", file=None if from_flag else str(path),
                                    line=None if from_flag else table.provenance_line, field="ran_at"))
    return prov, problems


@dataclass
class _Validated:
    labels: list[str]
    ids: list[str]
    hashes: list[str]
    scores: np.ndarray
    missing: list[str]
    n_required: int


def validate_rows(table: _Table, path: Path, fmt: str, suite: Any, labels: LabelSet, *,
                  split: str | None, allow_missing: bool) -> _Validated:
    """Every check of a scores file against a suite and a taxonomy; all problems at once."""
    f = str(path)
    problems: list[Problem] = []
    key = "id" if "id" in table.columns else "text" if "text" in table.columns else None
    if key is None:
        raise InputError(Problem("no key column: name the examples by an 'id' (the suite's example ids) or a "
                                 "'text' column", file=f, line=min(table.columns.values(), default=1),
                                 field="id"))
    label_cols: dict[str, str] = {}  # column -> label key
    by_key: dict[str, str] = {}
    for col, line in table.columns.items():
        if col in KEY_COLUMNS:
            continue
        k = labels.names.get(col)
        if k is None:
            problems.append(Problem(f"unknown label column {col!r} for taxonomy {labels.taxonomy!r}; its labels: "
                                    f"{', '.join(labels.keys)}", file=f, line=line, field=col))
        elif k in by_key:
            problems.append(Problem(f"columns {by_key[k]!r} and {col!r} both name label {k!r}", file=f, line=line,
                                    field=col))
        else:
            label_cols[col], by_key[k] = k, col
    if not label_cols and not problems:
        problems.append(Problem(f"no score columns: give one per label of {labels.taxonomy!r} "
                                f"({', '.join(labels.keys)})", file=f, line=min(table.columns.values(), default=1)))
    if problems:
        raise InputError(problems)
    order = [k for k in labels.keys if k in by_key]
    cols = [by_key[k] for k in order]
    examples = {e.id: e for e in suite.examples}
    by_text = {e.text: e for e in suite.examples}
    seen: dict[str, int] = {}  # example id -> line
    by_hash: dict[str, tuple[int, list[float]]] = {}  # text hash -> (line, scores): one text, one set of scores
    ids, hashes, rows = [], [], []
    for line, rec in table.rows:
        raw = rec.get(key)
        if not isinstance(raw, str) or not raw:
            problems.append(Problem(f"no {key} (empty or not a string: {raw!r})", file=f, line=line, field=key))
            continue
        ex = examples.get(raw) if key == "id" else by_text.get(raw)
        if ex is None:
            what = f"id {raw!r}" if key == "id" else f"text {raw[:60]!r}"
            problems.append(Problem(f"{what} is not an example of suite {suite.name!r}", file=f, line=line,
                                    field=key))
            continue
        if ex.id in seen:
            problems.append(Problem(f"duplicate key: example {ex.id!r} already has a row on line {seen[ex.id]}",
                                    file=f, line=line, field=key))
            continue
        seen[ex.id] = line
        if key == "id" and "text" in rec and rec["text"] not in (None, "") and rec["text"] != ex.text:
            problems.append(Problem(f"the text differs from example {ex.id!r}'s text in suite {suite.name!r}",
                                    file=f, line=line, field="text"))
        values = []
        for c in cols:
            if c not in rec:
                problems.append(Problem("no score for this label", file=f, line=line, field=c))
                break
            v = _score(rec[c], fmt)
            if isinstance(v, str):
                problems.append(Problem(v, file=f, line=line, field=c))
                break
            values.append(v)
        else:
            h = text_hash(ex.text)
            if h in by_hash:
                first_line, first = by_hash[h]
                if first != values:
                    problems.append(Problem(f"example {ex.id!r} has the same text as the row on line {first_line} "
                                            "but other scores (scores are stored per text)", file=f, line=line,
                                            field=key))
                continue
            by_hash[h] = (line, values)
            ids.append(ex.id)
            hashes.append(h)
            rows.append(values)
    required = suite.select(split=split) if split else suite
    missing = [e.id for e in required.examples if e.id not in seen]
    if missing and not allow_missing:
        shown = ", ".join(missing[:_SHOWN]) + (f", ... ({len(missing) - _SHOWN} more)" if len(missing) > _SHOWN else "")
        where = f" (split {split!r})" if split else ""
        problems.append(Problem(f"{len(missing)} of {len(required)} examples of suite {suite.name!r}{where} have no row: "
                                f"{shown}; pass --allow-missing to import anyway (they become item errors, "
                                "excluded from scoring)", file=f, field=key))
    if not rows and not problems:
        problems.append(Problem("no rows", file=f))
    if problems:
        raise InputError(problems)
    scores = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(order))
    return _Validated(order, ids, hashes, scores, missing, len(required))


# -- storing ------------------------------------------------------------------------------------

def _write_scores(target: Path, v: _Validated) -> None:
    table = pa.table({"text_hash": v.hashes, "id": v.ids,
                      "scores": pa.array([list(map(float, r)) for r in v.scores], pa.list_(pa.float32()))},
                     metadata={b"labels": json.dumps(v.labels).encode()})
    pq.write_table(table, target)


def import_predictions(
    path: str | Path,
    *,
    suite: Any,
    name: str,
    taxonomy: str,
    model_id: str | None = None,
    revision: str | None = None,
    ran_at: str | None = None,
    ran_where: str | None = None,
    split: str | None = None,
    allow_missing: bool = False,
    replace: bool = False,
    format: str | None = None,
    root: Path | None = None,
    cache_root: Path | None = None,
) -> ImportSummary:
    """Validate a scores file against ``suite`` and store it as the system ``imported:<name>``.

    Parameters
    ----------
    path : the scores file (CSV, JSONL or Parquet; see the module docstring).
    suite : a suite name, folder or :class:`~harness.suites.Suite`.
    name : the system's name (it becomes the classifier ``imported:<name>``).
    taxonomy : ``topics``, ``policy:<version>``, a crosswalk name or a crosswalk file.
    model_id, revision, ran_at, ran_where : provenance (override the file's header).
    split : only this split's examples must be present (default: every example).
    allow_missing : store the import even when examples have no row (listed; item errors in runs).
    replace : replace an earlier import of the same name (else that is an error).
    format : ``csv``, ``jsonl`` or ``parquet`` (default: from the extension).
    root : the imports folder (default :func:`harness.classifiers.imported.imports_dir`).
    cache_root : the prediction cache to commit to (default ``<cache dir>/predictions``).

    Raises
    ------
    harness.errors.InputError
        On any problem (all of them, with file, line and field); nothing is stored then.
    """
    from harness.suites import Suite, load_suite

    system = system_name(name)
    labels = resolve_taxonomy(taxonomy)
    path = Path(path)
    fmt = file_format(path, format)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"cannot read the file: {exc.strerror or exc}", file=str(path))) from None
    s = suite if isinstance(suite, Suite) else load_suite(suite)
    if split is not None and split not in {e.split for e in s.examples}:
        raise InputError(Problem(f"suite {s.name!r} has no examples in split {split!r}", field="split"))
    table = read_scores_file(path, fmt, data)
    prov, problems = _provenance(table, path, {"model_id": model_id, "revision": revision, "ran_at": ran_at,
                                               "ran_where": ran_where})
    try:
        v = validate_rows(table, path, fmt, s, labels, split=split, allow_missing=allow_missing)
    except InputError as exc:  # every problem at once: the provenance's and the rows'
        raise InputError(problems + exc.problems) from None
    if problems:
        raise InputError(problems)
    base = Path(root) if root is not None else imports_dir()
    target = base / system
    if target.exists() and not replace:
        raise InputError(Problem(f"predictions named {system!r} are already imported ({target}); pass --replace "
                                 "to replace them, or choose another --name", field="name"))
    sha = hashlib.sha256(data).hexdigest()
    meta: dict[str, Any] = {
        "format_version": IMPORT_FORMAT_VERSION, "system": system, "taxonomy": labels.taxonomy,
        "labels": v.labels, "suite": {"name": s.name, "version": str(s.version), "data_hash": s.data_hash,
                                      "split": split},
        "n_rows": len(v.ids), "n_required": v.n_required, "missing_ids": v.missing,
        "source_file": path.name, "source_format": fmt, "source_sha256": sha,
        "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "provenance": prov,
    }
    if labels.crosswalk_file is not None:
        meta["crosswalk_sha256"] = hashlib.sha256(labels.crosswalk_file.read_bytes()).hexdigest()
        meta["crosswalk_source"] = str(labels.crosswalk_file)
    with atomic_dir(target) as tmp:
        _write_scores(tmp / SCORES_FILE, v)
        if labels.crosswalk_file is not None:
            shutil.copyfile(labels.crosswalk_file, tmp / CROSSWALK_FILE)
        write_json(tmp / META_FILE, meta)
    clf = ImportedPredictions(system, root=base)
    key = classifier_key(clf.name, clf.version, clf.config())
    cache = PredictionCache(Path(cache_root) if cache_root else cache_dir() / "predictions", key)
    hashes, scores = clf.stored()
    nan = [float("nan")] * len(hashes)
    cache.commit(hashes, scores, [None] * len(hashes), nan, nan, 0, note="imported")
    return ImportSummary(system=system, classifier=clf.name, folder=target, suite=s.name, taxonomy=labels.taxonomy,
                         labels=v.labels, n_rows=len(v.ids), n_required=v.n_required, missing_ids=v.missing,
                         version=clf.version, source_sha256=sha, cache_key=key, provenance=prov)


def remove_import(name: str, *, root: Path | None = None) -> Path:
    """Delete the stored import ``name`` (its cached predictions become unused); the folder removed."""
    system = system_name(name)
    target = (Path(root) if root is not None else imports_dir()) / system
    if not (target / META_FILE).is_file():
        raise InputError(Problem(f"no imported predictions named {system!r} in {target.parent}", field="name"))
    shutil.rmtree(target)
    return target


__all__: Sequence[str] = ("FORMATS", "ImportSummary", "LabelSet", "file_format", "import_predictions",
                          "read_scores_file", "remove_import", "resolve_taxonomy", "validate_rows")
