"""Latency against quality under one policy version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness.charts._display import Display, log_axis
from harness.charts._style import NEUTRAL, roster, system_style
from harness.charts._versions import latency_under


def macro(metrics: pd.DataFrame, metric: str, policy: str | None = None, *, covered_only: bool = True) -> pd.Series:
    """Macro average of ``metric`` per system under ``policy`` over the categories where it is defined.

    Categories a system does not cover (when ``covered_only``) and undefined values (NaN, e.g.
    no positives) are left out, never counted as 0; :func:`macro_count` says over how many
    categories each average is taken.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"classifier": ["a", "a", "a"], "policy_version": ["v"] * 3, "category": ["x", "y", "z"],
    ...                   "covered": [True, True, False], "f1": [0.9, float("nan"), 0.0]})
    >>> macro(m, "f1", "v").to_dict(), macro_count(m, "f1", "v").to_dict()
    ({'a': 0.9}, {'a': 1})
    """
    return _defined(metrics, metric, policy, covered_only).groupby("classifier")[metric].mean()


def macro_count(metrics: pd.DataFrame, metric: str, policy: str | None = None, *, covered_only: bool = True) -> pd.Series:
    """The number of categories each :func:`macro` average is taken over."""
    return _defined(metrics, metric, policy, covered_only).groupby("classifier")[metric].count()


def _defined(metrics: pd.DataFrame, metric: str, policy: str | None, covered_only: bool) -> pd.DataFrame:
    df = metrics
    if policy is not None:
        df = df[df["policy_version"] == policy]
    if covered_only and "covered" in df:
        df = df[df["covered"].astype(bool)]
    return df[np.isfinite(df[metric].astype(float))]


class LatencyQualityDisplay(Display):
    """Single-item latency (log x: dot at p50, bar to p95) against macro quality (y), per system.

    Latency is each system's timing under the policy shown (its binding to that version for a
    policy-conditioned system). The label gives the number of categories the macro is taken
    over, as a single-category system's macro is not comparable with a 14-category one.

    Attributes
    ----------
    data : DataFrame
        One row per system: ``quality``, ``n_categories``, ``p50_ms``, ``p95_ms``.
    points_ : dict of str to PathCollection
    missing_ : list of str (systems without latency)
    ax_, figure_

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> m = pd.DataFrame({"classifier": ["a", "b"], "policy_version": ["v", "v"], "category": ["x", "x"],
    ...                   "covered": [True, True], "f1": [0.8, 0.6]})
    >>> lat = pd.DataFrame({"classifier": ["a", "b"], "binding": ["v", ""], "p50_s": [0.001, 0.02],
    ...                     "p95_s": [0.002, 0.03]})
    >>> ax = Figure().subplots()
    >>> d = LatencyQualityDisplay.from_metrics(m, lat, policy="v", ax=ax)
    >>> d.ax_ is ax, d.data["p50_ms"].round(1).tolist()
    (True, [1.0, 20.0])
    """

    def __init__(self, data: pd.DataFrame, *, quality: str = "f1", policy: str = "",
                 systems: Sequence[str] | None = None, missing: Sequence[str] = ()) -> None:
        self.data = data
        self.quality = quality
        self.policy = policy
        self.systems = roster(systems if systems is not None else data.index)
        self.missing_ = list(missing)
        self.points_: dict[str, Any] = {}

    @classmethod
    def from_metrics(cls, metrics: pd.DataFrame, latency: pd.DataFrame, *, policy: str, quality: str = "f1",
                     systems: Sequence[str] | None = None, ax: Any = None) -> LatencyQualityDisplay:
        """From a run's metrics and latency tables under one policy version."""
        q = macro(metrics, quality, policy)
        n = macro_count(metrics, quality, policy)
        lat = latency_under(latency, policy)
        rows, missing = {}, []
        for name in sorted(q.index):
            p50 = float(lat.loc[name, "p50_s"]) if name in lat.index and "p50_s" in lat else float("nan")
            p95 = float(lat.loc[name, "p95_s"]) if name in lat.index and "p95_s" in lat else float("nan")
            if not np.isfinite(p50):
                missing.append(name)
                continue
            rows[name] = {"quality": float(q[name]), "n_categories": int(n[name]),
                          "p50_ms": 1000 * p50, "p95_ms": 1000 * p95}
        data = pd.DataFrame.from_dict(rows, orient="index",
                                      columns=["quality", "n_categories", "p50_ms", "p95_ms"])
        names = systems if systems is not None else metrics["classifier"].unique()
        return cls(data, quality=quality, policy=policy, systems=names, missing=missing).plot(ax=ax)

    def plot(self, ax: Any = None, *, title: str | None = None) -> LatencyQualityDisplay:
        ax = self._bind_ax(ax, figsize=(8.0, 5.2))
        self.points_ = {}
        for name, r in self.data.iterrows():
            st = system_style(str(name), self.systems)
            if np.isfinite(r["p95_ms"]):
                ax.plot([r["p50_ms"], r["p95_ms"]], [r["quality"]] * 2, color=st["color"], linewidth=2, alpha=0.6,
                        solid_capstyle="butt")
                ax.plot([r["p95_ms"]], [r["quality"]], color=st["color"], marker="|", markersize=12, linestyle="none")
            self.points_[name] = ax.scatter([r["p50_ms"]], [r["quality"]], color=st["color"], marker=st["marker"],
                                            s=60, zorder=3, edgecolors="black", linewidths=0.5,
                                            label=f"{name} ({int(r['n_categories'])} cat.)")
        ax.set_xscale("log")
        log_axis(ax.xaxis, self.data[["p50_ms", "p95_ms"]].to_numpy(float) if len(self.data) else [])
        ax.set_xlabel("single-item latency, ms (log scale; marker = p50, bar end = p95)")
        ax.set_ylabel(f"macro {self.quality.replace('_', ' ')} over the categories where defined")
        if len(self.data):
            lo, hi = float(self.data["quality"].min()), float(self.data["quality"].max())
            ax.set_ylim(max(-0.02, lo - 0.08), min(1.02, hi + 0.08))
        if self.missing_:
            ax.text(0.01, 0.01, "no single-item timing (predictions served from the cache; rerun with --no-cache): "
                    + ", ".join(self.missing_), transform=ax.transAxes, fontsize=7, color=NEUTRAL, va="bottom")
        ax.grid(alpha=0.3, which="both")
        ax.set_title(title if title is not None else f"Latency vs quality under policy {self.policy}", fontsize=10)
        if self.points_:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                      title="system (categories in the macro)", title_fontsize=7)
        return self


def latency_quality(metrics: pd.DataFrame, latency: pd.DataFrame, *, quality: str = "f1", policy: str | None = None,
                    systems: Sequence[str] | None = None, ax: Any = None) -> LatencyQualityDisplay:
    """Latency against macro ``quality`` under ``policy`` (default: the reference version if present)."""
    from harness.policies import REFERENCE_VERSION

    versions = sorted(metrics["policy_version"].unique())
    policy = policy or (REFERENCE_VERSION if REFERENCE_VERSION in versions else versions[0])
    return LatencyQualityDisplay.from_metrics(metrics, latency, policy=policy, quality=quality, systems=systems, ax=ax)
