"""Scoring: stored predictions + a policy version → ground truth, category scores, metrics.

The layer between the runner (which produces predictions) and the results (which store and
present them). Everything that projects ground truth through a policy, maps a classifier's
labels onto a policy's categories, masks unscored rows, or computes per-cell metrics lives
here; the leaderboard, the charts, the pytest plugin, the notebooks and the CLI call it.

- :class:`ScoredView`: a suite seen through one policy version (truth, imitators, masks) and
  each classifier's scores projected onto that version's categories.
- :func:`score_predictions` / :func:`score_run`: per (classifier, policy, category) metrics with
  bootstrap CIs and contrast metrics.
- :func:`rescore`: re-score a run (stored or in memory) under any policies and options, as
  inspect_ai's ``score(log, scorers)``.
- :func:`paired_test`, :func:`worst_errors`, :func:`latency_table`.
- Policy following between two versions: :func:`flip_set` (the examples whose truth flips),
  :func:`system_kind`, :func:`follow_table` (follow rates, stable-set accuracy, stale-policy
  penalty), :func:`follow_tests`, :func:`stale_penalty`, :func:`clause_table`, :func:`describe_clauses`.
"""

from harness.scoring._cells import (
    CI_METRICS,
    CONTRAST_FIELDS,
    CONTRAST_METRICS,
    METRIC_FIELDS,
    column_metrics,
    contrast_metrics,
    mark_undefined,
    score_predictions,
)
from harness.scoring._compare import paired_test
from harness.scoring._errors import ErrorKind, worst_errors
from harness.scoring._latency import latency_table
from harness.scoring._run import ScoringOptions, rescore, score_run
from harness.scoring._view import ScoredView, bound_to, category_scores, display_name
from harness.scoring.flips import FLIP_KINDS, CategoryFlips, FlipSet, flip_set
from harness.scoring.following import (
    PENALTY_METRICS,
    SYSTEM_KINDS,
    clause_table,
    describe_clauses,
    follow_table,
    follow_tests,
    stale_penalty,
    system_kind,
)

__all__ = [
    "CI_METRICS", "CONTRAST_FIELDS", "CONTRAST_METRICS", "METRIC_FIELDS", "ErrorKind", "ScoredView", "ScoringOptions",
    "bound_to", "category_scores", "column_metrics", "contrast_metrics", "display_name", "latency_table",
    "mark_undefined", "paired_test", "rescore", "score_predictions", "score_run", "worst_errors",
    "FLIP_KINDS", "CategoryFlips", "FlipSet", "flip_set",
    "PENALTY_METRICS", "SYSTEM_KINDS", "clause_table", "describe_clauses", "follow_table", "follow_tests",
    "stale_penalty", "system_kind",
]
