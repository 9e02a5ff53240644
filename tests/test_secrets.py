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
