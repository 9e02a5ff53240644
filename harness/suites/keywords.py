"""The keyword → topic rules of ``datasets/sources/keywords.yaml`` (format_version 1).

The file holds, as data:

- ``families``: topic groups usable as ``@name`` in a source's ``topic_map.yaml``;
  ``@all`` (every rule topic that is not refine-only) is derived, not declared;
- ``refine_only``: topics keywords may only refine inside a labelled family;
- ``rules``: ordered ``{topic, any_of: [regex, ...]}``; a rule's pattern is its alternatives
  joined with ``|``, matched case-insensitively;
- ``refine_rules``: extra patterns used only when refining inside a labelled family.

:func:`load_keywords` validates the file with one pydantic model (problems name file, line
and field; every topic must be a key of ``datasets/policies/topics.yaml``, every pattern must
compile) and caches it until the file changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness._yaml import read_yaml, validate
from harness.errors import InputError, Problem
from harness.paths import sources_dir

#: The family every rule topic that is not refine-only belongs to (derived, never declared).
ALL_FAMILY = "all"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeywordRule(_Strict):
    """One topic and the regex alternatives that find it."""

    topic: str = Field(min_length=1)
    any_of: list[str] = Field(min_length=1)

    @field_validator("any_of")
    @classmethod
    def _compiles(cls, alts: list[str]) -> list[str]:
        for alt in alts:
            if not alt:
                raise ValueError("an empty alternative matches everything")
        try:
            re.compile("|".join(alts), re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return alts

    @property
    def pattern(self) -> str:
        """The rule's regex: its alternatives joined with ``|``."""
        return "|".join(self.any_of)


class KeywordsFile(_Strict):
    """``datasets/sources/keywords.yaml``."""

    format_version: Literal[1]
    families: dict[str, list[str]]
    refine_only: list[str] = []
    rules: list[KeywordRule] = Field(min_length=1)
    refine_rules: list[KeywordRule] = []

    @field_validator("format_version", mode="before")
    @classmethod
    def _version(cls, v: object) -> object:
        if v != 1 or type(v) is not int:
            raise ValueError(f"unknown format_version {v!r}; this PolicyBench reads format_version 1")
        return v

    @field_validator("families")
    @classmethod
    def _no_all(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        if ALL_FAMILY in v:
            raise ValueError(f"the family {ALL_FAMILY!r} is derived from the rules; do not declare it")
        return v


@dataclass(frozen=True)
class Keywords:
    """The loaded rules, compiled (see the module docstring)."""

    families: dict[str, tuple[str, ...]]
    refine_only: frozenset[str]
    rules: tuple[tuple[str, re.Pattern[str]], ...]
    refine_rules: dict[str, re.Pattern[str]]


def _check_topics(spec: KeywordsFile, path: Path, lines) -> None:
    from harness.suites.topic_map import known_topics

    known = known_topics()
    problems: list[Problem] = []

    def check(name: str, loc: tuple) -> None:
        if name not in known:
            problems.append(Problem(f"unknown topic {name!r}; see datasets/policies/topics.yaml", file=str(path),
                                    line=lines.line(loc), field=".".join(map(str, loc))))

    for fam, topics in spec.families.items():
        for i, t in enumerate(topics):
            check(t, ("families", fam, i))
    for i, t in enumerate(spec.refine_only):
        check(t, ("refine_only", i))
    for part in ("rules", "refine_rules"):
        for i, rule in enumerate(getattr(spec, part)):
            check(rule.topic, (part, i, "topic"))
    if problems:
        raise InputError(problems)


def parse_keywords(path: Path) -> Keywords:
    """Read and validate a keywords file (no cache); problems name file, line and field."""
    data, lines = read_yaml(path)
    spec = validate(KeywordsFile, data, path, lines)
    _check_topics(spec, path, lines)
    refine_only = frozenset(spec.refine_only)
    families = {k: tuple(v) for k, v in spec.families.items()}
    families[ALL_FAMILY] = tuple(r.topic for r in spec.rules if r.topic not in refine_only)
    return Keywords(families=families, refine_only=refine_only,
                    rules=tuple((r.topic, re.compile(r.pattern, re.IGNORECASE)) for r in spec.rules),
                    refine_rules={r.topic: re.compile(r.pattern, re.IGNORECASE) for r in spec.refine_rules})


_CACHE: dict[str, tuple[tuple[int, int], Keywords]] = {}


def keywords_path() -> Path:
    """``datasets/sources/keywords.yaml``."""
    return sources_dir() / "keywords.yaml"


def load_keywords(path: Path | None = None) -> Keywords:
    """The keyword rules (default :func:`keywords_path`), parsed once until the file changes.

    Examples
    --------
    >>> kw = load_keywords()
    >>> kw.families["cyber"], kw.rules[0][0]
    (('malware', 'hacking_intrusion'), 'csam')
    """
    path = Path(path) if path is not None else keywords_path()
    try:
        st = path.stat()
    except OSError:
        raise InputError(Problem("keyword rules not found", file=str(path))) from None
    key, stamp = str(path.resolve()), (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = parse_keywords(path)
    _CACHE[key] = (stamp, value)
    return value
