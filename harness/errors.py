"""Errors that PolicyBench reports to a user.

Every error about bad input says what is wrong and where: the file, the line (1-based) and
the field. The CLI turns a :class:`PolicyBenchError` into a message and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem in an input: where it is and what is wrong."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class PolicyBenchError(Exception):
    """Base class of errors shown to users; ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class InputError(PolicyBenchError):
    """Bad input: one or more :class:`Problem` s, all reported at once."""

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str | Path | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems, file=str(file) if file else None)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        shown = self.problems[:50]
        text = "\n".join(f"  - {p}" for p in shown)
        more = len(self.problems) - len(shown)
        if more > 0:
            text += f"\n  ... and {more} more"
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in input:\n{text}")


class UnknownPolicyVersion(InputError):
    """A policy version id that has no file in ``datasets/policies``."""


class ClassifierError(PolicyBenchError):
    """A classifier misbehaved in a way that stops the run (bad shape, unknown name)."""


class OutputError(PolicyBenchError):
    """A results or cache location that cannot be written."""
