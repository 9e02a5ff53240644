"""Find and read policy versions: ``datasets/policies/<version>.yaml`` or a user's own file."""

from __future__ import annotations

import os
from pathlib import Path

from harness._yaml import LineMap, cached_load, check_format_version, read_yaml, validate
from harness.errors import InputError, Problem, UnknownPolicyVersion
from harness.paths import policies_dir
from harness.policies.model import Policy
from harness.policies.topics import topic_keys

#: Files in ``datasets/policies`` that are not policy versions.
_NOT_VERSIONS = {"topics"}


def _version_files() -> dict[str, Path]:
    d = policies_dir()
    if not d.is_dir():
        return {}
    return {p.stem: p for p in d.glob("*.yaml") if p.stem not in _NOT_VERSIONS}


def list_versions() -> list[str]:
    """The policy version ids in ``datasets/policies``, oldest first.

    Examples
    --------
    >>> vs = list_versions()
    >>> vs[0] < vs[-1], "2023-02-15" in vs
    (True, True)
    """
    policies = [load_policy(p) for p in _version_files().values()]
    return [p.id for p in sorted(policies, key=lambda p: (p.date, p.id))]


def _looks_like_path(version: str) -> bool:
    return version.endswith((".yaml", ".yml")) or "/" in version or os.sep in version


def load_policy(version: str | Path | Policy) -> Policy:
    """A policy version by id (``"2023-02-15"``) or from a YAML file (``Path`` or ``"x.yaml"``).

    Files are validated (schema, declared categories, a verdict for every topic of
    ``topics.yaml``) and cached until they change. An unknown id raises
    :class:`~harness.errors.UnknownPolicyVersion` listing the available ones; a bad file
    raises :class:`~harness.errors.InputError` naming the file, line and field.

    Examples
    --------
    >>> p = load_policy("2023-02-15")
    >>> p.verdict("dating_apps").verdict, p.verdict("dating_apps").category
    ('disallowed', 'adult')
    >>> load_policy("2024-01-10").verdict("dating_apps").verdict
    'not_mentioned'
    """
    if isinstance(version, Policy):
        return version
    if isinstance(version, Path) or _looks_like_path(str(version)):
        return _load_file(Path(version), expected_id=None)
    files = _version_files()
    if version not in files:
        available = ", ".join(sorted(files)) or "(none)"
        raise UnknownPolicyVersion(Problem(
            f"unknown policy version {version!r}; available: {available}", field="version"))
    return _load_file(files[version], expected_id=version)


def _parse_file(path: Path) -> tuple[Policy, LineMap]:
    data, lines = read_yaml(path)
    return parse_policy(data, file=path, lines=lines), lines


def _load_file(path: Path, *, expected_id: str | None) -> Policy:
    policy, lines = cached_load(path, _parse_file, what="policy file")
    if expected_id is not None and policy.id != expected_id:
        raise InputError(Problem(f"id {policy.id!r} does not match the file name ({expected_id}.yaml)",
                                 file=str(path), line=lines.line(("id",)), field="id"))
    return policy


def parse_policy(data: object, *, file: Path | str = "<policy>", lines: LineMap | None = None) -> Policy:
    """Validate parsed YAML/JSON data as a policy version that covers every shared topic.

    ``format_version`` may be left out (it is 1); another value is an
    :class:`~harness.errors.InputError`.

    Examples
    --------
    >>> parse_policy({"format_version": 2, "id": "x"})
    Traceback (most recent call last):
    ...
    harness.errors.InputError: 1 problem in input:
      - <policy>, field 'format_version': unknown format_version 2; this PolicyBench reads format_version 1 (a file without one is read as 1)
    """
    file = Path(file)
    lines = lines or LineMap()
    if not isinstance(data, dict):
        raise InputError(Problem("expected a mapping with id, date, title, provenance, categories, topics",
                                 file=str(file), line=lines.line(())))
    check_format_version(data, file, lines)
    # Topic coverage is checked on the raw mapping, so that it is reported with any schema problem.
    topics = data.get("topics")
    problems = []
    if isinstance(topics, dict):
        known = topic_keys()
        missing = [t for t in known if t not in topics]
        if missing:
            problems.append(Problem(f"no verdict for topic(s): {', '.join(missing)} (every topic in "
                                    "datasets/policies/topics.yaml needs one)",
                                    file=str(file), line=lines.line(("topics",)), field="topics"))
        known_set = set(known)
        for t in topics:
            if t not in known_set:
                problems.append(Problem(f"unknown topic {t!r}; see datasets/policies/topics.yaml",
                                        file=str(file), line=lines.line(("topics", t)), field=f"topics.{t}"))
    try:
        policy = validate(Policy, data, file, lines)
    except InputError as e:
        raise InputError(list(e.problems) + problems) from None
    if problems:
        raise InputError(problems)
    return policy
