"""The error :mod:`harness.metrics` raises for bad input."""

from __future__ import annotations

from harness.errors import InputError, Problem


class MetricInputError(InputError, ValueError):
    """Bad input to a metric: names the argument and what is wrong with it.

    It is an :class:`harness.errors.InputError` (the CLI reports it and exits with code 2)
    and a :class:`ValueError` (what numerical code usually catches).

    Examples
    --------
    >>> err = MetricInputError("y_score", "contains NaN at index 3")
    >>> err.argument, err.problems[0].field
    ('y_score', 'y_score')
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__([Problem(message, field=argument)])
