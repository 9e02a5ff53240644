"""The one way PolicyBench reads YAML data files: safe, without aliases, bounded in depth.

PyYAML's ``SafeLoader`` builds no objects, but it expands aliases: a few hundred bytes of nested
``*alias`` references ("billion laughs") become gigabytes. PolicyBench's data files never need
aliases, so :class:`StrictLoader` rejects every alias, and any nesting deeper than
:data:`MAX_DEPTH`, while composing — in milliseconds, before anything is built. Errors become
:class:`~harness.errors.InputError` naming the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from harness.errors import InputError, Problem

#: Deepest nesting of mappings and sequences a data file may have.
MAX_DEPTH = 64


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects aliases and nesting deeper than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> yaml.load("a: [1, 2]", Loader=StrictLoader)
    {'a': [1, 2]}
    >>> try:
    ...     yaml.load("a: &x [1]\\nb: *x", Loader=StrictLoader)
    ... except yaml.YAMLError as exc:
    ...     print(exc.problem, "(line", exc.problem_mark.line + 1, ")")
    aliases (*name) are not allowed in PolicyBench data files (line 2 )
    """

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ComposerError(None, None, "aliases (*name) are not allowed in PolicyBench data files",
                                self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def yaml_error(exc: yaml.YAMLError, file: str | Path | None) -> InputError:
    """An :class:`InputError` for a YAML error, with the file and the line it points at."""
    mark = getattr(exc, "problem_mark", None)
    msg = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x)
    return InputError(Problem(f"not valid YAML: {msg or exc}", file=str(file) if file else None,
                              line=mark.line + 1 if mark else None))


def loads(text: str, *, file: str | Path | None = None, loader: type[StrictLoader] = StrictLoader) -> Any:
    """Parse YAML text with :class:`StrictLoader` (or a subclass); errors name ``file`` and the line."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise yaml_error(exc, file) from None
    except RecursionError:
        raise InputError(Problem(f"nested deeper than {MAX_DEPTH} levels", file=str(file) if file else None)) from None


def read_text(path: Path) -> str:
    """A data file's text as UTF-8; unreadable or non-UTF-8 files are clear errors."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"not UTF-8 ({exc.reason} at byte {exc.start})", file=str(path))) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror or exc}", file=str(path))) from None


def load_file(path: Path, *, loader: type[StrictLoader] = StrictLoader) -> Any:
    """:func:`read_text` then :func:`loads`."""
    return loads(read_text(path), file=path, loader=loader)
