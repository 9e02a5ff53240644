"""Reading rule-pack files: YAML with line numbers, rules, ``extends`` and its changes.

See :mod:`harness.classifiers.rules.pack` for the format; this module turns a file (and the
files it extends) into :class:`Rule` objects per category, collecting every problem with its
file, line and field.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError, Problem
from harness.policies.model import CATEGORY_KEYS
from harness.yamlsafe import StrictLoader, load_file

log = logging.getLogger("harness.classifiers.rules.pack")

_LINE = "__line__"
_TOP_KEYS = {"policy_version", "pack_version", "extends", "drop_categories", "drop_topics", "drop_rules",
             "move_topics", "categories", "description", "notes"}
_RULE_KEYS = {"id", "topic", "weight", "terms", "regex", "note", _LINE}


class _LineLoader(StrictLoader):
    """A SafeLoader that records the 1-based line of every mapping under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class Rule:
    """One rule of a category: literal terms and/or regexes with a weight."""

    id: str
    category: str
    weight: float
    terms: list[str] = field(default_factory=list)
    regex: list[str] = field(default_factory=list)
    topic: str | None = None
    file: str = ""
    line: int | None = None


def compile_regex(pattern: str, rule: Rule, *, warn: bool = True) -> tuple[Any, str | None]:
    """Compile with re2 (case-insensitive); fall back to ``re``; return (regex, error)."""
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
    if warn:
        log.warning("rule %s/%s: re2 cannot compile %r (%s); using Python re", rule.category, rule.id, pattern, re2_msg)
    return rx, "re"


def _read_yaml(path: Path) -> dict:
    file = str(path)
    if not path.is_file():
        raise InputError(Problem("rule pack not found", file=file))
    data = load_file(path, loader=_LineLoader)
    if not isinstance(data, dict):
        raise InputError(Problem("a rule pack must be a mapping", file=file))
    return data


def _str_list(value: Any, where: str, file: str, line: int | None, problems: list[Problem]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(Problem("must be a list of non-empty strings", file=file, line=line, field=where))
        return []
    return list(value)


def _parse_rules(data: dict, file: str, problems: list[Problem]) -> dict[str, dict[str, Rule]]:
    cats = data.get("categories") or {}
    out: dict[str, dict[str, Rule]] = {}
    if not isinstance(cats, dict):
        problems.append(Problem("must be a mapping of category key → {rules: [...]}", file=file,
                                line=data.get(_LINE), field="categories"))
        return out
    for key, body in cats.items():
        if key == _LINE:
            continue
        where = f"categories.{key}"
        if key not in CATEGORY_KEYS:
            problems.append(Problem(f"unknown category key {key!r}; use one of: {', '.join(CATEGORY_KEYS)}",
                                    file=file, line=cats.get(_LINE), field=where))
        rules = body.get("rules") if isinstance(body, dict) else None
        if not isinstance(rules, list):
            problems.append(Problem("must have a list under 'rules'", file=file,
                                    line=body.get(_LINE) if isinstance(body, dict) else cats.get(_LINE), field=where))
            continue
        out[key] = {}
        for i, raw in enumerate(rules):
            rwhere = f"{where}.rules[{i}]"
            if not isinstance(raw, dict):
                problems.append(Problem("a rule must be a mapping", file=file, field=rwhere))
                continue
            line = raw.get(_LINE)
            extra = set(raw) - _RULE_KEYS
            if extra:
                problems.append(Problem(f"unknown key(s) {sorted(extra)}", file=file, line=line, field=rwhere))
            rid = raw.get("id")
            if not isinstance(rid, str) or not rid:
                problems.append(Problem("missing rule id", file=file, line=line, field=f"{rwhere}.id"))
                continue
            rwhere = f"{where}.rules[{rid}]"
            if rid in out[key]:
                problems.append(Problem(f"duplicate rule id {rid!r}", file=file, line=line, field=rwhere))
            w = raw.get("weight", 0.5)
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < float(w) <= 1:
                problems.append(Problem(f"weight must be in (0, 1], got {w!r}", file=file, line=line,
                                        field=f"{rwhere}.weight"))
                w = 0.5
            terms = _str_list(raw.get("terms"), f"{rwhere}.terms", file, line, problems)
            rx = _str_list(raw.get("regex"), f"{rwhere}.regex", file, line, problems)
            if not terms and not rx:
                problems.append(Problem("a rule needs terms or regex", file=file, line=line, field=rwhere))
            rule = Rule(id=rid, category=key, weight=float(w), terms=terms, regex=rx,
                        topic=raw.get("topic"), file=file, line=line)
            for pattern in rx:  # report bad patterns with the other problems of this file
                compiled, err = compile_regex(pattern, rule, warn=False)
                if compiled is None:
                    problems.append(Problem(err or "invalid regex", file=file, line=line, field=f"{rwhere}.regex"))
            out[key][rid] = rule
    return out


def resolve(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict[str, dict[str, Rule]], list[Path]]:
    """Parse a pack and its ``extends`` chain into (top-level data, rules per category, files)."""
    file = str(path)
    if path.resolve() in seen:
        chain = " → ".join(p.name for p in (*seen, path))
        raise InputError(Problem(f"'extends' forms a cycle: {chain}", file=file, field="extends"))
    data = _read_yaml(path)
    problems: list[Problem] = []
    extra = set(data) - _TOP_KEYS - {_LINE}
    if extra:
        problems.append(Problem(f"unknown key(s) {sorted(extra)}", file=file, line=1))
    own = _parse_rules(data, file, problems)
    files = [path]
    base_ref = data.get("extends")
    if base_ref:
        base_path = path.parent / (str(base_ref) if str(base_ref).endswith(".yaml") else f"{base_ref}.yaml")
        if not base_path.is_file():
            problems.append(Problem(f"extends {base_ref!r}, but {base_path.name} does not exist", file=file,
                                    line=1, field="extends"))
            raise InputError(problems)
        _, base_rules, base_files = resolve(base_path, (*seen, path.resolve()))
        files = base_files + files
        merged = _apply_changes(data, {k: dict(v) for k, v in base_rules.items()}, base_path.name, file, problems)
        for key, rules in own.items():
            merged.setdefault(key, {}).update(rules)
        own = {k: v for k, v in merged.items() if v}
    elif any(data.get(k) for k in ("drop_categories", "drop_topics", "drop_rules", "move_topics")):
        problems.append(Problem("drop_*/move_topics need 'extends'", file=file, line=1))
    if problems:
        raise InputError(problems)
    return data, own, files


def _listed(data: dict, key: str, file: str, problems: list[Problem]) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem("must be a list of strings", file=file, field=key))
        return []
    return value


def _apply_changes(data: dict, merged: dict[str, dict[str, Rule]], base: str, file: str,
                   problems: list[Problem]) -> dict[str, dict[str, Rule]]:
    """Apply drop_categories, drop_topics, drop_rules and move_topics to the base's rules."""
    for key in _listed(data, "drop_categories", file, problems):
        if key not in merged:
            problems.append(Problem(f"cannot drop category {key!r}: not in {base}", file=file, field="drop_categories"))
        merged.pop(key, None)
    tagged = {r.topic for rules in merged.values() for r in rules.values() if r.topic}
    for topic in _listed(data, "drop_topics", file, problems):
        if topic not in tagged:
            problems.append(Problem(f"cannot drop topic {topic!r}: no rule of {base} (after drop_categories) "
                                    "is tagged with it", file=file, field="drop_topics"))
        for rules in merged.values():
            for rid in [rid for rid, r in rules.items() if r.topic == topic]:
                del rules[rid]
    drops = data.get("drop_rules") or {}
    if not isinstance(drops, dict):
        problems.append(Problem("must be a mapping of category → [rule ids]", file=file, field="drop_rules"))
        drops = {}
    for key, ids in drops.items():
        if key == _LINE:
            continue
        for rid in ids if isinstance(ids, list) else [ids]:
            if key not in merged or rid not in merged[key]:
                problems.append(Problem(f"cannot drop rule {key}/{rid}: not in {base}", file=file,
                                        line=drops.get(_LINE), field=f"drop_rules.{key}"))
            else:
                del merged[key][rid]
    moves = data.get("move_topics") or {}
    if not isinstance(moves, dict):
        problems.append(Problem("must be a mapping of topic → category", file=file, field="move_topics"))
        moves = {}
    for topic, target in moves.items():
        if topic == _LINE:
            continue
        if target not in CATEGORY_KEYS:
            problems.append(Problem(f"unknown category key {target!r}", file=file, line=moves.get(_LINE),
                                    field=f"move_topics.{topic}"))
            continue
        moved = [(k, rid) for k, rules in merged.items() for rid, r in rules.items() if r.topic == topic]
        if not moved:
            problems.append(Problem(f"cannot move topic {topic!r}: no remaining rule is tagged with it", file=file,
                                    line=moves.get(_LINE), field=f"move_topics.{topic}"))
        for k, rid in moved:
            rule = merged[k].pop(rid)
            rule = Rule(**{**rule.__dict__, "category": str(target)})
            merged.setdefault(str(target), {})[rid] = rule
    return merged
