"""Resolving a rule pack: its file, the ``extends`` chain and the changes made to the base.

See :mod:`harness.classifiers.rules.pack` for the format. Each file is read and validated by
:func:`~harness.classifiers.rules._schema.read_pack_file`; this module turns it (and the files
it extends) into :class:`Rule` objects per category, checking what no single file can: a
cycle of ``extends``, a duplicate rule id, and ``drop_*`` / ``move_topics`` entries that name
nothing of the base.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from harness._yaml import LineMap
from harness.classifiers.rules._regex import compile_regex
from harness.classifiers.rules._schema import RulePackFile, read_pack_file
from harness.errors import InputError, Problem

__all__ = ["Rule", "compile_regex", "resolve"]

Rules = dict[str, dict[str, "Rule"]]


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


def _own_rules(spec: RulePackFile, file: str, lines: LineMap, problems: list[Problem]) -> Rules:
    """The rules a file lists, per category (a later duplicate id replaces the earlier one)."""
    out: Rules = {}
    for key, body in spec.categories.items():
        out[key] = {}
        for i, r in enumerate(body.rules):
            line = lines.line(("categories", key, "rules", i))
            if r.id in out[key]:
                problems.append(Problem(f"duplicate rule id {r.id!r}", file=file, line=line,
                                        field=f"categories.{key}.rules[{r.id}]"))
            out[key][r.id] = Rule(id=r.id, category=key, weight=r.weight, terms=list(r.terms),
                                  regex=list(r.regex), topic=r.topic, file=file, line=line)
    return out


def resolve(path: Path, seen: tuple[Path, ...]) -> tuple[RulePackFile, Rules, list[Path]]:
    """Parse a pack and its ``extends`` chain into (the file, rules per category, files read)."""
    file = str(path)
    if path.resolve() in seen:
        chain = " → ".join(p.name for p in (*seen, path))
        raise InputError(Problem(f"'extends' forms a cycle: {chain}", file=file, field="extends"))
    spec, lines = read_pack_file(path)
    problems: list[Problem] = []
    own = _own_rules(spec, file, lines, problems)
    files = [path]
    if spec.extends:
        base_path = path.parent / (spec.extends if spec.extends.endswith(".yaml") else f"{spec.extends}.yaml")
        if not base_path.is_file():
            problems.append(Problem(f"extends {spec.extends!r}, but {base_path.name} does not exist", file=file,
                                    line=lines.line(("extends",)), field="extends"))
            raise InputError(problems)
        _, base_rules, base_files = resolve(base_path, (*seen, path.resolve()))
        files = base_files + files
        merged = _apply_changes(spec, {k: dict(v) for k, v in base_rules.items()}, _Where(base_path.name, file, lines),
                                problems)
        for key, rules in own.items():
            merged.setdefault(key, {}).update(rules)
        own = {k: v for k, v in merged.items() if v}
    elif spec.changes_base:
        problems.append(Problem("drop_*/move_topics need 'extends'", file=file, line=1))
    if problems:
        raise InputError(problems)
    return spec, own, files


@dataclass(frozen=True)
class _Where:
    """The base pack's name, and the file and lines of the pack changing it (for problems)."""

    base: str
    file: str
    lines: LineMap

    def problem(self, message: str, loc: tuple, field: str) -> Problem:
        return Problem(message, file=self.file, line=self.lines.line(loc), field=field)


def _apply_changes(spec: RulePackFile, merged: Rules, where: _Where, problems: list[Problem]) -> Rules:
    """Apply drop_categories, drop_topics, drop_rules and move_topics (in that order) to the base's rules."""
    _drop_categories(spec.drop_categories, merged, where, problems)
    _drop_topics(spec.drop_topics, merged, where, problems)
    _drop_rules(spec.drop_rules, merged, where, problems)
    _move_topics(spec.move_topics, merged, where, problems)
    return merged


def _drop_categories(keys: list[str], merged: Rules, where: _Where, problems: list[Problem]) -> None:
    for i, key in enumerate(keys):
        if key not in merged:
            problems.append(where.problem(f"cannot drop category {key!r}: not in {where.base}",
                                          ("drop_categories", i), "drop_categories"))
        merged.pop(key, None)


def _drop_topics(topics: list[str], merged: Rules, where: _Where, problems: list[Problem]) -> None:
    tagged = {r.topic for rules in merged.values() for r in rules.values() if r.topic}
    for i, topic in enumerate(topics):
        if topic not in tagged:
            problems.append(where.problem(f"cannot drop topic {topic!r}: no rule of {where.base} (after "
                                          "drop_categories) is tagged with it", ("drop_topics", i), "drop_topics"))
        for rules in merged.values():
            for rid in [rid for rid, r in rules.items() if r.topic == topic]:
                del rules[rid]


def _drop_rules(drops: dict[str, list[str]], merged: Rules, where: _Where, problems: list[Problem]) -> None:
    for key, ids in drops.items():
        for rid in ids:
            if key not in merged or rid not in merged[key]:
                problems.append(where.problem(f"cannot drop rule {key}/{rid}: not in {where.base}",
                                              ("drop_rules", key), f"drop_rules.{key}"))
            else:
                del merged[key][rid]


def _move_topics(moves: dict[str, str], merged: Rules, where: _Where, problems: list[Problem]) -> None:
    for topic, target in moves.items():
        moved = [(k, rid) for k, rules in merged.items() for rid, r in rules.items() if r.topic == topic]
        if not moved:
            problems.append(where.problem(f"cannot move topic {topic!r}: no remaining rule is tagged with it",
                                          ("move_topics", topic), f"move_topics.{topic}"))
        for k, rid in moved:
            merged.setdefault(target, {})[rid] = replace(merged[k].pop(rid), category=target)
