"""Shared fixtures: an isolated prediction cache and results folder for every test session."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep test predictions out of the user's cache (tests must not depend on earlier runs)."""
    if "POLICYBENCH_CACHE" not in os.environ:
        os.environ["POLICYBENCH_CACHE"] = str(tmp_path_factory.mktemp("pb-cache"))
    yield
pytest_plugins = ["pytester"]
