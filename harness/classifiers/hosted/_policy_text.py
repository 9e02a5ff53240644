"""Read what a prompt needs from a policy version: its categories and the topics it disallows.

Works on a :class:`harness.policies.Policy` and on any object with the same attributes (``id``,
``title``, ``category_keys``, ``categories`` with ``key``/``title``/``description``, and
``topics``: a mapping of topic key to an entry with ``verdict``, ``category`` and an optional
``quote``), so prompts can be built and tested without the policy files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CategoryText:
    """One category of a policy version as a prompt shows it."""

    key: str
    title: str
    description: str
    #: (topic title, quote or "") for each topic the version disallows under this category.
    disallowed: tuple[tuple[str, str], ...] = ()


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _text(value: Any) -> str:
    """A value as one line of text, whitespace collapsed."""
    return " ".join(str(value).split()) if value is not None else ""


def _topic_titles() -> dict[str, str]:
    """Topic titles from the shared vocabulary (keys stand in if it cannot be read)."""
    from harness.errors import PolicyBenchError
    from harness.policies import load_topics

    try:
        return {t.key: t.title for t in load_topics()}
    except PolicyBenchError:
        return {}


def _topic_entries(policy: Any) -> list[tuple[str, Any]]:
    """``(topic key, entry)`` pairs, where an entry has verdict/category/quote."""
    topics = _get(policy, "topics")
    if isinstance(topics, Mapping):
        return [(str(k), v) for k, v in topics.items()]
    if isinstance(topics, (list, tuple)):
        return [(str(_get(t, "key") or _get(t, "topic")), t) for t in topics]
    return []


def policy_categories(policy: Any) -> list[CategoryText]:
    """The categories of ``policy`` in ``category_keys`` order, each with its disallowed topics.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> p = NS(id="v1", title="Demo", category_keys=["malware"],
    ...        categories=[NS(key="malware", title="Malware", description="Code that harms.")],
    ...        topics={"malware": NS(verdict="disallowed", category="malware", title="Malware",
    ...                              quote="Generate malware")})
    >>> c = policy_categories(p)[0]
    >>> c.title, c.disallowed
    ('Malware', (('Malware', 'Generate malware'),))
    """
    cats = {_text(_get(c, "key")): c for c in (_get(policy, "categories") or [])}
    keys = [str(k) for k in (_get(policy, "category_keys") or list(cats))]
    titles = _topic_titles()
    by_cat: dict[str, list[tuple[str, str]]] = {k: [] for k in keys}
    for topic, entry in _topic_entries(policy):
        if entry is None:
            continue
        if _text(_get(entry, "verdict")) != "disallowed":
            continue
        cat = _text(_get(entry, "category"))
        if cat in by_cat:
            title = _text(_get(entry, "title")) or titles.get(topic, topic)
            by_cat[cat].append((title, _text(_get(entry, "quote"))))
    out = []
    for key in keys:
        c = cats.get(key)
        out.append(CategoryText(
            key=key,
            title=_text(_get(c, "title")) or key,
            description=_text(_get(c, "description")),
            disallowed=tuple(by_cat[key]),
        ))
    return out


def policy_id(policy: Any) -> str:
    """The version id of ``policy`` (its ``id`` or ``version`` attribute)."""
    return _text(_get(policy, "id") or _get(policy, "version"))
