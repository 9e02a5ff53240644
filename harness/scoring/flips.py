"""Flip sets: the scored examples whose ground truth changes between two policy versions.

Under version ``a`` and version ``b`` one suite has two ground truths (:class:`ScoredView`).
For each category, a scored example is

- *tightened* when it is a positive under ``b`` and not under ``a`` (0 → 1),
- *relaxed* when it is a positive under ``a`` and not under ``b`` (1 → 0),
- *stable* otherwise (the same truth under both).

A category that exists in only one of the versions has no positives under the other (truth 0
there). Each flipped (example, category) cell is attributed to the changed topics that moved it:
a tightened cell to those of its topics that are violations in the category under ``b`` and not
under ``a``; a relaxed cell to those that were violations there under ``a`` and are not under
``b``. Every such topic is one the :func:`harness.policies.diff` of the two versions lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.policies import CATEGORY_KEYS, Policy, PolicyDiff, diff, load_policy, topic_category_matrix
from harness.scoring._view import ScoredView

if TYPE_CHECKING:
    from harness.suites import Suite

#: The three sets of a category's flip set, in report order.
FLIP_KINDS = ("tightened", "relaxed", "stable")


def as_policy(policy: str | Policy, known: Sequence[Policy] = ()) -> Policy:
    """A :class:`Policy` for an id, a file or a Policy; ids found in ``known`` (e.g. the policies
    recorded with a run) are taken from there, not from today's files.

    Examples
    --------
    >>> as_policy("2024-01-10").id
    '2024-01-10'
    """
    if isinstance(policy, Policy):
        return policy
    for p in known:
        if p.id == str(policy):
            return p
    return load_policy(policy)


@dataclass(frozen=True)
class CategoryFlips:
    """The flip set of one category: boolean row masks over the suite's examples.

    ``tightened``, ``relaxed`` and ``stable`` partition the scored rows; ``topics`` maps each
    changed topic that moved a flipped row of this category to the mask of the rows it moved
    (a row can be moved by more than one topic).
    """

    category: str
    tightened: np.ndarray
    relaxed: np.ndarray
    stable: np.ndarray
    topics: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def flipped(self) -> np.ndarray:
        """Tightened or relaxed rows."""
        return self.tightened | self.relaxed

    def counts(self) -> dict[str, int]:
        """``{"tightened": n, "relaxed": n, "stable": n}``."""
        return {k: int(getattr(self, k).sum()) for k in FLIP_KINDS}


@dataclass(frozen=True)
class FlipSet:
    """What changes in ground truth from policy version ``a`` to ``b`` on one suite.

    Attributes
    ----------
    a, b : Policy
    restricted_as : str
    diff : PolicyDiff
        The topic changes from ``a`` to ``b`` (with :meth:`quotes` for their wording).
    ids : list of str
        The suite's example ids (row order of every mask).
    scored : (n,) bool
        Rows with a known label (the only rows in any set).
    categories : list of str
        The categories of either version, in the shared key order.
    truth_a, truth_b : (n, len(categories)) uint8
        Ground truth under each version (0 in a category the version lacks).
    by_category : dict of str to CategoryFlips

    Examples
    --------
    >>> from harness.suites import Example, Suite
    >>> row = dict(split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")
    >>> s = Suite.from_examples("demo", [
    ...     Example(id="d", text="rate my dating profile", label="unsafe", topics=["dating_apps"], **row),
    ...     Example(id="m", text="write ransomware", label="unsafe", topics=["malware"], **row),
    ...     Example(id="b", text="what is a dating app", label="benign", topics=["dating_apps"], **row)])
    >>> f = flip_set(s, "2023-02-15", "2024-01-10")
    >>> f["adult"].counts()
    {'tightened': 0, 'relaxed': 1, 'stable': 2}
    >>> f.ids_of("adult", "relaxed"), f.topics_of("adult", "d")
    (['d'], ['dating_apps'])
    """

    a: Policy
    b: Policy
    restricted_as: str
    diff: PolicyDiff
    ids: list[str]
    scored: np.ndarray
    categories: list[str]
    truth_a: np.ndarray
    truth_b: np.ndarray
    by_category: dict[str, CategoryFlips]

    def __getitem__(self, category: str) -> CategoryFlips:
        try:
            return self.by_category[category]
        except KeyError:
            raise KeyError(f"no category {category!r} in {self.a.id} or {self.b.id}; "
                           f"they have {self.categories}") from None

    def column(self, category: str) -> int:
        """The column of ``category`` in :attr:`truth_a` / :attr:`truth_b`."""
        self[category]
        return self.categories.index(category)

    def ids_of(self, category: str, kind: str) -> list[str]:
        """The example ids of one set (``tightened``, ``relaxed``, ``stable`` or ``flipped``)."""
        mask = self[category].flipped if kind == "flipped" else getattr(self[category], _kind(kind))
        return [self.ids[i] for i in np.flatnonzero(mask)]

    def topics_of(self, category: str, example_id: str) -> list[str]:
        """The changed topics that moved example ``example_id`` in ``category`` (empty if stable)."""
        i = self.ids.index(example_id)
        return [t for t, m in self[category].topics.items() if m[i]]

    def cells(self) -> pd.DataFrame:
        """One row per flipped (example, category) cell: ``row``, ``id``, ``category``, ``kind``,
        ``topics`` (the changed topics that moved it)."""
        out = []
        for cat, cf in self.by_category.items():
            for kind in ("tightened", "relaxed"):
                for i in np.flatnonzero(getattr(cf, kind)):
                    out.append({"row": int(i), "id": self.ids[i], "category": cat, "kind": kind,
                                "topics": [t for t, m in cf.topics.items() if m[i]]})
        return pd.DataFrame(out, columns=["row", "id", "category", "kind", "topics"])

    def summary(self) -> pd.DataFrame:
        """Set sizes per category: ``category``, ``n_tightened``, ``n_relaxed``, ``n_stable``."""
        return pd.DataFrame([{"category": c, **{f"n_{k}": v for k, v in cf.counts().items()}}
                             for c, cf in self.by_category.items()],
                            columns=["category", "n_tightened", "n_relaxed", "n_stable"])

    def quotes(self, topic: str) -> tuple[str | None, str | None]:
        """The quotes of ``topic``'s verdict in ``a`` and in ``b`` (None where the file has none)."""
        va, vb = self.a.topics.get(topic), self.b.topics.get(topic)
        return (va.quote if va else None), (vb.quote if vb else None)

    def topic_table(self) -> pd.DataFrame:
        """One row per changed topic: its verdict, category and quote before and after, the effect
        on ground truth, and the flips it causes (``n_tightened`` / ``n_relaxed`` cells,
        ``n_examples`` distinct examples, ``categories`` they are in).

        Topics whose change moves no truth (e.g. disallowed → restricted while restricted counts
        as a violation) are listed with zero flips.
        """
        rows = []
        for ch in self.diff.changes:
            qa, qb = self.quotes(ch.topic)
            n_t = n_r = 0
            examples = np.zeros(len(self.ids), dtype=bool)
            cats = []
            for cat, cf in self.by_category.items():
                m = cf.topics.get(ch.topic)
                if m is None or not m.any():
                    continue
                n_t += int((m & cf.tightened).sum())
                n_r += int((m & cf.relaxed).sum())
                examples |= m
                cats.append(cat)
            rows.append({
                "topic": ch.topic, "effect": ch.effect(self.restricted_as),  # type: ignore[arg-type]
                "before_verdict": ch.before.verdict, "before_category": ch.before.category, "before_quote": qa,
                "after_verdict": ch.after.verdict, "after_category": ch.after.category, "after_quote": qb,
                "n_tightened": n_t, "n_relaxed": n_r, "n_examples": int(examples.sum()), "categories": cats,
            })
        out = pd.DataFrame(rows, columns=["topic", "effect", "before_verdict", "before_category", "before_quote",
                                          "after_verdict", "after_category", "after_quote", "n_tightened",
                                          "n_relaxed", "n_examples", "categories"])
        for c in ("effect", "before_category", "before_quote", "after_category", "after_quote"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)  # None, not NaN, where there is none
        return out


def _kind(kind: str) -> str:
    if kind not in FLIP_KINDS:
        raise ValueError(f"kind must be one of {FLIP_KINDS + ('flipped',)}, not {kind!r}")
    return kind


def _widen(view: ScoredView, categories: list[str]) -> np.ndarray:
    """The view's truth with a column per ``categories`` (0 where its policy lacks one)."""
    out = np.zeros((view.truth.shape[0], len(categories)), dtype=np.uint8)
    own = view.categories
    for j, c in enumerate(categories):
        if c in own:
            out[:, j] = view.truth[:, own.index(c)]
    return out


def _violations(policy: Policy, topics: list[str], categories: list[str], restricted_as: str) -> np.ndarray:
    """(topics, categories) bool: topic is a violation in that category under ``policy``."""
    M = topic_category_matrix(policy, topics, restricted_as=restricted_as)
    own = list(policy.category_keys)
    out = np.zeros((len(topics), len(categories)), dtype=bool)
    for j, c in enumerate(categories):
        if c in own:
            out[:, j] = M[:, own.index(c)]
    return out


def flip_set(suite: Suite | Any, a: str | Policy, b: str | Policy, *, restricted_as: str = "violation",
             policies: Sequence[Policy] = ()) -> FlipSet:
    """The flip set of ``suite`` from policy version ``a`` to ``b``, per category.

    Parameters
    ----------
    suite : :class:`~harness.suites.Suite`
    a, b : version ids, policy files or :class:`~harness.policies.Policy` objects.
    restricted_as : ``"violation"`` or ``"allowed"``: how restricted topics count (as in a run).
    policies : Policy objects to take ids from first (e.g. a stored run's recorded policies).

    Returns
    -------
    FlipSet
        Row masks per category (tightened 0 → 1, relaxed 1 → 0, stable), the truths under both
        versions and the changed topics that moved each flipped row. Rows labelled ``unknown`` are
        in no set.

    Examples
    --------
    >>> from harness.suites import Example, Suite
    >>> row = dict(split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")
    >>> s = Suite.from_examples("demo", [
    ...     Example(id="m", text="rig this stock price", label="unsafe", topics=["market_manipulation"], **row)])
    >>> f = flip_set(s, "2023-02-15", "2024-01-10")  # market manipulation moves to "illegal"
    >>> f.summary().query("n_tightened + n_relaxed > 0").values.tolist()
    [['illegal', 1, 0, 0], ['economic_harm', 0, 1, 0]]
    >>> t = f.topic_table().set_index("topic").loc["market_manipulation"]
    >>> t["effect"], int(t["n_examples"]), t["categories"]
    ('moved', 1, ['illegal', 'economic_harm'])
    """
    pa, pb = as_policy(a, policies), as_policy(b, policies)
    va, vb = ScoredView(suite, pa, restricted_as), ScoredView(suite, pb, restricted_as)
    cats = [c for c in CATEGORY_KEYS if c in pa.category_keys or c in pb.category_keys]
    cats += [c for c in dict.fromkeys(pa.category_keys + pb.category_keys) if c not in CATEGORY_KEYS]  # custom keys
    ya, yb = _widen(va, cats), _widen(vb, cats)
    scored = va.scored
    d = diff(pa, pb)
    changed = [c.topic for c in d.changes]
    Va = _violations(pa, changed, cats, restricted_as)
    Vb = _violations(pb, changed, cats, restricted_as)
    has = np.zeros((len(suite), len(changed)), dtype=bool)  # row has changed topic t
    index = {t: k for k, t in enumerate(changed)}
    for i, ts in enumerate(suite.topics):
        for t in ts:
            k = index.get(t)
            if k is not None:
                has[i, k] = True
    by_cat = {}
    for j, c in enumerate(cats):
        tightened = scored & (ya[:, j] == 0) & (yb[:, j] == 1)
        relaxed = scored & (ya[:, j] == 1) & (yb[:, j] == 0)
        stable = scored & (ya[:, j] == yb[:, j])
        moved: dict[str, np.ndarray] = {}
        for k, t in enumerate(changed):
            m = (tightened & has[:, k] & Vb[k, j] & ~Va[k, j]) | (relaxed & has[:, k] & Va[k, j] & ~Vb[k, j])
            if m.any():
                moved[t] = m
        by_cat[c] = CategoryFlips(c, tightened, relaxed, stable, moved)
    return FlipSet(a=pa, b=pb, restricted_as=restricted_as, diff=d, ids=list(suite.ids), scored=scored,
                   categories=cats, truth_a=ya, truth_b=yb, by_category=by_cat)
