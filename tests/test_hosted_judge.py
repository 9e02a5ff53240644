"""llm-judge: the policy text in the prompt, JSON verdicts validated, malformed answers as item errors."""

import json

import numpy as np
import pytest

from harness.classifiers.hosted import HostedItemErrors, HttpOptions, LLMJudge, MalformedAnswer, parse_judge_answer
from tests.fakes import CATEGORY_KEYS, FakeOpenAIServer, Fault, fake_policy

KEY = "sk-test-SECRET-123"
FAST = HttpOptions(concurrency=4, read_timeout=2.0, max_attempts=3, backoff_initial=0.001, backoff_max=0.01)


@pytest.fixture
def server():
    with FakeOpenAIServer(reported_model="gpt-judge-fake") as srv:
        yield srv


def _judge(server, **kw):
    kw.setdefault("options", FAST)
    return LLMJudge("judge-model", base_url=server.base_url, **kw).for_policy(fake_policy())


def _verdicts(**flagged):
    """An answer with every category not violated (confidence 0.8) except ``key=confidence`` ones."""
    out = {k: {"violation": False, "confidence": 0.8} for k in CATEGORY_KEYS}
    for k, c in flagged.items():
        out[k] = {"violation": True, "confidence": c}
    return json.dumps(out)


def test_prompt_carries_the_policy_text(server):
    judge = _judge(server)
    system = judge.system_prompt()
    assert "Fake usage policies (version 2099-01-01)" in system
    assert "- malware: Malware. Content about malware." in system
    assert '"Generation of malware"' in system and '"Dating apps"' in system
    assert "gambling" not in system.lower()  # allowed topics are not listed as disallowed
    assert ", ".join(CATEGORY_KEYS) in system
    body = judge.request_body("some text")
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system" and "some text" in body["messages"][1]["content"]


def test_happy_path_scores(server):
    server.chat_answers.append(("@mal@", _verdicts(malware=1.0, adult=0.6)))
    judge = _judge(server)
    scores = judge.predict(["@mal@", "nothing to see"])
    col = {k: j for j, k in enumerate(judge.labels)}
    assert scores.shape == (2, 14) and scores.dtype == np.float32
    assert scores[0, col["malware"]] == pytest.approx(1.0) and scores[0, col["adult"]] == pytest.approx(0.8)
    assert scores[0, col["illegal"]] == pytest.approx(0.1)  # not violated, confidence 0.8
    assert np.allclose(scores[1], 0.1)
    assert judge.endpoint_info()["reported_model"] == "gpt-judge-fake"


def test_fenced_json_is_accepted(server):
    server.chat_answers.append(("@fence@", "```json\n" + _verdicts(child=0.9) + "\n```"))
    judge = _judge(server)
    scores = judge.predict(["@fence@"])
    assert scores[0, list(judge.labels).index("child")] == pytest.approx(0.95)


@pytest.mark.parametrize("answer, why", [
    ("I think it is fine.", "not JSON"),
    ('{"malware": {"violation": true, "confidence": 0.9}', "not JSON"),
    ('[1, 2]', "expected a JSON object"),
    (json.dumps({"malware": {"violation": True, "confidence": 0.9}}), "missing category keys"),
    (_verdicts().replace('"violation": false', '"violation": "no"', 1), "violation: Input should be a valid boolean"),
    (_verdicts(malware=1.5), "confidence"),
    (_verdicts().replace('"confidence": 0.8', '"confidence": "high"', 1), "confidence"),
    (json.dumps({k: True for k in CATEGORY_KEYS}), "illegal"),
])
def test_malformed_answer_is_an_item_error(server, answer, why):
    server.chat_answers.append(("@bad@", answer))
    scores, errors = _judge(server).predict_with_errors(["@bad@", "fine"])
    assert errors[0] is not None and why in errors[0] and "malformed answer" in errors[0]
    assert errors[1] is None and np.all(scores[0] == 0) and np.allclose(scores[1], 0.1)


def test_parse_judge_answer_ignores_extra_keys():
    v = parse_judge_answer('{"a": {"violation": false, "confidence": 1, "why": "x"}, "b": 3}', ["a"])
    assert v["a"].confidence == 1.0 and not v["a"].violation
    with pytest.raises(MalformedAnswer):
        parse_judge_answer('{"a": {"violation": 1, "confidence": 1}}', ["a"])


def test_server_rejecting_response_format_falls_back(server):
    server.reject_params.add("response_format")
    judge = _judge(server)
    scores, errors = judge.predict_with_errors(["a", "b"])
    assert errors == [None, None] and np.allclose(scores, 0.1)
    later = len(server.requests)
    judge.predict(["c"])
    assert "response_format" not in server.requests[later].body
    assert _judge(server, json_mode=False).request_body("x").get("response_format") is None


def test_faults(server):
    server.faults += [Fault("@flaky@", status=429, times=1, retry_after="0"), Fault("@boom@", status=500),
                      Fault("@html@", body="not json at all")]
    judge = _judge(server)
    scores, errors = judge.predict_with_errors(["@flaky@", "@boom@", "@html@", "ok"])
    assert errors[0] is None and errors[3] is None
    assert "HTTP 500" in errors[1] and "not JSON" in errors[2]
    assert server.hits("@flaky@") == 1 and server.hits("@boom@") == 3
    with pytest.raises(HostedItemErrors, match="2 of 4 items failed"):
        judge.predict(["@flaky@", "@boom@", "@html@", "ok"])


def test_timeout_is_an_item_error(server):
    import time

    server.faults.append(Fault("@slow@", sleep=5.0))
    judge = _judge(server, options=HttpOptions(read_timeout=0.2, max_attempts=2, backoff_initial=0.001))
    t0 = time.monotonic()
    _, errors = judge.predict_with_errors(["@slow@", "ok"])
    assert time.monotonic() - t0 < 1.5 and "timed out" in errors[0] and errors[1] is None


def test_config_and_availability(server, monkeypatch):
    judge = _judge(server)
    cfg = judge.config()
    assert cfg["model"] == "judge-model" and cfg["base_url"] == server.base_url
    assert cfg["prompt_template_version"] == "judge/1" and cfg["policy"] == "2099-01-01" and cfg["json_mode"]
    other = LLMJudge("judge-model", base_url=server.base_url).for_policy(fake_policy(title="Renamed"))
    assert other.config()["prompt_sha256"] != cfg["prompt_sha256"]  # the title is in the judge's prompt
    assert _judge(server).config() == cfg
    for var in ("JUDGE_BASE_URL", "JUDGE_MODEL", "JUDGE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    ok, why = LLMJudge.available()
    assert not ok and "JUDGE_BASE_URL" in why and "JUDGE_MODEL" in why
    assert judge.available() == (True, "")  # an instance given a base URL and model can run


def test_key_never_leaks(server, monkeypatch):
    monkeypatch.setenv("JUDGE_API_KEY", KEY)
    server.faults.append(Fault("@echo@", echo_auth=True))
    judge = _judge(server)
    _, errors = judge.predict_with_errors(["@echo@"])
    with pytest.raises(HostedItemErrors) as info:
        judge.predict(["@echo@"])
    assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    for text in [*errors, str(info.value), repr(info.value), repr(judge), str(judge.config()),
                 str(judge.describe()), str(judge.endpoint_info())]:
        assert "SECRET" not in text


def test_prompts_follow_the_real_policy_versions():
    """Built from datasets/policies: every version binds, and a changed verdict changes the prompt."""
    from harness.policies import list_versions, load_policy

    judges = {v: LLMJudge("m", base_url="http://127.0.0.1:9").for_policy(load_policy(v)) for v in list_versions()}
    assert {"2023-02-15", "2024-01-10"} <= set(judges)
    old, new = judges["2023-02-15"].system_prompt(), judges["2024-01-10"].system_prompt()
    assert 'Multi-level marketing: "Multi-level marketing"' in old  # mlm is disallowed in 2023-02-15 ...
    assert "Multi-level marketing" not in new  # ... and not mentioned in 2024-01-10
    assert len({j.config()["prompt_sha256"] for j in judges.values()}) == len(judges)
    for v, j in judges.items():
        assert j.labels == load_policy(v).category_keys and j.taxonomy.describe() == f"policy:{v}"
