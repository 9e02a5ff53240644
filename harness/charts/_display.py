"""The Display protocol of every chart, in scikit-learn's manner.

A Display holds the data of a chart as attributes, draws it with ``plot(ax=...)`` (or
``plot(fig=...)`` for a multi-panel figure) and keeps what it drew on: ``figure_`` and ``ax_``
(``axes_`` for a grid). Constructors named ``from_*`` compute the data and plot in one call, as
:meth:`sklearn.metrics.PrecisionRecallDisplay.from_predictions` does.

Nothing here selects a matplotlib backend: with ``ax``/``fig`` omitted a figure is made by
:func:`matplotlib.pyplot.subplots`, so it shows inline in Jupyter and in the user's own windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class Display:
    """Base of the chart displays: ``figure_``, ``ax_``, ``savefig`` and a short repr.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> d = Display()
    >>> ax = Figure().subplots()
    >>> d._bind_ax(ax) is ax and d.figure_ is ax.figure
    True
    """

    figure_: Any = None
    ax_: Any = None

    def _bind_ax(self, ax: Any = None, *, figsize: tuple[float, float] = (6.4, 4.8)) -> Any:
        """Use ``ax`` or make a new figure and axes; remember both."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=figsize, layout="constrained")
        self.ax_, self.figure_ = ax, ax.figure
        return ax

    def savefig(self, path: str | Path, **kwargs: Any) -> None:
        """Save ``figure_`` (see :meth:`matplotlib.figure.Figure.savefig`)."""
        if self.figure_ is None:
            raise ValueError(f"{type(self).__name__}: call plot() before savefig()")
        self.figure_.savefig(path, **kwargs)

    def __repr__(self) -> str:
        drawn = "drawn" if self.figure_ is not None else "not drawn"
        return f"<{type(self).__name__} ({drawn})>"


class GridDisplay(Display):
    """A multi-panel display: ``figure_``, ``axes_`` (2-D array of axes) and ``ax_`` (the first)."""

    axes_: Any = None

    def _bind_grid(self, n: int, *, fig: Any = None, ncol: int = 4, panel: tuple[float, float] = (4.0, 3.2),
                   extra_height: float = 1.0, **subplot_kw: Any) -> np.ndarray:
        """``n`` panels on ``fig`` (made with constrained layout if omitted); spare panels hidden."""
        ncol = max(1, min(ncol, n))
        nrow = max(1, int(np.ceil(n / ncol)))
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(panel[0] * ncol, panel[1] * nrow + extra_height), layout="constrained")
        axes = np.asarray(fig.subplots(nrow, ncol, squeeze=False, **subplot_kw))
        for k in range(n, nrow * ncol):
            axes.flat[k].axis("off")
        self.figure_, self.axes_, self.ax_ = fig, axes, axes.flat[0]
        return axes


def figure_legend(fig: Any, handles: Sequence[Any], labels: Sequence[str], *, ncol: int = 4) -> Any:
    """A legend below every panel (outside them with constrained layout, so never overlapping)."""
    if not handles:
        return None
    loc = "outside lower center" if fig.get_layout_engine() is not None else "lower center"
    return fig.legend(handles, labels, loc=loc, ncol=min(ncol, len(labels)), fontsize=9, frameon=False)


def short_version(v: str) -> str:
    """A policy version as a tick label (``2023-02-15`` → ``2023-02``)."""
    return str(v)[:7]


def log_axis(axis: Any, values: Any) -> None:
    """A readable log axis: ticks at 1, 2, 5 × 10^k labelled as plain numbers, no minor labels,
    and at least a decade shown (a narrow range otherwise gets crowded ``2×10⁻¹``-style labels).

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> ax.set_yscale("log")
    >>> log_axis(ax.yaxis, [0.19, 0.2])
    >>> lo, hi = ax.get_ylim()
    >>> bool(hi / lo >= 10)
    True
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    v = np.asarray([x for x in np.ravel(np.asarray(values, dtype=float)) if np.isfinite(x) and x > 0])
    if v.size:
        lo, hi = float(v.min()), float(v.max())
        span = hi / lo
        if span < 10:
            pad = np.sqrt(12 / span)
            lo, hi = lo / pad, hi * pad
        else:
            lo, hi = lo / 1.3, hi * 1.3
        (axis.axes.set_ylim if axis.axis_name == "y" else axis.axes.set_xlim)(lo, hi)
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_minor_formatter(NullFormatter())
