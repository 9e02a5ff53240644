"""No text, and no near duplicate of a text, crosses splits within or across the built-in suites.

A text in one suite's test split must not appear (exactly or as a near duplicate) in any
suite's train or dev split. Checked on the committed suite files.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from harness.paths import suites_dir
from harness.suites.dedupe import THRESHOLD, near_pairs
from harness.suites.definitions import load_definitions
from harness.suites.normalize import dedupe_hash

SUITES = list(load_definitions().suites)


@pytest.fixture(scope="module")
def splits_by_text() -> dict[str, dict[str, set[tuple[str, str]]]]:
    """text hash -> {"text": ..., "where": {(suite, split)}} over every built-in suite."""
    out: dict[str, dict] = {}
    for name in SUITES:
        path = suites_dir() / name / "examples.jsonl"
        assert path.is_file(), f"{path} missing: run `policybench suites build`"
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            entry = out.setdefault(dedupe_hash(row["text"]), {"text": row["text"], "where": set()})
            entry["where"].add((name, row["split"]))
    return out


def test_no_exact_duplicate_crosses_splits(splits_by_text):
    crossing = [(v["text"][:80], sorted(v["where"])) for v in splits_by_text.values()
                if len({split for _, split in v["where"]}) > 1]
    assert not crossing, f"{len(crossing)} texts in several splits, e.g. {crossing[:3]}"


def test_no_exact_duplicate_within_a_suite():
    for name in SUITES:
        seen: dict[str, str] = {}
        for line in (suites_dir() / name / "examples.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            h = dedupe_hash(row["text"])
            assert h not in seen, f"{name}: {row['id']} duplicates {seen[h]}"
            seen[h] = row["id"]


def test_no_near_duplicate_crosses_splits(splits_by_text):
    entries = list(splits_by_text.values())
    split_of = [{split for _, split in e["where"]} for e in entries]
    pairs = near_pairs([e["text"] for e in entries], threshold=THRESHOLD)
    crossing = [(entries[a]["text"][:60], entries[b]["text"][:60], round(sim, 3))
                for a, b, sim in pairs if split_of[a] != split_of[b]]
    assert not crossing, f"{len(crossing)} near-duplicate pairs cross splits, e.g. {crossing[:3]}"


def test_no_split_group_or_pair_crosses_splits_across_suites():
    """A split group (near duplicates kept together, a minimal pair's twins) has one split in every
    suite: its rows differ in text, so the text checks above cannot see a group whose rows sit in
    one suite's test split and another suite's train split."""
    where: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for name in SUITES:
        for line in (suites_dir() / name / "examples.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            for kind in ("group", "pair_id"):
                if row.get(kind):
                    where[(kind, row[kind])].add((name, row["split"]))
    assert sum(len({s for s, _ in v}) > 1 for v in where.values()) >= 100  # groups do span suites
    crossing = {k: sorted(v) for k, v in where.items() if len({split for _, split in v}) > 1}
    assert not crossing, f"{len(crossing)} groups or pairs in several splits, e.g. {list(crossing.items())[:3]}"
