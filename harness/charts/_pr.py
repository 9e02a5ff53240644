"""Precision–recall curves: AP in the legend, the chance line and the operating point marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from harness.charts._display import Display, GridDisplay, figure_legend
from harness.charts._style import NEUTRAL, roster, system_style


@dataclass
class PRCurve:
    """One system's curve in one category: the data a :class:`PRCurveDisplay` draws.

    ``operating_precision``/``operating_recall`` are the point reached at ``threshold`` (the
    threshold the run's metrics use); precision there is NaN when nothing is flagged.
    """

    name: str
    precision: np.ndarray
    recall: np.ndarray
    average_precision: float
    threshold: float
    operating_precision: float
    operating_recall: float


def _thin(precision: np.ndarray, recall: np.ndarray, max_points: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Drop consecutive points within 1/800 of each other in both precision and recall (less than a
    pixel of a panel; the data kept on :class:`PRCurve` is thinned the same way, AP is exact)."""
    if precision.size <= max_points:
        return precision, recall
    key = np.round(recall * 800).astype(np.int64) * 801 + np.round(precision * 800).astype(np.int64)
    keep = np.r_[True, key[1:] != key[:-1]]
    keep[-1] = True
    return precision[keep], recall[keep]


def pr_curve(name: str, y: np.ndarray, s: np.ndarray, *, threshold: float = 0.5) -> PRCurve:
    """The :class:`PRCurve` of scores ``s`` against 0/1 labels ``y`` (which hold a positive).

    Examples
    --------
    >>> import numpy as np
    >>> c = pr_curve("demo", np.array([1, 0, 1, 0]), np.array([0.9, 0.6, 0.4, 0.1]), threshold=0.5)
    >>> round(c.average_precision, 3), c.operating_recall, c.operating_precision
    (0.833, 0.5, 0.5)
    """
    from harness import metrics as M

    y = np.asarray(y, dtype=np.uint8)
    s = np.asarray(s, dtype=np.float64)
    prec, rec, _ = M.precision_recall_curve(y, s)
    op = M.precision_recall_f1(y, s, threshold=threshold)
    flagged = int(op.tp) + int(op.fp)
    prec, rec = _thin(np.asarray(prec, float), np.asarray(rec, float))
    return PRCurve(name=name, precision=prec, recall=rec, average_precision=float(M.average_precision(y, s)),
                   threshold=float(threshold), operating_recall=float(op.recall),
                   operating_precision=float(op.precision) if flagged else float("nan"))


def _threshold_of(threshold: float | Mapping[Any, float], name: str, category: str) -> float:
    """One threshold, or a mapping keyed by ``(name, category)`` or by ``name``."""
    if isinstance(threshold, Mapping):
        if (name, category) in threshold:
            return float(threshold[(name, category)])
        return float(threshold[name])
    return float(threshold)


def _curves(view: Any, predictions: Sequence[Any], category: str,
            threshold: float | Mapping[Any, float]) -> tuple[list[PRCurve], float]:
    """The curves of the systems covering ``category`` (through the scoring layer) and its prevalence."""
    j = view.column(category)
    curves = []
    for p in predictions:
        S, covered = view.scores(p)
        valid = view.valid(p)
        y = view.truth[valid, j]
        if covered[j] and 0 < y.sum() < len(y):
            curves.append(pr_curve(p.name, y, S[valid, j], threshold=_threshold_of(threshold, p.name, category)))
    scored = view.truth[view.valid(), j]
    return curves, (float(scored.mean()) if scored.size else float("nan"))


class PRCurveDisplay(Display):
    """Precision–recall curves of several systems in one category, on one axes.

    Each curve is labelled with its average precision (``name (AP = 0.83)``); a dashed line
    marks chance (precision = the category's prevalence) and a filled marker the operating point
    (the threshold the run's metrics use). Styles come from :func:`system_style` over
    ``systems``.

    Parameters
    ----------
    curves : list of PRCurve
    prevalence : float
        Share of positives among the scored rows (the chance level of precision).
    category, policy : str
        For the title.
    systems : sequence of str, optional
        The run's roster of systems (for stable styles); default: the curves' names.

    Attributes
    ----------
    lines_ : dict of str to Line2D
    chance_level_ : Line2D or None
    ax_, figure_ : the axes and figure drawn on.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> y = np.array([1, 0, 1, 0, 1, 0])
    >>> curves = [pr_curve("a", y, np.array([.9, .2, .8, .6, .3, .1])),
    ...           pr_curve("b", y, np.array([.4, .5, .7, .2, .9, .6]))]
    >>> ax = Figure().subplots()
    >>> d = PRCurveDisplay(curves, prevalence=0.5, category="demo").plot(ax=ax)
    >>> d.ax_ is ax, [t.get_text() for t in ax.get_legend().get_texts()][:2]
    (True, ['a (AP = 0.92)', 'b (AP = 0.87)'])
    """

    def __init__(self, curves: Sequence[PRCurve], *, prevalence: float, category: str = "", policy: str = "",
                 systems: Sequence[str] | None = None) -> None:
        self.curves = list(curves)
        self.prevalence = float(prevalence)
        self.category = category
        self.policy = policy
        self.systems = roster(systems if systems is not None else [c.name for c in self.curves])
        self.lines_: dict[str, Any] = {}
        self.chance_level_: Any = None

    def plot(self, ax: Any = None, *, legend: str | None = "full", title: str | None = None,
             plot_chance_level: bool = True) -> PRCurveDisplay:
        """Draw on ``ax`` (a new figure if None).

        ``legend="full"`` names each system with its AP; ``"compact"`` gives only ``AP 0.83``
        per line (for grids, whose figure legend names the systems); None draws no legend.
        """
        ax = self._bind_ax(ax, figsize=(6.0, 4.8))
        self.lines_ = {}
        for c in self.curves:
            st = system_style(c.name, self.systems)
            label = f"{c.name} (AP = {c.average_precision:.2f})" if legend != "compact" else f"AP {c.average_precision:.2f}"
            (line,) = ax.step(c.recall, c.precision, where="post", color=st["color"], linestyle=st["linestyle"],
                              linewidth=1.4, label=label)
            if np.isfinite(c.operating_precision):
                ax.plot([c.operating_recall], [c.operating_precision], marker=st["marker"], color=st["color"],
                        markeredgecolor="black", markersize=7, linestyle="none", zorder=4)
            line.set_marker(st["marker"])
            line.set_markevery([])  # the marker shows in the legend handle and at the operating point only
            self.lines_[c.name] = line
        self.chance_level_ = None
        if plot_chance_level and np.isfinite(self.prevalence):
            (self.chance_level_,) = ax.plot([0, 1], [self.prevalence, self.prevalence], color=NEUTRAL,
                                            linestyle=(0, (4, 3)), linewidth=1,
                                            label=f"chance (prevalence {self.prevalence:.2f})")
        if not self.curves:
            ax.text(0.5, 0.5, "no covering system\nor no positives", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8, color=NEUTRAL)
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.03)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.grid(alpha=0.3)
        ax.set_title(title if title is not None else
                     " · ".join(x for x in (self.category, f"policy {self.policy}" if self.policy else "") if x))
        if legend:
            ax.legend(fontsize=7 if legend == "compact" else 8, loc="lower left", frameon=True, framealpha=0.8,
                      handlelength=1.6 if legend == "compact" else 2.2)
        return self

    @classmethod
    def from_view(cls, view: Any, predictions: Sequence[Any], category: str, *,
                  threshold: float | Mapping[Any, float] = 0.5, systems: Sequence[str] | None = None,
                  ax: Any = None, legend: str | None = "full") -> PRCurveDisplay:
        """Curves of ``predictions`` in ``category`` of a :class:`harness.scoring.ScoredView`.

        Ground truth, category scores and the rows scored come from the view (the scoring
        layer); a system is left out where it does not cover the category. ``threshold`` is one
        number or a mapping from system name to its threshold.
        """
        curves, prevalence = _curves(view, predictions, category, threshold)
        names = systems if systems is not None else [p.name for p in predictions]
        return cls(curves, prevalence=prevalence, category=category, policy=view.policy.id,
                   systems=names).plot(ax=ax, legend=legend)

    @classmethod
    def from_run(cls, run: Any, category: str, *, policy: str | None = None, ax: Any = None,
                 legend: str | None = "full") -> PRCurveDisplay:
        """Curves of a run (:func:`harness.load_run` or :func:`harness.run_benchmark`) in one
        category under ``policy`` (default: the reference version if the run has it), at the
        run's recorded policy and threshold."""
        from harness.scoring import ScoredView, bound_to

        pol = _policy_of(run, policy)
        view = ScoredView(run.suite, pol, run.options.restricted_as)
        return cls.from_view(view, bound_to(run.predictions, pol.id), category,
                             threshold=_thresholds(run, pol.id), systems=_run_systems(run),
                             ax=ax, legend=legend)


class PRCurvesDisplay(GridDisplay):
    """A panel of :class:`PRCurveDisplay` per category, with one legend naming the systems.

    Attributes
    ----------
    panels_ : dict of str to PRCurveDisplay
    figure_, axes_, ax_ : the figure, its 2-D array of axes, the first axes.
    """

    def __init__(self, panels: Sequence[PRCurveDisplay], *, policy: str = "", systems: Sequence[str] = ()) -> None:
        self.panels = list(panels)
        self.policy = policy
        self.systems = roster(systems or [c.name for p in self.panels for c in p.curves])
        self.panels_: dict[str, PRCurveDisplay] = {}

    def plot(self, fig: Any = None, *, ncol: int = 4) -> PRCurvesDisplay:
        axes = self._bind_grid(len(self.panels), fig=fig, ncol=ncol, panel=(4.0, 3.4), extra_height=1.2)
        self.panels_ = {}
        for k, panel in enumerate(self.panels):
            panel.systems = self.systems
            panel.plot(ax=axes.flat[k], legend="compact", title=panel.category)
            self.panels_[panel.category] = panel
        present = roster(c.name for p in self.panels for c in p.curves)
        handles = [Line2D([], [], **system_style(n, self.systems), linewidth=1.4) for n in present]
        handles.append(Line2D([], [], color=NEUTRAL, linestyle=(0, (4, 3)), linewidth=1))
        labels = [*present, "chance (prevalence)"]
        figure_legend(self.figure_, handles, labels, ncol=5)
        self.figure_.suptitle(f"Precision–recall per category, policy {self.policy} "
                              "(legend: average precision; marker: the operating point at the run's threshold)",
                              fontsize=11)
        return self


def pr_curves(suite: Any, predictions: Sequence[Any], policy: Any, *, categories: Sequence[str] | None = None,
              restricted_as: str = "violation", threshold: float | Mapping[Any, float] = 0.5,
              systems: Sequence[str] | None = None, fig: Any = None, ncol: int = 4) -> PRCurvesDisplay:
    """Precision–recall curves per category of ``policy`` (a panel each), a line per covering system.

    ``predictions`` are those that apply under ``policy`` (see :func:`harness.scoring.bound_to`).
    Returns a :class:`PRCurvesDisplay` (``.figure_``, ``.axes_``, ``.panels_``).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from matplotlib.figure import Figure
    >>> from harness.classifiers.base import Taxonomy
    >>> from harness.policies import load_policy
    >>> from harness.suites import Example, Suite
    >>> row = dict(split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")
    >>> suite = Suite.from_examples("demo", [Example(id=str(i), text=f"t{i}", label=lab, topics=["malware"], **row)
    ...                                      for i, lab in enumerate(["unsafe", "benign", "unsafe", "benign"])])
    >>> pred = SimpleNamespace(name="demo-model", binding="", labels=["malware"], taxonomy=Taxonomy.topics(),
    ...                        scores=np.array([[0.9], [0.7], [0.4], [0.1]], np.float32), error_mask=np.zeros(4, bool))
    >>> fig = Figure(layout="constrained")
    >>> d = pr_curves(suite, [pred], load_policy("2023-02-15"), categories=["malware"], fig=fig)
    >>> d.figure_ is fig, round(d.panels_["malware"].curves[0].average_precision, 3), d.panels_["malware"].prevalence
    (True, 0.833, 0.5)
    """
    from harness.scoring import ScoredView

    view = ScoredView(suite, policy, restricted_as)
    cats = list(categories) if categories else list(policy.category_keys)
    names = systems if systems is not None else [p.name for p in predictions]
    panels = []
    for cat in cats:
        curves, prevalence = _curves(view, predictions, cat, threshold)
        panels.append(PRCurveDisplay(curves, prevalence=prevalence, category=cat, policy=policy.id, systems=names))
    return PRCurvesDisplay(panels, policy=policy.id, systems=names).plot(fig=fig, ncol=ncol)


def pr_curves_of_run(run: Any, *, policy: str | None = None, categories: Sequence[str] | None = None,
                     fig: Any = None) -> PRCurvesDisplay:
    """:func:`pr_curves` of a run under one of its recorded policies (default: the reference version)."""
    from harness.scoring import bound_to

    pol = _policy_of(run, policy)
    return pr_curves(run.suite, bound_to(run.predictions, pol.id), pol, categories=categories,
                     restricted_as=run.options.restricted_as, threshold=_thresholds(run, pol.id),
                     systems=_run_systems(run), fig=fig)


# ---------------------------------------------------------------- what a run records

def _run_systems(run: Any) -> list[str]:
    names = {p.name for p in run.predictions}
    if run.metrics is not None and "classifier" in run.metrics:
        names |= set(run.metrics["classifier"])
    return roster(names)


def _policy_of(run: Any, policy: str | None) -> Any:
    from harness.policies import REFERENCE_VERSION

    pols = {p.id: p for p in run.policies}
    want = policy or (REFERENCE_VERSION if REFERENCE_VERSION in pols else sorted(pols)[0])
    if want not in pols:
        raise ValueError(f"the run has no policy {want!r}; it has {sorted(pols)}")
    return pols[want]


def _thresholds(run: Any, policy: str) -> float | dict[Any, float]:
    """The threshold each system's metrics used under ``policy``, keyed by ``(system, category)``
    (the run's ``threshold`` option where the metrics record none)."""
    default = float(getattr(run.options, "threshold", 0.5))
    m = run.metrics
    if m is None or "threshold" not in m:
        return default
    part = m[m["policy_version"] == policy]
    per = part.groupby(["classifier", "category"])["threshold"].first()
    out = {(str(k[0]), str(k[1])): float(v) for k, v in per.items() if np.isfinite(v)}
    return _DefaultDict(out, default)


class _DefaultDict(dict):
    """A mapping of thresholds with a default for systems it does not name."""

    def __init__(self, data: dict[Any, float], default: float) -> None:
        super().__init__(data)
        self.default = default

    def __missing__(self, key: Any) -> float:
        return self.default
