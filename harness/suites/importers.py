"""Import suites from the formats users bring (``policybench suites import``).

Formats
-------
``openai-moderation``
    The JSONL of openai/moderation-api-release: ``prompt`` plus label keys ``S H V HR SH S3 H2
    V2`` valued 0 or 1. A missing key is *not labelled*. Positive keys map to topics through
    the OpenAI Moderation crosswalk; a row with a positive key is unsafe, a row with all eight
    keys present and none positive is benign, anything else is unknown.
``xstest``
    The XSTest prompts CSV (``id, prompt, type, label, focus, note``; label ``safe``/``unsafe``).
    Safe prompts become benign contrast rows; topics are the ones the prompt imitates, found by
    keywords on the prompt and its focus word (``label_provenance=mapped``). An unsafe prompt
    whose topic cannot be told is kept as unknown.
``csv``, ``jsonl``, ``parquet``
    Your own data: ``text_col`` (default ``text``), ``label_col`` (default ``label``; values
    unsafe/benign/unknown or safe, harmful, 1/0, true/false, yes/no), optional ``category_col``
    (one category, a list, or ``;``-separated) and a ``mapping`` file (YAML ``{category:
    [topics]}`` or CSV ``category,topic``) from your categories to topics. Without a mapping the
    category values must be topic keys; without a category column topics come from keywords.

Every imported example has split ``test``. Problems (missing columns, unknown labels,
non-UTF-8 bytes, empty rows, unknown topics) raise :class:`~harness.errors.InputError` naming
file, line and field; the suite is written to a temporary folder and moved into place only
when complete.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness._yaml import loads
from harness.errors import InputError, Problem
from harness.paths import suites_dir
from harness.suites.cards import count_table, reference_policy
from harness.suites.definitions import SUITE_NAME, load_definitions
from harness.suites.normalize import sanitize_id
from harness.suites.schema import COLUMNS, Example
from harness.suites.topic_map import keyword_topics, known_topics
from harness.suites.write import install, staging, suite_card, write_card, write_examples

FORMATS = ("openai-moderation", "xstest", "csv", "jsonl", "parquet")
MODERATION_KEYS = {"S": "sexual", "H": "hate", "V": "violence", "HR": "harassment", "SH": "self-harm",
                   "S3": "sexual/minors", "H2": "hate/threatening", "V2": "violence/graphic"}
_UNSAFE = {"unsafe", "harmful", "toxic", "1", "true", "yes"}
_BENIGN = {"benign", "safe", "0", "false", "no"}
DEFAULT_LICENSE = {"openai-moderation": "MIT", "xstest": "CC-BY-4.0"}


def _p(msg: str, file: Path, line: int | None = None, field: str | None = None) -> Problem:
    return Problem(msg, file=str(file), line=line, field=field)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(_p(f"not UTF-8 (byte 0x{data[exc.start]:02x})", path, line)) from None


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    header = next(reader, None)
    if not header:
        raise InputError(_p("empty file: no header row", path, 1))
    header = [h.strip() for h in header]
    line = reader.line_num
    for rec in reader:
        start, line = line + 1, reader.line_num
        if not rec or all(not c.strip() for c in rec):
            raise InputError(_p("empty row", path, start))
        if len(rec) != len(header):
            raise InputError(_p(f"{len(rec)} fields, the header has {len(header)}", path, start))
        yield start, dict(zip(header, rec))


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from harness.suites.load import iter_jsonl

    for line, obj in iter_jsonl(path):
        if isinstance(obj, Problem):
            raise InputError(obj)
        if not isinstance(obj, dict):
            raise InputError(_p("expected a JSON object", path, line))
        if not obj:
            raise InputError(_p("empty row", path, line))
        yield line, obj


def _parquet_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise InputError(_p(f"not a readable Parquet file: {exc}", path)) from None
    yield from enumerate(table.to_pylist(), start=1)


def _records(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt in ("csv", "xstest"):
        return _csv_records(path)
    if fmt in ("jsonl", "openai-moderation"):
        return _jsonl_records(path)
    return _parquet_records(path)


def _require(path: Path, line: int, rec: dict, col: str) -> Any:
    if col not in rec:
        raise InputError(_p(f"missing column {col!r}; columns: {', '.join(map(str, rec))}", path, line, col))
    return rec[col]


def _text(path: Path, line: int, rec: dict, col: str) -> str:
    value = _require(path, line, rec, col)
    if not isinstance(value, str) or not value.strip():
        raise InputError(_p("empty or non-text value", path, line, col))
    return value.strip()


def _moderation_topics() -> dict[str, tuple[str, ...]]:
    from harness.policies import load_crosswalk

    cws = [load_crosswalk("openai-moderation-2022"), load_crosswalk("openai-moderation-2023")]
    out = {}
    for code, key in MODERATION_KEYS.items():
        for cw in cws:
            names = {lab.key for lab in cw.labels} | {a for lab in cw.labels for a in lab.aliases}
            if code in names or key in names:
                out[code] = cw.topics_for(code if code in names else key)
                break
        else:
            raise InputError(Problem(f"no crosswalk label for moderation key {code} ({key})", field=code))
    return out


def _row_moderation(path: Path, line: int, rec: dict, topics_of: dict) -> tuple[str, list[str], str, str]:
    text = _text(path, line, rec, "prompt")
    present, topics = 0, []
    for code in MODERATION_KEYS:
        if code not in rec or rec[code] is None:
            continue
        v = rec[code]
        if isinstance(v, bool) or v not in (0, 1):
            raise InputError(_p(f"label must be 0 or 1, not {v!r}", path, line, code))
        present += 1
        if v == 1:
            topics += [t for t in topics_of[code] if t not in topics]
    label = "unsafe" if topics else ("benign" if present == len(MODERATION_KEYS) else "unknown")
    return text, topics, label, "source_label"


def _row_xstest(path: Path, line: int, rec: dict) -> tuple[str, list[str], str, str]:
    text = _text(path, line, rec, "prompt")
    raw = str(_require(path, line, rec, "label")).strip().lower()
    if raw not in ("safe", "unsafe"):
        raise InputError(_p(f"label must be safe or unsafe, not {raw!r}", path, line, "label"))
    kind = str(_require(path, line, rec, "type"))
    topics = keyword_topics(text) or keyword_topics(str(rec.get("focus") or ""))
    if not topics and "privacy" in kind:
        topics = ["personal_data_misuse"]
    if not topics and "discr" in kind:
        topics = ["hate"]
    label = "benign" if raw == "safe" else ("unsafe" if topics else "unknown")
    return text, topics, label, "mapped"


def read_mapping(path: Path) -> dict[str, list[str]]:
    """Read a category → topics mapping (YAML mapping or CSV ``category,topic``); check the topics."""
    path = Path(path)
    if not path.is_file():
        raise InputError(_p("mapping file not found", path))
    ok = known_topics()
    mapping: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    if path.suffix.lower() == ".csv":
        for line, rec in _csv_records(path):
            cat, topic = _text(path, line, rec, "category"), _text(path, line, rec, "topic")
            mapping.setdefault(cat, []).append(topic)
            lines.setdefault(f"{cat}\0{topic}", line)
    else:
        text = _decode(path)
        data = loads(text, file=path) or {}
        if not isinstance(data, dict):
            raise InputError(_p("the mapping must be a YAML mapping {category: [topics]}", path))
        for cat, topics in data.items():
            topics = [topics] if isinstance(topics, str) else (topics or [])
            mapping[str(cat)] = [str(t) for t in topics]
        for i, raw in enumerate(text.splitlines(), start=1):
            for cat, topics in mapping.items():
                for t in topics:
                    if re.search(rf"\b{re.escape(t)}\b", raw):
                        lines.setdefault(f"{cat}\0{t}", i)
    problems = [_p(f"unknown topic {t!r} for category {cat!r}; see datasets/policies/topics.yaml", path,
                   lines.get(f"{cat}\0{t}"), cat)
                for cat, topics in mapping.items() for t in topics if t not in ok]
    if problems:
        raise InputError(problems)
    return mapping


def _row_generic(path: Path, line: int, rec: dict, text_col: str, label_col: str, category_col: str | None,
                 mapping: dict[str, list[str]] | None) -> tuple[str, list[str], str, str]:
    text = _text(path, line, rec, text_col)
    raw = _require(path, line, rec, label_col)
    value = str(raw).strip().lower() if raw is not None else ""
    if isinstance(raw, bool):
        value = "true" if raw else "false"
    if value in _UNSAFE:
        label = "unsafe"
    elif value in _BENIGN:
        label = "benign"
    elif value == "unknown":
        label = "unknown"
    else:
        raise InputError(_p(f"unknown label {raw!r}; use unsafe/benign/unknown (or safe, harmful, 1/0, "
                            "true/false, yes/no)", path, line, label_col))
    if category_col is None:
        topics = keyword_topics(text)
        if label == "unsafe" and not topics:
            label = "unknown"
        return text, topics, label, "mapped"
    cats = _require(path, line, rec, category_col)
    cats = [c for c in (cats if isinstance(cats, list) else re.split(r"[;|]", str(cats or ""))) if str(c).strip()]
    topics = []
    ok = known_topics()
    for c in (str(c).strip() for c in cats):
        if mapping is not None:
            if c not in mapping:
                raise InputError(_p(f"category {c!r} is not in the mapping file", path, line, category_col))
            new = mapping[c]
        elif c in ok:
            new = [c]
        else:
            raise InputError(_p(f"unknown topic {c!r}: give a mapping file from your categories to topics",
                                path, line, category_col))
        topics += [t for t in new if t not in topics]
    if label == "unsafe" and not topics:
        label = "unknown"  # an unsafe row without a topic cannot be projected onto any category
    return text, topics, label, "source_label"


def import_suite(path: str | Path, *, format: str, name: str, text_col: str | None = None,
                 label_col: str | None = None, category_col: str | None = None,
                 mapping: str | Path | None = None, out_dir: str | Path | None = None,
                 license: str | None = None) -> Path:
    """Import ``path`` as suite ``name``; returns the suite folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "mine.csv").write_text("text,label\\nHow do I bake bread?,benign\\n", encoding="utf-8")
    >>> folder = import_suite(d / "mine.csv", format="csv", name="mine", out_dir=d / "suites")
    >>> (folder / "examples.jsonl").read_text(encoding="utf-8").count("\\n")
    1
    """
    path = Path(path)
    if format not in FORMATS:
        raise InputError(Problem(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}", field="format"))
    spec = load_definitions()
    reserved = list(spec.suites)
    if not SUITE_NAME.match(name) or name in reserved:
        raise InputError(Problem(f"bad suite name {name!r}: use letters, digits, '.', '_', '-' and not a "
                                 f"built-in name ({', '.join(reserved)})", field="name"))
    if not path.is_file():
        raise InputError(_p("file not found", path))
    maps = read_mapping(Path(mapping)) if mapping is not None else None
    topics_of = _moderation_topics() if format == "openai-moderation" else {}
    source = format if format in ("openai-moderation", "xstest") else sanitize_id(path.stem) or "imported"
    lic = license or DEFAULT_LICENSE.get(format, "unknown (user-provided)")
    examples: list[Example] = []
    for line, rec in _records(path, format):
        if format == "openai-moderation":
            text, topics, label, prov = _row_moderation(path, line, rec, topics_of)
        elif format == "xstest":
            text, topics, label, prov = _row_xstest(path, line, rec)
        else:
            text, topics, label, prov = _row_generic(path, line, rec, text_col or "text", label_col or "label",
                                                     category_col, maps)
        examples.append(Example.model_validate(dict(
            id=f"{name}-{line:06d}", text=text, topics=topics, label=label, split="test", source=source,
            source_row=str(line), license=lic, label_provenance=prov)))
    if not examples:
        raise InputError(_p("no rows", path))
    return _write(path, format, name, examples, Path(out_dir) if out_dir else suites_dir(), lic, spec.version)


def _write(path: Path, fmt: str, name: str, examples: list[Example], out_dir: Path, lic: str,
           version: str) -> Path:
    rows = [e.model_dump() for e in examples]
    table = count_table(rows, reference_policy())
    unknown = table["totals"]["by_label"]["unknown"]["test"]
    card = suite_card(
        name, f"Imported from {path.name} (format {fmt}).", version=version, table=table,
        licenses=[{"source": examples[0].source, "license": lic, "attribution": f"imported from {path.name}",
                   "url": "", "notes": "check the upstream terms of the imported file"}],
        build={"generator": "policybench suites import", "format": fmt, "input": path.name,
               "input_sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        limitations=[f"All rows are in the test split; {unknown} rows are labelled unknown (not scored).",
                     "Topics found by keywords (label_provenance=mapped) are approximate."],
    )
    with staging(out_dir, ".import-") as tmp:
        staged = tmp / name
        staged.mkdir()
        write_examples(staged, [{k: r[k] for k in COLUMNS} for r in rows])
        write_card(staged, card, table)
        return install(staged, out_dir / name, trash=tmp / ".old")
