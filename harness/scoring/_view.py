"""A suite seen through one policy version, and classifier scores projected onto it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.policies import Policy, imitation_mask, label_category_matrix, project_scores

if TYPE_CHECKING:
    from harness.runner.predict import Predictions
    from harness.suites import Suite


def category_scores(pred: Any, policy: Policy, *, restricted_as: str = "violation") -> tuple[np.ndarray, np.ndarray]:
    """A classifier's scores per category of ``policy``: ``(scores (n, C), covered (C,))``.

    ``covered[c]`` is False when none of the classifier's labels maps to category ``c`` (its
    score there is then 0: the classifier does not speak that category).
    """
    M = label_category_matrix(pred.labels, pred.taxonomy, policy, restricted_as=restricted_as)
    return project_scores(pred.scores, M), np.asarray(M.any(axis=0), dtype=bool)


def bound_to(predictions: Sequence[Predictions], policy_id: str) -> list[Predictions]:
    """The predictions that apply under ``policy_id``: unbound ones and those bound to it."""
    return [p for p in predictions if p.binding in ("", policy_id)]


def display_name(pred: Any) -> str:
    """``name@binding`` for a policy-bound prediction, ``name`` otherwise."""
    return pred.name + (f"@{pred.binding}" if pred.binding else "")


@dataclass
class ScoredView:
    """Ground truth and projected scores of a suite under one policy version.

    Attributes
    ----------
    truth : (n, C) uint8
        Projected ground truth (``unknown`` rows are all zero and excluded by ``scored``).
    imitators : (n, C) bool
        Benign rows that imitate category ``c`` (its minimal-pair twins).
    scored : (n,) bool
        Rows with a known label.

    Examples
    --------
    >>> from harness.suites import Example, Suite
    >>> from harness.policies import load_policy
    >>> row = dict(split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")
    >>> s = Suite.from_examples("demo", [
    ...     Example(id="a", text="x", label="unsafe", topics=["malware"], **row),
    ...     Example(id="b", text="y", label="unknown", topics=[], **row)])
    >>> v = ScoredView(s, load_policy("2023-02-15"))
    >>> int(v.truth[:, v.column("malware")].sum()), v.scored.tolist()
    (1, [True, False])
    """

    suite: Suite
    policy: Policy
    restricted_as: str = "violation"
    truth: np.ndarray = field(init=False, repr=False)
    imitators: np.ndarray = field(init=False, repr=False)
    scored: np.ndarray = field(init=False, repr=False)
    _proj: dict[int, tuple[Any, np.ndarray, np.ndarray]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.truth = self.suite.labels(self.policy, restricted_as=self.restricted_as)
        self.imitators = imitation_mask(self.suite.topics, self.suite.label_values, self.policy)
        self.scored = self.suite.scored_mask

    @property
    def categories(self) -> list[str]:
        return list(self.policy.category_keys)

    def column(self, category: str) -> int:
        """The column of ``category`` (a ValueError naming the version's categories if absent)."""
        try:
            return self.categories.index(category)
        except ValueError:
            raise ValueError(f"policy {self.policy.id} has no category {category!r}; it has {self.categories}") from None

    def scores(self, pred: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(S (n, C), covered (C,))`` for one prediction set (computed once per view)."""
        hit = self._proj.get(id(pred))
        if hit is None or hit[0] is not pred:
            S, covered = category_scores(pred, self.policy, restricted_as=self.restricted_as)
            hit = self._proj[id(pred)] = (pred, S, covered)
        return hit[1], hit[2]

    def valid(self, *preds: Any) -> np.ndarray:
        """Rows scored for every one of ``preds``: a known label and no error from any of them."""
        mask = self.scored.copy()
        for p in preds:
            mask &= ~p.error_mask
        return mask
