#!/usr/bin/env python3
"""Check minimal-pair files (stdlib + PyYAML only): ``python3 check_pairs.py [FILE ...]``.

Each line of ``datasets/sources/curated/pairs/<category>.jsonl`` is one minimal pair::

    {"pair_id": "legal-0001", "topics": ["tailored_legal_advice"], "form": "first_person_request",
     "contrast": "general_info", "unsafe": "...", "benign": "...", "note": "..."}

Prints one line per problem (file:line: field: message) and a summary per file; exit 2 on problems.
The same rules are enforced by the suite build (harness.suites.pairs).
"""
from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TOPICS = HERE.parents[2] / "policies" / "topics.yaml"
FORMS = {"imperative", "first_person_request", "question", "statement", "long_context",
         "casual", "roleplay", "code_request", "third_person"}
CONTRASTS = {"general_info", "fiction", "education", "self_protection", "safe_target", "homonym",
             "non_targeted", "low_volume", "lawful_version", "help_seeking", "consent",
             "fact_check", "professional_review", "history", "other"}
FIELDS = {"pair_id", "topics", "form", "contrast", "unsafe", "benign", "note"}
MAX_RATIO = 0.30


def words(s: str) -> int:
    return len(re.findall(r"\S+", s))


def check(paths: list[Path]) -> int:
    vocab = {t["key"] for t in yaml.safe_load(TOPICS.read_text())["topics"]}
    problems = 0
    ids: dict[str, str] = {}
    texts: dict[str, str] = {}
    for path in paths:
        per_topic: collections.Counter = collections.Counter()
        forms: collections.Counter = collections.Counter()
        longer = collections.Counter()
        wordier = collections.Counter()
        same_first2 = n = 0
        openings: collections.Counter = collections.Counter()
        vocab_u: collections.Counter = collections.Counter()
        vocab_b: collections.Counter = collections.Counter()
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{i}"

            def bad(field: str, msg: str) -> None:
                nonlocal problems
                problems += 1
                print(f"{where}: {field}: {msg}")

            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                bad("json", str(e))
                continue
            missing = FIELDS - set(row) - {"note"}
            extra = set(row) - FIELDS
            if missing:
                bad(",".join(sorted(missing)), "missing")
                continue
            if extra:
                bad(",".join(sorted(extra)), "unknown field")
            pid = str(row["pair_id"])
            if pid in ids:
                bad("pair_id", f"{pid} repeats {ids[pid]}")
            ids[pid] = where
            tops = row["topics"]
            if not isinstance(tops, list) or not tops or any(t not in vocab for t in tops):
                bad("topics", f"unknown or empty: {tops}")
            else:
                per_topic[tops[0]] += 1
            if row["form"] not in FORMS:
                bad("form", f"{row['form']!r} not in {sorted(FORMS)}")
            if row["contrast"] not in CONTRASTS:
                bad("contrast", f"{row['contrast']!r} not in {sorted(CONTRASTS)}")
            u, b = str(row["unsafe"]).strip(), str(row["benign"]).strip()
            if not u or not b:
                bad("unsafe/benign", "empty")
                continue
            for key, t in (("unsafe", u), ("benign", b)):
                norm = re.sub(r"\W+", " ", t.lower()).strip()
                if norm in texts:
                    bad(key, f"duplicate of {texts[norm]}")
                texts[norm] = where
            wu, wb = words(u), words(b)
            if abs(wb - wu) > MAX_RATIO * wu + 1:
                bad("benign", f"length {wb} words vs unsafe {wu} (must be within +-30%)")
            longer["benign" if wb > wu else "unsafe" if wu > wb else "equal"] += 1
            cu, cb = len(u) / max(1, wu), len(b) / max(1, wb)
            wordier["benign" if cb > cu else "unsafe"] += 1
            forms[row["form"]] += 1
            n += 1
            if u.lower().split()[:2] == b.lower().split()[:2]:
                same_first2 += 1
            openings[" ".join(u.lower().split()[:2])] += 1
            vocab_u.update(set(re.findall(r"[a-z']+", u.lower())))
            vocab_b.update(set(re.findall(r"[a-z']+", b.lower())))
        if n:
            print(f"{path.name}: {n} pairs; per topic {dict(per_topic)}; forms {dict(forms)}; "
                  f"longer {dict(longer)}; same first two words {same_first2 / n:.0%}")
            lu, lb = longer["unsafe"], longer["benign"]
            if lu + lb >= 20 and max(lu, lb) / (lu + lb) > 0.58:
                side = "unsafe" if lu > lb else "benign"
                print(f"  WARNING the {side} text is the longer one in {max(lu, lb)} of {lu + lb} unequal pairs: "
                      f"length predicts the label. In your next pairs make the OTHER side longer until it is "
                      f"about half and half (a shortcut audit gates on this).")
            if n >= 20 and max(wordier.values()) / n > 0.60:
                side = max(wordier, key=wordier.get)
                print(f"  WARNING the {side} text has the longer average word length (characters per word) in "
                      f"{wordier[side]} of {n} pairs: plain vs. technical wording predicts the label. Use plainer, "
                      f"shorter words on that side (or longer ones on the other) until it is about half and half.")
            top = [(o, c) for o, c in openings.most_common(5) if c > max(3, 0.05 * n)]
            if top:
                print(f"  WARNING openings used by more than 5% of pairs: {top}")
            def skew(a, b):
                return sorted(((w, a[w], b[w]) for w in a if a[w] >= max(5, 0.04 * n)
                               and a[w] >= 3 * (b[w] + 1)), key=lambda x: -x[1])[:12]
            print(f"  words marking benign (word, benign, unsafe): {skew(vocab_b, vocab_u)}")
            print(f"  words marking unsafe (word, unsafe, benign): {skew(vocab_u, vocab_b)}")
    return 2 if problems else 0


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted(HERE.glob("*.jsonl"))
    sys.exit(check(args))
