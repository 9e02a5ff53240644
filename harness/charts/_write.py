"""Every chart of a run, written as PNG and SVG (``policybench charts``, ``policybench publish``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness.charts._drift import policy_drift
from harness.charts._heatmap import heatmap
from harness.charts._latency import latency_quality
from harness.charts._pr import _run_systems, pr_curves_of_run
from harness.charts._versions import latency_across_versions, metric_across_versions
from harness.policies import REFERENCE_VERSION


def run_charts(run: Any, *, reference_policy: str = REFERENCE_VERSION,
               every_version: bool = True) -> Iterator[tuple[str, Callable[[], Any]]]:
    """``(file stem, draw)`` for every chart of a run; ``draw()`` returns the chart's Display.

    The reference version's heatmaps, PR curves and latency–quality chart keep their names
    (``heatmap_f1_<ref>``, ``pr_curves_<ref>``, ``latency_quality``); with ``every_version``
    the other versions' follow as ``heatmap_f1_<v>``, ``heatmap_ap_<v>``, ``pr_curves_<v>``
    and ``latency_quality_<v>``. Every chart gets the run's roster of systems, so a system has
    one colour and marker throughout. A new chart is one more ``yield`` here.
    """
    metrics = run.metrics
    systems = _run_systems(run)
    versions = sorted(p.id for p in run.policies)
    ref = reference_policy if reference_policy in versions else versions[0]
    ra = run.options.restricted_as
    yield "recall_across_versions", lambda: metric_across_versions(metrics, "recall", systems=systems)
    yield "precision_across_versions", lambda: metric_across_versions(metrics, "precision", systems=systems)
    yield "precision_recall_across_versions", lambda: metric_across_versions(
        metrics, ["precision", "recall"], systems=systems)
    yield "latency_across_versions", lambda: latency_across_versions(run.latency, versions, systems=systems)
    yield "policy_drift", lambda: policy_drift(metrics, run.suite, list(run.policies), restricted_as=ra,
                                               systems=systems)
    for v in [ref] + ([x for x in versions if x != ref] if every_version else []):
        yield from _per_version(run, v, ref, systems)


def _per_version(run: Any, v: str, ref: str, systems: list[str]) -> Iterator[tuple[str, Callable[[], Any]]]:
    """The charts of one policy version (``v`` bound per call, not per loop)."""
    metrics = run.metrics
    yield f"heatmap_f1_{v}", lambda: heatmap(metrics, policy=v, metric="f1", systems=systems)
    yield f"heatmap_ap_{v}", lambda: heatmap(metrics, policy=v, metric="average_precision", systems=systems)
    yield f"pr_curves_{v}", lambda: pr_curves_of_run(run, policy=v)
    yield ("latency_quality" if v == ref else f"latency_quality_{v}"), lambda: latency_quality(
        metrics, run.latency, quality="f1", policy=v, systems=systems)


def write_charts(run: Any, out_dir: Path | None = None, *, reference_policy: str = REFERENCE_VERSION,
                 every_version: bool = True, formats: tuple[str, ...] = ("png", "svg"),
                 other_version_formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Write every chart of a run (stored, :func:`harness.load_run`, or in memory).

    The cross-version charts and the reference version's are written in ``formats`` (PNG and
    SVG); the other versions' heatmaps, PR curves and latency–quality charts (with
    ``every_version``) in ``other_version_formats`` (PNG: they are many, and SVG doubles the
    drawing time). Ground truth comes from the policies recorded with the run, not from today's
    policy files. Each figure is closed once saved (nothing is left open in a notebook).
    Returns the paths written.
    """
    import matplotlib.pyplot as plt

    if out_dir is None:
        home = getattr(run, "path", None) or getattr(run, "run_dir", None)
        if home is None:
            raise ValueError("write_charts: this run is not stored; pass out_dir")
        out_dir = Path(home) / "charts"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = sorted(p.id for p in run.policies)
    ref = reference_policy if reference_policy in versions else versions[0]
    others = tuple(f"_{v}" for v in versions if v != ref)
    written = []
    for name, draw in run_charts(run, reference_policy=reference_policy, every_version=every_version):
        fig = draw().figure_
        try:
            for ext in (other_version_formats if name.endswith(others) and others else formats):
                path = out_dir / f"{name}.{ext}"
                fig.savefig(path, dpi=110 if ext == "png" else None)
                written.append(path)
        finally:
            plt.close(fig)
    return written
