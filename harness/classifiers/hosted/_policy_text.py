"""Read what a prompt needs from a policy version: its categories and the topics it disallows.

Works on a :class:`harness.policies.Policy` and on any object with the same attributes (``id``,
``title``, ``category_keys``, ``categories`` with ``key``/``title``/``description``, and either
``topics`` — entries with ``verdict``, ``category`` and an optional ``quote`` — or
``verdict(topic)``), so prompts can be built and tested without the policy files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import yaml

from harness.paths import datasets_dir


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
    """A value as one line of text: enums by their value, whitespace collapsed."""
    value = getattr(value, "value", value)
    return " ".join(str(value).split()) if value is not None else ""


@lru_cache(maxsize=1)
def _topic_titles() -> dict[str, str]:
    path = datasets_dir() / "policies" / "topics.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}  # titles are a nicety: fall back to topic keys
    return {t["key"]: t.get("title", t["key"]) for t in data.get("topics", []) if "key" in t}


def _topic_entries(policy: Any) -> list[tuple[str, Any]]:
    """``(topic key, entry)`` pairs, where an entry has verdict/category/quote."""
    topics = _get(policy, "topics")
    if isinstance(topics, Mapping):
        return [(str(k), v) for k, v in topics.items()]
    if isinstance(topics, (list, tuple)):
        return [(str(_get(t, "key") or _get(t, "topic")), t) for t in topics]
    verdict = getattr(policy, "verdict", None)
    if not callable(verdict):
        return []
    return [(key, verdict(key)) for key in _topic_titles()]


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
        if isinstance(entry, str):  # verdict(topic) returned only the verdict: no category known
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
