"""The shared topic vocabulary: ``datasets/policies/topics.yaml``.

Topic keys are stable: suites, policy versions and crosswalks refer to them.
"""

from __future__ import annotations

from pathlib import Path

from harness._yaml import cached_load, check_format_version, read_yaml, validate
from harness.errors import InputError, Problem
from harness.paths import policies_dir
from harness.policies.model import Topic


def topics_path() -> Path:
    """``<home>/datasets/policies/topics.yaml``."""
    return policies_dir() / "topics.yaml"


def _parse(path: Path) -> tuple[Topic, ...]:
    data, lines = read_yaml(path)
    check_format_version(data, path, lines)
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise InputError(Problem("expected a mapping with a 'topics' list", file=str(path),
                                 line=lines.line(("topics",)), field="topics"))
    topics: list[Topic] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["topics"]):
        try:
            t = validate(Topic, entry, path, lines, prefix=("topics", i))
        except InputError as e:
            problems.extend(e.problems)
            continue
        if t.key in seen:
            problems.append(Problem(f"topic {t.key!r} is listed twice", file=str(path),
                                    line=lines.line(("topics", i, "key")), field=f"topics.{i}.key"))
        seen.add(t.key)
        topics.append(t)
    if problems:
        raise InputError(problems)
    return tuple(topics)


def _load(path: Path) -> tuple[Topic, ...]:
    return cached_load(path, _parse, what="topic vocabulary")


def load_topics() -> list[Topic]:
    """The shared topics, in file order.

    Examples
    --------
    >>> t = {t.key: t for t in load_topics()}["dating_apps"]
    >>> t.title, t.reference_category
    ('Dating apps', 'adult')
    """
    return list(_load(topics_path()))


def topic_keys() -> tuple[str, ...]:
    """The shared topic keys, in file order.

    Examples
    --------
    >>> "payday_lending" in topic_keys()
    True
    """
    return tuple(t.key for t in _load(topics_path()))


def topic_index() -> dict[str, int]:
    """``{topic key: position in topic_keys()}``."""
    return {k: i for i, k in enumerate(topic_keys())}
