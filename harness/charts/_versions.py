"""Metrics and latency across policy versions: a line per system, 95% CI bands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from harness.charts._display import Display, GridDisplay, figure_legend, log_axis, short_version
from harness.charts._style import NEUTRAL, roster, system_style


def _label(metric: str) -> str:
    return {"f1": "F1", "average_precision": "average precision"}.get(metric, metric.replace("_", " "))


class MetricAcrossVersionsDisplay(Display):
    """One category's ``metric`` per policy version, a line per system, with CI bands.

    Parameters
    ----------
    values, low, high : DataFrame
        Version (index, in order) × system tables; NaN where a system does not cover the
        category or the value is undefined (those points are not drawn).

    Attributes
    ----------
    lines_ : dict of str to Line2D
    ax_, figure_ : the axes and figure drawn on.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> m = pd.DataFrame({"classifier": ["a", "a"], "policy_version": ["v1", "v2"], "category": ["x", "x"],
    ...                   "covered": [True, True], "recall": [0.5, 0.7], "recall_low": [0.4, 0.6],
    ...                   "recall_high": [0.6, 0.8]})
    >>> ax = Figure().subplots()
    >>> d = MetricAcrossVersionsDisplay.from_metrics(m, "recall", category="x", ax=ax)
    >>> d.ax_ is ax, d.lines_["a"].get_ydata().tolist()
    (True, [0.5, 0.7])
    """

    def __init__(self, values: pd.DataFrame, *, low: pd.DataFrame | None = None, high: pd.DataFrame | None = None,
                 metric: str = "recall", category: str = "", systems: Sequence[str] | None = None) -> None:
        self.values, self.low, self.high = values, low, high
        self.metric, self.category = metric, category
        self.systems = roster(systems if systems is not None else values.columns)
        self.lines_: dict[str, Any] = {}

    @classmethod
    def from_metrics(cls, metrics: pd.DataFrame, metric: str = "recall", *, category: str,
                     versions: Sequence[str] | None = None, systems: Sequence[str] | None = None,
                     covered_only: bool = True, ax: Any = None) -> MetricAcrossVersionsDisplay:
        """From a run's metrics table (``run.metrics``)."""
        return cls._data(metrics, metric, category=category, versions=versions, systems=systems,
                         covered_only=covered_only).plot(ax=ax)

    @classmethod
    def _data(cls, metrics: pd.DataFrame, metric: str, *, category: str, versions: Sequence[str] | None,
              systems: Sequence[str] | None, covered_only: bool) -> MetricAcrossVersionsDisplay:
        """The display's tables, not drawn yet."""
        versions = list(versions) if versions is not None else sorted(metrics["policy_version"].unique())
        df = metrics[metrics["category"] == category]
        if covered_only and "covered" in df:
            df = df[df["covered"].astype(bool)]
        names = roster(systems) if systems is not None else roster(metrics["classifier"])

        def table(col: str) -> pd.DataFrame | None:
            if col not in df:
                return None
            return df.pivot_table(index="policy_version", columns="classifier", values=col, aggfunc="first",
                                  dropna=False).reindex(index=versions, columns=names).astype(float)

        return cls(table(metric), low=table(f"{metric}_low"), high=table(f"{metric}_high"), metric=metric,
                   category=category, systems=names)

    def plot(self, ax: Any = None, *, title: str | None = None, ylabel: bool = True) -> MetricAcrossVersionsDisplay:
        ax = self._bind_ax(ax, figsize=(6.0, 4.0))
        x = np.arange(len(self.values.index))
        self.lines_ = {}
        for name in self.values.columns:
            y = self.values[name].to_numpy(float)
            if not np.isfinite(y).any():
                continue
            st = system_style(name, self.systems)
            (self.lines_[name],) = ax.plot(x, y, label=name, markersize=4.5, linewidth=1.5, **st)
            if self.low is not None and self.high is not None:
                ax.fill_between(x, self.low[name].to_numpy(float), self.high[name].to_numpy(float),
                                color=st["color"], alpha=0.13, linewidth=0)
        ax.set_xticks(x, [short_version(v) for v in self.values.index], rotation=45, ha="right", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        if ylabel:
            ax.set_ylabel(_label(self.metric))
        ax.set_title(title if title is not None else self.category, fontsize=10)
        return self


class MetricsAcrossVersionsDisplay(GridDisplay):
    """A panel per (metric, category): each metric a block of rows, a line per system, CI bands.

    Attributes
    ----------
    panels_ : dict of (metric, category) to MetricAcrossVersionsDisplay
    figure_, axes_, ax_
    """

    def __init__(self, panels: Sequence[MetricAcrossVersionsDisplay], *, systems: Sequence[str] = (),
                 title: str | None = None) -> None:
        self.panels = list(panels)
        self.systems = roster(systems or [n for p in self.panels for n in p.values.columns])
        self.title = title
        self.panels_: dict[tuple[str, str], MetricAcrossVersionsDisplay] = {}

    def plot(self, fig: Any = None, *, ncol: int = 5) -> MetricsAcrossVersionsDisplay:
        metrics = list(dict.fromkeys(p.metric for p in self.panels))
        per = max(1, max(sum(1 for p in self.panels if p.metric == m) for m in metrics))
        ncol = max(1, min(ncol, per))
        rows_per = int(np.ceil(per / ncol))
        slots: list[MetricAcrossVersionsDisplay | None] = []
        for m in metrics:  # each metric starts a new row
            block = [p for p in self.panels if p.metric == m]
            slots += block + [None] * (rows_per * ncol - len(block))
        axes = self._bind_grid(len(slots), fig=fig, ncol=ncol, panel=(3.6, 2.8), extra_height=1.4,
                               sharey=True)
        self.panels_ = {}
        for k, panel in enumerate(slots):
            ax = axes.flat[k]
            if panel is None:
                ax.axis("off")
                continue
            panel.systems = self.systems
            first_col = k % ncol == 0
            panel.plot(ax=ax, ylabel=first_col,
                       title=f"{panel.category}" if len(metrics) == 1 else f"{_label(panel.metric)} · {panel.category}")
            self.panels_[(panel.metric, panel.category)] = panel
        present = roster(n for p in self.panels_.values() for n in p.lines_)
        handles = [Line2D([], [], linewidth=1.5, markersize=5, **system_style(n, self.systems)) for n in present]
        figure_legend(self.figure_, handles, present, ncol=6)
        what = " and ".join(_label(m) for m in metrics)
        self.figure_.suptitle(self.title or f"{what[:1].upper()}{what[1:]} per category across policy versions "
                              "(95% bootstrap CI bands; a system is drawn only where it covers the category)",
                              fontsize=11)
        return self


def metric_across_versions(metrics: pd.DataFrame, metric: str | Sequence[str] = "recall", *,
                           categories: Sequence[str] | None = None, covered_only: bool = True,
                           title: str | None = None, systems: Sequence[str] | None = None,
                           fig: Any = None, ncol: int = 5) -> MetricsAcrossVersionsDisplay:
    """A panel per category: ``metric`` per policy version, a line per system, CI bands.

    ``metric`` may be several (e.g. ``["precision", "recall"]``): each gets a block of rows, so
    both read against the same versions. Points where a system does not cover a category are
    left out when ``covered_only``. Returns a :class:`MetricsAcrossVersionsDisplay`.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> m = pd.DataFrame({"classifier": ["a", "a", "b", "b"], "policy_version": ["v1", "v2"] * 2,
    ...                   "category": ["x"] * 4, "covered": [True] * 4, "precision": [0.5, 0.6, 0.7, 0.8],
    ...                   "recall": [0.4, 0.3, 0.2, 0.1]})
    >>> d = metric_across_versions(m, ["precision", "recall"], fig=Figure(layout="constrained"))
    >>> sorted(d.panels_), d.panels_[("recall", "x")].lines_["b"].get_ydata().tolist()
    ([('precision', 'x'), ('recall', 'x')], [0.2, 0.1])
    """
    names = list(metric) if not isinstance(metric, str) else [metric]
    versions = sorted(metrics["policy_version"].unique())
    cats = list(categories) if categories else sorted(metrics["category"].unique())
    roster_ = roster(systems) if systems is not None else roster(metrics["classifier"])
    panels = [MetricAcrossVersionsDisplay._data(metrics, m, category=cat, versions=versions, systems=roster_,
                                                covered_only=covered_only)
              for m in names for cat in cats]
    return MetricsAcrossVersionsDisplay(panels, systems=roster_, title=title).plot(fig=fig, ncol=ncol)


# ---------------------------------------------------------------- latency across versions

def latency_under(latency: pd.DataFrame, policy: str) -> pd.DataFrame:
    """Each system's latency row under ``policy``: its binding to that version, else its unbound row.

    A policy-conditioned system (a rule pack or prompt per version) is timed per binding; a
    system with one model for every version has one row (``binding == ""``).

    Examples
    --------
    >>> import pandas as pd
    >>> lat = pd.DataFrame({"classifier": ["r", "r", "m"], "binding": ["v1", "v2", ""],
    ...                     "p50_s": [0.001, 0.003, 0.01]})
    >>> latency_under(lat, "v2")["p50_s"].to_dict()
    {'m': 0.01, 'r': 0.003}
    """
    if latency is None or latency.empty or "classifier" not in latency:
        return pd.DataFrame()
    b = latency["binding"].fillna("") if "binding" in latency else pd.Series("", index=latency.index)
    own = latency[b == policy].groupby("classifier").first()
    unbound = latency[b == ""].groupby("classifier").first()
    return pd.concat([own, unbound[~unbound.index.isin(own.index)]]).sort_index()


class LatencyAcrossVersionsDisplay(Display):
    """Single-item latency (p50 with its CI band, log scale) per policy version, a line per system.

    Policy-conditioned systems show their latency per binding; a system with one model for
    every version is a flat dotted line (it was timed once). Systems with no single-item
    timing (all predictions from the cache) are named in a note instead of drawn.

    Attributes
    ----------
    lines_ : dict of str to Line2D
    missing_ : list of str (systems without latency)
    ax_, figure_

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> lat = pd.DataFrame({"classifier": ["r", "r", "m"], "binding": ["v1", "v2", ""],
    ...                     "p50_s": [0.001, 0.003, 0.01], "p50_low_s": [0.0009, 0.0028, 0.009],
    ...                     "p50_high_s": [0.0011, 0.0032, 0.011]})
    >>> ax = Figure().subplots()
    >>> d = LatencyAcrossVersionsDisplay.from_latency(lat, versions=["v1", "v2"], ax=ax)
    >>> d.ax_ is ax, d.values["r"].tolist(), d.bound
    (True, [1.0, 3.0], {'m': False, 'r': True})
    """

    def __init__(self, values: pd.DataFrame, *, low: pd.DataFrame, high: pd.DataFrame, bound: dict[str, bool],
                 quantile: str = "p50", systems: Sequence[str] | None = None, missing: Sequence[str] = ()) -> None:
        self.values, self.low, self.high = values, low, high
        self.bound = dict(sorted(bound.items()))
        self.quantile = quantile
        self.systems = roster(systems if systems is not None else values.columns)
        self.missing_ = list(missing)
        self.lines_: dict[str, Any] = {}

    @classmethod
    def from_latency(cls, latency: pd.DataFrame, *, versions: Sequence[str], quantile: str = "p50",
                     systems: Sequence[str] | None = None, ax: Any = None) -> LatencyAcrossVersionsDisplay:
        """From a run's latency table (``run.latency``, one row per system binding), in ms."""
        names = roster(systems) if systems is not None else roster(latency["classifier"]) if len(latency) else []
        cols = {k: f"{quantile}{k}_s" for k in ("", "_low", "_high")}
        tables = {k: pd.DataFrame(np.nan, index=list(versions), columns=names) for k in cols}
        for v in versions:
            part = latency_under(latency, v)
            for k, col in cols.items():
                if col in part:
                    for name, val in part[col].items():
                        if name in tables[k].columns:
                            tables[k].loc[v, name] = 1000.0 * float(val)
        b = latency["binding"].fillna("") if "binding" in latency else pd.Series("", index=latency.index)
        bound = {n: bool((b[latency["classifier"] == n] != "").any()) for n in names}
        missing = [n for n in names if not np.isfinite(tables[""][n].to_numpy(float)).any()]
        return cls(tables[""], low=tables["_low"], high=tables["_high"], bound=bound, quantile=quantile,
                   systems=names, missing=missing).plot(ax=ax)

    def plot(self, ax: Any = None, *, title: str | None = None) -> LatencyAcrossVersionsDisplay:
        ax = self._bind_ax(ax, figsize=(7.5, 4.8))
        x = np.arange(len(self.values.index))
        self.lines_ = {}
        for name in self.values.columns:
            y = self.values[name].to_numpy(float)
            if not np.isfinite(y).any():
                continue
            st = system_style(name, self.systems)
            bound = self.bound.get(name, False)
            kw = dict(st, linestyle=st["linestyle"] if bound else ":")
            label = name if bound else f"{name} (one model)"
            (self.lines_[name],) = ax.plot(x, y, label=label, markersize=5, linewidth=1.6 if bound else 1.2, **kw)
            ax.fill_between(x, self.low[name].to_numpy(float), self.high[name].to_numpy(float),
                            color=st["color"], alpha=0.13, linewidth=0)
        ax.set_yscale("log")
        shown = [self.values[n] for n in self.lines_] + [self.low[n] for n in self.lines_] + \
            [self.high[n] for n in self.lines_]
        log_axis(ax.yaxis, np.concatenate([np.asarray(s, float) for s in shown]) if shown else [])
        ax.set_xticks(x, [short_version(v) for v in self.values.index], rotation=45, ha="right", fontsize=8)
        ax.set_xlabel("policy version")
        ax.set_ylabel(f"single-item latency {self.quantile}, ms (log scale)")
        ax.grid(alpha=0.3, which="both")
        if self.missing_:
            ax.text(0.01, 0.01, "no single-item timing (predictions served from the cache; rerun with --no-cache): "
                    + ", ".join(self.missing_), transform=ax.transAxes, fontsize=7, color=NEUTRAL, va="bottom")
        ax.set_title(title if title is not None else
                     f"Single-item latency ({self.quantile}, 95% CI) across policy versions\n"
                     "timed per version where a system is bound to it", fontsize=10)
        if self.lines_:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                      title="dotted: one model for\nevery version, timed once", title_fontsize=7)
        return self


def latency_across_versions(latency: pd.DataFrame, versions: Sequence[str], *, quantile: str = "p50",
                            systems: Sequence[str] | None = None, ax: Any = None) -> LatencyAcrossVersionsDisplay:
    """Single-item latency per policy version (see :class:`LatencyAcrossVersionsDisplay`)."""
    return LatencyAcrossVersionsDisplay.from_latency(latency, versions=versions, quantile=quantile, systems=systems,
                                                     ax=ax)
