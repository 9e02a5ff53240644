"""The linter and the type checker run as part of the tests (so CI runs them with the README's command)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [found]


def test_ruff_finds_nothing():
    out = subprocess.run(_tool("ruff") + ["check", "harness", "tests", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_mypy_finds_nothing_in_harness():
    out = subprocess.run(_tool("mypy") + ["--no-error-summary", "--cache-dir", "/tmp/policybench-mypy-cache"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_package_is_marked_typed():
    assert (ROOT / "harness" / "py.typed").is_file()
