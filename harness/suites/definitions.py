"""The built-in suite definitions: ``datasets/suites/suites.yaml`` (format_version 1).

One file says what ``policybench suites build`` makes: the pool of sources (in de-duplication
priority order), which of them may be evaluated on, the seed, split shares and quotas, the
limitations written into the cards, and per suite its description and which pool rows it holds
(filters as data). The file's header comment documents every field. :func:`load_definitions`
validates it with one pydantic model (:class:`SuitesFile`) and checks its references (sources
declared by a ``source.yaml``, topics of ``datasets/policies/topics.yaml``); every problem names
the file, line and field.

Examples
--------
>>> d = load_definitions()
>>> list(d.suites), d.pool.eval_sources
(['core', 'hate', 'malware', 'overrefusal', 'smoke'], ['policybench-curated', 'hatecheck', 'toxigen'])
>>> d.suites["malware"].include[1].sources
['cyberseceval']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness._yaml import read_yaml, validate
from harness.errors import InputError, Problem
from harness.paths import suites_dir

#: What a suite name may look like (built-in or imported).
SUITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowFilter(_Strict):
    """Conditions on a pool row, all of which must hold (an absent condition always holds)."""

    sources: list[str] | None = None
    subsets: list[str] | None = None
    topics: list[str] | None = None
    labels: list[Literal["unsafe", "benign", "unknown"]] | None = None
    has_topics: bool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> RowFilter:
        if all(getattr(self, f) is None for f in type(self).model_fields):
            raise ValueError("a filter needs at least one condition (use `include: all` for every row)")
        return self

    def matches(self, row: Any) -> bool:
        """Whether ``row`` (a :class:`~harness.suites.sources.SourceRow`) meets every condition.

        Examples
        --------
        >>> from types import SimpleNamespace as Row
        >>> f = RowFilter(sources=["coconot"], subsets=["contrast"], has_topics=True)
        >>> f.matches(Row(source="coconot", subset="contrast", topics=("mlm",), label="benign"))
        True
        >>> f.matches(Row(source="coconot", subset="contrast", topics=(), label="benign"))
        False
        """
        return ((self.sources is None or row.source in self.sources)
                and (self.subsets is None or row.subset in self.subsets)
                and (self.topics is None or any(t in self.topics for t in row.topics))
                and (self.labels is None or row.label in self.labels)
                and (self.has_topics is None or bool(row.topics) == self.has_topics))


class Sample(_Strict):
    """Whole minimal pairs drawn from one split of the included rows, per reference category."""

    split: Literal["train", "dev", "test"]
    pairs_per_category: int = Field(ge=1)


class SuiteDef(_Strict):
    """One built-in suite."""

    description: str = Field(min_length=1)
    include: list[RowFilter] | None  # None: `include: all`
    sample: Sample | None = None
    limitations: list[str] = []

    @field_validator("include", mode="before")
    @classmethod
    def _all(cls, v: object) -> object:
        if v == "all":
            return None
        if not isinstance(v, list) or not v:
            raise ValueError("use `all` (every pool row) or a list of filters")
        return v

    def keeps(self, row: Any) -> bool:
        """Whether a pool row is in this suite (before any ``sample``)."""
        return self.include is None or any(f.matches(row) for f in self.include)


class Pool(_Strict):
    """The pool every suite is drawn from (see the file's header comment)."""

    sources: list[str] = Field(min_length=1)
    wins_ties: list[str] = []
    eval_sources: list[str] = Field(min_length=1)
    split_group_threshold: float = Field(gt=0, le=1)
    test_share: float = Field(gt=0, lt=1)
    dev_share: float = Field(ge=0, lt=1)


class Quotas(_Strict):
    """Minimum counts the split assignment guarantees (on the whole pool, i.e. ``core``)."""

    category_test_min: int = Field(ge=0)
    category_dev_min: int = Field(ge=0)
    drift_topic_test_pairs_min: int = Field(ge=0)


class Limitation(_Strict):
    """A limitation for the cards of suites holding one of ``sources`` (every suite without)."""

    sources: list[str] | None = None
    text: str = Field(min_length=1)

    def applies(self, present: Iterable[str]) -> bool:
        """Whether a suite with rows from the sources ``present`` states this limitation."""
        return self.sources is None or bool(set(self.sources) & set(present))


class SuitesFile(_Strict):
    """``datasets/suites/suites.yaml``."""

    format_version: Literal[1]
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    seed: str = Field(min_length=1)
    pool: Pool
    quotas: Quotas
    limitations: list[Limitation] = []
    suites: dict[str, SuiteDef] = Field(min_length=1)

    @field_validator("format_version", mode="before")
    @classmethod
    def _version(cls, v: object) -> object:
        if v != 1 or type(v) is not int:
            raise ValueError(f"unknown format_version {v!r}; this PolicyBench reads format_version 1")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> SuitesFile:
        pool, problems = self.pool, []
        if len(set(pool.sources)) != len(pool.sources):
            problems.append(Problem("a source is listed twice", field="pool.sources"))
        for part in ("wins_ties", "eval_sources"):
            for i, name in enumerate(getattr(pool, part)):
                if name not in pool.sources:
                    problems.append(Problem(f"{name!r} is not one of pool.sources", field=f"pool.{part}.{i}"))
        if pool.test_share + pool.dev_share >= 1:
            problems.append(Problem("test_share + dev_share must be below 1", field="pool.dev_share"))
        problems += [Problem(f"bad suite name {name!r}: use letters, digits, '.', '_', '-'", field=f"suites.{name}")
                     for name in self.suites if not SUITE_NAME.match(name)]
        if problems:
            raise InputError(problems)
        return self


def definitions_path() -> Path:
    """``datasets/suites/suites.yaml``."""
    return suites_dir() / "suites.yaml"


def _references(spec: SuitesFile, path: Path, lines: Any, sources: Iterable[str]) -> list[Problem]:
    from harness.suites.topic_map import known_topics

    declared, topics = set(sources), known_topics()
    out: list[Problem] = []

    def bad(msg: str, loc: tuple) -> None:
        out.append(Problem(msg, file=str(path), line=lines.line(loc), field=".".join(map(str, loc))))

    for i, name in enumerate(spec.pool.sources):
        if name not in declared:
            bad(f"no source.yaml declares a source named {name!r}", ("pool", "sources", i))
    pooled = set(spec.pool.sources)
    for i, lim in enumerate(spec.limitations):
        for j, name in enumerate(lim.sources or []):
            if name not in pooled:
                bad(f"{name!r} is not one of pool.sources", ("limitations", i, "sources", j))
    for name, suite in spec.suites.items():
        for i, f in enumerate(suite.include or []):
            for j, src in enumerate(f.sources or []):
                if src not in pooled:
                    bad(f"{src!r} is not one of pool.sources", ("suites", name, "include", i, "sources", j))
            for j, t in enumerate(f.topics or []):
                if t not in topics:
                    bad(f"unknown topic {t!r}; see datasets/policies/topics.yaml",
                        ("suites", name, "include", i, "topics", j))
    return out


def load_definitions(path: Path | None = None, *, sources_root: Path | None = None) -> SuitesFile:
    """Read and validate the suite definitions (default :func:`definitions_path`).

    Parameters
    ----------
    path : Path, optional
        The definitions file.
    sources_root : Path, optional
        Where the sources' ``source.yaml`` files are (default ``datasets/sources``): every pool
        source must be declared there.

    Raises
    ------
    harness.errors.InputError
        Every problem, with file, line and field.
    """
    from harness.suites.sources import source_infos

    path = Path(path) if path is not None else definitions_path()
    data, lines = read_yaml(path)
    spec = validate(SuitesFile, data, path, lines)
    problems = _references(spec, path, lines, source_infos(sources_root))
    if problems:
        raise InputError(problems)
    return spec
