"""The error :mod:`harness.metrics` raises for bad input.

:mod:`harness.metrics` imports nothing of the rest of the project, so this error stands alone:
a :class:`ValueError` that names the argument. The CLI reports it like any other input error
(exit code 2).
"""

from __future__ import annotations


class MetricInputError(ValueError):
    """Bad input to a metric: names the argument and what is wrong with it.

    Examples
    --------
    >>> err = MetricInputError("y_score", "contains NaN at index 3")
    >>> err.argument, str(err)
    ('y_score', 'y_score: contains NaN at index 3')
    >>> isinstance(err, ValueError)
    True
    """

    exit_code = 2

    def __init__(self, argument: str, message: str):
        self.argument = argument
        self.message = message
        super().__init__(f"{argument}: {message}")
