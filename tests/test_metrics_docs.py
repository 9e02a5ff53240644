"""The examples in harness.metrics' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import harness.metrics

MODULES = ["harness.metrics"] + [
    f"harness.metrics.{m.name}" for m in pkgutil.iter_modules(harness.metrics.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_functions_have_examples():
    for name in harness.metrics.__all__:
        obj = getattr(harness.metrics, name)
        if callable(obj) and not isinstance(obj, type):
            assert ">>>" in (obj.__doc__ or ""), f"{name} has no example"
