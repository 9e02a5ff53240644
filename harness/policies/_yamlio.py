"""Deprecated: moved to :mod:`harness._yaml` (re-exported here until harness.suites switches)."""

from harness._yaml import LineMap, Loc, problems_from_validation, read_yaml, relocate, validate  # noqa: F401
