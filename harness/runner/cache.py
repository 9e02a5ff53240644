"""The prediction cache: predictions computed once per (classifier, config, text).

Layout: ``<cache>/<classifier key>/shard-<digest>.parquet``. A classifier key is
``<name>@<version>-<sha256(config)[:16]>`` (plus the policy version for policy-conditioned
classifiers); each shard holds one committed batch: ``text_hash``, ``scores`` (list<float32>),
``error``, ``latency_single_s``, ``latency_batch_s``, ``batch_size`` and ``note`` (e.g.
``reused-embeddings`` when the batch's timing shared work with another classifier).

Only successful predictions are stored. An item that failed (a hosted call that ran out of
retries, a 401, a malformed answer, a classifier that raised on it) is never committed, so
the next run computes it again; the ``error`` column is kept for the format, and an error
row written by an older version is read as "not cached". Shards are written
atomically (temporary file, then rename), so a run killed at any moment leaves only whole
batches, and a restart recomputes nothing committed. Reading keeps the first row per text hash,
so two workers that computed the same text never produce duplicates.

Scores are validated where they enter: a row that is used and holds a score that is NaN,
infinite or outside [0, 1] (a shard edited or written by a broken tool) is an
:class:`InvalidCachedScores` error naming the shard file and the text hash (the runner adds the
classifier and the example), never silently scored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness._io import atomic_path, ensure_writable_dir
from harness.errors import ClassifierError


class InvalidCachedScores(ClassifierError):
    """A committed row holds a score that is NaN, infinite or outside [0, 1].

    ``shard`` is the file, ``text_hash`` the row's text hash, ``label_index`` the position of the
    bad score in the row, ``value`` the score and ``reason`` what is wrong with it.
    """

    def __init__(self, message: str, *, shard: Path, text_hash: str, label_index: int, value: float, reason: str):
        super().__init__(message)
        self.shard = shard
        self.text_hash = text_hash
        self.label_index = label_index
        self.value = value
        self.reason = reason


def text_hash(text: str) -> str:
    """sha256 of the UTF-8 text, hex, first 32 characters."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def config_hash(config: dict[str, Any]) -> str:
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def classifier_key(name: str, version: str, config: dict[str, Any], binding: str = "") -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    key = f"{safe}@{version}-{config_hash(config)}"
    return f"{key}-{binding}" if binding else key


SCHEMA = pa.schema(
    [
        ("text_hash", pa.string()),
        ("scores", pa.list_(pa.float32())),
        ("error", pa.string()),
        ("latency_single_s", pa.float64()),
        ("latency_batch_s", pa.float64()),
        ("batch_size", pa.int32()),
        ("note", pa.string()),
    ]
)


@dataclass
class CachedRow:
    scores: np.ndarray | None
    error: str | None
    latency_single_s: float
    latency_batch_s: float
    batch_size: int
    note: str | None = None


class PredictionCache:
    """A folder of committed prediction batches for one classifier key."""

    def __init__(self, root: Path, key: str, *, enabled: bool = True, read: bool = True):
        self.root = Path(root)
        self.key = key
        self.folder = self.root / key
        self.enabled = enabled
        #: When False (``--no-cache``) committed rows are ignored and recomputed (still written).
        self.read = read
        if enabled:
            ensure_writable_dir(self.folder, what="prediction cache")

    def shards(self) -> list[Path]:
        if not self.enabled or not self.read or not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("shard-*.parquet"))

    def load(self, wanted: Iterable[str] | None = None) -> dict[str, CachedRow]:
        """Committed successful rows by text hash (only those in ``wanted`` when given).

        A row that holds an error (stored by an older version) is skipped: the item counts as
        not cached and is retried. A row used whose scores are not all finite and in [0, 1]
        raises :class:`InvalidCachedScores`.
        """
        want = set(wanted) if wanted is not None else None
        out: dict[str, CachedRow] = {}
        for shard in self.shards():
            try:
                table = pq.read_table(shard)
            except Exception:  # a torn shard cannot exist (atomic rename); skip foreign files
                continue
            suspect = not _all_scores_valid(table)  # one vectorised check; rows are looked at only if not
            for h, row in _rows(table.to_pydict()):
                if (want is None or h in want) and h not in out:
                    if suspect:
                        self._check(shard, h, row)
                    out[h] = row
        return out

    def _check(self, shard: Path, h: str, row: CachedRow) -> None:
        scores = row.scores if row.scores is not None else np.zeros(0, np.float32)
        finite = np.isfinite(scores)
        bad = ~finite | (np.where(finite, scores, 0.0) < 0) | (np.where(finite, scores, 0.0) > 1)
        if not bad.any():
            return
        j = int(np.flatnonzero(bad)[0])
        value = float(scores[j])
        reason = "not a finite number" if not finite[j] else "outside [0, 1]"
        raise InvalidCachedScores(
            f"prediction cache shard {shard}: the row for text hash {h} holds the score {value!r} for label "
            f"#{j}, which is {reason} (cache key {self.key!r}); delete that shard, or run with --no-cache, "
            "to compute it again", shard=shard, text_hash=h, label_index=j, value=value, reason=reason)

    def commit(
        self,
        hashes: Sequence[str],
        scores: np.ndarray,
        errors: Sequence[str | None],
        latency_single_s: Sequence[float],
        latency_batch_s: Sequence[float],
        batch_size: int,
        note: str | None = None,
    ) -> Path | None:
        """Write the batch's successful items as one shard, atomically.

        Items whose ``errors`` entry is not None are left out (they are retried by the next run).
        Returns the shard path, or None when the cache is disabled or no item succeeded.
        """
        keep = [i for i in range(len(hashes)) if errors[i] is None]
        if not self.enabled or not keep:
            return None
        kept = [hashes[i] for i in keep]
        digest = hashlib.sha256("\n".join(kept).encode()).hexdigest()[:20]
        target = self.folder / f"shard-{digest}.parquet"
        table = pa.table(
            {
                "text_hash": kept,
                "scores": [[float(x) for x in scores[i]] for i in keep],
                "error": [None] * len(keep),
                "latency_single_s": [float(latency_single_s[i]) for i in keep],
                "latency_batch_s": [float(latency_batch_s[i]) for i in keep],
                "batch_size": [int(batch_size)] * len(keep),
                "note": [note] * len(keep),
            },
            schema=SCHEMA,
        )
        with atomic_path(target) as tmp:
            pq.write_table(table, tmp)
        return target


def _all_scores_valid(table: pa.Table) -> bool:
    """Whether every score in the shard is present, finite and in [0, 1] (the common case, fast)."""
    if "scores" not in table.column_names:
        return True
    flat = pc.list_flatten(table.column("scores"))
    if flat.null_count:
        return False
    values = flat.to_numpy(zero_copy_only=False)
    return bool(np.all(np.isfinite(values) & (values >= 0) & (values <= 1)))


def _float(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def _rows(cols: dict[str, list]) -> Iterator[tuple[str, CachedRow]]:
    """The usable rows of one shard's columns, in order: ``(text_hash, row)``; error rows skipped."""
    notes = cols.get("note") or [None] * len(cols["text_hash"])
    for i, h in enumerate(cols["text_hash"]):
        sc = cols["scores"][i]
        if cols["error"][i] is not None or sc is None:
            continue  # a failure stored by an older version: not cached, retried
        yield h, CachedRow(
            scores=np.asarray(sc, dtype=np.float32),
            error=None,
            latency_single_s=_float(cols["latency_single_s"][i]),
            latency_batch_s=_float(cols["latency_batch_s"][i]),
            batch_size=int(cols["batch_size"][i] or 0),
            note=notes[i],
        )
