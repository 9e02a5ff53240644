"""Hosted failures are never cached: the next run asks the endpoint again for exactly those items.

A first run against a fake server that fails some items (5xx, 429, timeout, a rejected key, an
answer that cannot be parsed), then a second run against a healthy server with the same cache.
"""

import json

import numpy as np
import pytest

from harness.classifiers.hosted import GuardLLM, HttpOptions, OpenAIModeration
from harness.runner.cache import PredictionCache
from harness.runner.predict import run_classifier
from tests.fakes import FakeOpenAIServer, Fault, fake_policy

KEY = "sk-test-SECRET-123"
OPTS = HttpOptions(concurrency=4, read_timeout=0.3, max_attempts=2, backoff_initial=0.001, backoff_max=0.01)
BAD = {2, 5, 7}
TEXTS = [f"item {i} {'@bad@' if i in BAD else '<hate>'}" for i in range(10)]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAIServer() as srv:
        yield srv


def _asked(server, texts):
    """Which of ``texts`` the server received a request for."""
    bodies = [json.dumps(r.body) for r in server.requests]
    return {t for t in texts if any(t in b for b in bodies)}


def _first_then_healthy(server, make, cache_root, **kw):
    first = run_classifier(make(), TEXTS, PredictionCache(cache_root, "hosted"), batch_size=4, **kw)
    server.faults.clear()
    server.chat_answers.clear()
    server.requests.clear()
    second = run_classifier(make(), TEXTS, PredictionCache(cache_root, "hosted"), batch_size=4, **kw)
    return first, second


@pytest.mark.parametrize("fault, reason", [
    (Fault("@bad@", status=500), "HTTP 500"),
    (Fault("@bad@", status=429, retry_after="0"), "HTTP 429"),
    (Fault("@bad@", status=503), "HTTP 503"),
    (Fault("@bad@", sleep=3.0), "imeout"),
    (Fault("@bad@", echo_auth=True), "401"),
    (Fault("@bad@", body=json.dumps({"results": "not a list"})), "malformed answer"),
])
def test_moderation_failures_are_retried_next_run_and_nothing_else(server, tmp_path, fault, reason):
    server.faults.append(fault)

    def make():
        return OpenAIModeration("omni-moderation-latest", base_url=server.base_url, options=OPTS, request_batch=1)

    first, second = _first_then_healthy(server, make, tmp_path, latency_sample=0)
    assert {i for i, _ in first.failures()} == BAD
    assert all(reason in why for _, why in first.failures())
    assert KEY not in json.dumps(first.errors)
    assert _asked(server, TEXTS) == {TEXTS[i] for i in BAD}  # the healthy server saw only the failed items
    assert second.n_computed == len(BAD) and second.n_reused == len(TEXTS) - len(BAD)
    assert not second.error_mask.any()
    hate = list(second.labels).index("hate")
    good = [i for i in range(len(TEXTS)) if i not in BAD]
    assert np.array_equal(second.scores[good], first.scores[good])
    assert np.allclose(second.scores[sorted(BAD), hate], 0.01)  # real answers now, not the zeros of a failure
    third = make()
    again = run_classifier(third, TEXTS, PredictionCache(tmp_path, "hosted"), batch_size=4)
    assert again.n_computed == 0 and third.endpoint_info()["requests"] == 0


def test_guard_unparsable_answers_are_retried_next_run(server, tmp_path):
    server.chat_answers.append(("@bad@", "I cannot help with that"))

    def make():
        return GuardLLM("llama-guard3", base_url=server.base_url, options=OPTS).for_policy(fake_policy())

    first, second = _first_then_healthy(server, make, tmp_path, latency_sample=2)
    assert {i for i, _ in first.failures()} == BAD
    assert all("malformed answer" in why for _, why in first.failures())
    assert _asked(server, TEXTS) == {TEXTS[i] for i in BAD}
    assert second.n_computed == len(BAD) and not second.error_mask.any()


def test_no_cache_asks_again_for_every_item(server, tmp_path):
    server.faults.append(Fault("@bad@", status=500))

    def make():
        return OpenAIModeration("omni-moderation-latest", base_url=server.base_url, options=OPTS, request_batch=1)

    run_classifier(make(), TEXTS, PredictionCache(tmp_path, "hosted"), batch_size=4, latency_sample=0)
    server.faults.clear()
    server.requests.clear()
    p = run_classifier(make(), TEXTS, PredictionCache(tmp_path, "hosted", read=False), batch_size=4,
                       latency_sample=0)
    assert _asked(server, TEXTS) == set(TEXTS) and p.n_computed == len(TEXTS) and not p.error_mask.any()
