"""Exact and near-duplicate removal across all sources, and split groups.

Three steps over the candidate rows of every source (:func:`dedupe`):

1. **Exact duplicates** share :func:`~harness.suites.normalize.dedupe_hash` (case, punctuation
   and spacing ignored). A group whose rows disagree on the label (one source says unsafe, the
   other benign) is dropped whole and counted as a conflict; otherwise the row with the
   best priority is kept (a labelled row before an ``unknown`` one).
2. **Near duplicates**: MinHash signatures (``datasketch``, 128 permutations) of character
   5-gram shingles of the comparison key, candidate pairs from ``MinHashLSH`` at a lower
   threshold, then the *exact* Jaccard similarity of the shingle sets is checked against
   ``threshold`` (0.8). Same-label near duplicates are clustered (union-find) and one
   representative per cluster is kept.
3. **Split groups**: rows that stay near-duplicates of each other (contrast pairs with
   different labels: "taste the mushroom" / "do not eat the mushroom") and rows sharing a
   source's group hint (HateCheck template, SafeText scenario) form one group, which is
   never divided between splits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

from harness.suites.normalize import dedupe_hash, dedupe_key

SHINGLE = 5
NUM_PERM = 128
THRESHOLD = 0.8
#: LSH retrieves candidates at this fraction of ``threshold``; the exact Jaccard decides.
CANDIDATE_FACTOR = 0.8


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    """Character ``k``-grams of the comparison key of ``text`` (the whole key if shorter).

    Examples
    --------
    >>> sorted(shingles("Ab-cd", k=3))
    [b' cd', b'ab ', b'b c']
    """
    key = dedupe_key(text)
    if len(key) <= k:
        return {key.encode("utf-8")}
    return {key[i:i + k].encode("utf-8") for i in range(len(key) - k + 1)}


def jaccard(a: set, b: set) -> float:
    """Jaccard similarity of two sets (1.0 for two empty sets).

    Examples
    --------
    >>> jaccard({1, 2, 3}, {2, 3, 4})
    0.5
    """
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_pairs(texts: Sequence[str], *, threshold: float = THRESHOLD, num_perm: int = NUM_PERM
               ) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)`` with ``i < j`` whose shingle Jaccard is at least ``threshold``.

    Candidates come from MinHash LSH (seeded, so deterministic); each is verified exactly.

    Examples
    --------
    >>> near_pairs(["How do I make a bomb at home today?", "how do i make a bomb at home today",
    ...             "What is a Roth IRA?"])
    [(0, 1, 1.0)]
    """
    sets = [shingles(t) for t in texts]
    if len(sets) < 2:
        return []
    sigs = MinHash.bulk(sets, num_perm=num_perm, seed=1)
    lsh = MinHashLSH(threshold=max(0.3, threshold * CANDIDATE_FACTOR), num_perm=num_perm)
    for i, m in enumerate(sigs):
        lsh.insert(i, m, check_duplication=False)
    out: list[tuple[int, int, float]] = []
    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            if j > i:
                sim = jaccard(sets[i], sets[j])
                if sim >= threshold:
                    out.append((i, j, sim))
    out.sort()
    return out


@dataclass
class DedupeResult:
    """What :func:`dedupe` kept and dropped.

    ``kept`` are indices into the input, ascending; ``group`` gives each kept row's split
    group (an index into ``kept`` of the group's first member); ``dropped`` maps a dropped input
    index to ``(reason, index it duplicates)`` with reason ``exact``, ``near`` or ``conflict``.
    """

    kept: list[int]
    group: dict[int, int]
    dropped: dict[int, tuple[str, int]] = field(default_factory=dict)

    def count(self, reason: str) -> int:
        return sum(1 for r, _ in self.dropped.values() if r == reason)


def dedupe(texts: Sequence[str], labels: Sequence[str], priority: Callable[[int], tuple], *,
           hints: Sequence[str] | None = None, threshold: float = THRESHOLD,
           group_threshold: float | None = None) -> DedupeResult:
    """De-duplicate rows given their texts and labels; lower ``priority(i)`` wins.

    Rows at Jaccard >= ``threshold`` with the same label are duplicates (one kept); rows at
    Jaccard >= ``group_threshold`` (default ``threshold``; lower it to catch paraphrases and
    reworded templates) that both survive are put in one split group.

    Examples
    --------
    >>> r = dedupe(["Make a bomb!", "make a bomb", "Make a bomb.", "What is a Roth IRA?"],
    ...            ["unsafe", "unsafe", "unsafe", "benign"], priority=lambda i: (i,))
    >>> r.kept, r.count("exact")
    ([0, 3], 2)
    """
    n = len(texts)
    dropped: dict[int, tuple[str, int]] = {}
    # 1. exact duplicates
    by_hash: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        by_hash.setdefault(dedupe_hash(t), []).append(i)
    reps: list[int] = []
    for members in by_hash.values():
        members = sorted(members, key=lambda i: (labels[i] == "unknown", priority(i)))
        known = {labels[i] for i in members if labels[i] != "unknown"}
        if len(known) > 1:
            for i in members:
                dropped[i] = ("conflict", members[0])
            continue
        reps.append(members[0])
        for i in members[1:]:
            dropped[i] = ("exact", members[0])
    reps.sort()
    # 2. near duplicates among the exact representatives
    gthr = threshold if group_threshold is None else min(group_threshold, threshold)
    pairs = near_pairs([texts[i] for i in reps], threshold=gthr)
    same = _UnionFind(len(reps))
    for a, b, sim in pairs:
        if sim >= threshold and labels[reps[a]] == labels[reps[b]]:
            same.union(a, b)
    clusters: dict[int, list[int]] = {}
    for a in range(len(reps)):
        clusters.setdefault(same.find(a), []).append(reps[a])
    keep_set: set[int] = set()
    for members in clusters.values():
        members.sort(key=priority)
        keep_set.add(members[0])
        for i in members[1:]:
            dropped[i] = ("near", members[0])
    kept = sorted(keep_set)
    # 3. split groups: remaining near pairs (different labels) and source hints
    pos = {i: k for k, i in enumerate(kept)}
    groups = _UnionFind(len(kept))
    for a, b, _ in pairs:
        ia, ib = reps[a], reps[b]
        if ia in pos and ib in pos:
            groups.union(pos[ia], pos[ib])
    if hints is not None:
        first: dict[str, int] = {}
        for k, i in enumerate(kept):
            h = hints[i]
            if h:
                if h in first:
                    groups.union(first[h], k)
                else:
                    first[h] = k
    group = {i: groups.find(k) for k, i in enumerate(kept)}
    assert len(kept) + len(dropped) == n
    return DedupeResult(kept=kept, group=group, dropped=dropped)
