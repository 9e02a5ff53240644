"""Test doubles shared by the test suite: a fake OpenAI-compatible server, a stand-in policy.

Import as ``from tests.fakes import ...``."""

from .openai_server import OMNI_MODERATION, TEXT_MODERATION, FakeOpenAIServer, Fault, Seen
from .policy import CATEGORY_KEYS, FakePolicy, fake_policy

__all__ = ["CATEGORY_KEYS", "FakeOpenAIServer", "FakePolicy", "Fault", "OMNI_MODERATION", "Seen",
           "TEXT_MODERATION", "fake_policy"]
