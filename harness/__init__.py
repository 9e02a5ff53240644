"""PolicyBench: benchmark content-policy classifiers across policy versions.

The public API, re-exported lazily (importing ``harness`` stays cheap):

- policies: :func:`list_versions`, :func:`load_policy`, :func:`diff`, :func:`load_crosswalk`
- suites: :func:`load_suite`, :class:`Suite`, :class:`Example`, :func:`audit_suite` (shortcut audit)
- classifiers: :func:`get_classifier`, :func:`list_classifiers`, :class:`Classifier`, :class:`Taxonomy`
- runner: :func:`run_benchmark`, :class:`RunOptions`
- results: :func:`load_run`, :func:`list_runs`
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "list_versions": "harness.policies",
    "load_policy": "harness.policies",
    "diff": "harness.policies",
    "load_crosswalk": "harness.policies",
    "load_suite": "harness.suites",
    "Suite": "harness.suites",
    "Example": "harness.suites",
    "audit_suite": "harness.suites.audit",
    "get_classifier": "harness.classifiers.registry",
    "list_classifiers": "harness.classifiers.registry",
    "Classifier": "harness.classifiers.base",
    "Taxonomy": "harness.classifiers.base",
    "run_benchmark": "harness.runner.pipeline",
    "RunOptions": "harness.runner.pipeline",
    "load_run": "harness.results.runs",
    "list_runs": "harness.results.runs",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
