"""Policy drift: how each system's scores move between consecutive versions, and which topics move them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harness.charts._display import GridDisplay, figure_legend
from harness.charts._style import NEUTRAL, roster, system_style

#: Topic bars are not systems: neutral greys and hatches, never a system's hue.
EFFECT_STYLE: dict[str, dict[str, Any]] = {"relaxed": {"facecolor": "#DDDDDD", "hatch": None, "edgecolor": "#555555"},
                "tightened": {"facecolor": "#555555", "hatch": None, "edgecolor": "#555555"},
                "moved": {"facecolor": "white", "hatch": "///", "edgecolor": "#555555"}}


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


def drift_deltas(metrics: pd.DataFrame, policies: Sequence[Any]) -> pd.DataFrame:
    """Change in each system's macro precision and recall between consecutive versions.

    The macro is over the categories both versions have, where the system covers them and the
    metric is defined (NaN is left out, never 0).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace as P
    >>> m = pd.DataFrame({"classifier": ["a", "a"], "policy_version": ["v1", "v2"], "category": ["x", "x"],
    ...                   "covered": [True, True], "precision": [0.5, 0.7], "recall": [0.4, 0.3]})
    >>> d = drift_deltas(m, [P(id="v1", category_keys=["x"]), P(id="v2", category_keys=["x"])])
    >>> d[["classifier", "d_precision", "d_recall"]].round(2).values.tolist()
    [['a', 0.2, -0.1]]
    """
    rows = []
    df = metrics[metrics["covered"].astype(bool)] if "covered" in metrics else metrics
    for a, b in zip(policies[:-1], policies[1:]):
        common = sorted(set(a.category_keys) & set(b.category_keys))
        part = df[df["category"].isin(common)]
        for clf in sorted(metrics["classifier"].unique()):
            def m(pid: str, metric: str, part: pd.DataFrame = part, clf: str = clf) -> float:
                sel = part[(part["classifier"] == clf) & (part["policy_version"] == pid)][metric].astype(float)
                sel = sel[np.isfinite(sel)]
                return float(sel.mean()) if len(sel) else float("nan")
            rows.append({"from": a.id, "to": b.id, "classifier": clf,
                         "d_precision": m(b.id, "precision") - m(a.id, "precision"),
                         "d_recall": m(b.id, "recall") - m(a.id, "recall")})
    return pd.DataFrame(rows, columns=["from", "to", "classifier", "d_precision", "d_recall"])


class PolicyDriftDisplay(GridDisplay):
    """Top row: Δ macro precision (hollow marker) and Δ recall (filled) per system for each
    transition, in the system's colour and marker. Bottom row: the topics whose change moves
    ground truth, with the number of unsafe examples carrying them. Each row shares one x scale.

    Attributes
    ----------
    deltas, drift : DataFrame (see :func:`drift_deltas`, :func:`drift_table`)
    figure_, axes_ (2 × transitions), ax_
    """

    def __init__(self, deltas: pd.DataFrame, drift: pd.DataFrame, transitions: Sequence[tuple[str, str]], *,
                 systems: Sequence[str] | None = None, top_topics: int = 8) -> None:
        self.deltas, self.drift = deltas, drift
        self.transitions = list(transitions)
        self.systems = roster(systems if systems is not None else deltas["classifier"])
        self.top_topics = top_topics

    def plot(self, fig: Any = None) -> PolicyDriftDisplay:
        n = max(1, len(self.transitions))
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(3.4 * n + 1.6, 8.0), layout="constrained")
        axes = np.asarray(fig.subplots(2, n, squeeze=False, sharex="row"))
        self.figure_, self.axes_, self.ax_ = fig, axes, axes[0][0]
        names = [s for s in self.systems if s in set(self.deltas["classifier"])]
        y = np.arange(len(names))
        for k, (a, b) in enumerate(self.transitions):
            ax = axes[0][k]
            part = self.deltas[(self.deltas["from"] == a) & (self.deltas["to"] == b)].set_index("classifier")
            for i, name in enumerate(names):
                st = system_style(name, self.systems)
                dp = float(part.loc[name, "d_precision"]) if name in part.index else float("nan")
                dr = float(part.loc[name, "d_recall"]) if name in part.index else float("nan")
                for off, d, filled in ((-0.17, dp, False), (0.17, dr, True)):
                    if np.isfinite(d):
                        ax.plot([0, d], [i + off] * 2, color=st["color"], linewidth=1.2)
                        ax.plot([d], [i + off], marker=st["marker"], color=st["color"], markersize=6,
                                markerfacecolor=st["color"] if filled else "white", linestyle="none")
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_yticks(y, names if k == 0 else [""] * len(names), fontsize=8)
            ax.set_ylim(len(names) - 0.5, -0.5)
            ax.set_title(f"{a} → {b}", fontsize=9)
            ax.set_xlabel("Δ macro (shared categories)", fontsize=8)
            ax.grid(alpha=0.3, axis="x")
            ax2 = axes[1][k]
            part2 = self.drift[(self.drift["from"] == a) & (self.drift["to"] == b)].nlargest(self.top_topics,
                                                                                             "n_unsafe_examples")
            if len(part2):
                yy = np.arange(len(part2))
                for j, r in enumerate(part2.itertuples()):
                    ax2.barh(yy[j], r.n_unsafe_examples, **EFFECT_STYLE[r.effect])
                ax2.set_yticks(yy, [f"{r.topic}\n{r.before}→{r.after}" for r in part2.itertuples()], fontsize=7)
                ax2.set_ylim(len(part2) - 0.5, -0.5)
            else:
                ax2.text(0.5, 0.5, "no change moves\nthis suite's ground truth", ha="center", va="center",
                         transform=ax2.transAxes, fontsize=8, color=NEUTRAL)
                ax2.set_yticks([])
            ax2.set_xlabel("unsafe examples with the topic", fontsize=8)
            ax2.grid(alpha=0.3, axis="x")
        axes[1][0].set_ylabel("topics whose change moves ground truth", fontsize=8)
        handles = [Line2D([], [], marker="o", color=NEUTRAL, markerfacecolor="white", linestyle="none"),
                   Line2D([], [], marker="o", color=NEUTRAL, linestyle="none"),
                   *[Patch(label=k, **v) for k, v in EFFECT_STYLE.items()]]
        labels = ["Δ precision (hollow)", "Δ recall (filled)", "topic relaxed", "topic tightened",
                  "topic moved category"]
        figure_legend(fig, handles, labels, ncol=5)
        fig.suptitle("Policy drift: how scores move between consecutive policy versions, and which topics move "
                     "them", fontsize=11)
        return self


def policy_drift(metrics: pd.DataFrame, suite: Any, policies: Sequence[Any], *, top_topics: int = 8,
                 restricted_as: str = "violation", systems: Sequence[str] | None = None,
                 fig: Any = None) -> PolicyDriftDisplay:
    """The policy-drift figure of a run (see :class:`PolicyDriftDisplay`).

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from harness.policies import load_policy
    >>> from harness.suites import Example, Suite
    >>> row = dict(split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")
    >>> suite = Suite.from_examples("demo", [Example(id="1", text="t", label="unsafe", topics=["dating_apps"], **row)])
    >>> old, new = load_policy("2023-02-15"), load_policy("2024-01-10")
    >>> m = pd.DataFrame({"classifier": ["a", "a"], "policy_version": [old.id, new.id], "category": ["adult"] * 2,
    ...                   "covered": [True, True], "precision": [0.5, 0.6], "recall": [0.4, 0.3]})
    >>> d = policy_drift(m, suite, [new, old], fig=Figure(figsize=(6, 6), layout="constrained"))
    >>> d.axes_.shape, d.drift[["topic", "effect"]].values.tolist()
    ((2, 1), [['dating_apps', 'relaxed']])
    """
    pols = sorted(policies, key=lambda p: str(p.date))
    deltas = drift_deltas(metrics, pols)
    drift = drift_table(suite, pols, restricted_as=restricted_as)
    transitions = [(a.id, b.id) for a, b in zip(pols[:-1], pols[1:])]
    names = systems if systems is not None else metrics["classifier"].unique()
    return PolicyDriftDisplay(deltas, drift, transitions, systems=names, top_topics=top_topics).plot(fig=fig)
