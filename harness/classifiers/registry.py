"""The classifier registry: built-ins, and third-party plugins through entry points.

Built-ins are registered lazily, as ``"module:attr"`` strings (as lm-evaluation-harness's
registry): a built-in's module is imported only when that classifier is built or described, so
importing the registry imports no classifier, and no module imports the registry's package to
make it register. :func:`register` adds a class or factory at run time (notebooks, tests).
Plugins are installed packages that declare an entry point in the group
``policybench.classifiers``::

    # the plugin's pyproject.toml
    [project.entry-points."policybench.classifiers"]
    my-filter = "my_package.filters:MyFilter"     # a class, or a zero-argument factory

A plugin that fails to import (or whose entry point does not resolve to something callable) is
listed as unavailable with the error; it never breaks :func:`list_classifiers`.

Imported predictions (``policybench predictions import``, :mod:`harness.classifiers.imported`)
are named ``imported:<system>`` (origin ``imported``); the plain system name finds one too when
no other classifier has that name. Their module is imported only when a name is looked up.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import Any

from harness.classifiers.base import SupportsPredict
from harness.errors import InputError, Problem

#: The entry-point group third-party classifiers register under.
ENTRY_POINT_GROUP = "policybench.classifiers"

#: The built-ins ``policybench run`` runs by default: every offline system (all run on a
#: fresh install with the ``embeddings`` extra; one that cannot run here is reported as
#: unavailable by :func:`list_classifiers`).
DEFAULT_FIELD: tuple[str, ...] = (
    "keyword-rules",
    "pii-rules",
    "profanity-check",
    "better-profanity",
    "tfidf-logreg",
    "minilm-logreg",
    "minilm-policy-zeroshot",
)


#: Every built-in, as ``"module:attr"`` (imported when first built or described).
BUILTIN_TARGETS: dict[str, str] = {
    "keyword-rules": "harness.classifiers.rules.keyword:KeywordRules",
    "pii-rules": "harness.classifiers.rules.pii:PiiRules",
    "profanity-check": "harness.classifiers.rules.profanity:ProfanityCheck",
    "better-profanity": "harness.classifiers.rules.profanity:BetterProfanity",
    "tfidf-logreg": "harness.classifiers.models.tfidf:TfidfLogReg",
    "minilm-logreg": "harness.classifiers.models.minilm:MiniLmLogReg",
    "minilm-policy-zeroshot": "harness.classifiers.models.zeroshot:MiniLmPolicyZeroShot",
    "openai-moderation": "harness.classifiers.hosted.openai_moderation:OpenAIModeration",
    "guard-llm": "harness.classifiers.hosted.guard_llm:GuardLLM",
    "llm-judge": "harness.classifiers.hosted.llm_judge:LLMJudge",
}


#: Imported systems are listed as ``imported:<system>``; lazy targets listing and building them.
IMPORTED_PREFIX = "imported:"
IMPORTED_LIST_TARGET = "harness.classifiers.imported:imported_systems"
IMPORTED_CLASS_TARGET = "harness.classifiers.imported:ImportedPredictions"


@dataclass
class _Entry:
    name: str
    target: Any  # a class, a factory or a lazy "module:attr" string; None when a plugin failed to load
    origin: str  # "builtin", "plugin:<distribution or module>" or "imported"
    error: str = ""


_BUILTINS: dict[str, _Entry] = {n: _Entry(n, t, "builtin") for n, t in BUILTIN_TARGETS.items()}
_LOCK = threading.Lock()


@lru_cache(maxsize=64)
def _materialise(target: str) -> Any:
    """Import a lazy ``"module:attr"`` target."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _target(entry: _Entry) -> Any:
    """The entry's class or factory (a lazy target imported now; a failure becomes the entry's error)."""
    if isinstance(entry.target, str):
        try:
            return _materialise(entry.target)
        except Exception as exc:  # noqa: BLE001 - reported as unavailable, never a crash of listing
            entry.error = f"cannot import {entry.target!r}: {type(exc).__name__}: {exc}"
            return None
    return entry.target


def register(name: str) -> Callable[[Any], Any]:
    """Class or factory decorator: make it available as ``get_classifier(name)``.

    Examples
    --------
    >>> import numpy as np
    >>> from harness.classifiers.base import Classifier
    >>> @register("always-zero-doc")
    ... class AlwaysZero(Classifier):
    ...     name, labels = "always-zero-doc", ["illegal"]
    ...     def predict(self, texts):
    ...         return np.zeros((len(texts), 1), np.float32)
    >>> get_classifier("always-zero-doc").predict(["hi"]).shape
    (1, 1)
    >>> unregister("always-zero-doc")
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a classifier name must be a non-empty string")

    def deco(target: Any) -> Any:
        with _LOCK:
            _BUILTINS[name] = _Entry(name, target, "builtin")
        return target

    return deco


def unregister(name: str) -> None:
    """Remove a registered name (for tests and notebooks)."""
    with _LOCK:
        _BUILTINS.pop(name, None)


def _entry_points() -> list[Any]:
    eps = metadata.entry_points()
    if hasattr(eps, "select"):
        return list(eps.select(group=ENTRY_POINT_GROUP))
    return list(eps.get(ENTRY_POINT_GROUP, []))  # pragma: no cover - Python < 3.10 API


def _plugins() -> dict[str, _Entry]:
    """Entry points of the group, loaded; failures become entries with an error."""
    out: dict[str, _Entry] = {}
    for ep in _entry_points():
        dist = getattr(getattr(ep, "dist", None), "name", None) or ep.value.split(":")[0]
        origin = f"plugin:{dist}"
        try:
            target = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break listing
            out[ep.name] = _Entry(ep.name, None, origin, f"cannot load entry point {ep.value!r}: "
                                                       f"{type(exc).__name__}: {exc}")
            continue
        if not callable(target):
            out[ep.name] = _Entry(ep.name, None, origin, f"entry point {ep.value!r} is not a class or factory")
            continue
        out[ep.name] = _Entry(ep.name, target, origin)
    return out


def _imported() -> dict[str, _Entry]:
    """``imported:<system>`` for every stored import (none when the imports folder cannot be read)."""
    try:
        systems = _materialise(IMPORTED_LIST_TARGET)()
        cls = _materialise(IMPORTED_CLASS_TARGET)
    except Exception:  # noqa: BLE001 - an unreadable imports folder must not break listing
        return {}
    return {IMPORTED_PREFIX + s: _Entry(IMPORTED_PREFIX + s, functools.partial(cls, s), "imported")
            for s in systems}


def _all_entries() -> dict[str, _Entry]:
    with _LOCK:
        entries = dict(_BUILTINS)
    for name, entry in _plugins().items():
        entries.setdefault(name, entry)  # a plugin cannot shadow a built-in
    for name, entry in _imported().items():
        entries.setdefault(name, entry)
    return entries


def known_names() -> list[str]:
    """Every registered or installed classifier name, sorted."""
    return sorted(_all_entries())


def get_classifier(name: str, **options: Any) -> SupportsPredict:
    """Build the classifier registered as ``name`` with keyword ``options``.

    Raises
    ------
    harness.errors.InputError
        If no classifier has that name (the message suggests the closest names and lists the
        known ones), or its module or plugin failed to load.

    Examples
    --------
    >>> clf = get_classifier("keyword-rules", version="2024-01-10")
    >>> clf.taxonomy.describe()
    'policy:2024-01-10'
    """
    entries = _all_entries()
    entry = entries.get(name, entries.get(f"{IMPORTED_PREFIX}{name}"))  # an imported system by its plain name
    if entry is None:
        close = difflib.get_close_matches(str(name), list(entries), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise InputError(Problem(f"unknown classifier {name!r}; {hint}known classifiers: {', '.join(sorted(entries))}",
                                 field="classifier"))
    target = _target(entry)
    if target is None:
        raise InputError(Problem(f"classifier {name!r} cannot be loaded: {entry.error}", field="classifier"))
    built: SupportsPredict = target(**options)
    return built


def _attr(obj: Any, key: str, default: Any) -> Any:
    try:
        return getattr(obj, key, default)
    except Exception:  # noqa: BLE001 - a property may raise on a class
        return default


def _describe(entry: _Entry) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": entry.name, "version": "", "taxonomy": "", "requirements": [], "available": False,
        "unavailable_reason": entry.error, "policy_conditioned": False, "description": "",
        "origin": entry.origin,
    }
    obj = _target(entry)
    if obj is None:
        row["unavailable_reason"] = entry.error
        return row
    try:
        if not inspect.isclass(obj):
            obj = obj()  # a zero-argument factory: describe what it builds
    except Exception as exc:  # noqa: BLE001
        row["unavailable_reason"] = f"factory failed: {type(exc).__name__}: {exc}"
        return row
    tax = _attr(obj, "taxonomy", None)
    conditioned = bool(_attr(obj, "policy_conditioned", False))
    if tax is None:
        tax_text = ""
    elif conditioned and getattr(tax, "kind", "") == "policy":
        tax_text = "policy:<version under test>"
    else:
        tax_text = tax.describe() if hasattr(tax, "describe") else str(tax)
    doc = (_attr(obj, "description", "") or (inspect.getdoc(obj) or "").split("\n\n")[0]).strip()
    row.update(
        version=str(_attr(obj, "version", "")), taxonomy=tax_text,
        requirements=list(_attr(obj, "requirements", ()) or ()), policy_conditioned=conditioned,
        description=" ".join(doc.split()),
    )
    avail = _attr(obj, "available", None)
    if callable(avail):
        try:
            ok, why = avail()
        except Exception as exc:  # noqa: BLE001
            ok, why = False, f"available() failed: {type(exc).__name__}: {exc}"
    else:
        ok, why = True, ""
    row["available"], row["unavailable_reason"] = bool(ok), ("" if ok else str(why))
    return row


def list_classifiers() -> list[dict[str, Any]]:
    """Every built-in and plugin classifier, described without building it.

    Each row: ``name, version, taxonomy, requirements, available, unavailable_reason,
    policy_conditioned, description, origin`` (``builtin``, ``plugin:<distribution>`` or
    ``imported``).
    Built-ins come first in :data:`DEFAULT_FIELD` order, then the rest by name.

    Examples
    --------
    >>> rows = {r["name"]: r for r in list_classifiers()}
    >>> rows["keyword-rules"]["available"], rows["keyword-rules"]["policy_conditioned"]
    (True, True)
    """
    entries = _all_entries()
    order = {n: i for i, n in enumerate(DEFAULT_FIELD)}
    names = sorted(entries, key=lambda n: (order.get(n, len(order)), entries[n].origin != "builtin", n))
    return [_describe(entries[n]) for n in names]
