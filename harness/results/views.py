"""What a user reads off a run: the headline summary, per-example rows and the errors, and the
compact notebook display. One implementation shared by :class:`~harness.results.benchmark.RunResult`
(a run in memory) and :class:`~harness.results.runs.StoredRun` (a run read back from disk).

- :func:`summary_table`: per (classifier, policy version), the macro average of each headline
  metric over the covered categories where that metric is defined, with how many categories
  each average is taken over (an undefined number is NaN, never 0);
- :class:`RunViews`: ``summary()``, ``examples(classifier, policy, category)``, ``misses()``,
  ``false_alarms()`` and ``_repr_html_``, all through :class:`harness.scoring.ScoredView`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.errors import InputError, Problem
from harness.policies import Policy, load_policy
from harness.scoring import CI_METRICS, ScoredView, bound_to, display_name, worst_errors

#: The headline metrics of :func:`summary_table`, in display order: contrast AUC and over-blocking
#: (false-positive rate on the benign twins), then the all-rows metrics with CIs.
SUMMARY_METRICS: tuple[str, ...] = ("contrast_roc_auc", "contrast_fpr") + CI_METRICS

#: The ``outcome`` values of :meth:`RunViews.examples`.
OUTCOMES: tuple[str, ...] = ("true_positive", "miss", "false_alarm", "true_negative", "not_scored")


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """The headline table of a run: one row per (classifier, policy_version).

    Each metric of :data:`SUMMARY_METRICS` is the mean over the categories the classifier
    covers where that metric is defined (a category with no positives has no recall, one
    never flagged has no precision); ``<metric>_n`` says over how many categories it is taken,
    and is 0 with a NaN mean when it is defined nowhere. ``n_covered`` counts the covered
    categories, ``n_errors`` the items the classifier failed on (excluded from every metric).

    Examples
    --------
    >>> m = pd.DataFrame({"classifier": ["k", "k", "k"], "policy_version": ["v"] * 3,
    ...                   "category": ["a", "b", "c"], "covered": [True, True, False],
    ...                   "n_errors": [0, 0, 0], "f1": [0.8, float("nan"), float("nan")],
    ...                   "recall": [0.6, 1.0, float("nan")]})
    >>> s = summary_table(m)
    >>> s[["classifier", "n_covered", "f1", "f1_n", "recall", "recall_n"]].to_dict("records")
    [{'classifier': 'k', 'n_covered': 2, 'f1': 0.8, 'f1_n': 1, 'recall': 0.8, 'recall_n': 2}]
    >>> bool(s["precision"].isna().all()), int(s["precision_n"].iloc[0])  # no column: undefined, not 0
    (True, 0)
    """
    keys = ["classifier", "policy_version"]
    columns = keys + ["n_covered"] + [c for m in SUMMARY_METRICS for c in (m, f"{m}_n")] + ["n_errors"]
    if metrics is None or not len(metrics):
        return pd.DataFrame(columns=columns)
    cov = metrics[metrics["covered"].astype(bool)] if "covered" in metrics else metrics
    rows = []
    for (clf, pol), part in metrics.groupby(keys, sort=False):
        mine = cov[(cov["classifier"] == clf) & (cov["policy_version"] == pol)]
        row: dict[str, Any] = {"classifier": clf, "policy_version": pol, "n_covered": int(len(mine))}
        for m in SUMMARY_METRICS:
            vals = mine[m].astype(float) if m in mine else pd.Series(dtype=float)
            n = int(vals.notna().sum())
            row[m] = float(vals.mean()) if n else float("nan")
            row[f"{m}_n"] = n
        row["n_errors"] = int(part["n_errors"].max()) if "n_errors" in part and len(part) else 0
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _fmt(v: Any) -> str:
    """A number for display: three decimals, "—" when undefined."""
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    return f"{v:.3f}" if isinstance(v, (float, np.floating)) else str(v)


def frame_html(df: pd.DataFrame, *, max_rows: int = 60) -> str:
    """``df`` as a compact HTML table (undefined numbers as "—"), at most ``max_rows`` rows.

    Examples
    --------
    >>> "—" in frame_html(pd.DataFrame({"f1": [float("nan")]}))
    True
    """
    shown = df.head(max_rows)
    body = shown.to_html(index=False, na_rep="—", float_format=lambda v: f"{v:.3f}", border=0, escape=True)
    more = f"<p>… {len(df) - max_rows} more rows</p>" if len(df) > max_rows else ""
    return body + more


class RunViews:
    """Summary, per-example rows, errors and the notebook display of a run.

    Mixed into :class:`~harness.results.benchmark.RunResult` and
    :class:`~harness.results.runs.StoredRun`; it needs their ``run_id``, ``suite``,
    ``metrics``, ``latency``, ``predictions``, ``policies`` and ``options``.
    """

    metrics: pd.DataFrame
    latency: pd.DataFrame
    record: Any

    if TYPE_CHECKING:  # fields of RunResult, properties of StoredRun
        @property
        def run_id(self) -> str: ...
        @property
        def suite(self) -> Any: ...
        @property
        def predictions(self) -> list[Any]: ...
        @property
        def policies(self) -> list[Policy]: ...
        @property
        def options(self) -> Any: ...

    # ------------------------------------------------------------------ summary
    def summary(self) -> pd.DataFrame:
        """The headline table (:func:`summary_table`): macro over covered, defined categories."""
        return summary_table(self.metrics)

    # ------------------------------------------------------------------ per example
    def _policy(self, policy: str | Policy) -> Policy:
        if isinstance(policy, Policy):
            return policy
        for p in self.policies:
            if p.id == str(policy):
                return p  # as recorded with the run
        return load_policy(policy)

    def _view(self, policy: Policy) -> ScoredView:
        cache = self.__dict__.setdefault("_scored_views", {})
        key = (policy.id, id(policy))
        if key not in cache:
            cache[key] = ScoredView(self.suite, policy, self.options.restricted_as)
        return cache[key]

    def _prediction(self, classifier: str, policy: Policy) -> Any:
        preds = bound_to(self.predictions, policy.id)
        for p in preds:
            if classifier in (p.name, display_name(p)):
                return p
        known = sorted({p.name for p in preds})
        raise InputError(Problem(f"run {self.run_id} has no predictions of {classifier!r} that apply under "
                                 f"policy {policy.id}; it has: {', '.join(known) or '(none)'}", field="classifier"))

    def _cell(self, classifier: str, policy: str | Policy, category: str) -> tuple[ScoredView, Any, int]:
        pol = self._policy(policy)
        pred = self._prediction(classifier, pol)
        view = self._view(pol)
        if category not in view.categories:
            raise InputError(Problem(f"policy {pol.id} has no category {category!r}; it has: "
                                     f"{', '.join(view.categories)}", field="category"))
        j = view.column(category)
        if not view.scores(pred)[1][j]:
            raise InputError(Problem(f"{classifier} does not cover {category!r} under {pol.id} (none of its labels "
                                     "maps there), so it has no scores to analyse", field="category"))
        return view, pred, j

    def _threshold(self, threshold: float | None) -> float:
        return float(self.options.threshold if threshold is None else threshold)

    def examples(self, classifier: str, policy: str | Policy, category: str, *,
                 threshold: float | None = None) -> pd.DataFrame:
        """One row per example of the run's suite, seen by ``classifier`` in ``category`` under ``policy``.

        Parameters
        ----------
        classifier : the classifier's name (or ``name@binding``); a policy-conditioned system
            is taken in its binding to ``policy``.
        policy : a version id (the policy as recorded with the run) or a Policy.
        category : a category of that version the classifier covers (an InputError otherwise).
        threshold : the flagging threshold; default: the run's.

        Returns
        -------
        DataFrame with ``id``, ``text``, ``label``, ``topics``, ``source``, ``split``, ``pair_id``,
        ``truth`` (nullable boolean: positive in this category under this version; NA when the
        row is not scored), ``imitator`` (a benign twin of this category's unsafe rows),
        ``score`` (NaN on a failed item), ``decision`` (``score >= threshold``; NA on a failure),
        ``error`` and ``outcome`` (one of :data:`OUTCOMES`); rows in suite order.
        """
        view, pred, j = self._cell(classifier, policy, category)
        thr = self._threshold(threshold)
        S, _ = view.scores(pred)
        failed = pred.error_mask
        score = S[:, j].astype(float)
        score[failed] = np.nan
        valid = view.valid(pred)
        truth = view.truth[:, j].astype(bool)
        flagged = score >= thr
        outcome = np.full(len(score), "not_scored", dtype=object)
        outcome[valid & truth & flagged] = "true_positive"
        outcome[valid & truth & ~flagged] = "miss"
        outcome[valid & ~truth & flagged] = "false_alarm"
        outcome[valid & ~truth & ~flagged] = "true_negative"
        ex = view.suite.examples
        return pd.DataFrame({
            "id": [e.id for e in ex], "text": [e.text for e in ex], "label": [e.label for e in ex],
            "topics": [list(e.topics) for e in ex], "source": [e.source for e in ex],
            "split": [e.split for e in ex], "pair_id": [e.pair_id for e in ex],
            "truth": pd.array([bool(t) if s else None for t, s in zip(truth, view.scored)], dtype="boolean"),
            "imitator": view.imitators[:, j].astype(bool),
            "score": score,
            "decision": pd.array([None if f else bool(d) for f, d in zip(failed, flagged)], dtype="boolean"),
            "error": list(pred.errors),
            "outcome": outcome,
        })

    def misses(self, classifier: str, policy: str | Policy, category: str, *, n: int | None = None,
               threshold: float | None = None) -> pd.DataFrame:
        """The positives ``classifier`` did not flag in ``category`` under ``policy``, lowest score first.

        Columns as :func:`harness.scoring.worst_errors` (``id``, ``text``, ``score``, ``topics``,
        ``source``); ``n`` rows at most (default: all). Unscored and failed rows never appear.
        """
        view, pred, _ = self._cell(classifier, policy, category)
        return worst_errors(view, pred, category, kind="misses", threshold=self._threshold(threshold),
                            n=len(view.suite) if n is None else n)

    def false_alarms(self, classifier: str, policy: str | Policy, category: str, *, n: int | None = None,
                     threshold: float | None = None) -> pd.DataFrame:
        """The negatives ``classifier`` flagged in ``category`` under ``policy``, highest score first.

        Columns as :meth:`misses`.
        """
        view, pred, _ = self._cell(classifier, policy, category)
        return worst_errors(view, pred, category, kind="false_alarms", threshold=self._threshold(threshold),
                            n=len(view.suite) if n is None else n)

    # ------------------------------------------------------------------ display
    def _html_header(self) -> str:
        rec = self.record
        where = getattr(self, "run_dir", None) or getattr(self, "path", None)
        names = sorted({c.name for c in rec.classifiers})
        esc = html.escape
        return (f"<b>{esc(type(self).__name__)}</b> <code>{esc(rec.run_id)}</code><br>"
                f"suite <b>{esc(rec.suite.name)}</b> {esc(str(rec.suite.version))}, split "
                f"{esc(str(rec.suite.split or 'all'))}, {rec.suite.n_examples} examples; "
                f"{len(names)} classifiers ({esc(', '.join(names))}); "
                f"policies {esc(', '.join(rec.policy_versions))}"
                + (f"<br>folder <code>{esc(str(where))}</code>" if where else ""))

    def _repr_html_(self) -> str:
        s = self.summary()
        shown = s[["classifier", "policy_version", "n_covered", *SUMMARY_METRICS, "f1_n", "n_errors"]]
        lat = ""
        if len(self.latency) and "p50_s" in self.latency:
            cols = [c for c in ("classifier", "binding", "p50_s", "p95_s", "throughput_items_per_s")
                    if c in self.latency]
            lat = ("<details><summary>latency (single item, seconds) and batch throughput</summary>"
                   + frame_html(self.latency[cols]) + "</details>")
        return (f"<div>{self._html_header()}"
                "<details open><summary>summary: macro over the covered categories where each number is "
                "defined (<code>*_n</code> = over how many); — = undefined</summary>"
                + frame_html(shown) + "</details>" + lat + "</div>")
