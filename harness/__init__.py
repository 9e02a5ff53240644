"""PolicyBench: benchmark content-policy classifiers across policy versions.

The public API, re-exported lazily (importing ``harness`` stays cheap):

- policies: :func:`list_versions`, :func:`load_policy`, :func:`diff`, :func:`load_crosswalk`
- suites: :func:`load_suite`, :class:`Suite`, :class:`Example`, :func:`audit_suite` (shortcut audit)
- classifiers: :func:`get_classifier`, :func:`list_classifiers`, :class:`Classifier`, :class:`Taxonomy`
- runner: :class:`RunOptions`
- scoring: :func:`rescore` (re-score a stored run under any policies and options), :class:`ScoredView`
- results: :func:`run_benchmark`, :class:`RunResult`, :func:`load_run`, :func:`list_runs`, :class:`StoredRun`,
  :class:`RunRecord`
- the run store: :func:`runs_df`, :func:`metrics_df`, :func:`latency_df` (every stored run as DataFrames,
  via DuckDB), :func:`compare_runs` (run B against run A, with paired tests)
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import TYPE_CHECKING, Any

try:
    __version__ = metadata.version("policybench")
except metadata.PackageNotFoundError:  # pragma: no cover - a source checkout that is not installed
    __version__ = "0+unknown"

if TYPE_CHECKING:  # what IDEs and type checkers see; at run time the names load lazily
    from harness.classifiers.base import Classifier, Taxonomy
    from harness.classifiers.registry import get_classifier, list_classifiers, register
    from harness.options import RunOptions
    from harness.policies import diff, list_versions, load_crosswalk, load_policy
    from harness.results.benchmark import RunResult, run_benchmark
    from harness.results.record import RunRecord
    from harness.results.runs import StoredRun, list_runs, load_run
    from harness.results.store import compare_runs, latency_df, metrics_df, runs_df
    from harness.scoring import ScoredView, rescore
    from harness.suites import Example, Suite, load_suite
    from harness.suites.audit import audit_suite

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
    "register": "harness.classifiers.registry",
    "Classifier": "harness.classifiers.base",
    "Taxonomy": "harness.classifiers.base",
    "RunOptions": "harness.options",
    "rescore": "harness.scoring",
    "ScoredView": "harness.scoring",
    "run_benchmark": "harness.results.benchmark",
    "RunResult": "harness.results.benchmark",
    "RunRecord": "harness.results.record",
    "load_run": "harness.results.runs",
    "list_runs": "harness.results.runs",
    "StoredRun": "harness.results.runs",
    "runs_df": "harness.results.store",
    "metrics_df": "harness.results.store",
    "latency_df": "harness.results.store",
    "compare_runs": "harness.results.store",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
