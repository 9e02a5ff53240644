"""Crosswalks: a foreign taxonomy's labels mapped to shared topics.

``datasets/policies/crosswalks/<name>.yaml`` maps each label of a classifier taxonomy (OpenAI
Moderation categories, Llama Guard S1–S14, AILuminate hazards) to the topics it speaks to.
Under a policy version, a label then counts for the categories its topics fall in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness._yaml import LineMap, cached_load, check_format_version, read_yaml, validate
from harness.errors import InputError, Problem
from harness.paths import policies_dir
from harness.policies.topics import topic_keys


class CrosswalkLabel(BaseModel):
    """One foreign label: its exact key (as the classifier emits it), aliases and topics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    note: str | None = None


class Crosswalk(BaseModel):
    """A foreign taxonomy mapped to topics.

    Examples
    --------
    >>> cw = load_crosswalk("llama-guard-3")
    >>> cw.topics_for("S12")
    ('adult_sexual_content',)
    >>> cw.labels_keys[:2]
    ('S1', 'S2')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = 1
    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    notes: str = ""
    labels: list[CrosswalkLabel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Crosswalk:
        seen: dict[str, int] = {}
        problems = []
        for i, lab in enumerate(self.labels):
            for j, name in enumerate([lab.key, *lab.aliases]):
                if name in seen and seen[name] != i:
                    field = f"labels.{i}.key" if j == 0 else f"labels.{i}.aliases.{j - 1}"
                    problems.append(Problem(f"label name {name!r} is used twice", field=field))
                seen[name] = i
        if problems:
            raise InputError(problems)
        return self

    @property
    def labels_keys(self) -> tuple[str, ...]:
        """The exact label keys, in file order."""
        return tuple(lab.key for lab in self.labels)

    def label(self, name: str) -> CrosswalkLabel:
        """The label with this key or alias (InputError if none)."""
        for lab in self.labels:
            if name == lab.key or name in lab.aliases:
                return lab
        raise InputError(Problem(
            f"crosswalk {self.name!r} has no label {name!r}; labels: {', '.join(self.labels_keys)}",
            field="label"))

    def topics_for(self, label: str) -> tuple[str, ...]:
        """The topics a label (key or alias) maps to."""
        return tuple(self.label(label).topics)


def crosswalks_dir() -> Path:
    """``<home>/datasets/policies/crosswalks``."""
    return policies_dir() / "crosswalks"


def list_crosswalks() -> list[str]:
    """The crosswalk names, sorted.

    Examples
    --------
    >>> {"llama-guard-3", "omni-moderation"} <= set(list_crosswalks())
    True
    """
    d = crosswalks_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def load_crosswalk(name: str | Path) -> Crosswalk:
    """A crosswalk by name (``"llama-guard-3"``) or from a YAML file.

    Labels must name only topics of ``topics.yaml``; problems raise
    :class:`~harness.errors.InputError` naming the file, line and label.
    """
    expected = None
    if isinstance(name, Path) or str(name).endswith((".yaml", ".yml")):
        path = Path(name)
    else:
        expected = str(name)
        path = crosswalks_dir() / f"{name}.yaml"
        if not path.is_file():
            raise InputError(Problem(
                f"unknown crosswalk {name!r}; available: {', '.join(list_crosswalks()) or '(none)'}",
                field="crosswalk"))
    cw, lines = cached_load(path, _parse, what="crosswalk file")
    if expected is not None and cw.name != expected:
        raise InputError(Problem(f"name {cw.name!r} does not match the file name ({expected}.yaml)",
                                 file=str(path), line=lines.line(("name",)), field="name"))
    return cw


def _parse(path: Path) -> tuple[Crosswalk, LineMap]:
    data, lines = read_yaml(path)
    check_format_version(data, path, lines)
    cw = validate(Crosswalk, data, path, lines)
    known = set(topic_keys())
    problems = []
    for i, lab in enumerate(cw.labels):
        for j, t in enumerate(lab.topics):
            if t not in known:
                problems.append(Problem(
                    f"label {lab.key!r} names unknown topic {t!r}; see datasets/policies/topics.yaml",
                    file=str(path), line=lines.line(("labels", i, "topics", j)), field=f"labels.{i}.topics.{j}"))
    if problems:
        raise InputError(problems)
    return cw, lines
