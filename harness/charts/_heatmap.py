"""Category × system heatmaps of one metric under one policy version, with CIs in the cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness.charts._display import Display
from harness.charts._style import roster

NOT_COVERED = "n/c"
UNDEFINED = "—"


def _metric_title(metric: str) -> str:
    return {"f1": "F1", "average_precision": "average precision", "roc_auc": "ROC-AUC"}.get(metric, metric.replace("_", " "))


class HeatmapDisplay(Display):
    """A heatmap of ``metric`` by category (rows) and system (columns) under one policy version.

    Each cell shows the value and, when the metrics hold them, its 95% bootstrap interval.
    A category a system does not cover is a grey ``n/c`` cell; an undefined value (no
    positives, nothing flagged) is ``—``; neither is ever drawn as 0.

    Parameters
    ----------
    values, low, high : DataFrame
        Category × system tables (``low``/``high`` may be None).
    covered : DataFrame of bool
        Same shape; False where the system does not cover the category.
    metric, policy : str

    Attributes
    ----------
    image_ : AxesImage
    texts_ : 2-D array of Text (the cell labels)
    colorbar_ : Colorbar
    ax_, figure_ : the axes and figure drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> m = pd.DataFrame({"classifier": ["a", "a", "b", "b"], "policy_version": ["v1"] * 4,
    ...                   "category": ["x", "y", "x", "y"], "covered": [True, True, True, False],
    ...                   "f1": [0.8, float("nan"), 0.5, 0.0], "f1_low": [0.7, float("nan"), 0.4, 0.0],
    ...                   "f1_high": [0.9, float("nan"), 0.6, 0.0]})
    >>> ax = Figure().subplots()
    >>> d = HeatmapDisplay.from_metrics(m, policy="v1", metric="f1", ax=ax)
    >>> d.ax_ is ax, [t.get_text() for t in d.texts_.ravel()]
    (True, ['0.80\\n[0.70, 0.90]', '0.50\\n[0.40, 0.60]', '—', 'n/c'])
    """

    def __init__(self, values: pd.DataFrame, *, covered: pd.DataFrame, low: pd.DataFrame | None = None,
                 high: pd.DataFrame | None = None, metric: str = "f1", policy: str = "") -> None:
        self.values = values
        self.covered = covered
        self.low = low
        self.high = high
        self.metric = metric
        self.policy = policy
        self.image_: Any = None
        self.texts_: Any = None
        self.colorbar_: Any = None

    @classmethod
    def from_metrics(cls, metrics: pd.DataFrame, *, policy: str, metric: str = "f1",
                     systems: Sequence[str] | None = None, ax: Any = None, show_ci: bool = True) -> HeatmapDisplay:
        """The heatmap of a run's metrics table (``run.metrics``) under ``policy``."""
        df = metrics[metrics["policy_version"] == policy]
        if df.empty:
            raise ValueError(f"no metrics under policy {policy!r}; the table has "
                             f"{sorted(metrics['policy_version'].unique())}")
        cats = list(dict.fromkeys(df["category"]))
        cols = roster(systems) if systems is not None else roster(df["classifier"])
        cols = [c for c in cols if c in set(df["classifier"])]

        def table(col: str) -> pd.DataFrame:
            return df.pivot_table(index="category", columns="classifier", values=col, aggfunc="first",
                                  dropna=False).reindex(index=cats, columns=cols)

        covered = (table("covered").fillna(False).astype(bool) if "covered" in df
                   else pd.DataFrame(True, index=cats, columns=cols))
        values = table(metric).astype(float).where(covered)
        lo, hi = f"{metric}_low", f"{metric}_high"
        low = table(lo).astype(float).where(covered) if show_ci and lo in df else None
        high = table(hi).astype(float).where(covered) if show_ci and hi in df else None
        return cls(values, covered=covered, low=low, high=high, metric=metric, policy=policy).plot(ax=ax)

    def plot(self, ax: Any = None, *, cmap: str = "viridis", title: str | None = None) -> HeatmapDisplay:
        """Draw on ``ax`` (a new figure sized to the table if None)."""
        nr, nc = self.values.shape
        with_ci = self.low is not None and self.high is not None
        ax = self._bind_ax(ax, figsize=((1.35 if with_ci else 1.0) * nc + 3.2, (0.55 if with_ci else 0.42) * nr + 2.2))
        V = self.values.to_numpy(float)
        C = self.covered.to_numpy(bool)
        self.image_ = ax.imshow(np.ma.masked_invalid(V), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                                interpolation="nearest")
        # not covered: hatched grey; undefined: light grey (both never coloured as a value)
        for (r, c), cov in np.ndenumerate(C):
            if not cov:
                ax.add_patch(_rect(ax, r, c, face="#E6E6E6", hatch="///"))
            elif not np.isfinite(V[r, c]):
                ax.add_patch(_rect(ax, r, c, face="#F4F4F4", hatch=None))
        texts = np.empty((nr, nc), dtype=object)
        small = 6.5 if with_ci else 8
        for (r, c), v in np.ndenumerate(V):
            if not C[r, c]:
                s, colour = NOT_COVERED, "#666666"
            elif not np.isfinite(v):
                s, colour = UNDEFINED, "#444444"
            else:
                s = f"{v:.2f}"
                if with_ci and self.low is not None and self.high is not None:
                    lo, hi = self.low.to_numpy(float)[r, c], self.high.to_numpy(float)[r, c]
                    if np.isfinite(lo) and np.isfinite(hi):
                        s += f"\n[{lo:.2f}, {hi:.2f}]"
                colour = "white" if v < 0.55 else "black"
            texts[r, c] = ax.text(c, r, s, ha="center", va="center", fontsize=small, color=colour)
        self.texts_ = texts
        ax.set_xticks(range(nc), list(self.values.columns), rotation=35, ha="right", fontsize=8)
        ax.set_yticks(range(nr), list(self.values.index), fontsize=8)
        ax.set_xlabel(f"system   (n/c: does not cover the category; {UNDEFINED}: undefined, e.g. no positives)",
                      fontsize=8)
        ax.set_ylabel("category")
        ci = " with 95% bootstrap CI" if with_ci else ""
        ax.set_title(title if title is not None else f"{_metric_title(self.metric)}{ci}, policy {self.policy}",
                     fontsize=10)
        self.colorbar_ = ax.figure.colorbar(self.image_, ax=ax, label=_metric_title(self.metric), shrink=0.8)
        return self


def _rect(ax: Any, r: int, c: int, *, face: str, hatch: str | None) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=face, edgecolor="#CCCCCC", hatch=hatch, linewidth=0.5,
                     zorder=0.5)


def heatmap(metrics: pd.DataFrame, *, policy: str, metric: str = "f1", systems: Sequence[str] | None = None,
            ax: Any = None, show_ci: bool = True) -> HeatmapDisplay:
    """Category × system heatmap of ``metric`` under one policy version (see :class:`HeatmapDisplay`)."""
    return HeatmapDisplay.from_metrics(metrics, policy=policy, metric=metric, systems=systems, ax=ax, show_ci=show_ci)
