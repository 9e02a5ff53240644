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


# -- hosted requests ------------------------------------------------------------------------------
#: Seconds an attempt may wait for a hosted endpoint's answer (the read timeout).
DEFAULT_TIMEOUT = 60.0
#: Attempts per hosted request, the first included (1 = no retry).
DEFAULT_MAX_ATTEMPTS = 5
#: Seconds a hosted classifier may spend on its requests in one run (None: no limit).
DEFAULT_DEADLINE: float | None = None

#: The environment variables that set :class:`RequestOptions` (``policybench run`` reads them too).
ENV_TIMEOUT = "POLICYBENCH_TIMEOUT"
ENV_MAX_ATTEMPTS = "POLICYBENCH_MAX_ATTEMPTS"
ENV_DEADLINE = "POLICYBENCH_DEADLINE"


@dataclass(frozen=True)
class RequestOptions:
    """How the hosted adapters send requests: timeout, attempts and a deadline for the run.

    None of these changes a prediction (they are not in the cache key). ``policybench run``
    takes them as ``--timeout``, ``--max-attempts`` and ``--deadline`` (or the environment
    variables :data:`ENV_TIMEOUT`, :data:`ENV_MAX_ATTEMPTS`, :data:`ENV_DEADLINE`); a hosted
    classifier built without explicit options reads them from the environment
    (:meth:`from_env`).

    Parameters
    ----------
    timeout : seconds an attempt may wait for the answer (connecting waits at most 10 s of it).
    max_attempts : attempts per request, the first included.
    deadline : seconds a hosted classifier may spend on requests, counted from when it was
        built (a run builds its classifiers when it starts); then nothing more is sent, requests
        in flight are cut, and the items not done are failures (retried by the next run).

    Examples
    --------
    >>> RequestOptions().max_attempts
    5
    >>> RequestOptions.from_env({"POLICYBENCH_DEADLINE": "90"}).deadline
    90.0
    >>> RequestOptions.from_env({"POLICYBENCH_TIMEOUT": "soon"})
    Traceback (most recent call last):
    ...
    harness.errors.InputError: 1 problem in input:
      - field 'POLICYBENCH_TIMEOUT': must be a number of seconds > 0 (got 'soon')
    """

    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    deadline: float | None = DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        bad = self._problems({"timeout": "timeout", "max_attempts": "max_attempts", "deadline": "deadline"})
        if bad:
            raise InputError(bad)

    def _problems(self, names: dict[str, str]) -> list[Problem]:
        bad = []
        if not _positive_seconds(self.timeout):
            bad.append(Problem(f"must be a number of seconds > 0 (got {self.timeout!r})", field=names["timeout"]))
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            bad.append(Problem(f"must be a whole number >= 1 (got {self.max_attempts!r})", field=names["max_attempts"]))
        if self.deadline is not None and not _positive_seconds(self.deadline):
            bad.append(Problem(f"must be a number of seconds > 0 (got {self.deadline!r})", field=names["deadline"]))
        return bad

    @classmethod
    def from_env(cls, environ: Any = None) -> RequestOptions:
        """The options set by :data:`ENV_TIMEOUT`, :data:`ENV_MAX_ATTEMPTS`, :data:`ENV_DEADLINE`
        (the defaults for those unset or empty); a bad value is an InputError naming the variable."""
        import os

        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        bad: list[Problem] = []
        for attr, var, kind in (("timeout", ENV_TIMEOUT, float), ("max_attempts", ENV_MAX_ATTEMPTS, int),
                                ("deadline", ENV_DEADLINE, float)):
            raw = str(env.get(var, "") or "").strip()
            if not raw:
                continue
            try:
                values[attr] = kind(raw)
            except ValueError:
                what = "a whole number >= 1" if kind is int else "a number of seconds > 0"
                bad.append(Problem(f"must be {what} (got {raw!r})", field=var))
        if bad:
            raise InputError(bad)
        out = object.__new__(cls)  # validate once, naming the variables rather than the fields
        for attr in ("timeout", "max_attempts", "deadline"):
            object.__setattr__(out, attr, values.get(attr, getattr(cls, attr)))
        problems = out._problems({"timeout": ENV_TIMEOUT, "max_attempts": ENV_MAX_ATTEMPTS, "deadline": ENV_DEADLINE})
        if problems:
            raise InputError(problems)
        return out

    def environ(self) -> dict[str, str]:
        """These options as the environment variables :meth:`from_env` reads (deadline None: empty)."""
        return {ENV_TIMEOUT: repr(float(self.timeout)), ENV_MAX_ATTEMPTS: str(self.max_attempts),
                ENV_DEADLINE: "" if self.deadline is None else repr(float(self.deadline))}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _positive_seconds(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)
