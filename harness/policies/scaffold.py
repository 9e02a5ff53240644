"""Your own policy: scaffold an editable policy file from a version, and check one.

``policybench policies new NAME --from VERSION`` writes :func:`scaffold_policy`'s text; ``policybench
policies validate FILE`` calls :func:`validate_policy_file`. A policy file is read by
:func:`harness.policies.load_policy` wherever a version id is accepted.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from harness.errors import InputError, Problem
from harness.policies.load import load_policy
from harness.policies.model import CATEGORY_KEYS, VERDICTS, Policy
from harness.policies.topics import load_topics


def _q(text: object) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _comment(text: str, width: int = 96) -> list[str]:
    words, lines, line = " ".join(text.split()).split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    return [f"  # {ln}" for ln in lines + ([line] if line else [])]


def scaffold_policy(name: str, base: str | Path | Policy, *, date: _dt.date | None = None) -> str:
    """The YAML text of an editable policy ``name`` that starts as a copy of ``base``.

    Every topic of ``topics.yaml`` is listed, in vocabulary order, with the base's verdict and
    category and an empty ``quote`` (for your policy's own wording); comments give the topic's
    meaning and the base's quote. The categories are the base's, and ``custom_categories: false``
    is written out so that you can switch it on to define your own. The file loads as a policy
    whose projection equals the base's.

    Parameters
    ----------
    name : str
        The new policy's id (lowercase letters, digits, ``-`` and ``_``).
    base : str, Path or Policy
        The version (id or file) to start from.
    date : datetime.date, optional
        The policy's date (default: today).

    Examples
    --------
    >>> text = scaffold_policy("my-policy", "2023-02-15", date=_dt.date(2026, 1, 1))
    >>> print("\\n".join(text.splitlines()[10:13]))
    format_version: 1
    id: "my-policy"
    date: 2026-01-01
    >>> "  dating_apps:\\n    verdict: disallowed\\n    category: adult\\n    quote: \\"\\"" in text
    True
    """
    if not name or not all(ch.isalnum() and (ch.islower() or ch.isdigit()) or ch in "-_" for ch in name):
        raise InputError(Problem(f"policy name {name!r} must be lowercase letters, digits, '-' and '_' "
                                 "(e.g. kids-learning)", field="name"))
    p = load_policy(base)
    date = date or _dt.date.today()
    lines = [
        f"# {name}: a content policy for PolicyBench, scaffolded from {p.id} ({p.title}).",
        "#",
        "# Edit it, then check it with `policybench policies validate FILE` and use the file wherever a",
        "# version id goes: `policybench run --policy FILE`, `policies show FILE`, `policies diff A FILE`,",
        "# `suites audit NAME --policy FILE`, load_policy(path), the pytest plugin's policy=...",
        "#",
        "# Verdicts: disallowed | restricted (allowed only with review or disclosure; counts as a violation",
        "# unless a run says --restricted-as allowed) | allowed | not_mentioned. A disallowed or restricted",
        "# topic needs a category. For categories of your own, set custom_categories: true and list them",
        "# (key: lowercase letters, digits, underscores; title; description).",
        "format_version: 1",
        f"id: {_q(name)}",
        f"date: {date.isoformat()}",
        f"title: {_q(name)}",
        "provenance:",
        "  kind: custom",
        f"  source: {_q(f'scaffolded from {p.id} by policybench policies new; describe where your policy text lives')}",
        f"custom_categories: {'true' if p.custom_categories else 'false'}",
        "categories:",
    ]
    for c in p.categories:
        lines += [f"  - key: {c.key}", f"    title: {_q(c.title)}"]
        if c.description:
            lines.append(f"    description: {_q(c.description)}")
    lines.append("topics:")
    for t in load_topics():
        v = p.verdict(t.key)
        about = f"{t.title}: {t.description}" if t.description else t.title
        if v.quote:
            about += f" ({p.id}: {v.quote!r})"
        lines += _comment(about)
        lines += [f"  {t.key}:", f"    verdict: {v.verdict}",
                  f"    category: {v.category if v.category else 'null'}", '    quote: ""']
    return "\n".join(lines) + "\n"


def policy_summary(policy: Policy) -> str:
    """One line: id, title, categories (how many of them custom) and topics per verdict.

    Examples
    --------
    >>> policy_summary(load_policy("2023-02-15"))
    '2023-02-15 (OpenAI Usage Policies (2023-02-15)): 14 categories, 57 topics: 48 disallowed, 4 restricted, 5 not mentioned'
    """
    own = [k for k in policy.category_keys if k not in CATEGORY_KEYS]
    cats = f"{len(policy.categories)} categories" + (f" ({len(own)} custom: {', '.join(own)})" if own else "")
    counts = {v: sum(1 for tv in policy.topics.values() if tv.verdict == v) for v in VERDICTS}
    verdicts = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in counts.items() if n)
    return f"{policy.id} ({policy.title}): {cats}, {len(policy.topics)} topics: {verdicts}"


def validate_policy_file(path: str | Path) -> Policy:
    """Read and check a policy file; every problem is reported at its file, line and field.

    Raises :class:`~harness.errors.InputError` (a missing file included); returns the policy.

    Examples
    --------
    >>> from harness.paths import policies_dir
    >>> validate_policy_file(policies_dir() / "2024-01-10.yaml").id
    '2024-01-10'
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(f"no policy file {path}", file=str(path)))
    return load_policy(path)
