"""Compiling a rule's regex: google-re2 (linear time), else Python ``re`` with a warning."""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("harness.classifiers.rules.pack")


def compile_regex(pattern: str, *, label: str | None = None) -> tuple[Any, str | None]:
    """Compile ``pattern`` case-insensitively with re2, falling back to ``re``.

    Parameters
    ----------
    pattern : str
        The regular expression.
    label : str, optional
        ``category/rule`` the pattern belongs to. When given, a fall-back to ``re`` is logged
        as a warning naming it; without it, nothing is logged (a check before compiling).

    Returns
    -------
    tuple
        ``(regex, None)`` compiled by re2; ``(regex, "re")`` compiled by Python's ``re`` (re2
        cannot: look-around, back-references); ``(None, message)`` when neither can.

    Examples
    --------
    >>> compile_regex(r"\\bswipe (left|right)\\b")[1] is None
    True
    >>> compile_regex("(?<=buy )now")[1]
    're'
    >>> compile_regex("(unclosed")[0] is None
    True
    """
    import re2

    opts = re2.Options()
    opts.log_errors = False
    opts.case_sensitive = False
    try:
        return re2.compile(pattern, opts), None
    except re2.error as exc:
        re2_msg = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        return None, f"invalid regex {pattern!r}: {exc} (re2: {re2_msg})"
    if label is not None:
        log.warning("rule %s: re2 cannot compile %r (%s); using Python re", label, pattern, re2_msg)
    return rx, "re"
