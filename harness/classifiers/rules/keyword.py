"""``keyword-rules``: a keyword/regex rule pack per policy version (policy-conditioned).

The classifier reads ``datasets/rules/<policy version>.yaml`` (see
:mod:`harness.classifiers.rules.pack` for the format, the matching and the noisy-OR score).
Its labels are the categories of that version that the pack has rules for; bound to a policy
with :meth:`KeywordRules.for_policy`, it loads that version's pack. Unbound, it uses the
reference version 2023-02-15.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.classifiers.rules.pack import RulePack, load_pack
from harness.errors import InputError, Problem
from harness.paths import rules_dir
from harness.policies import REFERENCE_VERSION


def available_packs(folder: Path | None = None) -> list[str]:
    """Policy versions that have a rule pack (``<version>.yaml``) in ``datasets/rules``."""
    root = folder or rules_dir()
    return sorted(p.stem for p in root.glob("*.yaml") if not p.name.startswith("_")) if root.is_dir() else []


class KeywordRules(Classifier):
    """Literal terms (Aho–Corasick) and regexes (re2) per category, one YAML pack per policy version.

    Parameters
    ----------
    version : str, optional
        The policy version whose pack to use (default 2023-02-15).
    folder : path, optional
        Where the packs are (default ``datasets/rules``): your own packs, one per version.
    pack : path, optional
        One pack file to use instead; its ``policy_version`` applies, and it can only be
        bound to that version.

    Examples
    --------
    >>> clf = KeywordRules(version="2023-02-15")
    >>> s = clf.predict(["Write a Tinder bio for me", "What is the capital of France?"])
    >>> bool(s[0, clf.labels.index("adult")] > 0.5), bool(s[1].max() == 0)
    (True, True)
    """

    name = "keyword-rules"
    version = "2"  # 2: look-alike letters (Cyrillic/Greek) read as Latin; predictions cached under 1 are stale
    description = "Keyword and regex rule pack written for each policy version (leet-speak and look-alike aware)."
    taxonomy = Taxonomy.for_policy(REFERENCE_VERSION)
    policy_conditioned = True
    batch_size = 256

    def __init__(self, version: str = REFERENCE_VERSION, *, folder: str | Path | None = None,
                 pack: str | Path | None = None):
        self._folder = Path(folder) if folder else rules_dir()
        self._single = pack is not None
        path = Path(pack) if pack else self._folder / f"{version}.yaml"
        if not path.is_file():
            known = ", ".join(available_packs(self._folder)) or "(none)"
            raise InputError(Problem(
                f"no keyword rule pack for policy version {version!r}; packs exist for: {known} "
                f"(write {path.name} in {path.parent} to add one)", file=str(path)))
        self._pack: RulePack = load_pack(path)
        self._order: list[int] | None = None
        self.labels: list[str] = list(self._pack.categories)
        self.taxonomy = Taxonomy.for_policy(self._pack.policy_version)

    @property
    def pack(self) -> RulePack:
        return self._pack

    def for_policy(self, policy: Any) -> KeywordRules:
        """The classifier with the pack written for ``policy.id``, labels in the policy's order.

        Raises
        ------
        harness.errors.InputError
            If there is no pack for that version, or the pack scores a category the policy
            version does not have.
        """
        if self._single:
            if str(policy.id) != self._pack.policy_version:
                raise InputError(Problem(
                    f"this pack is written for policy {self._pack.policy_version}, not {policy.id}; "
                    "give a folder of packs (one per version) to score several versions",
                    file=self._pack.files[-1], field="policy_version"))
            bound = KeywordRules(pack=self._pack.files[-1])
        else:
            bound = KeywordRules(str(policy.id), folder=self._folder)
        keys = list(policy.category_keys)
        extra = [c for c in bound._pack.categories if c not in keys]
        if extra:
            raise InputError(Problem(
                f"the rule pack has categories {extra} that policy {policy.id} does not have "
                f"(its categories: {keys})", file=bound._pack.files[-1], field="categories"))
        bound.labels = [c for c in keys if c in bound._pack.categories]
        bound._order = [bound._pack.categories.index(c) for c in bound.labels]
        return bound

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        scores = self._pack.score(list(texts))
        if self._order is not None:
            scores = scores[:, self._order]
        return np.ascontiguousarray(scores, dtype=np.float32)

    def explain(self, text: str) -> list[str]:
        """The ``category/rule`` ids that fire on ``text``."""
        return self._pack.explain(text)

    def config(self) -> dict[str, Any]:
        return {"policy_version": self._pack.policy_version, "pack_version": self._pack.pack_version,
                "pack_sha256": self._pack.sha256, "labels": list(self.labels)}
