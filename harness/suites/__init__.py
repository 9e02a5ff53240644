"""Suites: the example schema, loading and validation (build and importers in submodules)."""

from harness.suites.load import list_suites, load_suite, read_examples, resolve_suite_path
from harness.suites.schema import COLUMNS, LABELS, SPLITS, Example
from harness.suites.suite import Suite

__all__ = [
    "COLUMNS", "LABELS", "SPLITS", "Example", "Suite",
    "list_suites", "load_suite", "read_examples", "resolve_suite_path",
]
