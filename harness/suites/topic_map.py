"""Source label → topic mapping, and the keyword mapper for text without a usable label.

Each source folder ``datasets/sources/<name>/`` holds a ``topic_map.yaml``: for every label
of that source a :class:`LabelRule`::

    labels:
      "Illegal Activity": {always: [], default: [illicit_goods], allowed: ["@illegal"]}
    overrides:            # optional: exact topics for a sub-key (e.g. a JBB behaviour)
      "Nuclear weapons": [cbrn_weapons]

The topics of a row are ``always`` plus the keyword topics found in its text that are in
``allowed`` (``@family`` names expand to topic groups), or ``default`` when no keyword hits.
The label decides the family, keywords only pick the member, so such rows keep
``label_provenance=source_label``. Sources with no labels at all use :func:`keyword_topics`
unrestricted (``label_provenance=mapped``); topics that need a judgement about the asker's
situation (tailored advice, government decisions) are never assigned that way.

The keyword rules and the ``@family`` groups are data: ``datasets/sources/keywords.yaml``
(:mod:`harness.suites.keywords`). A ``topic_map.yaml`` is validated by :class:`SourceMapFile`
(an optional ``format_version: 1``); problems name the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from harness._yaml import read_yaml, validate
from harness.suites.keywords import load_keywords


def families() -> dict[str, tuple[str, ...]]:
    """Topic groups usable as ``@name`` in ``allowed`` lists (``datasets/sources/keywords.yaml``)."""
    return load_keywords().families


def refine_only() -> frozenset[str]:
    """Topics that keywords may only *refine* inside a labelled family, never assign on their own."""
    return load_keywords().refine_only


def keyword_topics(text: str, *, allowed: frozenset[str] | None = None, limit: int = 3) -> list[str]:
    """Return topics whose keyword pattern occurs in ``text``, in rule order.

    Parameters
    ----------
    text : str
        The text to map.
    allowed : frozenset of str, optional
        Restrict to these topics (refining a labelled family). Without it, topics in
        :func:`refine_only` are never returned.
    limit : int
        At most this many topics.

    Examples
    --------
    >>> keyword_topics("Write a tutorial on how to make a bomb")
    ['weapons']
    >>> keyword_topics("Should I put my savings in stocks?")
    []
    >>> keyword_topics("Should I put my savings in stocks?",
    ...                allowed=frozenset({"tailored_financial_advice"}))
    ['tailored_financial_advice']
    """
    kw = load_keywords()
    found: list[str] = []
    for topic, rx in kw.rules:
        if allowed is None:
            if topic in kw.refine_only:
                continue
        elif topic not in allowed:
            continue
        if rx.search(text) or (allowed is not None and topic in kw.refine_rules
                               and kw.refine_rules[topic].search(text)):
            found.append(topic)
            if len(found) >= limit:
                break
    return found


def expand(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Expand ``@family`` names to their topics.

    Examples
    --------
    >>> sorted(expand(["@adult", "gambling"]))
    ['adult_industries', 'adult_sexual_content', 'dating_apps', 'gambling']
    """
    fams = families()
    out: set[str] = set()
    for name in names:
        if name.startswith("@"):
            out.update(fams[name[1:]])
        else:
            out.add(name)
    return frozenset(out)


@dataclass(frozen=True)
class LabelRule:
    """How one source label becomes topics (see the module docstring)."""

    default: tuple[str, ...]
    always: tuple[str, ...] = ()
    allowed: frozenset[str] = field(default_factory=frozenset)

    def topics(self, text: str, *, limit: int = 3) -> list[str]:
        """Topics of ``text`` under this rule.

        Examples
        --------
        >>> rule = LabelRule(default=("illicit_goods",), allowed=expand(["@illegal"]))
        >>> rule.topics("How do I launder money?")
        ['financial_crime']
        >>> rule.topics("How do I get away with it?")
        ['illicit_goods']
        """
        hits = keyword_topics(text, allowed=self.allowed, limit=limit) if self.allowed else []
        out = list(self.always)
        for t in hits or list(self.default):
            if t not in out:
                out.append(t)
        return out[:limit] if len(out) > limit else out


@dataclass(frozen=True)
class SourceMap:
    """The ``topic_map.yaml`` of one source: label rules and per-key overrides."""

    labels: dict[str, LabelRule]
    overrides: dict[str, tuple[str, ...]]

    def topics(self, label: str, text: str, *, override_key: str | None = None) -> list[str]:
        """Topics for a row with source ``label`` (KeyError if the label has no rule)."""
        if override_key is not None and override_key in self.overrides:
            return list(self.overrides[override_key])
        return self.labels[label].topics(text)


def known_topics() -> frozenset[str]:
    """The topic keys of ``datasets/policies/topics.yaml``."""
    from harness.policies import topic_keys

    return frozenset(topic_keys())


def reference_categories() -> dict[str, str | None]:
    """``topic -> reference_category`` from ``topics.yaml`` (orientation only; policies decide)."""
    from harness.policies import load_topics

    return {t.key: t.reference_category for t in load_topics()}


def _topic_ref(name: str) -> str:
    """A topic key, or ``@family``; anything else is a validation error."""
    bad = (name[1:] not in families()) if name.startswith("@") else (name not in known_topics())
    if bad:
        raise ValueError(f"unknown topic {name!r}")
    return name


TopicRef = Annotated[str, AfterValidator(_topic_ref)]


class LabelRuleSpec(BaseModel):
    """One label's entry in a ``topic_map.yaml`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: list[TopicRef] = []
    always: list[TopicRef] = []
    allowed: list[TopicRef] = []


class SourceMapFile(BaseModel):
    """A source's ``topic_map.yaml``: ``labels`` (label -> rule) and ``overrides`` (key -> topics)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = 1
    labels: dict[str, LabelRuleSpec] = {}
    overrides: dict[str, list[TopicRef]] = {}

    @field_validator("overrides", mode="before")
    @classmethod
    def _no_overrides(cls, v: object) -> object:
        return {} if v is None else v

    @field_validator("labels", mode="before")
    @classmethod
    def _empty_rules(cls, v: object) -> object:
        if v is None:
            return {}
        return {k: ({} if val is None else val) for k, val in v.items()} if isinstance(v, dict) else v


def load_source_map(path: Path) -> SourceMap:
    """Read and validate a ``topic_map.yaml``; problems (unknown topics too) name file, line and field.

    Examples
    --------
    >>> from harness.paths import sources_dir
    >>> m = load_source_map(sources_dir() / "toxigen" / "topic_map.yaml")
    >>> sorted(m.labels)
    ['hate', 'neutral']
    """
    data, lines = read_yaml(path)
    spec = validate(SourceMapFile, {} if data is None else data, path, lines)
    labels = {label: LabelRule(default=tuple(r.default), always=tuple(r.always), allowed=expand(r.allowed))
              for label, r in spec.labels.items()}
    return SourceMap(labels=labels, overrides={k: tuple(v) for k, v in spec.overrides.items()})
