"""Deterministic train/dev/test assignment of split groups, with test quotas.

Every group (a set of rows that must stay together, see :mod:`harness.suites.dedupe`) gets a
number ``u`` in ``[0, 1)`` from a hash of the seed and the group's key. The base split is
``test`` for ``u < test_share``, ``dev`` for the next ``dev_share``, ``train`` for the rest.
Then, for each quota cell in a fixed order (e.g. "category health, label benign"), groups
outside ``test`` that contribute to the cell are moved into ``test`` in ascending ``u``
until the cell reaches its quota or runs out. Moves only add to test counts, so every
quota met stays met. Adding new rows moves only the few groups that the quotas need.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence

from harness.suites.normalize import stable_unit

TEST_SHARE = 0.5
DEV_SHARE = 0.1


def assign_splits(
    keys: Sequence[str],
    cells: Sequence[Mapping[Hashable, int]],
    quotas: Mapping[Hashable, int],
    *,
    seed: str,
    test_share: float = TEST_SHARE,
    dev_share: float = DEV_SHARE,
    fixed: Sequence[str | None] | None = None,
    dev_quotas: Mapping[Hashable, int] | None = None,
) -> list[str]:
    """Assign ``train``/``dev``/``test`` to each group.

    Parameters
    ----------
    keys : sequence of str
        A stable key per group (e.g. the smallest text hash of its rows).
    cells : sequence of mappings
        Per group, how many examples it adds to each quota cell.
    quotas : mapping
        Cell → minimum number of examples wanted in ``test``.
    seed : str
        Mixed into the hash; a different seed gives a different (still deterministic) split.
    fixed : sequence of str or None, optional
        Per group, a split it must have (e.g. ``"train"`` for sources kept out of evaluation);
        None leaves the group to the hash and the quotas.
    dev_quotas : mapping, optional
        Cell → minimum number of examples wanted in ``dev``, met after the test quotas by moving
        ``train`` groups.

    Returns
    -------
    list of str
        The split of each group, in input order.

    Examples
    --------
    >>> keys = [f"g{i}" for i in range(10)]
    >>> cells = [{"x": 1}] * 10
    >>> splits = assign_splits(keys, cells, {"x": 8}, seed="s")
    >>> splits.count("test") >= 8
    True
    >>> splits == assign_splits(keys, cells, {"x": 8}, seed="s")
    True
    """
    if len(keys) != len(cells):
        raise ValueError("keys and cells differ in length")
    u = [stable_unit(seed, k) for k in keys]
    splits = [
        "test" if x < test_share else ("dev" if x < test_share + dev_share else "train") for x in u
    ]
    free = [True] * len(keys)
    if fixed is not None:
        for i, f in enumerate(fixed):
            if f is not None:
                splits[i], free[i] = f, False
    # test quotas take train groups first, then dev groups; dev quotas then take train groups
    order = sorted(range(len(keys)), key=lambda i: (splits[i] == "dev", u[i], keys[i]))
    _fill(splits, free, cells, quotas, order, "test", ("train", "dev"))
    if dev_quotas:
        order = sorted(range(len(keys)), key=lambda i: (u[i], keys[i]))
        _fill(splits, free, cells, dev_quotas, order, "dev", ("train",))
    return splits


def _fill(splits: list[str], free: list[bool], cells: Sequence[Mapping[Hashable, int]],
          quotas: Mapping[Hashable, int], order: list[int], target: str, donors: tuple[str, ...]) -> None:
    have: Counter = Counter()
    for s, c in zip(splits, cells):
        if s == target:
            have.update(c)
    for cell in sorted(quotas, key=str):
        need = quotas[cell] - have[cell]
        if need <= 0:
            continue
        for i in order:
            if free[i] and splits[i] in donors and cells[i].get(cell, 0) > 0:
                splits[i] = target
                have.update(cells[i])
                need -= cells[i][cell]
                if need <= 0:
                    break
