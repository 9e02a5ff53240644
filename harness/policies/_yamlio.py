"""Read a YAML file together with the line of every key, so errors can say where they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from harness.errors import InputError, Problem
from harness.yamlsafe import StrictLoader, loads, read_text, yaml_error

Loc = tuple[Any, ...]


class LineMap:
    """Maps a path of keys/indices (``("topics", "dating_apps", "verdict")``) to a 1-based line."""

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
    """Parse ``path``; returns ``(data, line map)``. Unreadable or invalid YAML -> InputError."""
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


def _split_field(field: str | None) -> Loc:
    if not field:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in field.split("."))


def problems_from_validation(err: ValidationError, file: Path, lines: LineMap, *, prefix: Loc = ()) -> list[Problem]:
    """Pydantic errors as :class:`Problem` s with file, line and dotted field."""
    out = []
    for e in err.errors():
        loc = prefix + tuple(x for x in e["loc"] if x != "__root__")
        msg = e["msg"].removeprefix("Value error, ")
        out.append(Problem(msg, file=str(file), line=lines.line(loc),
                           field=".".join(str(x) for x in loc) or None))
    return out


def relocate(err: InputError, file: Path, lines: LineMap, *, prefix: Loc = ()) -> list[Problem]:
    """Problems raised without a file (e.g. by a model validator) placed in ``file``."""
    out = []
    for p in err.problems:
        loc = prefix + _split_field(p.field)
        out.append(Problem(p.message, file=str(file), line=p.line or lines.line(loc),
                           field=".".join(str(x) for x in loc) or None))
    return out


def validate(model: Any, data: Any, file: Path, lines: LineMap, *, prefix: Loc = ()) -> Any:
    """``model.model_validate(data)`` with every problem reported at its file, line and field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InputError(problems_from_validation(e, file, lines, prefix=prefix)) from None
    except InputError as e:
        raise InputError(relocate(e, file, lines, prefix=prefix)) from None
