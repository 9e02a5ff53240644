"""Profanity baselines mapped to ``hate_harass_violence`` (taxonomy ``policy:2023-02-15``).

- ``profanity-check``: alt-profanity-check's ``predict_prob`` (a linear SVM on TF-IDF,
  calibrated, trained on toxic-comment data; its model ships inside the wheel). The score is
  the probability as given.
- ``better-profanity``: the better-profanity word list (with its leet-speak variants). The
  score counts the words it censors: ``1 - 0.25 ** n`` (0 for none, 0.75 for one, 0.94 for two),
  so one swear word crosses a 0.5 threshold and more rank higher. It is slow (pure Python,
  each word compared with every list entry) — that is the library's real cost, and the
  benchmark measures it as it is.

Both say whether a text is profane, not whether it violates a policy: they are floor
baselines for the hate/harassment category.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.policies import REFERENCE_VERSION

_CENSOR = "\x07"


def _pkg_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "missing"


class ProfanityCheck(Classifier):
    """alt-profanity-check ``predict_prob`` → hate_harass_violence.

    Examples
    --------
    >>> s = ProfanityCheck().predict(["you are a fucking idiot", "have a lovely day"])
    >>> bool(s[0, 0] > 0.5), bool(s[1, 0] < 0.5)
    (True, True)
    """

    name = "profanity-check"
    version = "1"
    description = "alt-profanity-check: linear SVM profanity probability, mapped to hate/harassment."
    taxonomy = Taxonomy.for_policy(REFERENCE_VERSION)
    labels = ("hate_harass_violence",)
    requirements = ("alt-profanity-check",)
    batch_size = 256

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict_prob = predict_prob

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if importlib.util.find_spec("profanity_check") is None:
            return False, "missing package alt-profanity-check"
        return True, ""

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, 1), dtype=np.float32)
        p = np.asarray(self._predict_prob(list(texts)), dtype=np.float64)
        return np.clip(p, 0.0, 1.0).astype(np.float32).reshape(-1, 1)

    def config(self) -> dict[str, Any]:
        return {"alt-profanity-check": _pkg_version("alt-profanity-check"),
                "scikit-learn": _pkg_version("scikit-learn")}


class BetterProfanity(Classifier):
    """better-profanity word list; score ``1 - 0.25 ** (censored words)`` → hate_harass_violence.

    Examples
    --------
    >>> clf = BetterProfanity()
    >>> clf.predict(["what the fuck", "sh1t and fuck", "hello"])[:, 0].round(4).tolist()
    [0.75, 0.9375, 0.0]
    """

    name = "better-profanity"
    version = "1"
    description = "better-profanity word list (leet variants), count of censored words, mapped to hate/harassment."
    taxonomy = Taxonomy.for_policy(REFERENCE_VERSION)
    labels = ("hate_harass_violence",)
    requirements = ("better-profanity",)
    batch_size = 64
    #: The score of a text with n censored words is ``1 - base ** n``.
    base = 0.25

    def __init__(self) -> None:
        from better_profanity import Profanity

        self._profanity = Profanity()  # own instance: the module-level one is shared state

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if importlib.util.find_spec("better_profanity") is None:
            return False, "missing package better-profanity"
        return True, ""

    def count(self, text: str) -> int:
        """How many words better-profanity censors in ``text``."""
        clean = text.replace(_CENSOR, " ")
        censored = self._profanity.censor(clean, _CENSOR)  # pure function of its inputs
        return censored.count(_CENSOR * 4)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        counts = np.array([self.count(t) for t in texts], dtype=np.float64)
        return (1.0 - self.base ** counts).astype(np.float32).reshape(-1, 1)

    def config(self) -> dict[str, Any]:
        return {"better-profanity": _pkg_version("better-profanity"), "base": self.base}
