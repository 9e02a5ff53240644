"""``minilm-policy-zeroshot``: similarity between a text and the policy's own category wording.

No training. For the policy version under test, each category ``c`` gets *prototypes*:

- the category's title and description as the version words them; and
- (``use_topics=True``, the default) for every topic the version counts as a violation in
  ``c`` (disallowed, or restricted), the topic's title and description from
  ``datasets/policies/topics.yaml``.

A text's raw score for ``c`` is the highest cosine similarity between its MiniLM embedding and
the prototypes of ``c``. Raw cosines of MiniLM sit in a narrow band (about 0.0–0.7), so they
are mapped to [0, 1] by a fixed logistic curve ``1 / (1 + exp(-(cos - CENTER) / SCALE))``
with ``CENTER = 0.37`` and ``SCALE = 0.05`` (0.5 at a cosine of 0.37; 0.12 at 0.27; 0.88 at 0.47).
The two constants were set once from the core suite's *train* split (the centre is where
micro-F1 over categories peaks, 0.35–0.40 under 2023-02-15 and 2025-10-29); they are the
same for every category and version — nothing is fitted per category — and the scores
follow the policy: a version that drops a topic from a category drops its prototype, and a
reworded category description moves the scores. On that split, adding the topic prototypes
raised macro average precision from 0.26 to 0.35 (2023-02-15); this is a weak baseline by
design: it reads only the policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.classifiers.models import _embed
from harness.policies import REFERENCE_VERSION

NAME = "minilm-policy-zeroshot"
CENTER = 0.37
SCALE = 0.05


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def prototypes(policy: Any, *, use_topics: bool = True) -> list[tuple[str, str]]:
    """``(category key, text)`` pairs: each category's wording, then its violating topics'.

    Works on a :class:`harness.policies.Policy` (``category_keys``, ``categories`` with
    ``key``/``title``/``description``, ``disallowed_topics(category)``).
    """
    out: list[tuple[str, str]] = []
    topic_text: dict[str, str] = {}
    if use_topics:
        from harness.policies import load_topics

        topic_text = {t.key: f"{t.title}: {t.description}" for t in load_topics()}
    by_key = {c.key: c for c in policy.categories}
    for key in policy.category_keys:
        cat = by_key[key]
        desc = _one_line(cat.description)
        out.append((key, f"{_one_line(cat.title)}. {desc}" if desc else _one_line(cat.title)))
        if use_topics:
            for t in policy.disallowed_topics(key):
                if t in topic_text:
                    out.append((key, topic_text[t]))
    return out


def cosine_to_score(cos: np.ndarray) -> np.ndarray:
    """The fixed logistic map from cosine similarity to [0, 1].

    Examples
    --------
    >>> [round(float(x), 2) for x in cosine_to_score(np.array([0.27, 0.37, 0.47]))]
    [0.12, 0.5, 0.88]
    """
    z = (np.asarray(cos, dtype=np.float64) - CENTER) / SCALE
    return (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)


class MiniLmPolicyZeroShot(_embed.SharedEmbeddings, Classifier):
    """Cosine similarity of MiniLM embeddings to the policy version's category and topic wording.

    Parameters
    ----------
    version : str
        The policy version used when not bound with :meth:`for_policy` (default 2023-02-15).
    use_topics : bool
        Add the version's violating topics of each category as prototypes (default True).
    """

    name = NAME
    version = "1"
    description = "Zero-shot: MiniLM cosine similarity to the policy version's category and topic wording."
    taxonomy = Taxonomy.for_policy(REFERENCE_VERSION)
    requirements = _embed.REQUIREMENTS
    policy_conditioned = True
    batch_size = 256

    def __init__(self, version: str = REFERENCE_VERSION, *, use_topics: bool = True, policy: Any = None):
        if policy is None:
            from harness.policies import load_policy

            policy = load_policy(version)
        self.policy = policy
        self.use_topics = bool(use_topics)
        self.taxonomy = Taxonomy.for_policy(str(policy.id))
        self.labels = list(policy.category_keys)
        self._protos = prototypes(policy, use_topics=self.use_topics)
        self._proto_cat = np.array([self.labels.index(k) for k, _ in self._protos], dtype=np.int64)
        self._proto_emb: np.ndarray | None = None

    @classmethod
    def available(cls) -> tuple[bool, str]:
        return _embed.available()

    def for_policy(self, policy: Any) -> MiniLmPolicyZeroShot:
        return MiniLmPolicyZeroShot(use_topics=self.use_topics, policy=policy)

    def _prototype_embeddings(self) -> np.ndarray:
        if self._proto_emb is None:
            self._proto_emb = _embed.encode([t for _, t in self._protos], batch_size=self.batch_size)
        return self._proto_emb

    def raw_cosines(self, texts: Sequence[str]) -> np.ndarray:
        """Max cosine per (text, category), before the logistic map."""
        P = self._prototype_embeddings()
        E = _embed.encode(list(texts), batch_size=self.batch_size)
        sims = E @ P.T  # both L2-normalised
        out = np.full((len(texts), len(self.labels)), -1.0, dtype=np.float32)
        for c in range(len(self.labels)):
            cols = np.flatnonzero(self._proto_cat == c)
            if cols.size:
                out[:, c] = sims[:, cols].max(axis=1)
        return out

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        with self._measure_reuse(len(texts)):  # prototypes embedded here count, as texts do
            if not len(texts):
                return np.zeros((0, len(self.labels)), dtype=np.float32)
            return cosine_to_score(self.raw_cosines(texts))

    def config(self) -> dict[str, Any]:
        h = hashlib.sha256("\n".join(f"{k}\t{t}" for k, t in self._protos).encode()).hexdigest()
        return {"policy": str(self.policy.id), "use_topics": self.use_topics, "prototypes_sha256": h,
                "center": CENTER, "scale": SCALE, "encoder": _embed.MODEL_NAME}
