"""API keys come from the environment only and never reach results, caches, logs or output.

A full `policybench run` of the three hosted adapters against a local fake server, with fake
keys, then every byte written (stdout/stderr, logs, run folder, prediction cache) is searched.
"""

from __future__ import annotations

import logging

from typer.testing import CliRunner

from harness.cli import app
from tests.fakes.openai_server import FakeOpenAIServer

KEYS = {"OPENAI_API_KEY": "sk-test-SECRET-openai-7f3a", "GUARD_LLM_API_KEY": "sk-test-SECRET-guard-19c2",
        "JUDGE_API_KEY": "sk-test-SECRET-judge-55e0"}


def test_keys_never_written(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    out, cache = tmp_path / "runs", tmp_path / "cache"
    monkeypatch.setenv("POLICYBENCH_CACHE", str(cache))
    with FakeOpenAIServer() as srv:
        for k, v in KEYS.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("GUARD_LLM_BASE_URL", srv.base_url)
        monkeypatch.setenv("GUARD_LLM_MODEL", "llama-guard3:8b")
        monkeypatch.setenv("JUDGE_BASE_URL", srv.base_url)
        monkeypatch.setenv("JUDGE_MODEL", "judge-model")
        result = CliRunner().invoke(app, [
            "run", "--suite", "smoke", "--limit", "12", "-c", "openai-moderation", "-c", "guard-llm",
            "-c", "llm-judge", "-p", "2023-02-15", "-p", "2025-10-29", "--n-resamples", "50",
            "--latency-sample", "2", "--out", str(out)])
        assert result.exit_code == 0, result.output
        # the keys did reach the server: the adapters really authenticated
        assert any(KEYS["OPENAI_API_KEY"] in str(r.headers) for r in srv.requests)
    written = [p for p in list(out.rglob("*")) + list(cache.rglob("*")) if p.is_file()]
    assert any(p.name == "manifest.json" for p in written) and any(p.suffix == ".parquet" for p in written)
    blobs = [result.output.encode(), caplog.text.encode()] + [p.read_bytes() for p in written]
    for key in KEYS.values():
        assert not any(key.encode() in b for b in blobs), f"{key} leaked"
        assert not any(key[-8:].encode() in b for b in blobs), f"a fragment of {key} leaked"
    manifest = next(p for p in written if p.name == "manifest.json").read_text()
    assert "omni-moderation-latest-fake-build" in manifest  # the model the endpoint reported


# A server that echoes the key in every field it sends back (issue 13, item 7). The canaries do not
# look like keys (no "sk-", never after "Bearer"), so only redaction by the variable's value finds them.
CANARIES = {"OPENAI_API_KEY": "pbkey-CANARY-openai-4d1e", "GUARD_LLM_API_KEY": "pbkey-CANARY-guard-88b0",
            "JUDGE_API_KEY": "pbkey-CANARY-judge-a2c7"}


def _markers(n: int) -> list[str]:
    """Distinct ASCII snippets of the first smoke test texts (not the first: the warm-up uses it)."""
    import re

    from harness.suites import load_suite

    texts = load_suite("smoke").select(split="test").texts[:10]
    found = []
    for t in texts[1:]:
        words = re.findall(r"[A-Za-z]+", t)
        pairs = (" ".join(words[i:i + 2]) for i in range(len(words) - 1))
        m = next((m for m in pairs if m in t and sum(m in u for u in texts) == 1), None)
        if m is not None:
            found.append(m)
    assert len(found) >= n, found
    return found[:n]


def test_a_server_echoing_the_key_in_every_field_leaks_it_nowhere(tmp_path, monkeypatch, caplog):
    import json

    import pyarrow.parquet as pq

    from tests.fakes.openai_server import Fault

    caplog.set_level(logging.DEBUG)
    out, cache = tmp_path / "runs", tmp_path / "cache"
    monkeypatch.setenv("POLICYBENCH_CACHE", str(cache))
    m500, m401, mjunk, manswer = _markers(4)
    with FakeOpenAIServer(reported_model="echo {KEY}", system_fingerprint="fp {KEY}") as srv:
        srv.echo_key = True
        srv.faults += [Fault(m500, status=500, body='{"error": {"message": "internal error for {KEY}"}}'),
                       Fault(m401, status=401, body='{"error": {"message": "Incorrect API key provided: {KEY}"}}'),
                       Fault(mjunk, body="not json {KEY}")]
        srv.chat_answers.append((manswer, "I will not answer, {KEY}"))
        for k, v in CANARIES.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("GUARD_LLM_BASE_URL", srv.base_url)
        monkeypatch.setenv("GUARD_LLM_MODEL", "llama-guard3:8b")
        monkeypatch.setenv("JUDGE_BASE_URL", srv.base_url)
        monkeypatch.setenv("JUDGE_MODEL", "judge-model")
        result = CliRunner().invoke(app, [
            "run", "--suite", "smoke", "--limit", "10", "-c", "openai-moderation", "-c", "guard-llm",
            "-c", "llm-judge", "-p", "2023-02-15", "--n-resamples", "20", "--latency-sample", "1",
            "--max-attempts", "2", "--out", str(out)])
        assert result.exit_code == 0, result.output
        for k, v in CANARIES.items():  # every adapter authenticated, so the server had each key to echo
            assert any(v in str(r.headers) for r in srv.requests), k
        assert srv.hits(m500) and srv.hits(m401) and srv.hits(mjunk)
    written = [p for p in list(out.rglob("*")) + list(cache.rglob("*")) if p.is_file()]
    blobs = {str(p): p.read_bytes() for p in written}
    blobs["output"], blobs["log"] = result.output.encode(), caplog.text.encode()
    for key in CANARIES.values():
        for fragment in (key, key[-8:], key[:12]):
            leaked = [name for name, b in blobs.items() if fragment.encode() in b]
            assert not leaked, f"{fragment!r} leaked into {leaked}"
    # what the server echoed was stored, redacted: the reported model and fingerprint, the errors
    manifest = next(p for p in written if p.name == "manifest.json").read_text()
    assert "echo ***" in manifest and "fp ***" in manifest
    errors = [e for p in written if p.name == "predictions.parquet"
              for e in pq.read_table(p).column("error").to_pylist() if e]
    assert any("internal error for ***" in e for e in errors), errors
    assert any("Incorrect API key provided: ***" in e for e in errors)
    assert any("not json ***" in e for e in errors) and any("I will not answer, ***" in e for e in errors)
    assert json.loads(manifest)  # still valid JSON after redaction
