"""Label audits of a public source, as data: ``datasets/sources/<name>/audit.yaml``.

An audit records decisions a curator took by reading rows against the labelling guide
(``datasets/suites/LABELLING.md``), so the build applies them reproducibly::

    format_version: 1
    source: cyberseceval
    rules:                       # every row whose source label matches
      - source_label: target_indiv_nh
        label: unsafe
        topics: [harassment]
        note: insults aimed at an individual are harassment under the topic definition
    rows:                        # single rows, by source_row
      - row: "mitre:315"
        label: drop              # drop | unsafe | benign | unknown
        note: the whole text is '#ERROR!', a spreadsheet artefact

A row a decision touches gets ``review = "audited"``; a ``rows`` entry that matches no row is
an error (the source changed under the audit).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness._yaml import read_yaml, validate
from harness.errors import InputError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from harness.suites.sources import SourceRow

AUDIT_FORMAT_VERSION = 1
Decision = Literal["drop", "unsafe", "benign", "unknown"]


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Decision
    topics: list[str] | None = None
    note: str = Field(min_length=3)


class RowDecision(_Decision):
    """A decision about one row (``row`` is its ``source_row``)."""

    row: str = Field(min_length=1)


class RuleDecision(_Decision):
    """A decision about every row whose source labels include ``source_label``."""

    source_label: str = Field(min_length=1)


class Audit(BaseModel):
    """One source's audit file (validated; see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    format_version: Literal[1]
    source: str
    rules: list[RuleDecision] = []
    rows: list[RowDecision] = []
    _used: set[str] = set()
    _file: str = ""

    @model_validator(mode="after")
    def _rows_unique(self) -> Audit:
        seen: set[str] = set()
        for k, r in enumerate(self.rows):
            if r.row in seen:
                raise InputError(Problem(f"row {r.row!r} is audited twice", field=f"rows.{k}.row"))
            seen.add(r.row)
        return self

    def apply(self, r: SourceRow) -> SourceRow | None:
        """The row after this audit's decisions (None when dropped).

        Examples
        --------
        >>> from harness.suites.sources import SourceRow
        >>> a = Audit(format_version=1, source="s", rows=[{"row": "7", "label": "benign", "note": "asks no harm"}])
        >>> row = SourceRow("s", "7", "How do I legally quote an article?", ("x",), ("ip_infringement",),
        ...                 "unsafe", "source_label", "MIT")
        >>> a.apply(row).label, a.apply(row).review
        ('benign', 'audited')
        """
        decisions: list[_Decision] = [d for d in self.rules if d.source_label in r.source_labels]
        decisions += [d for d in self.rows if d.row == r.source_row]
        for d in decisions:
            if isinstance(d, RowDecision):
                self._used.add(d.row)
            if d.label == "drop":
                return None
            topics = tuple(d.topics) if d.topics is not None else r.topics
            r = replace(r, label=d.label, topics=topics, review="audited")
        return r

    def check_all_used(self) -> None:
        """Raise when a ``rows`` entry matched no row of the source."""
        stale = [(k, d.row) for k, d in enumerate(self.rows) if d.row not in self._used]
        if stale:
            raise InputError([Problem(f"row {row!r} is not a row of source {self.source!r}", file=self._file,
                                      field=f"rows.{k}.row") for k, row in stale])


def load_audit(path: Path) -> Audit:
    """Read and validate an ``audit.yaml`` (errors name file, line and field)."""
    from harness.suites.topic_map import known_topics

    data, lines = read_yaml(path)
    audit = validate(Audit, data, path, lines)
    ok = set(known_topics())
    bad = [Problem(f"unknown topic(s) {[t for t in d.topics if t not in ok]}", file=str(path),
                   line=lines.line((part, k, "topics")), field=f"{part}.{k}.topics")
           for part in ("rules", "rows") for k, d in enumerate(getattr(audit, part))
           if d.topics is not None and any(t not in ok for t in d.topics)]
    if bad:
        raise InputError(bad)
    audit._file = str(path)
    audit._used = set()
    return audit
