"""Matplotlib figures shared by the CLI, the notebooks and the published results.

The library never chooses a matplotlib backend: in Jupyter the figures show inline, and the
command line (application code) selects the non-interactive Agg backend itself.

Every chart is titled, has labelled axes, uses the Okabe–Ito colour-blind-safe palette (with
distinct markers/line styles as a second cue) and is legible at 100% zoom. Functions return a
:class:`matplotlib.figure.Figure`; :func:`write_charts` saves PNG and SVG for a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from harness.policies import REFERENCE_VERSION

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
LINESTYLES = ("-", "--", "-.", ":")


def _style(i: int) -> dict[str, Any]:
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]}


def _versions(df: pd.DataFrame) -> list[str]:
    return sorted(df["policy_version"].unique())


def _label(row_or_name: Any) -> str:
    return str(row_or_name)


def metric_across_versions(metrics: pd.DataFrame, metric: str = "recall", *,
                           categories: Sequence[str] | None = None, covered_only: bool = True,
                           title: str | None = None) -> plt.Figure:
    """A panel per category: ``metric`` per policy version, a line per classifier, CI bands.

    Points where a classifier does not cover a category (none of its labels maps there) are
    left out when ``covered_only``.
    """
    df = metrics.copy()
    if covered_only and "covered" in df:
        df = df[df["covered"]]
    versions = _versions(metrics)
    cats = list(categories) if categories else sorted(df["category"].unique())
    ncol = min(4, max(1, len(cats)))
    nrow = int(np.ceil(len(cats) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow + 0.9), sharey=True, squeeze=False)
    classifiers = sorted(metrics["classifier"].unique())
    x = np.arange(len(versions))
    for k, cat in enumerate(cats):
        ax = axes[k // ncol][k % ncol]
        part = df[df["category"] == cat]
        for i, clf in enumerate(classifiers):
            sub = part[part["classifier"] == clf].set_index("policy_version").reindex(versions)
            if sub[metric].notna().sum() == 0:
                continue
            st = _style(i)
            ax.plot(x, sub[metric].to_numpy(float), label=clf, markersize=4, linewidth=1.5, **st)
            lo, hi = f"{metric}_low", f"{metric}_high"
            if lo in sub and hi in sub:
                ax.fill_between(x, sub[lo].to_numpy(float), sub[hi].to_numpy(float), color=st["color"], alpha=0.12, linewidth=0)
        ax.set_title(cat, fontsize=10)
        ax.set_xticks(x, [v[:7] for v in versions], rotation=45, fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        if k % ncol == 0:
            ax.set_ylabel(metric.replace("_", " "))
        if k // ncol == nrow - 1:
            ax.set_xlabel("policy version")
    for k in range(len(cats), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(handles, labels, loc="lower center", ncol=min(5, max(1, len(labels))), fontsize=9, frameon=False)
    fig.suptitle(title or f"{metric.replace('_', ' ').capitalize()} per category across policy versions (95% bootstrap CI bands)", fontsize=12)
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) // 5), 1, 0.96))
    return fig


def macro(metrics: pd.DataFrame, metric: str, policy: str | None = None, *, covered_only: bool = True) -> pd.Series:
    """Macro average of ``metric`` per classifier (over covered categories) under ``policy``."""
    df = metrics
    if policy is not None:
        df = df[df["policy_version"] == policy]
    if covered_only and "covered" in df:
        df = df[df["covered"]]
    return df.groupby("classifier")[metric].mean()


def latency_quality(metrics: pd.DataFrame, latency: pd.DataFrame, *, quality: str = "f1",
                    policy: str | None = None) -> plt.Figure:
    """p50 and p95 single-item latency (log x) against macro ``quality`` (y), one colour per classifier."""
    policy = policy or (REFERENCE_VERSION if REFERENCE_VERSION in set(metrics["policy_version"]) else _versions(metrics)[0])
    q = macro(metrics, quality, policy)
    lat = latency.groupby("classifier")[["p50_s", "p95_s"]].median() if "p50_s" in latency else pd.DataFrame()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, clf in enumerate(sorted(q.index)):
        if clf not in lat.index or not np.isfinite(lat.loc[clf, "p50_s"]):
            continue
        st = _style(i)
        p50, p95 = 1000 * lat.loc[clf, "p50_s"], 1000 * lat.loc[clf, "p95_s"]
        ax.plot([p50, p95], [q[clf], q[clf]], color=st["color"], linewidth=2, alpha=0.6)
        ax.scatter([p50], [q[clf]], color=st["color"], marker=st["marker"], s=60, label=f"{clf} (p50)", zorder=3)
        ax.scatter([p95], [q[clf]], color=st["color"], marker="|", s=200, zorder=3)
        ax.annotate(clf, (p50, q[clf]), textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("single-item latency, ms (log scale; dot = p50, bar end = p95)")
    ax.set_ylabel(f"macro {quality.replace('_', ' ')} over covered categories")
    ax.set_title(f"Latency vs quality under policy {policy}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best", frameon=False)
    fig.tight_layout()
    return fig


def heatmap(metrics: pd.DataFrame, *, policy: str, metric: str = "f1") -> plt.Figure:
    """Category × classifier heatmap of ``metric`` under one policy version (blank = not covered)."""
    df = metrics[metrics["policy_version"] == policy].copy()
    if "covered" in df:
        df.loc[~df["covered"], metric] = np.nan
    table = df.pivot_table(index="category", columns="classifier", values=metric, aggfunc="first")
    fig, ax = plt.subplots(figsize=(1.2 * table.shape[1] + 3, 0.45 * table.shape[0] + 2))
    im = ax.imshow(table.to_numpy(float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=40, ha="right", fontsize=9)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=9)
    for (r, c), v in np.ndenumerate(table.to_numpy(float)):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.55 else "black")
    ax.set_xlabel("classifier")
    ax.set_ylabel("category")
    ax.set_title(f"{metric.replace('_', ' ').upper() if metric == 'f1' else metric.replace('_', ' ')} by category and classifier, policy {policy}")
    fig.colorbar(im, ax=ax, label=metric.replace("_", " "))
    fig.tight_layout()
    return fig


def pr_curves(suite: Any, predictions: Sequence[Any], policy: Any, *, categories: Sequence[str] | None = None,
              restricted_as: str = "violation") -> plt.Figure:
    """Precision–recall curves per category (a panel each), a line per classifier that covers it."""
    from harness import metrics as M
    from harness.scoring import ScoredView, display_name

    view = ScoredView(suite, policy, restricted_as)
    cats = list(categories) if categories else list(policy.category_keys)
    ncol = min(4, len(cats))
    nrow = int(np.ceil(len(cats) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3.3 * nrow + 0.8), squeeze=False)
    for k, cat in enumerate(cats):
        ax = axes[k // ncol][k % ncol]
        j = view.column(cat)
        for i, p in enumerate(predictions):
            S, covered = view.scores(p)
            valid = view.valid(p)
            y = view.truth[valid, j]
            if not covered[j] or y.sum() == 0 or y.sum() == len(y):
                continue
            prec, rec, _ = M.precision_recall_curve(y, S[valid, j])
            st = _style(i)
            ax.step(rec, prec, where="post", color=st["color"], linestyle=st["linestyle"], linewidth=1.4,
                    label=display_name(p))
        ax.set_title(cat, fontsize=10)
        ax.set_xlim(0, 1.01)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall", fontsize=8)
        ax.set_ylabel("precision", fontsize=8)
        ax.grid(alpha=0.3)
    for k in range(len(cats), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab.split("@")[0] not in [x.split("@")[0] for x in labels]:
                handles.append(h)
                labels.append(lab.split("@")[0])
    fig.legend(handles, labels, loc="lower center", ncol=min(5, max(1, len(labels))), fontsize=9, frameon=False)
    fig.suptitle(f"Precision–recall curves per category, policy {policy.id}", fontsize=12)
    fig.tight_layout(rect=(0, 0.07, 1, 0.96))
    return fig


def drift_table(suite: Any, versions: Sequence[Any], *, restricted_as: str = "violation") -> pd.DataFrame:
    """For consecutive versions, the topics whose change moves ground truth, with example counts.

    ``effect`` is ``relaxed`` (a violation before, not after), ``tightened`` (the reverse) or
    ``moved`` (a violation in both, under another category). Verdict changes that move no ground
    truth under ``restricted_as`` (e.g. disallowed → restricted when restricted counts as a
    violation) are left out.
    """
    from harness.policies import diff

    rows = []
    topics = suite.topics
    unsafe = np.array([lab == "unsafe" for lab in suite.label_values])
    for a, b in zip(versions[:-1], versions[1:]):
        for ch in diff(a, b).to_dict()["changes"]:
            t = ch["topic"]
            va, vb = a.is_violation(t, restricted_as=restricted_as), b.is_violation(t, restricted_as=restricted_as)
            if va and not vb:
                effect = "relaxed"
            elif vb and not va:
                effect = "tightened"
            elif va and vb and a.verdict(t).category != b.verdict(t).category:
                effect = "moved"
            else:
                continue
            n = int(sum(1 for i, ts in enumerate(topics) if unsafe[i] and t in ts))
            if n:
                rows.append({"from": a.id, "to": b.id, "topic": t, "before": ch["before"]["verdict"],
                             "after": ch["after"]["verdict"], "effect": effect, "n_unsafe_examples": n})
    return pd.DataFrame(rows, columns=["from", "to", "topic", "before", "after", "effect", "n_unsafe_examples"])


def policy_drift(metrics: pd.DataFrame, suite: Any, policies: Sequence[Any], *, top_topics: int = 8,
                 restricted_as: str = "violation") -> plt.Figure:
    """How each classifier's macro precision and recall move between consecutive versions, and why.

    Top row: the change in macro precision and recall (over categories present in both versions)
    per classifier for each transition. Bottom row: the topics whose verdict changed, with the
    number of unsafe suite examples carrying them (the examples whose ground truth moved).
    """
    pols = sorted(policies, key=lambda p: str(p.date))
    pairs = list(zip(pols[:-1], pols[1:]))
    classifiers = sorted(metrics["classifier"].unique())
    drift = drift_table(suite, pols, restricted_as=restricted_as)
    effect_colour = {"relaxed": PALETTE[2], "tightened": PALETTE[3], "moved": PALETTE[5]}
    fig, axes = plt.subplots(2, len(pairs), figsize=(3.6 * len(pairs) + 1, 7.5), squeeze=False)
    for k, (a, b) in enumerate(pairs):
        ax = axes[0][k]
        common = sorted(set(a.category_keys) & set(b.category_keys))
        dP, dR = [], []
        for clf in classifiers:
            def m(pid, metric):
                part = metrics[(metrics["classifier"] == clf) & (metrics["policy_version"] == pid) & metrics["category"].isin(common)]
                if "covered" in part:
                    part = part[part["covered"]]
                return part[metric].mean() if len(part) else np.nan
            dP.append(m(b.id, "precision") - m(a.id, "precision"))
            dR.append(m(b.id, "recall") - m(a.id, "recall"))
        y = np.arange(len(classifiers))
        ax.barh(y - 0.2, dP, height=0.4, color=PALETTE[0], label="Δ precision")
        ax.barh(y + 0.2, dR, height=0.4, color=PALETTE[1], label="Δ recall", hatch="//")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, classifiers if k == 0 else [""] * len(classifiers), fontsize=8)
        ax.set_title(f"{a.id} → {b.id}", fontsize=10)
        ax.set_xlabel("change (macro, shared categories)", fontsize=8)
        ax.grid(alpha=0.3, axis="x")
        if k == 0:
            ax.legend(fontsize=8, loc="lower left", frameon=False)
        ax2 = axes[1][k]
        part = drift[(drift["from"] == a.id) & (drift["to"] == b.id)].nlargest(top_topics, "n_unsafe_examples")
        if len(part):
            yy = np.arange(len(part))
            colors = [effect_colour[r.effect] for r in part.itertuples()]
            ax2.barh(yy, part["n_unsafe_examples"], color=colors)
            ax2.set_yticks(yy, [f"{r.topic}\n{r.before}→{r.after}" for r in part.itertuples()], fontsize=7)
            ax2.invert_yaxis()
        else:
            ax2.text(0.5, 0.5, "no change moves\nthis suite's ground truth", ha="center", va="center", transform=ax2.transAxes, fontsize=8)
            ax2.set_yticks([])
        ax2.set_xlabel("unsafe examples with the topic", fontsize=8)
        if k == 0:
            ax2.set_ylabel("topics whose change moves ground truth\n(green: relaxed, vermilion: tightened,\nsky blue: moved category)", fontsize=8)
    fig.suptitle("Policy drift: how scores move between consecutive policy versions, and which topics move them", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def write_charts(run: Any, out_dir: Path | None = None, *, reference_policy: str = REFERENCE_VERSION) -> list[Path]:
    """Write every chart of a run (stored, :func:`harness.load_run`, or in memory) as PNG and SVG.

    Ground truth comes from the policies recorded with the run, not from today's policy files.
    """
    from harness.scoring import bound_to

    out_dir = Path(out_dir) if out_dir else run.path / "charts"
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = run.metrics
    pols = sorted(run.policies, key=lambda p: p.id)
    ref_pol = next((p for p in pols if p.id == reference_policy), pols[0])
    ref = ref_pol.id
    suite = run.suite
    ref_preds = bound_to(run.predictions, ref)
    ra = run.options.restricted_as
    figs = {
        "recall_across_versions": metric_across_versions(metrics, "recall"),
        "precision_across_versions": metric_across_versions(metrics, "precision"),
        "latency_quality": latency_quality(metrics, run.latency, quality="f1", policy=ref),
        f"heatmap_f1_{ref}": heatmap(metrics, policy=ref, metric="f1"),
        f"heatmap_ap_{ref}": heatmap(metrics, policy=ref, metric="average_precision"),
        f"pr_curves_{ref}": pr_curves(suite, ref_preds, ref_pol, restricted_as=ra),
        "policy_drift": policy_drift(metrics, suite, pols, restricted_as=ra),
    }
    written = []
    for name, fig in figs.items():
        for ext in ("png", "svg"):
            path = out_dir / f"{name}.{ext}"
            fig.savefig(path, dpi=110 if ext == "png" else None)
            written.append(path)
        plt.close(fig)
    return written
