"""The options of a run, validated once, with the defaults every entry point shares."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from harness.errors import InputError, Problem
from harness.policies.model import RESTRICTED_AS

DEFAULT_SUITE = "core"
DEFAULT_SPLIT = "test"
SPLITS = ("train", "dev", "test")
EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class RunOptions:
    """Options of a run (all recorded in the run record).

    Invalid values raise :class:`~harness.errors.InputError` naming the option (exit 2).

    Examples
    --------
    >>> RunOptions(threshold=0.7).threshold
    0.7
    >>> RunOptions(threshold=2)
    Traceback (most recent call last):
    ...
    harness.errors.InputError: 1 problem in input:
      - field 'threshold': must be a number in [0, 1] (scores are in [0, 1]) (got 2)
    """

    split: str | None = DEFAULT_SPLIT
    restricted_as: str = "violation"
    threshold: float = 0.5
    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    batch_size: int | None = None
    latency_sample: int = 200
    use_cache: bool = True
    executor: str = "local"
    scheduler: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        """Reject impossible options before anything is predicted (exit 2, naming the option)."""
        bad: list[Problem] = []

        def check(ok: bool, field: str, msg: str) -> None:
            if not ok:
                bad.append(Problem(f"{msg} (got {getattr(self, field)!r})", field=field))

        check(self.split is None or self.split in SPLITS, "split", "must be train, dev, test or all")
        check(self.restricted_as in RESTRICTED_AS, "restricted_as", f"must be one of {RESTRICTED_AS}")
        check(isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold) and 0 <= self.threshold <= 1,
              "threshold", "must be a number in [0, 1] (scores are in [0, 1])")
        check(isinstance(self.n_resamples, int) and self.n_resamples >= 1, "n_resamples", "must be at least 1")
        check(isinstance(self.confidence, float) and 0 < self.confidence < 1, "confidence", "must be in (0, 1)")
        check(self.batch_size is None or (isinstance(self.batch_size, int) and self.batch_size >= 1),
              "batch_size", "must be at least 1")
        check(isinstance(self.latency_sample, int) and self.latency_sample >= -1, "latency_sample",
              "must be -1 (all), 0 (none) or a positive count")
        check(self.limit is None or (isinstance(self.limit, int) and self.limit >= 1), "limit", "must be at least 1")
        check(self.executor in EXECUTORS, "executor", "must be local or dask")
        if bad:
            raise InputError(bad)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
