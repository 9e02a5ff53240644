"""Charts are Display objects in scikit-learn's manner, with one style per system across a run.

A small real run (the smoke suite; a policy-bound rule pack per version and two unbound topic
models) is drawn on axes the test owns, and the drawn artists are checked against the numbers
of the scoring layer and the run's tables.
"""

from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from harness import metrics as M
from harness.charts import (
    PALETTE,
    HeatmapDisplay,
    LatencyAcrossVersionsDisplay,
    LatencyQualityDisplay,
    MetricAcrossVersionsDisplay,
    PRCurveDisplay,
    heatmap,
    latency_across_versions,
    latency_quality,
    metric_across_versions,
    policy_drift,
    pr_curves_of_run,
    run_charts,
    system_style,
    system_styles,
    write_charts,
)
from harness.options import RunOptions
from harness.results.benchmark import run_benchmark
from harness.scoring import ScoredView, bound_to
from tests.helpers import KeywordTopics

POLICIES = ["2023-02-15", "2024-01-10"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("charts")
    clfs = ["keyword-rules", KeywordTopics(), KeywordTopics({"hate": "hate", "malware": "virus"}, name="kw-b")]
    return run_benchmark("smoke", clfs, POLICIES, options=RunOptions(n_resamples=20, latency_sample=5),
                         out=tmp / "runs", cache_root=tmp / "cache")


def _ax():
    return Figure(figsize=(6, 4)).subplots()


def _hex(c) -> str:
    return to_hex(c, keep_alpha=False).upper()


# ------------------------------------------------------------------ Display protocol

def test_each_display_draws_on_the_given_ax(run):
    cat = "hate_harass_violence"
    made = {
        "heatmap": heatmap(run.metrics, policy=POLICIES[0], ax=(a1 := _ax())),
        "pr": PRCurveDisplay.from_run(run, cat, policy=POLICIES[0], ax=(a2 := _ax())),
        "across": MetricAcrossVersionsDisplay.from_metrics(run.metrics, "recall", category=cat, ax=(a3 := _ax())),
        "latency_versions": latency_across_versions(run.latency, POLICIES, ax=(a4 := _ax())),
        "latency_quality": latency_quality(run.metrics, run.latency, policy=POLICIES[1], ax=(a5 := _ax())),
    }
    assert made["pr"].curves and made["across"].lines_ and made["latency_versions"].lines_
    for (name, d), ax in zip(made.items(), [a1, a2, a3, a4, a5]):
        assert d.ax_ is ax and d.figure_ is ax.figure, name
        assert ax.get_title(), name
        assert ax.lines or ax.collections or ax.images, f"{name} drew nothing"
    # a Display draws again on another ax, keeping its data
    d = made["pr"]
    again = d.plot(ax=(b := _ax()))
    assert again is d and d.ax_ is b and len(b.get_legend().get_texts()) == len(a2.get_legend().get_texts())


def test_grid_displays_draw_on_the_given_figure(run):
    for make in (lambda f: metric_across_versions(run.metrics, ["precision", "recall"], fig=f),
                 lambda f: pr_curves_of_run(run, policy=POLICIES[1], fig=f),
                 lambda f: policy_drift(run.metrics, run.suite, run.policies, fig=f)):
        fig = Figure(figsize=(12, 9), layout="constrained")
        d = make(fig)
        assert d.figure_ is fig and d.axes_.flat[0] in fig.axes and d.ax_ is d.axes_.flat[0]


def test_without_ax_a_new_pyplot_figure_is_made_and_can_be_closed(run):
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    d = heatmap(run.metrics, policy=POLICIES[0])
    assert d.figure_.number not in before and plt.fignum_exists(d.figure_.number)
    plt.close(d.figure_)


def test_chart_functions_never_change_the_backend(run):
    import matplotlib.pyplot as plt

    old = matplotlib.get_backend()
    matplotlib.use("pdf")
    try:
        for _, draw in run_charts(run, reference_policy=POLICIES[0], every_version=False):
            plt.close(draw().figure_)
        assert matplotlib.get_backend() == "pdf"
    finally:
        matplotlib.use(old)


# ------------------------------------------------------------------ one style per system

def test_same_system_same_colour_and_marker_in_different_charts(run):
    cat = "hate_harass_violence"
    pr = PRCurveDisplay.from_run(run, cat, policy=POLICIES[0], ax=_ax())
    across = MetricAcrossVersionsDisplay.from_metrics(run.metrics, "recall", category=cat, ax=_ax())
    lq = latency_quality(run.metrics, run.latency, policy=POLICIES[0], ax=_ax())
    lv = latency_across_versions(run.latency, POLICIES, ax=_ax())
    names = sorted(set(run.metrics["classifier"]))
    checked = 0
    for name in names:
        want = system_style(name, names)
        seen = []
        if name in pr.lines_:
            seen.append((_hex(pr.lines_[name].get_color()), pr.lines_[name].get_marker()))
        if name in across.lines_:
            seen.append((_hex(across.lines_[name].get_color()), across.lines_[name].get_marker()))
        if name in lv.lines_:
            seen.append((_hex(lv.lines_[name].get_color()), lv.lines_[name].get_marker()))
        if name in lq.points_:
            pts = lq.points_[name]
            seen.append((_hex(pts.get_facecolor()[0]), want["marker"]))
        assert len(seen) >= 2, f"{name} appears in fewer than two charts"
        assert set(seen) == {(want["color"].upper(), want["marker"])}, (name, seen)
        checked += 1
    assert checked == len(names) == 3


def test_styles_depend_on_the_roster_not_on_order():
    names = ["tfidf-logreg", "keyword-rules", "pii-rules", "minilm-logreg"]
    assert system_styles(names) == system_styles(list(reversed(names)))
    assert system_style("pii-rules", names) == system_styles(names)["pii-rules"]


@pytest.mark.parametrize("n", [2, 7, 8, 9, 17, 40])
def test_two_systems_never_share_colour_and_marker(n):
    names = [f"system-{i:02d}" for i in range(n)]
    styles = system_styles(names)
    pairs = [(s["color"], s["marker"]) for s in styles.values()]
    assert len(set(pairs)) == n
    # the first eight systems get eight distinct hues (no two blues or two oranges)
    first = [styles[k]["color"] for k in sorted(styles)[:8]]
    assert len(set(first)) == min(n, 8) and set(first) <= set(PALETTE)


# ------------------------------------------------------------------ PR curves

def test_pr_display_shows_ap_chance_level_and_operating_point(run):
    cat = "hate_harass_violence"
    pol = next(p for p in run.policies if p.id == POLICIES[0])
    d = PRCurveDisplay.from_run(run, cat, policy=pol.id, ax=_ax())
    view = ScoredView(run.suite, pol, run.options.restricted_as)
    j = view.column(cat)
    texts = [t.get_text() for t in d.ax_.get_legend().get_texts()]
    assert d.curves, "no system covers the category"
    for p in bound_to(run.predictions, pol.id):
        S, covered = view.scores(p)
        if not covered[j]:
            assert p.name not in d.lines_
            continue
        valid = view.valid(p)
        y, s = view.truth[valid, j], S[valid, j]
        ap = float(M.average_precision(y, s))
        assert f"{p.name} (AP = {ap:.2f})" in texts
        curve = next(c for c in d.curves if c.name == p.name)
        assert curve.average_precision == pytest.approx(ap)
        op = M.precision_recall_f1(y, s, threshold=run.options.threshold)
        assert curve.operating_recall == pytest.approx(float(op.recall))
        if int(op.tp) + int(op.fp):
            assert curve.operating_precision == pytest.approx(float(op.precision))
            # the operating point is drawn: a marker-only line at (recall, precision)
            points = [ln for ln in d.ax_.lines if ln.get_linestyle() == "None"
                      and np.allclose(ln.get_xydata(), [[float(op.recall), float(op.precision)]])]
            assert points, f"no operating point for {p.name}"
    prevalence = view.truth[view.valid(), j].mean()
    assert d.chance_level_ is not None
    assert np.allclose(d.chance_level_.get_ydata(), prevalence)
    assert any(t.startswith("chance (prevalence") for t in texts)


def test_pr_grid_legend_gives_ap_per_panel(run):
    d = pr_curves_of_run(run, policy=POLICIES[0], fig=Figure(figsize=(14, 12), layout="constrained"))
    panel = d.panels_["hate_harass_violence"]
    texts = [t.get_text() for t in panel.ax_.get_legend().get_texts()]
    assert [f"AP {c.average_precision:.2f}" for c in panel.curves] == texts[:len(panel.curves)]
    fig_legend = [t.get_text() for t in d.figure_.legends[0].get_texts()]
    assert sorted({c.name for p in d.panels_.values() for c in p.curves}) == fig_legend[:-1]


# ------------------------------------------------------------------ heatmaps, latency, versions

def test_heatmap_shows_ci_and_never_draws_missing_numbers_as_zero(run):
    pol = POLICIES[1]
    d = HeatmapDisplay.from_metrics(run.metrics, policy=pol, metric="f1", ax=_ax())
    m = run.metrics[run.metrics["policy_version"] == pol].set_index(["category", "classifier"])
    n_checked = 0
    for r, cat in enumerate(d.values.index):
        for c, clf in enumerate(d.values.columns):
            row = m.loc[(cat, clf)]
            text = d.texts_[r, c].get_text()
            if not row["covered"]:
                assert text == "n/c"
            elif not np.isfinite(row["f1"]):
                assert text == "—"
            else:
                assert text == f"{row['f1']:.2f}\n[{row['f1_low']:.2f}, {row['f1_high']:.2f}]"
                n_checked += 1
    assert n_checked > 0 and "n/c" in {t.get_text() for t in d.texts_.ravel()}


def test_latency_across_versions_is_per_binding(run):
    d = LatencyAcrossVersionsDisplay.from_latency(run.latency, versions=POLICIES, ax=_ax())
    lat = run.latency
    for v in POLICIES:
        own = lat[(lat["classifier"] == "keyword-rules") & (lat["binding"] == v)]
        assert len(own) == 1
        assert d.values.loc[v, "keyword-rules"] == pytest.approx(1000 * float(own["p50_s"].iloc[0]))
    unbound = lat[(lat["classifier"] == "kw-topics") & (lat["binding"] == "")]
    assert d.values["kw-topics"].tolist() == pytest.approx([1000 * float(unbound["p50_s"].iloc[0])] * 2)
    assert d.bound == {"keyword-rules": True, "kw-b": False, "kw-topics": False}


def test_latency_quality_uses_the_binding_of_the_policy_shown(run):
    for v in POLICIES:
        d = LatencyQualityDisplay.from_metrics(run.metrics, run.latency, policy=v, ax=_ax())
        own = run.latency[(run.latency["classifier"] == "keyword-rules") & (run.latency["binding"] == v)]
        assert d.data.loc["keyword-rules", "p50_ms"] == pytest.approx(1000 * float(own["p50_s"].iloc[0]))
        m = run.metrics[(run.metrics["policy_version"] == v) & (run.metrics["classifier"] == "keyword-rules")
                        & run.metrics["covered"]]
        f1 = m["f1"].dropna()
        assert d.data.loc["keyword-rules", "quality"] == pytest.approx(f1.mean())
        assert d.data.loc["keyword-rules", "n_categories"] == len(f1)


def test_metric_across_versions_plots_the_metrics_with_ci_bands(run):
    m = run.metrics
    defined = m[(m["classifier"] == "keyword-rules") & m["precision"].notna()]
    cat = defined.groupby("category").size().idxmax()  # a category with a precision under the most versions
    d = MetricAcrossVersionsDisplay.from_metrics(run.metrics, "precision", category=cat, ax=_ax())
    m = run.metrics[(run.metrics["category"] == cat) & (run.metrics["classifier"] == "keyword-rules")]
    want = m.set_index("policy_version").loc[POLICIES, "precision"].to_numpy(float)
    assert np.allclose(d.lines_["keyword-rules"].get_ydata(), want, equal_nan=True)
    assert len(d.ax_.collections) == len(d.lines_)  # one CI band per line


def test_write_charts_writes_the_published_names_and_every_version(run, tmp_path):
    import matplotlib.pyplot as plt

    open_before = plt.get_fignums()
    written = write_charts(run, tmp_path / "charts", reference_policy=POLICIES[0], formats=("png", "svg"),
                           other_version_formats=("png",))
    assert plt.get_fignums() == open_before  # every figure closed once saved
    stems = {p.stem for p in written}
    ref = POLICIES[0]
    published = {"recall_across_versions", "precision_across_versions", "latency_quality", f"heatmap_f1_{ref}",
                 f"heatmap_ap_{ref}", f"pr_curves_{ref}", "policy_drift"}
    new = {"precision_recall_across_versions", "latency_across_versions", f"heatmap_f1_{POLICIES[1]}",
           f"heatmap_ap_{POLICIES[1]}", f"pr_curves_{POLICIES[1]}", f"latency_quality_{POLICIES[1]}"}
    assert published | new == stems
    svg = {p.stem for p in written if p.suffix == ".svg"}
    assert {p.stem for p in written if p.suffix == ".png"} == stems
    assert svg == published | {"precision_recall_across_versions", "latency_across_versions"}  # others: PNG only
    assert inspect.signature(write_charts).parameters["formats"].default == ("png", "svg")  # what publish writes
    assert all(p.stat().st_size > 1000 for p in written)
