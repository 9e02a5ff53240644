"""Classifiers: the protocol, the registry and the built-in field.

Importing this package registers the built-ins (cheaply: torch, presidio and
sentence-transformers are imported only when a classifier that needs them is built):

============================  =========================  ===================================
name                          taxonomy                   what
============================  =========================  ===================================
keyword-rules                 policy (conditioned)       rule pack per version, re2 + Aho–Corasick
pii-rules                     policy:2023-02-15          presidio pattern recognisers + context
profanity-check               policy:2023-02-15          alt-profanity-check (linear SVM)
better-profanity              policy:2023-02-15          better-profanity word list
tfidf-logreg                  topics                     TF-IDF + one-vs-rest logistic regression
minilm-logreg                 topics                     MiniLM embeddings + logistic regression
minilm-policy-zeroshot        policy (conditioned)       MiniLM similarity to the policy's text
============================  =========================  ===================================

Hosted adapters (:mod:`harness.classifiers.hosted`) and entry-point plugins are listed by
:func:`list_classifiers` too.
"""

from __future__ import annotations

from harness.classifiers.base import Classifier, SupportsPredict, Taxonomy, check_scores
from harness.classifiers.models._embed import embedding_memo, memo_paused
from harness.classifiers.registry import (
    DEFAULT_FIELD,
    ENTRY_POINT_GROUP,
    get_classifier,
    list_classifiers,
    register,
)

# Built-ins register on import (each module keeps its heavy imports inside the classes).
from harness.classifiers.rules import keyword as _keyword  # noqa: E402,F401
from harness.classifiers.rules import pii as _pii  # noqa: E402,F401
from harness.classifiers.rules import profanity as _profanity  # noqa: E402,F401
from harness.classifiers.models import tfidf as _tfidf  # noqa: E402,F401
from harness.classifiers.models import minilm as _minilm  # noqa: E402,F401
from harness.classifiers.models import zeroshot as _zeroshot  # noqa: E402,F401


def _register_hosted() -> None:
    """Register the hosted adapters when their package is present (they need no network to list)."""
    import importlib.util

    if importlib.util.find_spec("harness.classifiers.hosted") is not None:
        import harness.classifiers.hosted  # noqa: F401


_register_hosted()

__all__ = [
    "Classifier", "SupportsPredict", "Taxonomy", "check_scores",
    "DEFAULT_FIELD", "ENTRY_POINT_GROUP", "embedding_memo", "memo_paused", "get_classifier", "list_classifiers", "register",
]
