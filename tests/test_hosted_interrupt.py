"""Hosted runs stop when asked: Ctrl-C within 5 s while the endpoint hangs, a deadline for the run,
``--timeout/--max-attempts/--deadline`` (and their environment variables) reaching the adapters, and a
key that cannot be sent being a configuration error before any request (issue 13, item 2).

Every run here is against the fake server in ``tests/fakes`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from harness.classifiers.hosted import HttpOptions, JsonClient, OpenAIModeration, key_problem
from harness.cli import app
from harness.errors import InputError
from harness.options import RequestOptions
from tests.fakes import FakeOpenAIServer, Fault

SMOKE = ["run", "--suite", "smoke", "--limit", "8", "-p", "2023-02-15", "--n-resamples", "10",
         "--latency-sample", "0"]


def _smoke_texts(n: int = 8) -> list[str]:
    from harness.suites import load_suite

    return load_suite("smoke").select(split="test").texts[:n]


def _marker(i: int) -> str:
    """Two words that occur in the i-th smoke text only (a fault matches requests holding them)."""
    texts = _smoke_texts()
    words = re.findall(r"[A-Za-z]+", texts[i])
    for a, b in zip(words, words[1:]):
        m = f"{a} {b}"
        if m in texts[i] and sum(m in t for t in texts) == 1:
            return m
    raise AssertionError(f"no distinct marker in {texts[i]!r}")


@pytest.fixture
def guard_env(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYBENCH_CACHE", str(tmp_path / "cache"))
    for var in ("POLICYBENCH_TIMEOUT", "POLICYBENCH_MAX_ATTEMPTS", "POLICYBENCH_DEADLINE"):
        monkeypatch.delenv(var, raising=False)
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("GUARD_LLM_BASE_URL", srv.base_url)
        monkeypatch.setenv("GUARD_LLM_MODEL", "llama-guard3")
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        yield srv


def _endpoint(out: Path) -> dict:
    manifest = json.loads(next(out.rglob("manifest.json")).read_text())
    found = []

    def walk(x):
        if isinstance(x, dict):
            if "max_attempts" in x and "timeout_s" in x:
                found.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(manifest)
    assert found, "no endpoint info with the request options in the manifest"
    return found[0]


def _errors(out: Path) -> list[str | None]:
    return pq.read_table(next(out.rglob("predictions.parquet"))).column("error").to_pylist()


# -- the options reach the adapters ---------------------------------------------------------------

def test_cli_options_reach_the_hosted_adapter(guard_env, tmp_path):
    srv, bad = guard_env, _marker(3)
    srv.faults.append(Fault(bad, status=500))
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, [*SMOKE, "-c", "guard-llm", "--timeout", "7.5", "--max-attempts", "3",
                                      "--deadline", "120", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert srv.hits(bad) == 3  # three attempts, not the default five
    info = _endpoint(out)
    assert (info["timeout_s"], info["max_attempts"], info["deadline_s"]) == (7.5, 3, 120.0)
    assert sum(e is not None for e in _errors(out)) == 1
    for var in ("POLICYBENCH_TIMEOUT", "POLICYBENCH_MAX_ATTEMPTS", "POLICYBENCH_DEADLINE"):
        assert var not in os.environ  # the run's settings do not outlive it


def test_environment_variables_set_the_options(guard_env, tmp_path, monkeypatch):
    srv, bad = guard_env, _marker(3)
    srv.faults.append(Fault(bad, status=503))
    monkeypatch.setenv("POLICYBENCH_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("POLICYBENCH_TIMEOUT", "8.5")
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, [*SMOKE, "-c", "guard-llm", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert srv.hits(bad) == 2
    info = _endpoint(out)
    assert (info["timeout_s"], info["max_attempts"], info["deadline_s"]) == (8.5, 2, None)
    assert os.environ["POLICYBENCH_MAX_ATTEMPTS"] == "2"  # restored, not removed


def test_defaults_are_todays(guard_env):
    clf = OpenAIModeration()
    assert (clf.options.read_timeout, clf.options.max_attempts, clf.options.deadline) == (60.0, 5, None)
    assert RequestOptions() == RequestOptions(timeout=60.0, max_attempts=5, deadline=None)


@pytest.mark.parametrize("args, env, named", [
    (["--timeout", "0"], {}, "timeout"),
    (["--max-attempts", "0"], {}, "max_attempts"),
    (["--deadline", "-3"], {}, "deadline"),
    ([], {"POLICYBENCH_MAX_ATTEMPTS": "many"}, "POLICYBENCH_MAX_ATTEMPTS"),
    ([], {"POLICYBENCH_TIMEOUT": "nan"}, "timeout"),
])
def test_bad_values_are_exit_2_before_any_request(guard_env, tmp_path, monkeypatch, args, env, named):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(app, [*SMOKE, "-c", "guard-llm", *args, "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output
    assert guard_env.requests == []


def test_environment_values_are_checked_in_the_library_too(monkeypatch):
    monkeypatch.setenv("POLICYBENCH_DEADLINE", "0")
    with pytest.raises(InputError) as err:
        OpenAIModeration(base_url="http://127.0.0.1:9")
    assert [p.field for p in err.value.problems] == ["POLICYBENCH_DEADLINE"]


# -- a key a header cannot carry --------------------------------------------------------------

@pytest.mark.parametrize("key, what", [("sk-test-abc123\n", "ends with a newline"),
                                       ("sk-test abc123", "a space"),
                                       ("\tsk-test-abc123", "starts with a tab"),
                                       ("sk-tést-abc123", "a non-ASCII character")])
def test_a_key_with_a_header_invalid_character_is_a_configuration_error_before_any_request(
        guard_env, tmp_path, monkeypatch, key, what):
    monkeypatch.setenv("OPENAI_API_KEY", key)
    t0 = time.monotonic()
    result = CliRunner().invoke(app, [*SMOKE, "-c", "openai-moderation", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert "OPENAI_API_KEY" in result.output and what in result.output and "Traceback" not in result.output
    assert key.strip() not in result.output
    assert guard_env.requests == [] and time.monotonic() - t0 < 30  # not 5 retried network errors per item
    ok, why = OpenAIModeration.available()
    assert not ok and "OPENAI_API_KEY" in why


def test_the_key_is_checked_at_send_time_too(guard_env, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "fine-key-123")
    with JsonClient(guard_env.base_url, api_key_env="PB_TEST_KEY", options=HttpOptions(max_attempts=3)) as c:
        c.post("/v1/moderations", {"model": "omni-moderation-latest", "input": ["a"]})
        monkeypatch.setenv("PB_TEST_KEY", "fine-key-123\r\n")
        with pytest.raises(InputError) as err:
            c.post_many("/v1/moderations", [{"model": "omni-moderation-latest", "input": [t]} for t in "bcd"])
    assert "PB_TEST_KEY" in str(err.value) and len(guard_env.requests) == 1
    assert key_problem("PB_TEST_KEY").field == "PB_TEST_KEY"


# -- the run's deadline -------------------------------------------------------------------------

def test_a_deadline_ends_a_run_whose_endpoint_hangs_and_the_items_are_retried_next_time(guard_env, tmp_path):
    srv, hang = guard_env, _marker(5)
    srv.faults.append(Fault(hang, sleep=120))
    out = tmp_path / "runs"
    t0 = time.monotonic()
    result = CliRunner().invoke(app, [*SMOKE, "-c", "guard-llm", "--deadline", "3", "--out", str(out)])
    took = time.monotonic() - t0
    assert result.exit_code == 0, result.output
    assert took < 40  # without the deadline: 5 attempts x 60 s
    errors = _errors(out)
    assert sum(e is not None for e in errors) == 1 and "deadline of 3 s" in next(e for e in errors if e)
    srv.faults.clear()
    srv.requests.clear()
    out2 = tmp_path / "runs2"
    result = CliRunner().invoke(app, [*SMOKE, "-c", "guard-llm", "--out", str(out2)])
    assert result.exit_code == 0, result.output
    assert all(e is None for e in _errors(out2))
    assert [r for r in srv.requests if hang in json.dumps(r.body)] and len(srv.requests) == 2  # warm-up + it


# -- Ctrl-C -------------------------------------------------------------------------------------

def _policybench() -> list[str]:
    script = Path(sys.executable).with_name("policybench")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness.cli"]


@pytest.mark.slow
@pytest.mark.parametrize("where", ["warm-up", "batch"])
def test_ctrl_c_stops_a_hosted_run_within_5_s_while_the_endpoint_hangs(tmp_path, where):
    """Today's defaults (60 s read timeout, 5 attempts): before the fix the run took ~300 s to stop."""
    with FakeOpenAIServer() as srv:
        if where == "batch":
            srv.faults.append(Fault("", sleep=0.0, times=1))  # the warm-up call answers; the batch hangs
        srv.faults.append(Fault("", sleep=600))
        env = {**os.environ, "POLICYBENCH_CACHE": str(tmp_path / "cache"), "GUARD_LLM_BASE_URL": srv.base_url,
               "GUARD_LLM_MODEL": "llama-guard3", "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR",
                                                                                     "/tmp/numba-cache")}
        for var in ("POLICYBENCH_TIMEOUT", "POLICYBENCH_MAX_ATTEMPTS", "POLICYBENCH_DEADLINE"):
            env.pop(var, None)
        proc = subprocess.Popen([*_policybench(), *SMOKE, "-c", "guard-llm", "--out", str(tmp_path / "runs")],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            want = 1 if where == "warm-up" else 5  # the warm-up, then 4 batch requests in flight (concurrency)
            limit = time.monotonic() + 180
            while len(srv.requests) < want and proc.poll() is None and time.monotonic() < limit:
                time.sleep(0.1)
            assert proc.poll() is None, proc.communicate()
            assert len(srv.requests) >= want
            time.sleep(0.5)  # well inside the hanging requests
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, stderr
    assert took < 5, f"exited {took:.1f} s after SIGINT"
    assert "interrupted" in stderr and "Traceback" not in stderr


def test_a_bad_key_stops_the_run_before_any_classifier_predicts(guard_env, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abc123\n")
    cache = tmp_path / "cache"
    result = CliRunner().invoke(app, [*SMOKE, "-c", "keyword-rules", "-c", "openai-moderation",
                                      "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "OPENAI_API_KEY" in result.output, result.output
    assert not list(cache.rglob("shard-*.parquet"))  # keyword-rules, listed first, never ran
    assert guard_env.requests == []
    with pytest.raises(InputError) as err:
        OpenAIModeration(base_url=guard_env.base_url)
    assert [p.field for p in err.value.problems] == ["OPENAI_API_KEY"]
