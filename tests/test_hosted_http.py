"""The shared hosted client: retries, Retry-After, timeouts, concurrency, auth, redaction."""

import json
import time

import pytest

from harness.classifiers.hosted import HttpOptions, JsonClient, RequestFailed, redact
from harness.classifiers.hosted._http import Deadline, parse_retry_after
from tests.fakes import FakeOpenAIServer, Fault

KEY = "sk-test-SECRET-123"
FAST = HttpOptions(concurrency=4, connect_timeout=1.0, read_timeout=2.0, max_attempts=3,
                   backoff_initial=0.001, backoff_max=0.01)


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def _client(server, options=FAST, env="PB_TEST_KEY"):
    return JsonClient(server.base_url, api_key_env=env, options=options)


def _mod(text):
    return {"model": "omni-moderation-latest", "input": [text]}


def test_429_then_success_is_retried_and_counted(server):
    server.faults.append(Fault("flaky", status=429, times=2, retry_after="0"))
    with _client(server) as c:
        reply = c.post("/v1/moderations", _mod("flaky"))
    assert reply.status == 200 and reply.attempts == 3
    assert server.hits("flaky") == 2 and server.count("flaky") == 3
    assert c.stats == {"requests": 1, "attempts": 3, "retries": 2, "failed": 0}


def test_retry_after_is_honoured(server):
    server.faults.append(Fault("wait", status=429, times=1, retry_after="0.3"))
    with _client(server) as c:
        t0 = time.monotonic()
        c.post("/v1/moderations", _mod("wait"))
        took = time.monotonic() - t0
    assert took >= 0.28  # the backoff alone would be ~0.001 s
    stamps = [r.at for r in server.requests]
    assert stamps[1] - stamps[0] >= 0.28


def test_retry_after_is_capped(server):
    server.faults.append(Fault("long", status=503, times=1, retry_after="30"))
    opts = HttpOptions(max_attempts=2, backoff_initial=0.001, max_retry_after=0.05)
    with _client(server, opts) as c:
        t0 = time.monotonic()
        assert c.post("/v1/moderations", _mod("long")).attempts == 2
    assert time.monotonic() - t0 < 2


def test_500_until_retries_run_out(server):
    server.faults.append(Fault("boom", status=500))
    with _client(server) as c, pytest.raises(RequestFailed) as info:
        c.post("/v1/moderations", _mod("boom"))
    assert info.value.status == 500 and info.value.kind == "http" and info.value.attempts == 3
    assert "gave up after 3 attempts" in str(info.value)
    assert server.hits("boom") == 3


def test_other_4xx_is_not_retried(server):
    server.faults.append(Fault("bad", status=400))
    with _client(server) as c, pytest.raises(RequestFailed) as info:
        c.post("/v1/moderations", _mod("bad"))
    assert info.value.status == 400 and info.value.attempts == 1
    assert server.hits("bad") == 1


def test_timeout_is_retried_then_recorded_with_bounded_time(server):
    server.faults.append(Fault("slow", sleep=5.0))
    opts = HttpOptions(read_timeout=0.2, connect_timeout=0.5, max_attempts=2, backoff_initial=0.001)
    with _client(server, opts) as c:
        t0 = time.monotonic()
        out = c.post_many("/v1/moderations", [_mod("slow"), _mod("fine")])
        took = time.monotonic() - t0
    assert isinstance(out[0], RequestFailed) and out[0].kind == "timeout" and out[0].attempts == 2
    assert out[1].status == 200
    assert took < 1.5  # 2 attempts x 0.2 s, not the server's 5 s


def test_deadline_stops_new_attempts_and_cuts_the_one_in_flight(server):
    server.faults.append(Fault("slow", sleep=5.0))
    opts = HttpOptions(read_timeout=0.2, max_attempts=10, backoff_initial=0.001)
    with _client(server, opts) as c:
        c.post("/v1/moderations", _mod("warm"))  # builds the httpx client (TLS context) outside the clock
        c.deadline = Deadline(0.5)
        t0 = time.monotonic()
        with pytest.raises(RequestFailed) as info:
            c.post("/v1/moderations", _mod("slow"))
        took = time.monotonic() - t0
        assert info.value.kind == "deadline" and "deadline of 0.5 s" in str(info.value)
        assert 2 <= info.value.attempts <= 3  # 0.2 s timeouts: the third is cut at 0.5 s
        assert took < 1.5
        out = c.post_many("/v1/moderations", [_mod("a"), _mod("b")])  # past the deadline: nothing is sent
    assert [r.kind for r in out] == ["deadline", "deadline"] and "not sent" in str(out[0])
    assert server.count('"a"') == 0


def test_deadline_abandons_requests_in_flight_in_post_many(server):
    server.faults.append(Fault("slow", sleep=20.0))
    opts = HttpOptions(concurrency=2, read_timeout=30.0, max_attempts=5)
    with _client(server, opts) as c:
        c.post("/v1/moderations", _mod("warm"))
        c.deadline = Deadline(0.5)
        t0 = time.monotonic()
        out = c.post_many("/v1/moderations", [_mod("slow 1"), _mod("fine"), _mod("slow 2")])
        took = time.monotonic() - t0
    assert [getattr(r, "kind", r.status) for r in out] == ["deadline", 200, "deadline"]
    assert took < 4  # the deadline caps the 30 s read timeout; not the server's 20 s


def test_connection_refused_is_a_network_error():
    c = JsonClient("http://127.0.0.1:9", options=HttpOptions(max_attempts=2, backoff_initial=0.001))
    with pytest.raises(RequestFailed) as info:
        c.post("/v1/moderations", _mod("x"))
    assert info.value.kind == "network" and info.value.attempts == 2


def test_non_json_body_is_malformed_not_retried(server):
    server.faults.append(Fault("html", body="<html>gateway</html>"))
    with _client(server) as c, pytest.raises(RequestFailed) as info:
        c.post("/v1/moderations", _mod("html"))
    assert info.value.kind == "malformed" and server.hits("html") == 1


def test_concurrency_is_bounded(server):
    server.faults.append(Fault("nap", sleep=0.1))
    with _client(server, HttpOptions(concurrency=3, max_attempts=1)) as c:
        t0 = time.monotonic()
        out = c.post_many("/v1/moderations", [_mod(f"nap {i}") for i in range(9)])
        took = time.monotonic() - t0
    assert all(r.status == 200 for r in out)
    assert server.max_in_flight == 3
    assert 0.25 < took < 1.0  # 3 waves of 0.1 s, not 9 sequential ones


def test_bearer_comes_from_the_environment_at_send_time(server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", KEY)
    with _client(server) as c:
        c.post("/v1/moderations", _mod("a"))
        monkeypatch.setenv("PB_TEST_KEY", "sk-rotated-456")
        c.post("/v1/moderations", _mod("b"))
        monkeypatch.delenv("PB_TEST_KEY")
        c.post("/v1/moderations", _mod("c"))
    auth = [r.headers.get("Authorization") for r in server.requests]
    assert auth == [f"Bearer {KEY}", "Bearer sk-rotated-456", None]
    assert KEY not in repr(c)


def test_echoed_key_is_redacted_from_errors(server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", KEY)
    server.faults.append(Fault("echo", echo_auth=True))
    with _client(server) as c:
        out = c.post_many("/v1/moderations", [_mod("echo")])
    assert out[0].status == 401
    assert "Incorrect API key" in str(out[0])
    assert KEY not in str(out[0]) and "SECRET" not in repr(out[0])


def test_redact_and_retry_after_parsing():
    assert redact("got Bearer abc123 and sk-abcdefgh") == "got Bearer *** and sk-***"
    assert parse_retry_after("1.5") == 1.5 and parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)


def test_options_are_validated():
    with pytest.raises(ValueError):
        HttpOptions(concurrency=0)
    with pytest.raises(ValueError):
        HttpOptions(max_attempts=0)


def test_body_is_sent_as_json(server):
    with _client(server) as c:
        c.post("/v1/moderations", {"model": "omni-moderation-latest", "input": ["é ü"]})
    seen = server.requests[0]
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(json.dumps(seen.body))["input"] == ["é ü"]
