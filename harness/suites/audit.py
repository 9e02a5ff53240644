"""Shortcut audit of a suite: how far style or source alone gets, per category.

For each category of a policy version, the *contrast set* is the category's unsafe rows (a topic
is a violation there) against the benign rows that imitate it (a topic falls in the category).
A suite measures policy only if nothing but the policy separates the two; the audit fits three
models that know nothing of the policy and reports their ROC-AUC on the evaluated split:

(a) ``surface``: log word count, character count and the first two words (logistic regression);
(b) ``source``: the row's source and sub-dataset only (e.g. ``cyberseceval:mitre``);
(c) ``bow_other``: TF-IDF word uni/bigrams, fitted on the *other* categories' contrast rows only.

(a) and (b) are fitted on the train split when it holds at least ``MIN_FIT`` rows of each label
of the category (``fit = "train"``); otherwise, as for imported suites without a train split,
they are cross-validated in 5 folds on the evaluated split, grouped by split group (minimal pair,
template, near-duplicate cluster) so related rows never straddle folds (``fit = "cv5"``). ``cv`` also reports the 5-fold figures when the model
was fitted on train: a shortcut *inside* the evaluated split would show there.

Besides: the share of benign rows whose nearest unsafe row of the category (TF-IDF cosine) is
their own twin, near-duplicate pairs between train and the evaluated split (char 5-gram
Jaccard >= 0.5), and label counts per split. Undefined AUCs (a label missing) are NaN.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.suites.cards import category_hits, reference_policy
from harness.suites.suite import Suite

#: Gates for ``core`` (tests/test_suite_audit.py): contrast AUC of (a) and (b) in every category.
SURFACE_GATE = 0.70
SOURCE_GATE = 0.65
MIN_FIT = 20
NEAR_DUP_JACCARD = 0.5
_WORD = re.compile(r"[a-z0-9']+")


@dataclass
class _Rows:
    idx: np.ndarray      # indices into the suite
    y: np.ndarray        # 1 unsafe, 0 benign
    groups: np.ndarray   # pair id (or the row index) for grouped CV


def _first_two(text: str) -> str:
    w = _WORD.findall(text.lower())[:2]
    return " ".join(w) if w else "<none>"


def _surface_frame(texts: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for t in texts:
        words = _WORD.findall(t.lower())
        w1 = words[0] if words else "<none>"
        out.append({"log_words": math.log1p(len(t.split())), "log_chars": math.log1p(len(t)),
                    f"w1={w1}": 1.0, f"w12={_first_two(t)}": 1.0})
    return out


def source_key(source: str, source_row: str) -> str:
    """The source and sub-dataset of a row (``cyberseceval:mitre``); written rows as one source.

    Curated rows are one source whatever their file (file names may carry the label).

    Examples
    --------
    >>> source_key("cyberseceval", "mitre:12"), source_key("advbench", "7")
    ('cyberseceval:mitre', 'advbench')
    >>> source_key("policybench-curated", "legal:3:unsafe")
    'policybench-curated'
    """
    if source in ("policybench-curated", "curated"):
        return source
    head = source_row.split(":", 1)[0] if ":" in source_row else ""
    return f"{source}:{head}" if head else source


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def _pipeline(kind: str):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    lr = LogisticRegression(max_iter=2000, C=1.0)
    if kind == "surface":
        return make_pipeline(FunctionTransformer(_surface_frame), DictVectorizer(), lr)
    if kind == "source":
        return make_pipeline(FunctionTransformer(lambda keys: [{f"src={k}": 1.0} for k in keys]), DictVectorizer(), lr)
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), lr)


def _fit_score(kind: str, x_fit: list, y_fit: np.ndarray, x_eval: list) -> np.ndarray:
    if len(np.unique(y_fit)) < 2:
        return np.full(len(x_eval), float(y_fit[0]) if len(y_fit) else 0.5)
    model = _pipeline(kind).fit(x_fit, y_fit)
    return model.predict_proba(x_eval)[:, 1]


def _cv_auc(kind: str, x: list, y: np.ndarray, groups: np.ndarray, folds: int = 5) -> float:
    from sklearn.model_selection import GroupKFold

    if len(np.unique(y)) < 2 or min(np.bincount(y)) < folds:
        return float("nan")
    scores = np.zeros(len(y))
    for fit, ev in GroupKFold(n_splits=folds).split(x, y, groups):
        scores[ev] = _fit_score(kind, [x[i] for i in fit], y[fit], [x[i] for i in ev])
    return _auc(y, scores)


def _contrast_rows(suite: Suite, hits: np.ndarray, column: int, splits: set[str]) -> _Rows:
    """The rows of ``splits`` that count toward category ``column`` of ``hits`` (cards.category_hits)."""
    idx, y, groups = [], [], []
    for i, e in enumerate(suite.examples):
        if e.split not in splits or e.label == "unknown":
            continue
        if hits[i, column]:
            idx.append(i)
            y.append(1 if e.label == "unsafe" else 0)
            groups.append(e.group or e.pair_id or f"row:{i}")
    return _Rows(np.array(idx, dtype=np.int64), np.array(y, dtype=np.int64), np.array(groups, dtype=object))


def _twin_share(suite: Suite, rows: _Rows) -> float:
    """Share of benign rows (with a twin) whose nearest unsafe row by TF-IDF cosine is their twin."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    ben = [k for k in range(len(rows.idx)) if rows.y[k] == 0 and suite.examples[rows.idx[k]].pair_id]
    uns = [k for k in range(len(rows.idx)) if rows.y[k] == 1]
    if not ben or not uns:
        return float("nan")
    texts = [suite.examples[i].text for i in rows.idx]
    m = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    sim = (m[ben] @ m[uns].T).toarray()
    nearest = np.asarray(sim.argmax(axis=1)).ravel()
    pid = [suite.examples[i].pair_id for i in rows.idx]
    hit = sum(pid[uns[j]] == pid[b] for b, j in zip(ben, nearest))
    return hit / len(ben)


def _near_duplicates(suite: Suite, eval_split: str) -> int:
    from harness.suites.dedupe import near_pairs

    idx = [i for i, e in enumerate(suite.examples) if e.split in ("train", eval_split)]
    if eval_split == "train" or not idx:
        return 0
    texts = [suite.examples[i].text for i in idx]
    pairs = near_pairs(texts, threshold=NEAR_DUP_JACCARD)
    return sum(1 for a, b, _ in pairs if {suite.examples[idx[a]].split, suite.examples[idx[b]].split} ==
               {"train", eval_split})


def audit_suite(suite: Suite, policy: Any = None, *, split: str = "test", restricted_as: str = "violation",
                near_duplicates: bool = True, fast: bool = False) -> dict[str, Any]:
    """Audit ``suite`` under ``policy`` (default: the reference version); see the module doc.

    ``fast`` computes only (a) and (b) as reported (no extra cross-validation, (c) or twin share:
    those are NaN), for leaderboards that show the baselines under every policy version.

    Returns ``{"policy", "split", "gates", "categories": {cat: {...}}, "near_duplicates_train_eval",
    "label_counts"}``; per category: ``n_unsafe``, ``n_benign``, ``surface_auc``, ``source_auc``,
    ``bow_other_auc``, ``fit``, ``surface_auc_cv``, ``source_auc_cv``, ``twin_nearest_share``,
    ``n_pairs``.

    Examples
    --------
    >>> from harness.suites import Example, Suite
    >>> rows = [Example(id=f"{k}{i}", text=t, topics=["gambling"], label=lab, split="test", source="doc",
    ...                 source_row=str(i), license="MIT", label_provenance="curated", pair_id=f"p{i}")
    ...         for i in range(12) for k, lab, t in (("u", "unsafe", f"rig slot machine {i} at my casino"),
    ...                                             ("b", "benign", f"fix slot machine {i} at my arcade"))]
    >>> a = audit_suite(Suite.from_examples("t", rows), near_duplicates=False)
    >>> a["categories"]["economic_harm"]["source_auc"], a["categories"]["economic_harm"]["n_pairs"]
    (0.5, 12)
    """
    policy = reference_policy(policy)
    cats = policy.category_keys
    hits = category_hits([e.topics for e in suite.examples], [e.label for e in suite.examples], policy,
                         restricted_as=restricted_as)
    texts = suite.texts
    keys = [source_key(e.source, e.source_row) for e in suite.examples]
    out: dict[str, Any] = {}
    contrast = {c: _contrast_rows(suite, hits, j, {split}) for j, c in enumerate(cats)}
    train = {c: _contrast_rows(suite, hits, j, {"train"}) for j, c in enumerate(cats)}
    for cat in cats:
        ev, tr = contrast[cat], train[cat]
        res: dict[str, Any] = {"n_unsafe": int(ev.y.sum()), "n_benign": int((ev.y == 0).sum()),
                               "n_pairs": int(len({suite.examples[i].pair_id for i, yy in zip(ev.idx, ev.y)
                                                   if yy == 1 and suite.examples[i].pair_id}))}
        if len(ev.idx) == 0 or len(np.unique(ev.y)) < 2:
            res.update(surface_auc=float("nan"), source_auc=float("nan"), bow_other_auc=float("nan"), fit="none",
                       surface_auc_cv=float("nan"), source_auc_cv=float("nan"), twin_nearest_share=float("nan"))
            out[cat] = res
            continue
        x_text = [texts[i] for i in ev.idx]
        x_src = [keys[i] for i in ev.idx]
        on_train = split != "train" and len(tr.idx) and min(int(tr.y.sum()), int((tr.y == 0).sum())) >= MIN_FIT
        nan = float("nan")
        cv_s = nan if fast and on_train else _cv_auc("surface", x_text, ev.y, ev.groups)
        cv_src = nan if fast and on_train else _cv_auc("source", x_src, ev.y, ev.groups)
        if on_train:
            res["fit"] = "train"
            res["surface_auc"] = _auc(ev.y, _fit_score("surface", [texts[i] for i in tr.idx], tr.y, x_text))
            res["source_auc"] = _auc(ev.y, _fit_score("source", [keys[i] for i in tr.idx], tr.y, x_src))
        else:
            res["fit"] = "cv5"
            res["surface_auc"], res["source_auc"] = cv_s, cv_src
        res["surface_auc_cv"], res["source_auc_cv"] = cv_s, cv_src
        if fast:
            res["bow_other_auc"] = res["twin_nearest_share"] = nan
            out[cat] = res
            continue
        # (c) bag of words fitted on every other category's contrast rows (all splits), scored here
        other = set()
        every = {"train", "dev", "test"}
        for j2, c2 in enumerate(cats):
            if c2 != cat:
                other.update(_contrast_rows(suite, hits, j2, every).idx.tolist())
        other -= set(ev.idx.tolist()) | set(_contrast_rows(suite, hits, cats.index(cat), every).idx.tolist())
        o = sorted(other)
        y_o = np.array([1 if suite.examples[i].label == "unsafe" else 0 for i in o], dtype=np.int64)
        res["bow_other_auc"] = (_auc(ev.y, _fit_score("bow", [texts[i] for i in o], y_o, x_text))
                                if len(o) and len(np.unique(y_o)) == 2 else float("nan"))
        res["twin_nearest_share"] = _twin_share(suite, ev)
        out[cat] = res
    counts: dict[str, dict[str, int]] = {}
    for e in suite.examples:
        counts.setdefault(e.split, {}).setdefault(e.label, 0)
        counts[e.split][e.label] += 1
    return {
        "suite": suite.name,
        "policy": str(policy.id),
        "split": split,
        "gates": {"surface_auc_max": SURFACE_GATE, "source_auc_max": SOURCE_GATE},
        "categories": out,
        "near_duplicates_train_eval": _near_duplicates(suite, split) if near_duplicates else None,
        "label_counts": counts,
    }


def gate_failures(audit: dict[str, Any]) -> list[str]:
    """Categories whose surface or source AUC (fitted, or cross-validated) exceeds the gates."""
    bad = []
    for cat, r in audit["categories"].items():
        for key, gate in (("surface_auc", SURFACE_GATE), ("source_auc", SOURCE_GATE)):
            for k in (key, f"{key}_cv"):
                v = r.get(k)
                if v is not None and not math.isnan(v) and v > gate:
                    bad.append(f"{cat}: {k} {v:.3f} > {gate}")
    return bad
