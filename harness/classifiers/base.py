"""The classifier protocol: what every system under test provides.

A classifier declares a ``name``, a ``version``, the ``taxonomy`` it speaks and the ``labels``
it scores, and implements a batch ``predict(texts) -> float32 array (len(texts), len(labels))``
with scores in [0, 1] (higher = more likely a violation).

Taxonomies (see :class:`Taxonomy`):

- ``policy``: the labels are category keys of one policy version (``Taxonomy.policy_version``),
  e.g. a rule pack written for 2024-01-10. A classifier that is *policy-conditioned* (its
  behaviour follows the policy version under test, e.g. a zero-shot model reading the
  policy's own category descriptions) implements ``for_policy(policy) -> Classifier``.
- ``topics``: the labels are keys of the shared topic vocabulary.
- ``crosswalk``: the labels are a foreign taxonomy (OpenAI Moderation, Llama Guard S1–S14,
  AILuminate hazards) mapped to topics by ``datasets/policies/crosswalks/<name>.yaml``
  (``Taxonomy.crosswalk``).

Any object with these attributes and ``predict`` can be passed to the runner; it need not
subclass :class:`Classifier`.

Optional hooks for shared work (see :class:`SharesWork`): a classifier whose expensive work
(e.g. text embeddings) can be reused by other classifiers or bindings provides
``shared_work()`` (a context within which that work is reused), ``unshared_work()`` (a context
within which it does all its work itself, so a timed single-item call pays its full cost) and
``last_batch_info() -> BatchInfo`` (how many items its last ``predict`` call served from shared
work). The runner uses them only through these names; it knows nothing of any model's internals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

TaxonomyKind = Literal["policy", "topics", "crosswalk"]


@dataclass(frozen=True)
class Taxonomy:
    """What a classifier's labels mean.

    Examples
    --------
    >>> Taxonomy.topics().kind
    'topics'
    >>> Taxonomy.for_crosswalk("llama-guard-3").crosswalk
    'llama-guard-3'
    """

    kind: TaxonomyKind
    policy_version: str | None = None
    crosswalk: str | None = None

    @classmethod
    def topics(cls) -> Taxonomy:
        return cls("topics")

    @classmethod
    def for_policy(cls, version: str) -> Taxonomy:
        return cls("policy", policy_version=version)

    @classmethod
    def for_crosswalk(cls, name: str) -> Taxonomy:
        return cls("crosswalk", crosswalk=name)

    @classmethod
    def parse(cls, text: str) -> Taxonomy:
        """Inverse of :meth:`describe`: ``"policy:2023-02-15"``, ``"topics"``, ``"crosswalk:NAME"``.

        >>> Taxonomy.parse("crosswalk:llama-guard-3") == Taxonomy.for_crosswalk("llama-guard-3")
        True
        """
        kind, _, arg = str(text).partition(":")
        if kind == "policy" and arg:
            return cls.for_policy(arg)
        if kind == "crosswalk" and arg:
            return cls.for_crosswalk(arg)
        if kind == "topics":
            return cls.topics()
        raise ValueError(f"not a taxonomy: {text!r}")

    def describe(self) -> str:
        if self.kind == "policy":
            return f"policy:{self.policy_version}"
        if self.kind == "crosswalk":
            return f"crosswalk:{self.crosswalk}"
        return "topics"


@runtime_checkable
class SupportsPredict(Protocol):
    """The minimum the runner needs: labels and a batch predict."""

    labels: Sequence[str]

    def predict(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class BatchInfo:
    """What a classifier reports about its last ``predict`` call.

    Parameters
    ----------
    n_items : int
        Texts in the call.
    n_reused : int
        Items (texts, or other inputs such as prototypes) served from work shared with another
        classifier or binding instead of being computed in the call.

    Examples
    --------
    >>> BatchInfo(n_items=4, n_reused=3).reused, BatchInfo(n_items=4, n_reused=2).reused
    (True, False)
    >>> (BatchInfo(2, 1) + BatchInfo(2, 2)).n_reused
    3
    """

    n_items: int = 0
    n_reused: int = 0

    @property
    def reused(self) -> bool:
        """True when most of the call was served from shared work (its timing is not its own)."""
        return 2 * self.n_reused > self.n_items

    def __add__(self, other: BatchInfo) -> BatchInfo:
        return BatchInfo(self.n_items + other.n_items, self.n_reused + other.n_reused)


@runtime_checkable
class SharesWork(Protocol):
    """The optional hooks of a classifier whose expensive work can be shared (all three or none)."""

    def shared_work(self) -> ContextManager[Any]:
        """A context within which shared work (e.g. embeddings of the same texts) is reused.

        Contexts of several classifiers may be nested; an inner one must share the outer's work.
        """
        ...

    def unshared_work(self) -> ContextManager[Any]:
        """A context within which the classifier computes everything itself (for timing)."""
        ...

    def last_batch_info(self) -> BatchInfo:
        """What the last ``predict`` call reused (also after a call that raised)."""
        ...


class Classifier:
    """Convenience base class for classifiers.

    Subclasses set ``name``, ``version``, ``taxonomy`` and ``labels`` and implement
    :meth:`predict`. ``config()`` returns the settings that change predictions (hashed into
    the prediction-cache key); ``requirements`` lists the extra packages it needs;
    ``available()`` says whether it can run on this machine (and if not, why).
    """

    name: str = "unnamed"
    version: str = "0"
    #: One line for ``policybench classifiers list`` (default: the class docstring's first paragraph).
    description: str = ""
    taxonomy: Taxonomy = Taxonomy.topics()
    labels: Sequence[str] = ()
    requirements: Sequence[str] = ()
    #: True when :meth:`for_policy` must be called to get a classifier for a policy version.
    policy_conditioned: bool = False
    #: Preferred batch size for predict().
    batch_size: int = 64

    def predict(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def for_policy(self, policy: Any) -> Classifier:
        """A classifier bound to ``policy`` (only for policy-conditioned classifiers)."""
        return self

    def config(self) -> dict[str, Any]:
        return {}

    def shared_work(self) -> ContextManager[Any]:
        """A context within which work shared with other classifiers is reused (default: none)."""
        return contextlib.nullcontext()

    def unshared_work(self) -> ContextManager[Any]:
        """A context within which nothing shared is reused, for timing (default: no change)."""
        return contextlib.nullcontext()

    def last_batch_info(self) -> BatchInfo:
        """What the last ``predict`` call reused (default: nothing)."""
        return BatchInfo()

    @classmethod
    def available(cls) -> tuple[bool, str]:
        """``(True, "")`` when it can run here, else ``(False, reason)``."""
        return True, ""

    def describe(self) -> dict[str, Any]:
        ok, why = self.available()
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "taxonomy": self.taxonomy.describe(),
            "policy_conditioned": self.policy_conditioned,
            "n_labels": len(self.labels),
            "requirements": list(self.requirements),
            "available": ok,
            "unavailable_reason": why,
        }


def check_scores(scores: Any, n_texts: int, n_labels: int, *, who: str,
                 texts: Sequence[str] | None = None, labels: Sequence[str] | None = None) -> np.ndarray:
    """Validate a predict() result: shape (n_texts, n_labels), finite, in [0, 1]; float32 out.

    A violation is a :class:`~harness.errors.ClassifierError` naming the classifier ``who`` and
    the first bad item (its text, when ``texts`` is given) and label.

    Examples
    --------
    >>> check_scores([[0.2, 1.0]], 1, 2, who="demo").dtype
    dtype('float32')
    >>> check_scores([[0.2, 7.0]], 1, 2, who="demo", texts=["hello"], labels=["a", "b"])
    Traceback (most recent call last):
    ...
    harness.errors.ClassifierError: classifier 'demo' returned the score 7.0 for label 'b' of item 0 ('hello'); scores must be in [0, 1]
    """
    from harness.errors import ClassifierError

    arr = np.asarray(scores)
    if arr.ndim == 1 and n_labels == 1:
        arr = arr.reshape(-1, 1)
    if arr.shape != (n_texts, n_labels):
        raise ClassifierError(
            f"classifier {who!r} returned scores of shape {arr.shape}, expected ({n_texts}, {n_labels})"
        )
    arr = arr.astype(np.float32, copy=False)
    finite = np.isfinite(arr)
    bad = ~finite | (np.where(finite, arr, 0.0) < 0) | (np.where(finite, arr, 0.0) > 1)
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        item = f"item {i}" + (f" ({str(texts[i])[:80]!r})" if texts is not None and i < len(texts) else "")
        label = repr(str(labels[j])) if labels is not None and j < len(labels) else f"#{j}"
        value = float(arr[i, j])
        if not finite[i, j]:
            raise ClassifierError(f"classifier {who!r} returned NaN or infinite scores (first at {item}, "
                                  f"label {label}: {value!r})")
        raise ClassifierError(f"classifier {who!r} returned the score {value!r} for label {label} of {item}; "
                              "scores must be in [0, 1]")
    return arr
