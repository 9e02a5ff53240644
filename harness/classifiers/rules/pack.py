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
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.classifiers.rules._normalize import normalize_term, squeeze, variants
from harness.classifiers.rules._packfile import Rule, resolve
from harness.classifiers.rules._regex import compile_regex
from harness.errors import InputError, Problem

_NONWORD = re.compile(r"[^\w\s']+")


def term_view(text_variant: str) -> str:
    """The view literal terms are matched on: punctuation → space, repeats collapsed."""
    return squeeze(_NONWORD.sub(" ", text_variant))


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
            rx, err = compile_regex(pattern, label=f"{rule.category}/{rule.id}")
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

