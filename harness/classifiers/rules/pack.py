"""Keyword rule packs: YAML files of literal terms and regexes per policy category.

A pack (``datasets/rules/<policy version>.yaml``) is written for one policy version::

    policy_version: "2024-01-10"     # the version whose categories the pack scores
    pack_version: 1                  # bump when rules change (also hashed into the cache key)
    extends: _library                # optional: start from another pack's rules
    drop_categories: [economic_harm] # (with extends) categories this version does not have
    drop_topics: [dating_apps, mlm]  # (with extends) drop every rule tagged with these topics
    drop_rules: {adult: [some_id]}   # (with extends) drop single rules
    move_topics: {market_manipulation: illegal}  # (with extends) the topic's rules change category
    categories:
      adult:
        rules:
          - id: dating_apps          # unique within the category
            topic: dating_apps       # optional: the topic the rule is about (documentation)
            weight: 0.7              # in (0, 1]
            terms: [tinder, "dating app*"]   # literal; a trailing * matches any word ending
            regex: ['\\bswipe (left|right)\\b']

With ``extends``, the base's rules are taken, then ``drop_categories``, ``drop_topics``,
``drop_rules`` and ``move_topics`` are applied (in that order), then the rules listed under
``categories`` are added (a rule with an existing id in that category replaces it). The
built-in packs all extend ``_library.yaml`` (every rule, each tagged with its topic, filed
under its reference category) and say, in a few lines, what their version does not flag and
where it files what it does — mirroring ``datasets/policies/<version>.yaml``. Files whose name
starts with ``_`` are building blocks, not packs of a policy version.

**Matching.** Terms are normalised (:func:`~harness.classifiers.rules._normalize.normalize_term`:
case folding, leet-speak undone, punctuation → space, repeated characters collapsed) and
matched with one Aho–Corasick automaton per pack on the same view of the text, on word
boundaries. Regexes run on the folded text (case folded, leet undone, but punctuation and
repeated characters kept) with google-re2; a pattern re2 cannot compile but Python's ``re``
can (look-around, back-references) is compiled with ``re`` and listed in
:attr:`RulePack.re_fallback`. A pattern neither can compile is an :class:`InputError` at load
time naming the file, line, category and rule.

**Scoring.** Each rule counts once per text. A category's score is the noisy-OR of the weights
of the rules that matched: ``1 - prod(1 - w_r)`` (equivalently ``1 - exp(-sum(-log(1 - w_r)))``),
0 when nothing matched. One rule of weight 0.6 gives 0.6; two give 0.84.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from harness.classifiers.rules._normalize import normalize_term, squeeze, variants
from harness.errors import InputError, Problem

log = logging.getLogger(__name__)

_LINE = "__line__"
_NONWORD = re.compile(r"[^\w\s']+")
_TOP_KEYS = {"policy_version", "pack_version", "extends", "drop_categories", "drop_topics", "drop_rules",
             "move_topics", "categories", "description", "notes"}
_RULE_KEYS = {"id", "topic", "weight", "terms", "regex", "note", _LINE}


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that records the 1-based line of every mapping under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def term_view(text_variant: str) -> str:
    """The view literal terms are matched on: punctuation → space, repeats collapsed."""
    return squeeze(_NONWORD.sub(" ", text_variant))


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


@dataclass
class RulePack:
    """A compiled rule pack: categories (the labels), rules, an automaton and regexes.

    Build with :func:`load_pack`; score with :meth:`score`.
    """

    policy_version: str
    pack_version: str
    categories: list[str]
    rules: list[Rule]
    files: list[str]
    sha256: str
    re_fallback: list[str] = field(default_factory=list)
    _automaton: Any = field(default=None, repr=False)
    _regexes: list[tuple[int, Any]] = field(default_factory=list, repr=False)
    _weights: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _rule_cat: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    # -- matching --------------------------------------------------------------------------
    def matched_rules(self, text: str) -> set[int]:
        """Indices (into :attr:`rules`) of the rules that match ``text``."""
        hits: set[int] = set()
        for v in variants(text):
            if self._automaton is not None:
                s = term_view(v)
                n = len(s)
                for end, payload in self._automaton.iter(s):
                    for rule_idx, length, prefix in payload:
                        if rule_idx in hits:
                            continue
                        start = end - length + 1
                        if start > 0 and (s[start - 1].isalnum() or s[start - 1] == "_"):
                            continue
                        if not prefix and end + 1 < n and (s[end + 1].isalnum() or s[end + 1] == "_"):
                            continue
                        hits.add(rule_idx)
            for rule_idx, rx in self._regexes:
                if rule_idx not in hits and rx.search(v):
                    hits.add(rule_idx)
        return hits

    def explain(self, text: str) -> list[str]:
        """``category/rule`` ids that match ``text`` (for debugging a pack)."""
        return sorted(f"{self.rules[i].category}/{self.rules[i].id}" for i in self.matched_rules(text))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Noisy-OR score per (text, category): float32 array (len(texts), len(categories))."""
        out = np.zeros((len(texts), len(self.categories)), dtype=np.float32)
        log_keep = np.log1p(-np.minimum(self._weights, 1 - 1e-7))  # log(1 - w), finite
        for i, text in enumerate(texts):
            hits = self.matched_rules(text)
            if not hits:
                continue
            acc = np.zeros(len(self.categories), dtype=np.float64)
            for r in hits:
                acc[self._rule_cat[r]] += log_keep[r]
            out[i] = (1.0 - np.exp(acc)).astype(np.float32)
        return out


# -- loading -------------------------------------------------------------------------------

def _read_yaml(path: Path) -> dict:
    file = str(path)
    if not path.is_file():
        raise InputError(Problem("rule pack not found", file=file))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"not UTF-8 (byte {exc.start})", file=file))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(Problem(f"invalid YAML: {getattr(exc, 'problem', exc)}", file=file,
                                 line=mark.line + 1 if mark else None))
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
            out[key][rid] = Rule(id=rid, category=key, weight=float(w), terms=terms, regex=rx,
                                 topic=raw.get("topic"), file=file, line=line)
    return out


def _resolve(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict[str, dict[str, Rule]], list[Path]]:
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
        _, base_rules, base_files = _resolve(base_path, (*seen, path.resolve()))
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
        moved = [(k, rid) for k, rules in merged.items() for rid, r in rules.items() if r.topic == topic]
        if not moved:
            problems.append(Problem(f"cannot move topic {topic!r}: no remaining rule is tagged with it", file=file,
                                    line=moves.get(_LINE), field=f"move_topics.{topic}"))
        for k, rid in moved:
            rule = merged[k].pop(rid)
            rule = Rule(**{**rule.__dict__, "category": str(target)})
            merged.setdefault(str(target), {})[rid] = rule
    return merged


def _compile_regex(pattern: str, rule: Rule) -> tuple[Any, str | None]:
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
    log.warning("rule %s/%s: re2 cannot compile %r (%s); using Python re", rule.category, rule.id, pattern, re2_msg)
    return rx, "re"


def compile_pack(policy_version: str, pack_version: str, rules: list[Rule], files: list[str], sha: str) -> RulePack:
    """Build the Aho–Corasick automaton and regexes; report every bad pattern at once."""
    import ahocorasick

    categories = list(dict.fromkeys(r.category for r in rules))
    cat_index = {c: i for i, c in enumerate(categories)}
    problems: list[Problem] = []
    automaton = ahocorasick.Automaton()
    payloads: dict[str, list[tuple[int, int, bool]]] = {}
    regexes: list[tuple[int, Any]] = []
    fallback: list[str] = []
    for idx, rule in enumerate(rules):
        where = f"categories.{rule.category}.rules[{rule.id}]"
        for term in rule.terms:
            prefix = term.rstrip().endswith("*")
            norm = normalize_term(term.rstrip().rstrip("*"))
            norm = term_view(norm).strip()
            if not norm:
                problems.append(Problem(f"term {term!r} is empty after normalisation", file=rule.file,
                                        line=rule.line, field=f"{where}.terms"))
                continue
            payloads.setdefault(norm, []).append((idx, len(norm), prefix))
        for pattern in rule.regex:
            rx, err = _compile_regex(pattern, rule)
            if rx is None:
                problems.append(Problem(err or "invalid regex", file=rule.file, line=rule.line,
                                        field=f"{where}.regex"))
                continue
            if err == "re":
                fallback.append(f"{rule.category}/{rule.id}: {pattern}")
            regexes.append((idx, rx))
    if problems:
        raise InputError(problems)
    for norm, payload in payloads.items():
        automaton.add_word(norm, tuple(payload))
    if payloads:
        automaton.make_automaton()
    return RulePack(
        policy_version=policy_version, pack_version=pack_version, categories=categories, rules=rules,
        files=files, sha256=sha, re_fallback=fallback, _automaton=automaton if payloads else None,
        _regexes=regexes, _weights=np.array([r.weight for r in rules], dtype=np.float64),
        _rule_cat=np.array([cat_index[r.category] for r in rules], dtype=np.int64),
    )


_CACHE: dict[tuple[str, str], RulePack] = {}
_LOCK = threading.Lock()


def load_pack(path: str | Path) -> RulePack:
    """Load, validate and compile a rule pack (cached per file contents).

    Raises
    ------
    harness.errors.InputError
        For a missing file, bad YAML, a bad rule or a regex that cannot compile (naming the
        file, line, category and rule).

    Examples
    --------
    >>> from harness.paths import rules_dir
    >>> pack = load_pack(rules_dir() / "2023-02-15.yaml")
    >>> "adult/dating_apps" in pack.explain("Write my Tinder bio")
    True
    """
    path = Path(path)
    data, rules_by_cat, files = _resolve(path, ())
    if not data.get("policy_version"):
        raise InputError(Problem("missing (a pack states the policy version it is written for)", file=str(path),
                                 line=1, field="policy_version"))
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    sha = h.hexdigest()
    key = (str(path.resolve()), sha)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    rules = [r for cat in rules_by_cat.values() for r in cat.values()]
    if not rules:
        raise InputError(Problem("the pack has no rules", file=str(path), field="categories"))
    pack = compile_pack(str(data["policy_version"]), str(data.get("pack_version", "1")), rules,
                        [str(f) for f in files], sha)
    with _LOCK:
        _CACHE[key] = pack
    return pack

