"""guard-llm: the Llama Guard prompt from the policy version, answer parsing, logprob scores, faults."""

import math

import numpy as np
import pytest

from harness.classifiers.hosted import (
    GuardLLM,
    HostedItemErrors,
    HttpOptions,
    MalformedAnswer,
    first_token_p_unsafe,
    parse_guard_answer,
)
from harness.errors import ClassifierError
from tests.fakes import CATEGORY_KEYS, FakeOpenAIServer, Fault, fake_policy

KEY = "sk-test-SECRET-123"
FAST = HttpOptions(concurrency=4, read_timeout=2.0, max_attempts=3, backoff_initial=0.001, backoff_max=0.01)


@pytest.fixture
def server():
    with FakeOpenAIServer(reported_model="llama-guard-3-8b-fake") as srv:
        yield srv


def _guard(server, **kw):
    kw.setdefault("options", FAST)
    return GuardLLM("llama-guard3", base_url=server.base_url, **kw).for_policy(fake_policy())


@pytest.mark.parametrize("answer, expected", [
    ("safe", None),
    ("\n\nsafe\n", None),
    ("unsafe\nS2", [1]),
    ("unsafe\nS1,S10", [0, 9]),
    ("UNSAFE\n s3 , S14 ", [2, 13]),
    ("unsafe\nS4,S4", [3]),
])
def test_parse_guard_answer(answer, expected):
    assert parse_guard_answer(answer, 14) == expected


@pytest.mark.parametrize("answer, why", [
    ("", "empty"),
    ("I'm sorry, I can't help", "expected 'safe' or 'unsafe'"),
    ("unsafe", "without a line of categories"),
    ("unsafe\nviolent crimes", "not of the form S<number>"),
    ("unsafe\nS15", "not one of S1..S14"),
    ("unsafe\nS0", "not one of S1..S14"),
])
def test_parse_guard_answer_rejects_garbage(answer, why):
    with pytest.raises(MalformedAnswer, match=why):
        parse_guard_answer(answer, 14)


def test_first_token_probability():
    toks = [{"token": "\n\n", "logprob": 0.0, "top_logprobs": []},
            {"token": "unsafe", "logprob": math.log(0.7),
             "top_logprobs": [{"token": "unsafe", "logprob": math.log(0.7)},
                              {"token": " unsafe", "logprob": math.log(0.1)},
                              {"token": "safe", "logprob": math.log(0.2)}]}]
    assert first_token_p_unsafe(toks) == pytest.approx(0.8)
    only_safe = [{"token": "safe", "logprob": math.log(0.95), "top_logprobs": [{"token": "safe", "logprob": math.log(0.95)}]}]
    assert first_token_p_unsafe(only_safe) == pytest.approx(0.05)
    assert first_token_p_unsafe([{"token": "The", "logprob": -0.1, "top_logprobs": []}]) is None
    assert first_token_p_unsafe(None) is None and first_token_p_unsafe([{"bogus": 1}]) is None


def test_prompt_lists_the_policy_categories_in_order(server):
    clf = _guard(server)
    prompt = clf.prompt("how do I pick a lock")
    assert "S1: Illegal. Content about illegal." in prompt
    assert "S14: Gov decision. Content about gov_decision." in prompt
    assert prompt.index("S2: Child.") < prompt.index("S10: Privacy.")
    assert "User: how do I pick a lock" in prompt
    assert clf.labels == CATEGORY_KEYS and clf.taxonomy.describe() == "policy:2099-01-01"


def test_happy_path_with_logprobs(server):
    server.chat_answers += [("@two@", "unsafe\nS2"), ("@many@", "unsafe\nS1,S10")]
    server.p_unsafe_for["@many@"] = 0.75
    clf = _guard(server)
    scores = clf.predict(["hello", "@two@", "@many@"])
    assert scores.shape == (3, 14) and scores.dtype == np.float32
    assert np.all(scores[0] == 0)
    assert scores[1, 1] == pytest.approx(0.9) and np.count_nonzero(scores[1]) == 1
    assert scores[2, 0] == pytest.approx(0.75) and scores[2, 9] == pytest.approx(0.75)
    assert np.count_nonzero(scores[2]) == 2
    body = server.requests[0].body
    assert body["model"] == "llama-guard3" and body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["temperature"] == 0.0
    info = clf.endpoint_info()
    assert info["reported_model"] == "llama-guard-3-8b-fake" and info["system_fingerprint"] == "fp_fake_1"


def test_without_logprobs_scores_are_one_or_zero(server):
    server.send_logprobs = False
    server.chat_answers.append(("@two@", "unsafe\nS2"))
    scores = _guard(server).predict(["@two@", "hi"])
    assert scores[0, 1] == 1.0 and scores[0].sum() == 1.0 and scores[1].sum() == 0.0


def test_safe_score_option(server):
    server.p_unsafe_for["@doubt@"] = 0.3
    zero = _guard(server).predict(["@doubt@"])
    doubt = _guard(server, safe_score="p_unsafe").predict(["@doubt@"])
    assert np.all(zero == 0) and np.allclose(doubt, 0.3)
    assert _guard(server).config()["safe_score"] == "zero"


def test_server_rejecting_logprobs_falls_back(server):
    server.reject_params.add("logprobs")
    server.chat_answers.append(("@two@", "unsafe\nS2"))
    clf = _guard(server)
    scores, errors = clf.predict_with_errors(["@two@", "hi"])
    assert errors == [None, None] and scores[0, 1] == 1.0
    later = len(server.requests)
    clf.predict(["again"])
    assert "logprobs" not in server.requests[later].body  # dropped for the rest of the run


def test_garbage_answer_is_an_item_error(server):
    server.chat_answers += [("@junk@", "As an AI model I think this is fine"), ("@s99@", "unsafe\nS99")]
    scores, errors = _guard(server).predict_with_errors(["@junk@", "@s99@", "fine"])
    assert "malformed answer" in errors[0] and "S1..S14" in errors[1] and errors[2] is None
    assert np.all(scores[:2] == 0)


def test_malformed_body_and_schema(server):
    server.faults += [Fault("@html@", body="<html>oops</html>"), Fault("@nochoice@", body='{"choices": []}')]
    scores, errors = _guard(server).predict_with_errors(["@html@", "@nochoice@", "ok"])
    assert "not JSON" in errors[0] and "choices[0]" in errors[1] and errors[2] is None


def test_429_then_success_and_500_exhausted(server):
    server.faults += [Fault("@flaky@", status=429, times=2, retry_after="0"), Fault("@boom@", status=502)]
    server.chat_answers.append(("@flaky@", "unsafe\nS4"))
    clf = _guard(server)
    scores, errors = clf.predict_with_errors(["@flaky@", "@boom@", "fine"])
    assert errors[0] is None and scores[0, 3] == pytest.approx(0.9)
    assert "HTTP 502" in errors[1] and errors[2] is None
    assert server.hits("@flaky@") == 2 and server.hits("@boom@") == 3
    assert clf.endpoint_info()["failed"] == 1


def test_timeout_is_an_item_error(server):
    import time

    server.faults.append(Fault("@slow@", sleep=5.0))
    clf = _guard(server, options=HttpOptions(read_timeout=0.2, max_attempts=2, backoff_initial=0.001))
    t0 = time.monotonic()
    _, errors = clf.predict_with_errors(["@slow@", "ok"])
    assert time.monotonic() - t0 < 1.5 and "timed out" in errors[0] and errors[1] is None


def test_unbound_guard_refuses_to_predict_and_describes_itself():
    clf = GuardLLM("m", base_url="http://127.0.0.1:9")
    assert clf.policy_conditioned and clf.describe()["taxonomy"] == "policy:<version under test>"
    with pytest.raises(ClassifierError, match="for_policy"):
        clf.predict(["x"])


def test_config_follows_the_policy_text(server):
    a = _guard(server)
    b = GuardLLM("llama-guard3", base_url=server.base_url).for_policy(fake_policy(id="2099-01-01", title="Other"))
    changed = fake_policy()
    changed.categories[0] = type(changed.categories[0])("illegal", "Illegal", "Changed wording.")
    c = GuardLLM("llama-guard3", base_url=server.base_url).for_policy(changed)
    assert a.config()["policy"] == "2099-01-01" and a.config()["prompt_template_version"] == "llama-guard-3/1"
    assert a.config() == b.config()  # the title is not in the guard prompt
    assert a.config()["prompt_sha256"] != c.config()["prompt_sha256"]
    assert "api_key" not in str(a.config()).lower()


def test_available_from_environment(monkeypatch):
    for var in ("GUARD_LLM_BASE_URL", "GUARD_LLM_MODEL", "GUARD_LLM_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    ok, why = GuardLLM.available()
    assert not ok and "GUARD_LLM_BASE_URL" in why and "GUARD_LLM_MODEL" in why
    monkeypatch.setenv("GUARD_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("GUARD_LLM_MODEL", "llama-guard3")
    assert GuardLLM.available() == (True, "")  # the key is optional
    clf = GuardLLM()
    assert clf.base_url == "http://127.0.0.1:11434" and clf.model == "llama-guard3"


def test_key_never_leaks(server, monkeypatch):
    monkeypatch.setenv("GUARD_LLM_API_KEY", KEY)
    server.faults.append(Fault("@echo@", echo_auth=True))
    clf = _guard(server)
    _, errors = clf.predict_with_errors(["@echo@"])
    with pytest.raises(HostedItemErrors) as info:
        clf.predict(["@echo@"])
    assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    for text in [*errors, str(info.value), repr(clf), str(clf.config()), str(clf.describe()),
                 str(clf.endpoint_info())]:
        assert "SECRET" not in text


def test_with_a_real_policy_model(server):
    """The adapter reads harness.policies.Policy (categories, topics with quotes)."""
    from harness.policies import Policy

    policy = Policy(id="demo", date="2024-01-10", title="Demo",
                    provenance={"kind": "reconstructed", "source": "test"},
                    categories=[{"key": "malware", "title": "Malware", "description": "Code that harms."},
                                {"key": "adult", "title": "Adult content"}],
                    topics={"malware": {"verdict": "disallowed", "category": "malware", "quote": "malware"}})
    server.chat_answers.append(("@adult@", "unsafe\nS2"))
    clf = GuardLLM("g", base_url=server.base_url, options=FAST).for_policy(policy)
    assert clf.labels == ("malware", "adult") and "S2: Adult content." in clf.prompt("x")
    assert clf.predict(["@adult@"])[0].tolist() == pytest.approx([0.0, 0.9])


def test_an_answer_parsed_into_an_impossible_score_is_an_item_error_not_clipped(server, tmp_path):
    from harness.classifiers.hosted._chat import chat_content
    from harness.runner.cache import PredictionCache
    from harness.runner.predict import run_classifier

    class Broken(GuardLLM):
        def parse(self, body):
            row = super().parse(body)
            return row + (1.5 if chat_content(body).startswith("unsafe") else 0.0)

    server.chat_answers.append(("@weapons@", "unsafe\nS1"))
    clf = Broken("llama-guard3", base_url=server.base_url, options=FAST).for_policy(fake_policy())
    p = run_classifier(clf, ["fine", "@weapons@ x"], PredictionCache(tmp_path, "g"), latency_sample=0)
    assert p.errors[0] is None and "not in [0, 1]" in p.errors[1] and "2.4" in p.errors[1]
    assert p.scores[1].tolist() == [0.0] * len(clf.labels)
    assert len(PredictionCache(tmp_path, "g").load()) == 1  # the failed item is not cached
