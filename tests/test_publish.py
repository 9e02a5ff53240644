"""`policybench publish` is atomic as a whole, and what it writes is readable by others (umask)."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from harness import publish as publish_mod


def _publish(out):
    return publish_mod.publish(suite="smoke", out_dir=out, n_resamples=20, classifiers=["keyword-rules"])


def _snapshot(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and "runs" not in p.relative_to(out).parts}


def test_a_failed_publish_leaves_the_previous_publication_intact(tmp_path, monkeypatch):
    out = tmp_path / "results"
    _publish(out)
    before = _snapshot(out)
    assert {"leaderboard.md", "leaderboard.json", "leaderboard.html"} <= {str(p) for p in before}
    assert any(str(p).startswith("charts") for p in before) and any(str(p).startswith("run") for p in before)

    def boom(*args, **kwargs):
        raise RuntimeError("charts failed")

    import harness.charts

    monkeypatch.setattr(harness.charts, "write_charts", boom)
    with pytest.raises(RuntimeError, match="charts failed"):
        _publish(out)
    assert _snapshot(out) == before  # leaderboard, run and charts all from the first publication
    assert not [p for p in out.iterdir() if p.name.startswith(".publish-")]


def test_a_failed_swap_is_rolled_back(tmp_path, monkeypatch):
    out = tmp_path / "results"
    _publish(out)
    before = _snapshot(out)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:  # in the middle of swapping the entries in
            raise OSError(28, "No space left on device")
        return real(src, dst)

    staging, _ = _staged(out, tmp_path)
    monkeypatch.setattr(publish_mod.os, "replace", flaky)
    with pytest.raises(OSError):
        publish_mod._swap_in(staging, out)
    monkeypatch.setattr(publish_mod.os, "replace", real)
    shutil.rmtree(staging)
    assert _snapshot(out) == before


def _staged(out, tmp_path):
    """A staging folder holding a complete (different) publication."""
    staging = out / ".publish-test"
    staging.mkdir()
    for name in publish_mod.PUBLISHED:
        src = out / name
        if src.is_dir():
            shutil.copytree(src, staging / name)
            (staging / name / "new.txt").write_text("new")
        else:
            (staging / name).write_text("new " + name)
    return staging, out


def test_published_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "results"
        _publish(out)
    finally:
        os.umask(old)
    for p in [out / "leaderboard.md", out / "leaderboard.html", out / "run" / "manifest.json"]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p
    for d in [out / "run", out / "charts"]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o755, d
