"""What changed between two policy versions, topic by topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from harness.policies.load import load_policy
from harness.policies.model import Policy, RestrictedAs, is_violation

#: What a topic change does to ground truth (see :meth:`TopicChange.effect`).
Effect = Literal["relaxed", "tightened", "moved"]


@dataclass(frozen=True)
class VerdictRef:
    """A topic's verdict and category in one version."""

    verdict: str
    category: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "category": self.category}


@dataclass(frozen=True)
class TopicChange:
    """A topic whose verdict or category differs between the two versions."""

    topic: str
    before: VerdictRef
    after: VerdictRef

    def effect(self, restricted_as: RestrictedAs = "violation") -> Effect | None:
        """How the change moves ground truth under ``restricted_as``.

        ``"relaxed"``: a violation before, not after; ``"tightened"``: the reverse;
        ``"moved"``: a violation in both, under another category; ``None``: no ground truth
        moves (e.g. disallowed → restricted while restricted counts as a violation).

        Examples
        --------
        >>> c = TopicChange("t", VerdictRef("disallowed", "adult"), VerdictRef("restricted", "adult"))
        >>> c.effect(), c.effect("allowed")
        (None, 'relaxed')
        >>> TopicChange("t", VerdictRef("disallowed", "adult"), VerdictRef("disallowed", "illegal")).effect()
        'moved'
        """
        before = is_violation(self.before.verdict, restricted_as)
        after = is_violation(self.after.verdict, restricted_as)
        if before and not after:
            return "relaxed"
        if after and not before:
            return "tightened"
        if before and after and self.before.category != self.after.category:
            return "moved"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "before": self.before.to_dict(), "after": self.after.to_dict()}


@dataclass(frozen=True)
class PolicyDiff:
    """The differences from ``before`` to ``after``.

    ``changes`` lists, in topic order, every topic whose verdict or category changed;
    ``categories_added`` / ``categories_removed`` are category keys.
    """

    before: str
    after: str
    changes: list[TopicChange] = field(default_factory=list)
    categories_added: list[str] = field(default_factory=list)
    categories_removed: list[str] = field(default_factory=list)

    def change(self, topic: str) -> TopicChange | None:
        """The change for ``topic``, or None if it did not change."""
        return next((c for c in self.changes if c.topic == topic), None)

    def newly_disallowed(self, *, restricted_as: RestrictedAs = "violation") -> list[str]:
        """Topics that are violations after but not before."""
        return [c.topic for c in self.changes
                if is_violation(c.after.verdict, restricted_as) and not is_violation(c.before.verdict, restricted_as)]

    def newly_allowed(self, *, restricted_as: RestrictedAs = "violation") -> list[str]:
        """Topics that were violations before but are not after."""
        return [c.topic for c in self.changes
                if is_violation(c.before.verdict, restricted_as) and not is_violation(c.after.verdict, restricted_as)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "before": self.before,
            "after": self.after,
            "changes": [c.to_dict() for c in self.changes],
            "categories_added": list(self.categories_added),
            "categories_removed": list(self.categories_removed),
            "newly_disallowed": self.newly_disallowed(),
            "newly_allowed": self.newly_allowed(),
        }

    def __len__(self) -> int:
        return len(self.changes)

    def __repr__(self) -> str:
        """A one-line summary: how many topics changed and how they move ground truth.

        Examples
        --------
        >>> d = diff("2023-02-15", "2024-01-10")
        >>> repr(d).startswith(f"PolicyDiff('2023-02-15' → '2024-01-10': {len(d)} topics changed (")
        True
        """
        effects: dict[str, int] = {}
        for c in self.changes:
            e = c.effect() or "no truth change"
            effects[e] = effects.get(e, 0) + 1
        parts = ", ".join(f"{n} {e}" for e, n in effects.items())
        cats = "".join(f", categories {s} {ks}" for s, ks in (("+", self.categories_added),
                                                             ("-", self.categories_removed)) if ks)
        return f"PolicyDiff({self.before!r} → {self.after!r}: {len(self)} topics changed ({parts}){cats})"

    def _repr_html_(self) -> str:
        """A notebook display: one row per changed topic, with its effect on ground truth.

        Examples
        --------
        >>> "dating_apps" in diff("2023-02-15", "2024-01-10")._repr_html_()
        True
        """
        import html

        esc = html.escape

        def ref(v: VerdictRef) -> str:
            return esc(v.verdict) + (f" ({esc(v.category)})" if v.category else "")

        rows = "".join(f"<tr><td><code>{esc(c.topic)}</code></td><td>{ref(c.before)}</td><td>{ref(c.after)}</td>"
                       f"<td>{esc(c.effect() or '—')}</td></tr>" for c in self.changes)
        cats = "".join(f"<br>categories {s}: {esc(', '.join(ks))}" for s, ks in (
            ("added", self.categories_added), ("removed", self.categories_removed)) if ks)
        return (f"<div><b>{esc(self.before)} → {esc(self.after)}</b>: {len(self)} topics changed{cats}"
                "<table><thead><tr><th>topic</th><th>before</th><th>after</th><th>effect (restricted as "
                "violation)</th></tr></thead><tbody>" + rows + "</tbody></table></div>")


def diff(v1: str | Policy, v2: str | Policy) -> PolicyDiff:
    """Compare two versions (ids, files or :class:`Policy` objects).

    Examples
    --------
    >>> d = diff("2023-02-15", "2024-01-10")
    >>> c = d.change("dating_apps")
    >>> c.before.verdict, c.after.verdict
    ('disallowed', 'not_mentioned')
    >>> "dating_apps" in d.newly_allowed(), "defamation" in d.newly_disallowed()
    (True, True)
    """
    a, b = load_policy(v1), load_policy(v2)
    order = list(a.topics) + [t for t in b.topics if t not in a.topics]
    changes = []
    for t in order:
        va, vb = a.topics.get(t), b.topics.get(t)
        ra = VerdictRef(va.verdict, va.category) if va else VerdictRef("not_mentioned", None)
        rb = VerdictRef(vb.verdict, vb.category) if vb else VerdictRef("not_mentioned", None)
        if ra != rb:
            changes.append(TopicChange(t, ra, rb))
    ka, kb = a.category_keys, b.category_keys
    return PolicyDiff(
        before=a.id,
        after=b.id,
        changes=changes,
        categories_added=[k for k in kb if k not in ka],
        categories_removed=[k for k in ka if k not in kb],
    )
