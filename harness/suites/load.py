"""Loading suites from disk: a folder with ``suite.yaml`` and a JSONL or Parquet data file.

Every row is validated; every problem is reported at once with file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness._yaml import load_file
from harness.errors import InputError, Problem
from harness.paths import suites_dir
from harness.suites.schema import COLUMNS, Example
from harness.suites.suite import Suite

#: Stop collecting after this many problems (the message says how many more there were).
MAX_PROBLEMS = 1000


def list_suites() -> list[str]:
    """Names of the suites in ``datasets/suites`` (folders with a ``suite.yaml``)."""
    root = suites_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "suite.yaml").is_file())


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """A suite name (``core``) or a path to a suite folder → the folder."""
    p = Path(name_or_path)
    if p.is_dir() and (p / "suite.yaml").is_file():
        return p
    cand = suites_dir() / str(name_or_path)
    if cand.is_dir() and (cand / "suite.yaml").is_file():
        return cand
    known = ", ".join(list_suites()) or "(none)"
    raise InputError(
        Problem(f"no suite named or at {str(name_or_path)!r}; known suites: {known}", field="suite")
    )


def read_card(folder: Path) -> dict[str, Any]:
    path = folder / "suite.yaml"
    card = load_file(path)
    if not isinstance(card, dict):
        raise InputError(Problem("the card must be a mapping", file=str(path)))
    problems = [
        Problem("missing", file=str(path), field=key) for key in ("name", "version") if not card.get(key)
    ]
    if problems:
        raise InputError(problems)
    card["version"] = str(card["version"])
    return card


def _data_file(folder: Path, card: dict[str, Any]) -> Path:
    if card.get("data"):
        return folder / str(card["data"])
    for cand in ("examples.jsonl", "examples.parquet"):
        if (folder / cand).is_file():
            return folder / cand
    raise InputError(Problem("no data file (examples.jsonl or examples.parquet)", file=str(folder / "suite.yaml"), field="data"))


def _validate_row(raw: Any, file: str, line: int, topics: frozenset[str], problems: list[Problem]) -> Example | None:
    if not isinstance(raw, dict):
        problems.append(Problem(f"expected a JSON object, got {type(raw).__name__}", file=file, line=line))
        return None
    try:
        ex = Example.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or None
            problems.append(Problem(err["msg"], file=file, line=line, field=loc))
        return None
    unknown = [t for t in ex.topics if t not in topics]
    if unknown:
        problems.append(Problem(f"unknown topic(s) {unknown}; see datasets/policies/topics.yaml",
                                file=file, line=line, field="topics"))
        return None
    return ex


def iter_jsonl(path: Path):
    """Yield ``(line_number, parsed_object_or_Problem)`` for a JSONL file, decoding strictly."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield lineno, Problem(f"not UTF-8 (byte {exc.start} of the line)", file=str(path), line=lineno)
                continue
            try:
                yield lineno, json.loads(text)
            except json.JSONDecodeError as exc:
                yield lineno, Problem(f"malformed JSON: {exc.msg} (column {exc.colno})", file=str(path), line=lineno)


def read_examples(path: Path, *, topics: frozenset[str] | None = None) -> list[Example]:
    """Read and validate a JSONL or Parquet file of examples; raise InputError with every problem."""
    from harness.policies import topic_keys

    topics = topics if topics is not None else frozenset(topic_keys())
    problems: list[Problem] = []
    examples: list[Example] = []
    seen: dict[str, int] = {}
    file = str(path)
    if not path.is_file():
        raise InputError(Problem("data file not found", file=file))
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise InputError(Problem(f"missing columns {missing}", file=file))
        rows = enumerate(table.to_pylist(), start=1)
    else:
        rows = iter_jsonl(path)
    for lineno, raw in rows:
        if isinstance(raw, Problem):
            problems.append(raw)
        else:
            ex = _validate_row(raw, file, lineno, topics, problems)
            if ex is not None:
                if ex.id in seen:
                    problems.append(Problem(f"duplicate id {ex.id!r} (first on line {seen[ex.id]})",
                                            file=file, line=lineno, field="id"))
                else:
                    seen[ex.id] = lineno
                    examples.append(ex)
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(f"stopped after {MAX_PROBLEMS} problems", file=file))
            break
    if problems:
        raise InputError(problems)
    return examples


def load_suite(name_or_path: str | Path) -> Suite:
    """Load and validate a suite by name (``datasets/suites/<name>``) or folder path.

    Raises
    ------
    harness.errors.InputError
        Listing every bad row with file, line and field.
    """
    folder = resolve_suite_path(name_or_path)
    card = read_card(folder)
    data = _data_file(folder, card)
    examples = read_examples(data)
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    return Suite(
        name=str(card["name"]), version=card["version"], card=card, examples=examples,
        path=folder, data_hash=digest,
    )
