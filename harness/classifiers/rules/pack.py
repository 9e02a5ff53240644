"""Keyword rule packs: YAML files of literal terms and regexes per policy category.

A pack (``datasets/rules/<policy version>.yaml``) is written for one policy version::

    format_version: 1                # the file format (optional; 1 when left out)
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
look-alike letters read as Latin, case folding, leet-speak undone, punctuation → space, repeated
characters collapsed) and matched on the same view of the text, on word boundaries. Regexes run
on the folded text (look-alikes, case and leet undone, but punctuation and repeated characters
kept) with google-re2; a pattern re2 cannot compile but Python's ``re`` can (look-around,
back-references) is compiled with ``re`` and listed in :attr:`RulePack.re_fallback`. A pattern
neither can compile is an :class:`InputError` at load time naming the file, line, category and
rule.

**Speed.** Every pack of the process shares one index (:class:`_Index`) of all the terms and
re2 regexes the packs have: one Aho–Corasick automaton, and one RE2 ``FilteredRE2`` that runs
only the regexes whose required literals occur in the text. A text is normalised once
(:func:`~harness.classifiers.rules._normalize.views`), matched once against the index (one
automaton pass and one filtered regex pass per reading, kept in a bounded cache keyed by the
text), and each pack — one per policy version in a run — only maps the terms and regexes found
to its own rules. The score of each set of rules that fire together is computed once per pack.

**Scoring.** Each rule counts once per text. A category's score is the noisy-OR of the weights
of the rules that matched: ``1 - prod(1 - w_r)`` (equivalently ``1 - exp(-sum(-log(1 - w_r)))``),
0 when nothing matched. One rule of weight 0.6 gives 0.6; two give 0.84.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.rules._normalize import CACHE_SIZE, normalize_term, term_view, views
from harness.classifiers.rules._packfile import Rule, resolve
from harness.classifiers.rules._regex import compile_regex
from harness.errors import InputError, Problem

__all__ = ["Rule", "RulePack", "compile_pack", "load_pack", "term_view"]

Term = tuple[str, bool]  # (normalised term, trailing * = matches any word ending)


# -- the shared index ----------------------------------------------------------------------

class _Index:
    """Every term and re2 regex registered so far, matched in one pass each (immutable).

    ``features(text)`` gives the ids of the terms found in the text's term view on word
    boundaries and of the regexes that match its folded view, over every reading of the text;
    it is cached per text. Ids are positions in :attr:`terms` / :attr:`patterns`; a later index
    (after new packs registered more) keeps them.
    """

    def __init__(self, terms: list[Term], patterns: list[str]):
        import ahocorasick
        import re2

        self.terms, self.patterns = terms, patterns
        self._automaton: Any = None
        if terms:
            self._automaton = ahocorasick.Automaton()
            by_text: dict[str, list[tuple[int, int, bool]]] = {}
            for tid, (text, prefix) in enumerate(terms):
                by_text.setdefault(text, []).append((tid, len(text), prefix))
            for text, payload in by_text.items():
                self._automaton.add_word(text, tuple(payload))
            self._automaton.make_automaton()
        self._filter: Any = None
        if patterns:
            opts = re2.Options()
            opts.log_errors = False
            opts.case_sensitive = False
            flt = re2.Filter()
            for pattern in patterns:
                flt.Add(pattern, opts)
            flt.Compile()
            self._filter = flt._filter
        self.features: Callable[[str], tuple[tuple[int, ...], tuple[int, ...]]] = lru_cache(maxsize=CACHE_SIZE)(
            self._features)

    def _features(self, text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        found_terms: set[int] = set()
        found_rx: set[int] = set()
        automaton, flt = self._automaton, self._filter
        for v, s in views(text):
            if automaton is not None:
                n = len(s)
                for end, payload in automaton.iter(s):
                    for tid, length, prefix in payload:
                        start = end - length + 1
                        if start > 0 and (s[start - 1].isalnum() or s[start - 1] == "_"):
                            continue
                        if not prefix and end + 1 < n and (s[end + 1].isalnum() or s[end + 1] == "_"):
                            continue
                        found_terms.add(tid)
            if flt is not None:
                hits = flt.Match(v.encode("utf-8"), False)
                if hits:
                    found_rx.update(hits)
        return tuple(found_terms), tuple(found_rx)


_INDEX = _Index([], [])
_INDEX_LOCK = threading.Lock()


def _register(terms: list[Term], patterns: list[str]) -> tuple[dict[Term, int], dict[str, int]]:
    """Add terms and patterns to the shared index (rebuilt when any is new); their ids."""
    global _INDEX
    with _INDEX_LOCK:
        index = _INDEX
        term_ids = {t: i for i, t in enumerate(index.terms)}
        pattern_ids = {p: i for i, p in enumerate(index.patterns)}
        new_terms = [t for t in dict.fromkeys(terms) if t not in term_ids]
        new_patterns = [p for p in dict.fromkeys(patterns) if p not in pattern_ids]
        if new_terms or new_patterns:
            index = _INDEX = _Index(index.terms + new_terms, index.patterns + new_patterns)
            term_ids = {t: i for i, t in enumerate(index.terms)}
            pattern_ids = {p: i for i, p in enumerate(index.patterns)}
        return term_ids, pattern_ids


def _current_index() -> _Index:
    return _INDEX


# -- a compiled pack -----------------------------------------------------------------------

@dataclass
class RulePack:
    """A compiled rule pack: categories (the labels), rules, and what maps matches to rules.

    Build with :func:`load_pack`; score with :meth:`score`.
    """

    policy_version: str
    pack_version: str
    categories: list[str]
    rules: list[Rule]
    files: list[str]
    sha256: str
    re_fallback: list[str] = field(default_factory=list)
    _weights: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]
    _rule_cat: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]
    _term_rules: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)  # index term id -> rules
    _rx_rules: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)  # index regex id -> rules
    _fallback: list[tuple[int, Any]] = field(default_factory=list, repr=False)  # Python re regexes
    _rows: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict, repr=False)  # rules fired -> scores

    # -- matching --------------------------------------------------------------------------
    def _hits(self, text: str) -> tuple[int, ...]:
        """Sorted indices of the rules that match ``text``."""
        term_ids, rx_ids = _current_index().features(text)
        hits: set[int] = set()
        term_rules, rx_rules = self._term_rules, self._rx_rules
        for t in term_ids:
            r = term_rules.get(t)
            if r:
                hits.update(r)
        for t in rx_ids:
            r = rx_rules.get(t)
            if r:
                hits.update(r)
        if self._fallback:
            readings = [v for v, _ in views(text)]
            for rule_idx, rx in self._fallback:
                if rule_idx not in hits and any(rx.search(v) for v in readings):
                    hits.add(rule_idx)
        return tuple(sorted(hits))

    def matched_rules(self, text: str) -> set[int]:
        """Indices (into :attr:`rules`) of the rules that match ``text``."""
        return set(self._hits(text))

    def explain(self, text: str) -> list[str]:
        """``category/rule`` ids that match ``text`` (for debugging a pack)."""
        return sorted(f"{self.rules[i].category}/{self.rules[i].id}" for i in self._hits(text))

    def _row(self, hits: tuple[int, ...]) -> np.ndarray:
        """Noisy-OR scores per category of the rules ``hits`` (computed once per set of rules)."""
        row = self._rows.get(hits)
        if row is None:
            acc = np.zeros(len(self.categories), dtype=np.float64)
            log_keep = np.log1p(-np.minimum(self._weights, 1 - 1e-7))  # log(1 - w), finite
            for r in hits:
                acc[self._rule_cat[r]] += log_keep[r]
            row = (1.0 - np.exp(acc)).astype(np.float32)
            if len(self._rows) < 65536:
                self._rows[hits] = row
        return row

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Noisy-OR score per (text, category): float32 array (len(texts), len(categories))."""
        out = np.zeros((len(texts), len(self.categories)), dtype=np.float32)
        hits_of = self._hits
        for i, text in enumerate(texts):
            hits = hits_of(text)
            if hits:
                out[i] = self._row(hits)
        return out


# -- loading -------------------------------------------------------------------------------

def compile_pack(policy_version: str, pack_version: str, rules: list[Rule], files: list[str], sha: str) -> RulePack:
    """Normalise the terms and compile the regexes; report every bad pattern at once."""
    categories = list(dict.fromkeys(r.category for r in rules))
    cat_index = {c: i for i, c in enumerate(categories)}
    problems: list[Problem] = []
    terms: list[tuple[int, Term]] = []
    patterns: list[tuple[int, str]] = []
    python_re: list[tuple[int, Any]] = []
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
            terms.append((idx, (norm, prefix)))
        for pattern in rule.regex:
            rx, err = compile_regex(pattern, label=f"{rule.category}/{rule.id}")
            if rx is None:
                problems.append(Problem(err or "invalid regex", file=rule.file, line=rule.line,
                                        field=f"{where}.regex"))
                continue
            if err == "re":
                fallback.append(f"{rule.category}/{rule.id}: {pattern}")
                python_re.append((idx, rx))
            else:
                patterns.append((idx, pattern))
    if problems:
        raise InputError(problems)
    term_ids, pattern_ids = _register([t for _, t in terms], [p for _, p in patterns])
    term_rules: dict[int, list[int]] = {}
    for idx, t in terms:
        term_rules.setdefault(term_ids[t], []).append(idx)
    rx_rules: dict[int, list[int]] = {}
    for idx, p in patterns:
        rx_rules.setdefault(pattern_ids[p], []).append(idx)
    return RulePack(
        policy_version=policy_version, pack_version=pack_version, categories=categories, rules=rules,
        files=files, sha256=sha, re_fallback=fallback,
        _weights=np.array([r.weight for r in rules], dtype=np.float64),
        _rule_cat=np.array([cat_index[r.category] for r in rules], dtype=np.int64),
        _term_rules={k: tuple(dict.fromkeys(v)) for k, v in term_rules.items()},
        _rx_rules={k: tuple(dict.fromkeys(v)) for k, v in rx_rules.items()}, _fallback=python_re,
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
    spec, rules_by_cat, files = resolve(path, ())
    if not spec.policy_version:
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
    pack = compile_pack(spec.policy_version, spec.pack_version, rules, [str(f) for f in files], sha)
    with _LOCK:
        _CACHE[key] = pack
    return pack

