"""A stand-in policy version for prompt and adapter tests (same attributes as harness.policies.Policy).

It has the 14 category keys of the reference policy (so guard answers up to ``S14`` parse) and
a few topics, some disallowed, with quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CATEGORY_KEYS = (
    "illegal", "child", "hate_harass_violence", "malware", "physical_harm", "economic_harm",
    "fraud_deception", "adult", "political", "privacy", "legal", "financial", "health", "gov_decision",
)


@dataclass(frozen=True)
class FakeCategory:
    key: str
    title: str
    description: str


@dataclass(frozen=True)
class FakeTopic:
    verdict: str
    category: str
    quote: str = ""


@dataclass
class FakePolicy:
    id: str = "2099-01-01"
    title: str = "Fake usage policies"
    category_keys: tuple[str, ...] = CATEGORY_KEYS
    categories: list[FakeCategory] = field(default_factory=list)
    topics: dict[str, FakeTopic] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.categories:
            self.categories = [FakeCategory(k, k.replace("_", " ").capitalize(), f"Content about {k}.")
                               for k in self.category_keys]
        if not self.topics:
            self.topics = {
                "malware": FakeTopic("disallowed", "malware", "Generation of malware"),
                "dating_apps": FakeTopic("disallowed", "adult", "Dating apps"),
                "gambling": FakeTopic("allowed", "economic_harm", "gambling"),
            }

    def verdict(self, topic: str) -> str:
        t = self.topics.get(topic)
        return t.verdict if t else "not_mentioned"


def fake_policy(**kw: object) -> FakePolicy:
    """A :class:`FakePolicy`; keywords override fields."""
    return FakePolicy(**kw)  # type: ignore[arg-type]
