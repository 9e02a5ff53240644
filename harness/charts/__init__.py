"""Charts of a run, as Display objects in scikit-learn's manner.

Every chart function takes ``ax=`` (``fig=`` for a multi-panel figure), draws there (or on a
new pyplot figure) and returns a Display: the chart's data as attributes, ``plot(ax=...)`` to
draw it again, ``figure_`` and ``ax_`` (``axes_`` for grids), like
:class:`sklearn.metrics.PrecisionRecallDisplay`. The library never chooses a matplotlib
backend: in Jupyter the figures show inline; the command line selects Agg itself.

A system keeps one colour, marker and line style in every chart of a run
(:func:`system_style` over the run's sorted roster of names; Okabe–Ito colours, with markers
and line styles as a second cue). Ground truth, category scores and masks come from
:mod:`harness.scoring`; charts never re-derive them. Undefined numbers are left out or shown
as "—", never as 0.

Charts (one module each; a new one is a module plus a line in :func:`run_charts`):

- :func:`pr_curves` / :class:`PRCurveDisplay`: precision–recall with AP in the legend, the
  chance line (prevalence) and the operating point (the run's threshold);
- :func:`heatmap` / :class:`HeatmapDisplay`: category × system, values with 95% CIs;
- :func:`metric_across_versions`, :func:`latency_across_versions`: across policy versions,
  with CI bands (latency per binding for policy-conditioned systems);
- :func:`latency_quality`: latency against macro quality under one version;
- :func:`policy_drift`: score changes between versions and the topics that cause them;
- :func:`write_charts`: all of them for a run, PNG and SVG.

Examples
--------
>>> import pandas as pd
>>> from matplotlib.figure import Figure
>>> from harness.charts import heatmap, system_style
>>> m = pd.DataFrame({"classifier": ["a", "b"], "policy_version": ["v", "v"], "category": ["x", "x"],
...                   "covered": [True, True], "f1": [0.75, 0.5]})
>>> ax = Figure().subplots()
>>> d = heatmap(m, policy="v", ax=ax)
>>> d.ax_ is ax, float(d.values.loc["x", "a"])
(True, 0.75)
"""

from harness.charts._display import Display, GridDisplay
from harness.charts._drift import PolicyDriftDisplay, drift_deltas, drift_table, policy_drift
from harness.charts._heatmap import HeatmapDisplay, heatmap
from harness.charts._latency import LatencyQualityDisplay, latency_quality, macro, macro_count
from harness.charts._pr import PRCurve, PRCurveDisplay, PRCurvesDisplay, pr_curve, pr_curves, pr_curves_of_run
from harness.charts._style import LINESTYLES, MARKERS, PALETTE, roster, system_style, system_styles
from harness.charts._versions import (
                                  LatencyAcrossVersionsDisplay,
                                  MetricAcrossVersionsDisplay,
                                  MetricsAcrossVersionsDisplay,
                                  latency_across_versions,
                                  latency_under,
                                  metric_across_versions,
)
from harness.charts._write import run_charts, write_charts

__all__ = [
    "Display", "GridDisplay", "HeatmapDisplay", "LINESTYLES", "LatencyAcrossVersionsDisplay", "LatencyQualityDisplay",
    "MARKERS", "MetricAcrossVersionsDisplay", "MetricsAcrossVersionsDisplay", "PALETTE", "PRCurve", "PRCurveDisplay",
    "PRCurvesDisplay", "PolicyDriftDisplay", "drift_deltas", "drift_table", "heatmap", "latency_across_versions",
    "latency_quality", "latency_under", "macro", "macro_count", "metric_across_versions", "policy_drift", "pr_curve",
    "pr_curves", "pr_curves_of_run", "roster", "run_charts", "system_style", "system_styles", "write_charts",
]
