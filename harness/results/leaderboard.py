"""The published leaderboard: ``results/leaderboard.{md,json,html}`` from a stored run.

Per policy version and category, each system's precision, recall, F1 and average precision
with 95% bootstrap CIs, ranked by one metric; a system whose difference from the one ranked
above it is not significant (paired bootstrap on the same resamples, two-sided p >= alpha) is
marked *tied*. Latency p50/p95 and provenance (suite name, version and hash, policy version,
classifier versions, date, commit) come from the run manifest.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import metrics as M
from harness.runner.atomic import write_json, write_text

METRIC_COLUMNS = ("precision", "recall", "f1", "average_precision")


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def build_leaderboard(run: Any, *, rank_by: str = "f1", alpha: float = 0.05, n_resamples: int = 1000,
                      seed: int = 0, restricted_as: str | None = None) -> dict[str, Any]:
    """The leaderboard of a stored run as a JSON-able dict."""
    from harness.policies import load_policy
    from harness.runner.scoring import category_scores

    if rank_by not in METRIC_COLUMNS:
        raise ValueError(f"rank_by must be one of {METRIC_COLUMNS}")
    man = run.manifest
    restricted_as = restricted_as or man.get("options", {}).get("restricted_as", "violation")
    threshold = float(man.get("options", {}).get("threshold", 0.5))
    suite = run.to_suite()
    preds = run.load_predictions()
    lat = run.latency
    latency_by = {}
    for _, r in lat.iterrows():
        thr = None if r.get("batch_reused_embeddings", False) else r.get("throughput_items_per_s")
        latency_by.setdefault(r["classifier"], (r.get("p50_s"), r.get("p95_s"), thr))
    rows: list[dict[str, Any]] = []
    categories: dict[str, list[str]] = {}
    for pid in sorted(run.metrics["policy_version"].unique()):
        pol = load_policy(pid)
        categories[pid] = list(pol.category_keys)
        Y = suite.labels(pol, restricted_as=restricted_as)
        bound = [p for p in preds if p.binding in ("", pid)]
        proj = {p.name: (p, *category_scores(p, pol, restricted_as=restricted_as)) for p in bound}
        mdf = run.metrics[run.metrics["policy_version"] == pid]
        for j, cat in enumerate(pol.category_keys):
            part = mdf[mdf["category"] == cat].copy()
            part = part.sort_values(["covered", rank_by, "classifier"], ascending=[False, False, True],
                                    na_position="last")
            above = None
            for rank, r in enumerate(part.itertuples(index=False), start=1):
                rec: dict[str, Any] = {
                    "policy_version": pid, "category": cat, "rank": rank, "classifier": r.classifier,
                    "classifier_version": r.classifier_version, "covered": bool(getattr(r, "covered", True)),
                    "n_positive": int(getattr(r, "n_positive", 0) or 0), "n_negative": int(getattr(r, "n_negative", 0) or 0),
                    "n_errors": int(getattr(r, "n_errors", 0) or 0),
                }
                for m in METRIC_COLUMNS:
                    rec[m] = _finite(getattr(r, m, None))
                    rec[f"{m}_low"] = _finite(getattr(r, f"{m}_low", None))
                    rec[f"{m}_high"] = _finite(getattr(r, f"{m}_high", None))
                p50, p95, thr = latency_by.get(r.classifier, (None, None, None))
                rec["p50_ms"] = None if _finite(p50) is None else 1000 * float(p50)
                rec["p95_ms"] = None if _finite(p95) is None else 1000 * float(p95)
                rec["throughput_items_per_s"] = _finite(thr)
                rec["tied_with_above"] = False
                rec["p_value_vs_above"] = None
                if above is not None and rec["covered"] and r.classifier in proj and above in proj:
                    pa_, Sa, _ = proj[above]
                    pb_, Sb, _ = proj[r.classifier]
                    valid = suite.scored_mask & ~pa_.error_mask & ~pb_.error_mask
                    y = Y[valid, j]
                    if 0 < y.sum() < len(y):
                        res = M.paired_bootstrap(rank_by, y, Sa[valid, j], Sb[valid, j], n_resamples=n_resamples,
                                                 seed=seed, threshold=threshold)
                        p = _finite(res.p_value)
                        rec["p_value_vs_above"] = p
                        rec["tied_with_above"] = bool(p is not None and p >= alpha)
                rows.append(rec)
                above = r.classifier
    provenance = {
        "run_id": man.get("run_id"),
        "suite": man.get("suite", {}),
        "policy_versions": man.get("policy_versions"),
        "classifiers": sorted({(c["name"], c["version"]) for c in man.get("classifiers", [])}),
        "date": man.get("finished"),
        "commit": man.get("git", {}).get("commit"),
        "packages": man.get("packages", {}),
        "machine": man.get("machine", {}),
        "options": man.get("options", {}),
    }
    provenance["classifiers"] = [{"name": n, "version": v} for n, v in provenance["classifiers"]]
    return {
        "title": "PolicyBench leaderboard",
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rank_by": rank_by, "alpha": alpha, "n_resamples": n_resamples,
        "provenance": provenance,
        "policies": sorted(categories), "categories": categories,
        "rows": rows,
    }


def _fmt(v: Any, lo: Any = None, hi: Any = None) -> str:
    if v is None:
        return "–"
    s = f"{v:.3f}"
    if lo is not None and hi is not None:
        s += f" [{lo:.2f}, {hi:.2f}]"
    return s


def _md_escape(text: Any) -> str:
    return html.escape(str(text)).replace("|", "\\|").replace("\n", " ")


def to_markdown(board: dict[str, Any]) -> str:
    prov = board["provenance"]
    suite = prov.get("suite", {})
    lines = [
        f"# {board['title']}", "",
        f"Suite **{_md_escape(suite.get('name'))}** {_md_escape(suite.get('version'))} (split {_md_escape(suite.get('split'))}, "
        f"{suite.get('n_examples')} examples, sha256 `{str(suite.get('data_hash', ''))[:16]}…`); run `{_md_escape(prov.get('run_id'))}`, "
        f"commit `{str(prov.get('commit'))[:12]}`, {_md_escape(prov.get('date'))}.", "",
        f"Ranked by {board['rank_by']} within each policy version × category; values are point estimates with "
        f"95% bootstrap CIs ({board['n_resamples']} resamples). **≈** marks a system not significantly different "
        f"from the one above it (paired bootstrap, p ≥ {board['alpha']}). Categories a classifier does not "
        f"speak are listed last as *not covered*.", "",
        "Classifiers: " + ", ".join(f"{_md_escape(c['name'])} {_md_escape(c['version'])}" for c in prov.get("classifiers", [])), "",
    ]
    df = pd.DataFrame(board["rows"])
    for pid in board["policies"]:
        lines += [f"## Policy {pid}", ""]
        sub = df[(df["policy_version"] == pid) & df["covered"]]
        macro = sub.groupby("classifier")[["precision", "recall", "f1", "average_precision"]].mean().sort_values(board["rank_by"], ascending=False)
        lines += ["### Macro average over covered categories", "",
                  "| classifier | precision | recall | F1 | AP |", "|---|---:|---:|---:|---:|"]
        for clf, r in macro.iterrows():
            lines.append(f"| {_md_escape(clf)} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | {_fmt(r['average_precision'])} |")
        lines.append("")
        for cat in board["categories"][pid]:
            part = df[(df["policy_version"] == pid) & (df["category"] == cat)]
            if part.empty:
                continue
            npos, nneg = int(part["n_positive"].max()), int(part["n_negative"].max())
            lines += [f"### {pid} · {cat} ({npos} positive, {nneg} negative)", "",
                      "| # | classifier | precision | recall | F1 | AP | p50 ms | p95 ms |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
            for r in part.sort_values(["covered", "rank"], ascending=[False, True]).to_dict("records"):
                tie = " ≈" if r["tied_with_above"] else ""
                name = _md_escape(r["classifier"]) + ("" if r["covered"] else " *(not covered)*")
                lat = lambda k: "–" if r.get(k) is None or r.get(k) != r.get(k) else f"{r[k]:.2f}"  # noqa: E731
                lines.append(
                    f"| {r['rank']}{tie} | {name} | {_fmt(r['precision'], r['precision_low'], r['precision_high'])} | "
                    f"{_fmt(r['recall'], r['recall_low'], r['recall_high'])} | {_fmt(r['f1'], r['f1_low'], r['f1_high'])} | "
                    f"{_fmt(r['average_precision'], r['average_precision_low'], r['average_precision_high'])} | {lat('p50_ms')} | {lat('p95_ms')} |")
            lines.append("")
    return "\n".join(lines) + "\n"


def _json_for_script(obj: Any) -> str:
    """JSON safe to embed in ``<script type="application/json">``: no ``<``, ``>``, ``&`` or line separators."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def to_html(board: dict[str, Any]) -> str:
    from harness.results._page import PAGE

    title = html.escape(board["title"])
    return PAGE.replace("{{TITLE}}", title).replace("{{DATA}}", _json_for_script(board))


def _clean(obj: Any) -> Any:
    """Replace NaN/inf by None, recursively (strict JSON)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating,)):
        return _clean(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_leaderboard(run: Any, out_dir: Path, **kwargs: Any) -> dict[str, Path]:
    """Build and write ``leaderboard.md``, ``leaderboard.json`` and ``leaderboard.html`` (atomically)."""
    out_dir = Path(out_dir)
    board = _clean(build_leaderboard(run, **kwargs))
    paths = {"json": out_dir / "leaderboard.json", "md": out_dir / "leaderboard.md", "html": out_dir / "leaderboard.html"}
    write_json(paths["json"], board)
    write_text(paths["md"], to_markdown(board))
    write_text(paths["html"], to_html(board))
    return paths
