"""openai-moderation against the fake server: columns, batching, faults, availability, secrets."""

import numpy as np
import pytest

from harness.classifiers.hosted import HostedItemErrors, HttpOptions, OpenAIModeration
from harness.errors import InputError
from tests.fakes import OMNI_MODERATION, TEXT_MODERATION, FakeOpenAIServer, Fault

KEY = "sk-test-SECRET-123"
FAST = HttpOptions(concurrency=4, read_timeout=2.0, max_attempts=3, backoff_initial=0.001, backoff_max=0.01)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAIServer() as srv:
        yield srv


def _clf(server, model="omni-moderation-latest", **kw):
    kw.setdefault("options", FAST)
    return OpenAIModeration(model, base_url=server.base_url, **kw)


def test_scores_land_in_the_right_columns(server):
    clf = _clf(server)
    texts = ["a <hate/threatening> text", "plain", "<illicit> and <sexual/minors>"]
    scores = clf.predict(texts)
    assert scores.dtype == np.float32 and scores.shape == (3, 13)
    col = {label: j for j, label in enumerate(clf.labels)}
    assert scores[0, col["hate/threatening"]] == pytest.approx(0.9)
    assert scores[0, col["hate"]] == pytest.approx(0.01)
    assert np.allclose(scores[1], 0.01)
    assert scores[2, col["illicit"]] == pytest.approx(0.9) and scores[2, col["sexual/minors"]] == pytest.approx(0.9)
    assert (scores[2] > 0.5).sum() == 2
    assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert server.requests[0].body == {"model": "omni-moderation-latest", "input": texts}


def test_model_decides_taxonomy_and_labels(server):
    text = _clf(server, "text-moderation-007")
    omni = _clf(server, "omni-moderation-latest")
    assert text.taxonomy.describe() == "crosswalk:openai-moderation-2023"
    assert omni.taxonomy.describe() == "crosswalk:omni-moderation"
    assert sorted(text.labels) == sorted(TEXT_MODERATION) and sorted(omni.labels) == sorted(OMNI_MODERATION)
    scores = text.predict(["<violence/graphic>"])
    assert scores.shape == (1, 11) and scores[0, list(text.labels).index("violence/graphic")] > 0.5
    old = _clf(server, "text-moderation-005")
    assert old.taxonomy.describe() == "crosswalk:openai-moderation-2022" and len(old.labels) == 7
    with pytest.raises(InputError, match="unknown moderation model"):
        OpenAIModeration("gpt-4o", base_url=server.base_url)


def test_requests_are_batched(server):
    clf = _clf(server, request_batch=4)
    clf.predict([f"t{i}" for i in range(10)])
    assert sorted(len(r.body["input"]) for r in server.requests) == [2, 4, 4]


def test_429_then_success(server):
    server.faults.append(Fault("@flaky@", status=429, times=1, retry_after="0"))
    clf = _clf(server)
    scores, errors = clf.predict_with_errors(["x @flaky@ <hate>", "y"])
    assert errors == [None, None]
    assert scores[0, list(clf.labels).index("hate")] == pytest.approx(0.9)
    info = clf.endpoint_info()
    assert info["attempts"] == 2 and info["retries"] == 1 and info["failed"] == 0


def test_500_until_retries_run_out_fails_only_that_item(server):
    server.faults.append(Fault("@boom@", status=500))
    clf = _clf(server, request_batch=8)
    texts = ["<hate> ok", "@boom@", "<violence> ok"]
    scores, errors = clf.predict_with_errors(texts)
    assert errors[0] is None and errors[2] is None
    assert "HTTP 500" in errors[1] and "gave up after 3 attempts" in errors[1]
    assert np.all(scores[1] == 0)
    col = list(clf.labels)
    assert scores[0, col.index("hate")] == pytest.approx(0.9) and scores[2, col.index("violence")] == pytest.approx(0.9)
    # the batch failed (3 attempts), then the bad item alone failed again (3 attempts)
    assert server.hits("@boom@") == 6
    with pytest.raises(HostedItemErrors) as info:
        clf.predict(texts)
    assert info.value.errors[1] is not None and info.value.scores.shape == (3, 13)
    assert "1 of 3 items failed" in str(info.value)


def test_timeout_is_an_item_error_in_bounded_time(server):
    import time

    server.faults.append(Fault("@slow@", sleep=5.0))
    opts = HttpOptions(read_timeout=0.2, max_attempts=2, backoff_initial=0.001)
    clf = _clf(server, options=opts, request_batch=1)
    t0 = time.monotonic()
    scores, errors = clf.predict_with_errors(["@slow@", "<hate>"])
    assert time.monotonic() - t0 < 1.5
    assert "timed out" in errors[0] and errors[1] is None
    assert scores[1].max() == pytest.approx(0.9)


@pytest.mark.parametrize("body, why", [
    ("this is not json", "not JSON"),
    ('{"id": "x", "results": [{"flagged": false}]}', "category_scores"),
    ('{"id": "x", "results": []}', "got 0 results"),
    ('{"results": [{"category_scores": {"hate": "high"}}]}', "is not a number"),
    ('["not", "an", "object"]', "'results' list"),
])
def test_malformed_body_is_an_item_error(server, body, why):
    server.faults.append(Fault("@bad@", body=body))
    clf = _clf(server)
    scores, errors = clf.predict_with_errors(["@bad@", "fine"])
    assert errors[1] is None and errors[0] is not None and why in errors[0]
    assert np.all(scores[0] == 0) and np.allclose(scores[1], 0.01)


def test_available_names_the_env_var(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ok, why = OpenAIModeration.available()
    assert not ok and "OPENAI_API_KEY" in why
    assert OpenAIModeration().describe()["available"] is False
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert OpenAIModeration.available() == (True, "")


def test_predict_without_key_stops_with_the_env_var_name(server, monkeypatch):
    from harness.errors import ClassifierError

    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ClassifierError, match="OPENAI_API_KEY"):
        _clf(server).predict_with_errors(["x"])
    assert server.requests == []


def test_base_url_and_model_from_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/v1")
    monkeypatch.setenv("OPENAI_MODERATION_MODEL", "text-moderation-stable")
    clf = OpenAIModeration(options=FAST)
    assert clf.base_url == server.base_url and len(clf.labels) == 11
    assert clf.predict(["hi"]).shape == (1, 11)
    assert server.requests[0].path == "/v1/moderations"


def test_endpoint_info_reports_model(server):
    clf = _clf(server)
    clf.predict(["a"])
    clf.close()  # counters survive closing the connections
    info = clf.endpoint_info()
    assert info["reported_model"] == "omni-moderation-latest-fake-build" and info["requests"] == 1
    assert info["requested_model"] == "omni-moderation-latest" and info["base_url"] == server.base_url


def test_auth_failure_is_not_split_per_item(server):
    server.faults.append(Fault("@batch@", status=401))
    clf = _clf(server, request_batch=8)
    _, errors = clf.predict_with_errors(["@batch@ a", "b", "c"])
    assert all("HTTP 401" in e for e in errors)
    assert len(server.requests) == 1  # no retry, no re-send item by item


def test_http_shortcuts_and_credentials_in_the_url(server):
    clf = OpenAIModeration(base_url="http://user:pw@127.0.0.1:9/?token=abc", concurrency=2, timeout=3.0,
                           max_attempts=1)
    assert (clf.options.concurrency, clf.options.read_timeout, clf.options.max_attempts) == (2, 3.0, 1)
    shown = [str(clf.config()), repr(clf), str(clf.endpoint_info()), repr(clf.client())]
    assert all("pw" not in t and "abc" not in t for t in shown)
    assert clf.config()["base_url"] == "http://127.0.0.1:9"


def test_key_never_leaks(server):
    server.faults.append(Fault("@echo@", echo_auth=True))
    clf = _clf(server)
    scores, errors = clf.predict_with_errors(["@echo@"])
    assert "HTTP 401" in errors[0]
    with pytest.raises(HostedItemErrors) as info:
        clf.predict(["@echo@"])
    texts = [str(info.value), repr(info.value), *errors, repr(clf), str(clf.config()),
             str(clf.describe()), str(clf.endpoint_info()), repr(clf.client())]
    assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"  # it was sent...
    for t in texts:
        assert "SECRET" not in t  # ...and never shown


def test_config_is_stable_and_keyless(server):
    a, b = _clf(server), _clf(server, options=HttpOptions(concurrency=1))
    assert a.config() == b.config() == {"adapter": "openai-moderation", "model": "omni-moderation-latest",
                                        "base_url": server.base_url}


def test_labels_match_the_crosswalk_when_present():
    """The crosswalk files must map exactly the API's categories."""
    pol = pytest.importorskip("harness.policies")
    load = getattr(pol, "load_crosswalk", None)
    if load is None:
        pytest.skip("harness.policies.load_crosswalk not available yet")
    for model in ("text-moderation-004", "text-moderation-007", "omni-moderation-latest"):
        clf = OpenAIModeration(model, base_url="http://127.0.0.1:9")
        try:
            cw = load(clf.taxonomy.crosswalk)
        except Exception as exc:  # noqa: BLE001 - the file may not be written yet
            pytest.skip(f"crosswalk {clf.taxonomy.crosswalk} not loadable: {exc}")
        assert set(cw.labels_keys) == set(clf.labels)
