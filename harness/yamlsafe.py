"""Deprecated home of the strict YAML loader: use :mod:`harness._yaml` (re-exported here for harness.suites)."""

from harness._yaml import MAX_DEPTH, StrictLoader, load_file, loads, read_text, yaml_error  # noqa: F401
