"""The one way PolicyBench reads YAML data files: strict, located, validated, versioned, cached.

A bottom-layer module (it imports nothing of the project but :mod:`harness.errors`):

- :class:`StrictLoader` is PyYAML's ``SafeLoader`` without aliases and with bounded nesting.
  ``SafeLoader`` builds no objects, but it expands aliases: a few hundred bytes of nested
  ``*alias`` references ("billion laughs") become gigabytes. PolicyBench's data files never
  need aliases, so every alias, and any nesting deeper than :data:`MAX_DEPTH`, is rejected
  while composing — in milliseconds, before anything is built.
- :func:`read_yaml` returns the data with a :class:`LineMap` (the line of every key and item),
  and :func:`validate` runs a pydantic model over the data, reporting every problem as a
  :class:`~harness.errors.Problem` with its file, line and dotted field.
- :func:`check_format_version` reads the ``format_version`` a data file declares (a file
  without one is format 1).
- :func:`cached_load` parses a file once and again only when its modification time or size
  changes.

Errors are :class:`~harness.errors.InputError` naming the file and line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError
from yaml.composer import ComposerError

from harness.errors import InputError, Problem

#: Deepest nesting of mappings and sequences a data file may have.
MAX_DEPTH = 64

#: The data-file format version this PolicyBench reads (policies, topics, crosswalks, rule packs).
FORMAT_VERSION = 1

Loc = tuple[Any, ...]
T = TypeVar("T")


# -- strict parsing ------------------------------------------------------------------------

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
    """Parse YAML text with :class:`StrictLoader` (or a subclass); errors name ``file`` and the line.

    Examples
    --------
    >>> loads("format_version: 1\\ntopics: [a, b]")
    {'format_version': 1, 'topics': ['a', 'b']}
    """
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


# -- lines ---------------------------------------------------------------------------------

class LineMap:
    """Maps a path of keys/indices (``("topics", "dating_apps", "verdict")``) to a 1-based line.

    Examples
    --------
    >>> lines = LineMap({(): 1, ("topics",): 2, ("topics", 0): 3})
    >>> lines.line(("topics", 0, "key")), lines.line(("other",))
    (3, 1)
    """

    def __init__(self, lines: dict[Loc, int] | None = None):
        self._lines = lines or {}

    def line(self, loc: Iterable[Any]) -> int | None:
        """The line of ``loc`` or of its longest prefix that has one."""
        path = tuple(loc)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get((), None)


def _walk(node: yaml.Node, path: Loc, out: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            out[path + (key,)] = k.start_mark.line + 1
            _walk(v, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), out)


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path`` strictly; returns ``(data, line map)``. Unreadable or invalid YAML -> InputError."""
    text = read_text(path)
    try:
        node = yaml.compose(text, Loader=StrictLoader)
    except yaml.YAMLError as e:
        raise yaml_error(e, path) from None
    data = loads(text, file=path)
    lines: dict[Loc, int] = {}
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines)
    return data, LineMap(lines)


# -- validation ----------------------------------------------------------------------------

#: Turns an error location into (the location whose line to report, the field to name).
Locate = Callable[[Loc], "tuple[Loc, str | None]"]


def _dotted(loc: Loc) -> tuple[Loc, str | None]:
    return loc, ".".join(str(x) for x in loc) or None


def _split_field(field: str | None) -> Loc:
    if not field:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in field.split("."))


def problems_from_validation(err: ValidationError, file: Path, lines: LineMap, *, prefix: Loc = (),
                             locate: Locate = _dotted) -> list[Problem]:
    """Pydantic errors as :class:`Problem` s with file, line and dotted field.

    ``locate`` may rename a location (e.g. a list index into the id of the item there).
    """
    out = []
    for e in err.errors():
        where, field = locate(prefix + tuple(x for x in e["loc"] if x != "__root__"))
        msg = e["msg"].removeprefix("Value error, ")
        out.append(Problem(msg, file=str(file), line=lines.line(where), field=field))
    return out


def relocate(err: InputError, file: Path, lines: LineMap, *, prefix: Loc = (),
             locate: Locate = _dotted) -> list[Problem]:
    """Problems raised without a file (e.g. by a model validator) placed in ``file``."""
    out = []
    for p in err.problems:
        where, field = locate(prefix + _split_field(p.field))
        out.append(Problem(p.message, file=str(file), line=p.line or lines.line(where), field=field))
    return out


def validate(model: Any, data: Any, file: Path, lines: LineMap, *, prefix: Loc = (),
             locate: Locate = _dotted) -> Any:
    """``model.model_validate(data)`` with every problem reported at its file, line and field.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Pair(BaseModel):
    ...     a: int
    >>> try:
    ...     validate(Pair, {"a": "x"}, Path("p.yaml"), LineMap({("a",): 3}))
    ... except InputError as e:
    ...     print(e.problems[0])
    p.yaml, line 3, field 'a': Input should be a valid integer, unable to parse string as an integer
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InputError(problems_from_validation(e, file, lines, prefix=prefix, locate=locate)) from None
    except InputError as e:
        raise InputError(relocate(e, file, lines, prefix=prefix, locate=locate)) from None


def check_format_version(data: Any, file: Path | str, lines: LineMap | None = None) -> int:
    """The ``format_version`` a parsed data file declares (1 when it has none).

    A file written for a format this PolicyBench does not read is an :class:`InputError` naming
    the file, line and field, before any other check (its other fields may mean something else).

    Examples
    --------
    >>> check_format_version({"id": "x"}, "p.yaml"), check_format_version({"format_version": 1}, "p.yaml")
    (1, 1)
    >>> try:
    ...     check_format_version({"format_version": 2}, "p.yaml", LineMap({("format_version",): 1}))
    ... except InputError as e:
    ...     print(e.problems[0])
    p.yaml, line 1, field 'format_version': unknown format_version 2; this PolicyBench reads format_version 1 (a file without one is read as 1)
    """
    if not isinstance(data, dict) or "format_version" not in data:
        return FORMAT_VERSION
    value = data["format_version"]
    if type(value) is not int or value != FORMAT_VERSION:
        lines = lines or LineMap()
        raise InputError(Problem(
            f"unknown format_version {value!r}; this PolicyBench reads format_version {FORMAT_VERSION} "
            "(a file without one is read as 1)",
            file=str(file), line=lines.line(("format_version",)), field="format_version"))
    return value


# -- caching -------------------------------------------------------------------------------

_CACHE: dict[tuple[Callable[[Path], Any], str], tuple[tuple[int, int], Any]] = {}
_CACHE_LOCK = threading.Lock()


def cached_load(path: Path, parse: Callable[[Path], T], *, what: str = "file") -> T:
    """``parse(path)``, cached until the file's modification time or size changes.

    One entry is kept per (``parse``, file): pass a module-level function, not a new lambda per
    call. A missing file is an :class:`InputError` "``what`` not found"; errors are not cached.

    Examples
    --------
    >>> import tempfile
    >>> calls = []
    >>> def parse(p):
    ...     calls.append(p)
    ...     return load_file(p)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = Path(d) / "x.yaml"
    ...     _ = f.write_text("a: 1")
    ...     first, again = cached_load(f, parse), cached_load(f, parse)
    ...     _ = f.write_text("a: 22")
    ...     changed = cached_load(f, parse)
    >>> first, again is first, changed, len(calls)
    ({'a': 1}, True, {'a': 22}, 2)
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        raise InputError(Problem(f"{what} not found", file=str(path))) from None
    key, stamp = (parse, str(path.resolve())), (st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = parse(path)
    with _CACHE_LOCK:
        _CACHE[key] = (stamp, value)
    return value
