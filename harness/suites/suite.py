"""The :class:`Suite`: a validated set of examples plus its card."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.suites.schema import COLUMNS, OPTIONAL_COLUMNS, Example


@dataclass
class Suite:
    """A suite of examples.

    Attributes
    ----------
    name, version : str
        From the card (``suite.yaml``).
    card : dict
        The parsed ``suite.yaml``.
    examples : list of Example
        Validated rows, in file order.
    path : Path or None
        The suite folder (None for an in-memory suite).
    data_hash : str
        sha256 of the data file bytes (or of the canonical rows for an in-memory suite).

    Examples
    --------
    >>> s = Suite.from_examples("tiny", [
    ...     Example(id="a", text="Write my dating profile", topics=["dating_apps"], label="unsafe",
    ...             split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")])
    >>> len(s), s.texts[0]
    (1, 'Write my dating profile')
    """

    name: str
    version: str
    card: dict[str, Any]
    examples: list[Example]
    path: Path | None = None
    data_hash: str = ""
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def from_examples(
        cls, name: str, examples: Iterable[Example], *, version: str = "0", card: dict | None = None
    ) -> Suite:
        rows = list(examples)
        h = hashlib.sha256()
        for ex in rows:
            h.update(ex.model_dump_json().encode())
            h.update(b"\n")
        card = dict(card or {})
        card.setdefault("name", name)
        card.setdefault("version", version)
        return cls(name=name, version=version, card=card, examples=rows, data_hash=h.hexdigest())

    def __len__(self) -> int:
        return len(self.examples)

    def __repr__(self) -> str:
        labels: dict[str, int] = {}
        for e in self.examples:
            labels[e.label] = labels.get(e.label, 0) + 1
        return f"Suite({self.name!r}, version={self.version!r}, {len(self)} examples, labels={labels})"

    def _repr_html_(self) -> str:
        """A notebook display: name, version, size and the examples per split × label.

        Examples
        --------
        >>> s = Suite.from_examples("tiny", [
        ...     Example(id="a", text="Write my dating profile", topics=["dating_apps"], label="unsafe",
        ...             split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")])
        >>> "<b>tiny</b>" in s._repr_html_() and "unsafe" in s._repr_html_()
        True
        """
        import html

        counts = pd.crosstab(pd.Series([e.split for e in self.examples], name="split"),
                             pd.Series([e.label for e in self.examples], name="label"), margins=True, margins_name="all")
        sources = sorted({e.source for e in self.examples})
        head = (f"<b>{html.escape(self.name)}</b> {html.escape(str(self.version))}: {len(self)} examples from "
                f"{len(sources)} sources" + (f"<br><code>{html.escape(str(self.path))}</code>" if self.path else ""))
        desc = self.card.get("description") if isinstance(self.card, dict) else None
        return (f"<div>{head}" + (f"<br><i>{html.escape(str(desc))}</i>" if desc else "")
                + counts.to_html(border=0) + "</div>")

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.examples]

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def topics(self) -> list[list[str]]:
        return [e.topics for e in self.examples]

    @property
    def label_values(self) -> list[str]:
        return [e.label for e in self.examples]

    @property
    def pair_ids(self) -> list[str | None]:
        """The minimal pair of each example (None where the suite has none)."""
        return [e.pair_id for e in self.examples]

    @property
    def scored_mask(self) -> np.ndarray:
        """Boolean mask of examples that are scored (label is not ``unknown``)."""
        return np.array([e.label != "unknown" for e in self.examples], dtype=bool)

    def to_pandas(self) -> pd.DataFrame:
        """The examples as a DataFrame with the suite columns (a copy)."""
        if self._frame is None:
            self._frame = pd.DataFrame(
                [e.model_dump() for e in self.examples], columns=list(COLUMNS + OPTIONAL_COLUMNS)
            )
        return self._frame.copy()

    def select(self, *, split: str | Sequence[str] | None = None, labels: Sequence[str] | None = None) -> Suite:
        """A sub-suite with the given split(s) and/or labels; name and card are kept."""
        splits = {split} if isinstance(split, str) else (set(split) if split else None)
        keep = [
            e
            for e in self.examples
            if (splits is None or e.split in splits) and (labels is None or e.label in labels)
        ]
        sub = Suite.from_examples(self.name, keep, version=self.version, card=self.card)
        sub.path = self.path
        tag = ",".join(sorted(splits)) if splits else "all"
        sub.data_hash = hashlib.sha256(f"{self.data_hash}:{tag}:{labels}".encode()).hexdigest()
        return sub

    def labels(self, policy: Any, *, restricted_as: str = "violation") -> np.ndarray:
        """Ground truth under ``policy``: uint8 array (examples × ``policy.category_keys``).

        ``y[i, c] = 1`` iff example ``i`` is unsafe and one of its topics is a violation under the
        policy in category ``c`` (restricted topics count as violations when
        ``restricted_as="violation"``). Rows labelled ``unknown`` are 0 here; exclude them with
        :attr:`scored_mask`.
        """
        from harness.policies import project_truth

        return project_truth(self.topics, self.label_values, policy, restricted_as=restricted_as)

    def describe(self) -> dict[str, Any]:
        df = self.to_pandas()
        return {
            "name": self.name,
            "version": self.version,
            "n_examples": len(self),
            "data_hash": self.data_hash,
            "labels": df["label"].value_counts().to_dict() if len(df) else {},
            "splits": df["split"].value_counts().to_dict() if len(df) else {},
            "path": str(self.path) if self.path else None,
        }
