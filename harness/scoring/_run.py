"""Score a whole run under its policies, and re-score a stored one under any policies/options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from harness.options import RunOptions
from harness.policies import Policy, load_policy
from harness.policies.model import check_restricted_as
from harness.scoring._cells import score_predictions
from harness.scoring._view import ScoredView, bound_to

if TYPE_CHECKING:
    from harness.runner.predict import Predictions
    from harness.suites import Suite


_D = RunOptions()


@dataclass(frozen=True)
class ScoringOptions:
    """How predictions become metrics (recorded with every run)."""

    restricted_as: str = _D.restricted_as
    threshold: float = _D.threshold
    n_resamples: int = _D.n_resamples
    confidence: float = _D.confidence
    seed: int = _D.seed

    def __post_init__(self) -> None:
        """Validated as run options are (an InputError naming the option)."""
        RunOptions(**asdict(self))

    @classmethod
    def of(cls, options: Any) -> ScoringOptions:
        """The scoring fields of any options object (e.g. :class:`harness.runner.RunOptions`)."""
        return cls(**{f.name: getattr(options, f.name) for f in fields(cls)})


class ScorableRun(Protocol):
    """What :func:`rescore` needs of a run: a stored run or an in-memory result."""

    run_id: str
    suite: Suite
    predictions: list[Predictions]
    policies: list[Policy]
    options: Any


def score_run(suite: Suite, predictions: Sequence[Predictions], policies: Sequence[Policy],
              options: ScoringOptions, *, run_id: str | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> pd.DataFrame:
    """Metrics of every (classifier binding, policy version, category) cell of a run.

    A policy-bound prediction set is scored only under its own version; an unbound one under
    every version. Cells that no policy change touches are computed once (identical numbers).
    """
    check_restricted_as(options.restricted_as)
    frames = []
    memo: dict = {}
    for p in policies:
        if progress:
            progress(f"scoring {p.id}", 0, 1)
        view = ScoredView(suite, p, options.restricted_as)
        frames.append(score_predictions(
            view, None, bound_to(predictions, p.id), threshold=options.threshold,
            n_resamples=options.n_resamples, confidence=options.confidence, seed=options.seed, memo=memo))
        if progress:
            progress(f"scoring {p.id}", 1, 1)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    out.insert(0, "suite", suite.name)
    if run_id is not None:
        out.insert(0, "run_id", run_id)
    return out


def rescore(run: ScorableRun, policies: Sequence[str | Policy] | None = None, *, restricted_as: str | None = None,
            threshold: float | None = None, n_resamples: int | None = None, confidence: float | None = None,
            seed: int | None = None, progress: Callable[[str, int, int], None] | None = None) -> pd.DataFrame:
    """Re-score a run's stored predictions under ``policies`` and options (as inspect_ai's ``score``).

    Parameters
    ----------
    run : a stored run (:func:`harness.load_run`) or the result of :func:`harness.run_benchmark`.
    policies : version ids, policy files or :class:`~harness.policies.Policy` objects; default:
        the policies the run was scored under, as recorded in the run (so an edited policy file
        does not change a stored run's numbers). Predictions of a policy-conditioned system are
        bound to one version and are scored only under that version.
    restricted_as, threshold, n_resamples, confidence, seed : default: the run's own.

    Returns
    -------
    The metrics table, row for row in the layout of the run's ``metrics``: with no argument it
    reproduces them exactly.
    """
    base = ScoringOptions.of(run.options)
    opts = ScoringOptions(
        restricted_as=base.restricted_as if restricted_as is None else restricted_as,
        threshold=base.threshold if threshold is None else threshold,
        n_resamples=base.n_resamples if n_resamples is None else n_resamples,
        confidence=base.confidence if confidence is None else confidence,
        seed=base.seed if seed is None else seed)
    pols = list(run.policies) if policies is None else [p if isinstance(p, Policy) else load_policy(p)
                                                         for p in policies]
    return score_run(run.suite, run.predictions, pols, opts, run_id=run.run_id, progress=progress)
