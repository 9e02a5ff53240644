"""The policy-version data model: categories, topic verdicts, provenance.

A :class:`Policy` is one version of a usage policy as data. It lists the categories it has
(a subset of the 14 shared :data:`CATEGORY_KEYS`, each with the version's own title and
wording; a custom policy with ``custom_categories: true`` may also define its own keys) and
gives every topic of the shared vocabulary a :class:`TopicVerdict`:

- ``disallowed``: the activity is prohibited;
- ``restricted``: allowed only with review, disclosure, a licence or human oversight;
- ``allowed``: explicitly permitted;
- ``not_mentioned``: the version says nothing about it.

``restricted`` counts as a violation or as allowed depending on the run option
``restricted_as`` (``"violation"`` or ``"allowed"``).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from harness.errors import InputError, Problem

#: The reference policy version: its 14 categories are the shared :data:`CATEGORY_KEYS`, and
#: classifiers written for one version (keyword packs, profanity and PII baselines) use it.
REFERENCE_VERSION = "2023-02-15"

#: The 14 category keys of the reference policy (:data:`REFERENCE_VERSION`), shared by all versions.
CATEGORY_KEYS: tuple[str, ...] = (
    "illegal",
    "child",
    "hate_harass_violence",
    "malware",
    "physical_harm",
    "economic_harm",
    "fraud_deception",
    "adult",
    "political",
    "privacy",
    "legal",
    "financial",
    "health",
    "gov_decision",
)

#: What a category key (and a topic key) looks like: lowercase letters, digits and underscores.
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
_KEY_RE = re.compile(KEY_PATTERN)

Verdict = Literal["disallowed", "restricted", "allowed", "not_mentioned"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
#: How ``restricted`` topics count in a run: as violations or as allowed.
RestrictedAs = Literal["violation", "allowed"]
RESTRICTED_AS: tuple[str, ...] = get_args(RestrictedAs)


def check_restricted_as(restricted_as: str) -> bool:
    """Validate ``restricted_as``; True when restricted topics count as violations.

    Examples
    --------
    >>> check_restricted_as("violation"), check_restricted_as("allowed")
    (True, False)
    """
    if restricted_as not in RESTRICTED_AS:
        raise InputError(Problem(
            f"restricted_as must be one of {', '.join(RESTRICTED_AS)}, not {restricted_as!r}",
            field="restricted_as"))
    return restricted_as == "violation"


def is_violation(verdict: str, restricted_as: RestrictedAs = "violation") -> bool:
    """Whether a verdict counts as a violation under the ``restricted_as`` option.

    Examples
    --------
    >>> is_violation("restricted"), is_violation("restricted", "allowed")
    (True, False)
    """
    restricted_counts = check_restricted_as(restricted_as)
    return verdict == "disallowed" or (restricted_counts and verdict == "restricted")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Frozen):
    """Where a version's text comes from and how faithful the file is to it."""

    kind: Literal["verbatim", "reconstructed", "custom"]  # custom: a policy written by its user
    source: str | None = None
    sources: list[str] = Field(default_factory=list)
    notes: str = ""
    caveats: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_source(self) -> Provenance:
        if not self.source and not self.sources:
            raise ValueError("give a 'source' or a list of 'sources'")
        return self


class Category(_Frozen):
    """One category of a version: a key with the version's own title and wording.

    The key is one of the shared :data:`CATEGORY_KEYS`, or, in a policy that declares
    ``custom_categories: true``, any key of lowercase letters, digits and underscores (the
    :class:`Policy` checks which).

    Examples
    --------
    >>> Category(key="age_inappropriate", title="Not for children").key
    'age_inappropriate'
    """

    key: str
    title: str = Field(min_length=1)
    description: str = ""

    @field_validator("key")
    @classmethod
    def _safe_key(cls, v: str) -> str:
        if not _KEY_RE.match(v):
            raise ValueError(f"category key {v!r} must be lowercase letters, digits and underscores, "
                             "starting with a letter (e.g. age_inappropriate)")
        return v


class TopicVerdict(_Frozen):
    """What a version says about one topic.

    Examples
    --------
    >>> TopicVerdict(verdict="disallowed", category="adult", quote="dating apps").category
    'adult'
    """

    verdict: Verdict
    category: str | None = None
    quote: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _category_when_needed(self) -> TopicVerdict:
        if self.verdict in ("disallowed", "restricted") and not self.category:
            raise ValueError(f"a {self.verdict} topic needs a category")
        return self


class Topic(_Frozen):
    """One entry of the shared topic vocabulary (``datasets/policies/topics.yaml``)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    description: str = ""
    reference_category: str | None = None

    @field_validator("reference_category")
    @classmethod
    def _shared_key(cls, v: str | None) -> str | None:
        if v is not None and v not in CATEGORY_KEYS:
            raise ValueError(f"unknown category key {v!r}; use one of: {', '.join(CATEGORY_KEYS)}")
        return v


class Policy(_Frozen):
    """One policy version as data.

    Structural problems (a duplicate category, a topic whose category the version does not
    declare) raise :class:`~harness.errors.InputError` naming the field; the loader adds the
    file and line. Use :func:`harness.policies.load_policy` to read one. ``format_version`` is
    the file format (1, also when a file leaves it out).

    Category keys are the shared :data:`CATEGORY_KEYS` unless ``custom_categories`` is true: then
    the policy defines its own (any lowercase key; it may reuse shared ones, and a classifier
    written for the reference categories speaks only the keys that coincide). The flag is left
    out of :meth:`model_dump` when false, so a built-in version's content (and hash) is the same.

    Examples
    --------
    >>> p = Policy(id="demo", date="2024-01-01", title="Demo",
    ...            provenance={"kind": "reconstructed", "source": "doctest"},
    ...            categories=[{"key": "adult", "title": "Adult content"}],
    ...            topics={"dating_apps": {"verdict": "disallowed", "category": "adult"},
    ...                    "defamation": {"verdict": "not_mentioned"}})
    >>> p.category_keys, p.verdict("dating_apps").verdict
    (('adult',), 'disallowed')
    >>> p.disallowed_topics("adult")
    ['dating_apps']

    A policy with its own categories:

    >>> kids = Policy(id="kids", date="2024-01-01", title="Kids", custom_categories=True,
    ...               provenance={"kind": "reconstructed", "source": "doctest"},
    ...               categories=[{"key": "not_for_kids", "title": "Not for children"}],
    ...               topics={"gambling": {"verdict": "disallowed", "category": "not_for_kids"}})
    >>> kids.disallowed_topics("not_for_kids"), "custom_categories" in p.model_dump()
    (['gambling'], False)
    """

    format_version: Literal[1] = 1
    id: str = Field(min_length=1)
    date: _dt.date
    title: str = Field(min_length=1)
    provenance: Provenance
    custom_categories: bool = False
    categories: list[Category] = Field(min_length=1)
    topics: dict[str, TopicVerdict]

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_str(cls, v: object) -> object:
        # An unquoted ``id: 2023-02-15`` is read by YAML as a date.
        return v.isoformat() if isinstance(v, _dt.date) else v

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict) and not self.custom_categories:
            data.pop("custom_categories", None)  # a built-in version's content stays as it was
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, c in enumerate(self.categories):
            if not self.custom_categories and c.key not in CATEGORY_KEYS:
                problems.append(Problem(
                    f"unknown category key {c.key!r}; use one of: {', '.join(CATEGORY_KEYS)} "
                    "(or set custom_categories: true to define this policy's own categories)",
                    field=f"categories.{i}.key"))
            if c.key in seen:
                problems.append(Problem(f"category {c.key!r} is listed twice", field=f"categories.{i}.key"))
            seen.add(c.key)
        for topic, v in self.topics.items():
            if v.category is not None and v.category not in seen:
                problems.append(Problem(
                    f"category {v.category!r} is not one of this policy's categories "
                    f"({', '.join(self.category_keys)})",
                    field=f"topics.{topic}.category"))
        if problems:
            raise InputError(problems)
        return self

    def __repr__(self) -> str:
        """A one-line summary (the full content is in :meth:`model_dump`).

        Examples
        --------
        >>> from harness.policies import load_policy
        >>> repr(load_policy("2023-02-15"))[:34]
        "Policy('2023-02-15', 14 categories"
        """
        counts = {v: 0 for v in VERDICTS}
        for t in self.topics.values():
            counts[t.verdict] += 1
        verdicts = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        return (f"Policy({self.id!r}, {len(self.categories)} categories, {len(self.topics)} topics: {verdicts}; "
                f"title={self.title!r})")

    def _repr_html_(self) -> str:
        """A notebook display: title, date, provenance and each category with its topics by verdict.

        Examples
        --------
        >>> from harness.policies import load_policy
        >>> "malware" in load_policy("2023-02-15")._repr_html_()
        True
        """
        import html

        esc = html.escape
        rows = []
        for c in self.categories:
            by = {v: sorted(t for t, tv in self.topics.items() if tv.category == c.key and tv.verdict == v)
                  for v in ("disallowed", "restricted", "allowed")}
            rows.append("<tr><td><code>" + esc(c.key) + "</code></td><td>" + esc(c.title) + "</td>"
                        + "".join(f"<td>{esc(', '.join(by[v])) or '—'}</td>" for v in by) + "</tr>")
        kind = getattr(self.provenance, "kind", "")
        return (f"<div><b>{esc(self.title)}</b> (<code>{esc(self.id)}</code>, {self.date}, {esc(str(kind))})"
                "<table><thead><tr><th>category</th><th>title</th><th>disallowed</th><th>restricted</th>"
                "<th>allowed</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")

    @property
    def category_keys(self) -> tuple[str, ...]:
        """The keys of this version's categories, in the version's order."""
        return tuple(c.key for c in self.categories)

    def category(self, key: str) -> Category:
        """The category with this key (InputError if this version has none)."""
        for c in self.categories:
            if c.key == key:
                return c
        raise InputError(Problem(
            f"policy {self.id} has no category {key!r}; it has: {', '.join(self.category_keys)}",
            field="category"))

    def verdict(self, topic: str) -> TopicVerdict:
        """The verdict for ``topic`` (InputError for a topic the version does not list)."""
        try:
            return self.topics[topic]
        except KeyError:
            raise InputError(Problem(
                f"unknown topic {topic!r} for policy {self.id}; see datasets/policies/topics.yaml",
                field="topic")) from None

    def is_violation(self, topic: str, *, restricted_as: RestrictedAs = "violation") -> bool:
        """Whether ``topic`` is a violation under this version."""
        return is_violation(self.verdict(topic).verdict, restricted_as)

    def disallowed_topics(self, category: str, *, restricted_as: RestrictedAs = "violation") -> list[str]:
        """Topics that are violations in ``category`` (restricted ones when ``restricted_as="violation"``).

        A shared category key this version does not have gives ``[]``; a key that is neither
        shared nor one of this policy's own is an InputError.
        """
        if category not in CATEGORY_KEYS and category not in self.category_keys:
            known = list(CATEGORY_KEYS) + [k for k in self.category_keys if k not in CATEGORY_KEYS]
            raise InputError(Problem(
                f"unknown category key {category!r}; use one of: {', '.join(known)}",
                field="category"))
        counts_restricted = check_restricted_as(restricted_as)
        wanted = ("disallowed", "restricted") if counts_restricted else ("disallowed",)
        return [t for t, v in self.topics.items() if v.category == category and v.verdict in wanted]
