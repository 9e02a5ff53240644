"""Test doubles shared by the test suite: a fake OpenAI-compatible server, a stand-in policy."""

from tests.fakes.openai_server import OMNI_MODERATION, TEXT_MODERATION, FakeOpenAIServer, Fault, Seen
from tests.fakes.policy import CATEGORY_KEYS, FakePolicy, fake_policy

__all__ = ["CATEGORY_KEYS", "FakeOpenAIServer", "FakePolicy", "Fault", "OMNI_MODERATION", "Seen",
           "TEXT_MODERATION", "fake_policy"]
