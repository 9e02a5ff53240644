"""Classifiers: the protocol, the registry and the built-in field.

The built-ins are registered lazily by name (:data:`BUILTIN_TARGETS`); a built-in's module is
imported when that classifier is first built or described, and torch, presidio and
sentence-transformers only when a classifier that needs them runs:

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

from harness.classifiers.base import BatchInfo, Classifier, SharesWork, SupportsPredict, Taxonomy, check_scores
from harness.classifiers.registry import (
    BUILTIN_TARGETS,
    DEFAULT_FIELD,
    ENTRY_POINT_GROUP,
    get_classifier,
    list_classifiers,
    register,
)

__all__ = [
    "BUILTIN_TARGETS", "BatchInfo", "Classifier", "DEFAULT_FIELD", "ENTRY_POINT_GROUP", "SharesWork", "SupportsPredict",
    "Taxonomy", "check_scores", "get_classifier", "list_classifiers", "register",
]
