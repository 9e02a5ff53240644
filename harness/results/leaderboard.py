"""The published leaderboard: ``results/leaderboard.{md,json,html}`` from a stored run.

Per policy version and category, each system's precision, recall, F1 and average precision
with 95% bootstrap CIs, ranked by one metric; a system whose difference from the leader (rank
1) is not significant (paired bootstrap on the same resamples, two-sided p >= alpha) is marked
*tied with the leader*. Systems that do not cover a category are listed apart, without a rank. Latency p50/p95 and provenance (suite name, version and hash, policy version,
classifier versions, date, commit) come from the run manifest.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness._io import write_json, write_text
from harness.errors import InputError, PolicyBenchError, Problem
from harness.policies import REFERENCE_VERSION, Policy
from harness.scoring import CI_METRICS, CONTRAST_METRICS, ScoredView, bound_to, paired_test
from harness.suites import load_suite
from harness.suites.audit import audit_suite

METRIC_COLUMNS = CI_METRICS  # the all-rows metrics with CIs, and what a board can rank by
CONTRAST_COLUMNS = tuple(f"contrast_{m}" for m in CONTRAST_METRICS)
#: Built-in suites share one pool (core); a model trained on core's train split is in-distribution on all.
_POOL_SUITES = frozenset({"core", "hate", "malware", "overrefusal", "smoke"})


def _baselines(suite_name: str, policies: list[Policy], restricted_as: str) -> dict[str, Any]:
    """The shortcut audit's style (a) and source (b) contrast AUCs per policy version and category.

    Needs the whole suite (its train split); an imported suite without one is cross-validated.
    A suite that cannot be loaded by name gives no baselines.
    """
    try:
        suite = load_suite(suite_name)
    except PolicyBenchError:
        return {}
    out: dict[str, Any] = {}
    for pol in policies:
        a = audit_suite(suite, pol, restricted_as=restricted_as, near_duplicates=False, fast=True)
        out[pol.id] = {c: {"surface_auc": r["surface_auc"], "source_auc": r["source_auc"], "fit": r["fit"]}
                       for c, r in a["categories"].items()}
    return out


def _latency_by_binding(lat: pd.DataFrame) -> dict[tuple[str, str], tuple[Any, Any, Any]]:
    """(classifier, binding) → (p50 s, p95 s, throughput); no throughput where embeddings were reused."""
    out = {}
    for _, r in lat.iterrows():
        thr = None if r.get("batch_reused_embeddings", False) else r.get("throughput_items_per_s")
        binding = r.get("binding") or ""
        out[(r["classifier"], binding if isinstance(binding, str) else "")] = (r.get("p50_s"), r.get("p95_s"), thr)
    return out


def _row(r: Any, pid: str, cat: str, rank: int, in_dist: set[str],
         latency_by: dict[tuple[str, str], tuple[Any, Any, Any]]) -> dict[str, Any]:
    """One leaderboard row from a metrics row (ties are filled in by the caller)."""
    covered = bool(getattr(r, "covered", True))
    rec: dict[str, Any] = {
        "policy_version": pid, "category": cat, "rank": rank if covered else None,
        "classifier": r.classifier, "classifier_version": r.classifier_version, "covered": covered,
        "n_positive": int(getattr(r, "n_positive", 0) or 0), "n_negative": int(getattr(r, "n_negative", 0) or 0),
        "n_errors": int(getattr(r, "n_errors", 0) or 0),
        "in_distribution": r.classifier in in_dist,
        "contrast_n_unsafe": _finite(getattr(r, "contrast_n_unsafe", None)),
        "contrast_n_benign": _finite(getattr(r, "contrast_n_benign", None)),
    }
    for m in METRIC_COLUMNS + CONTRAST_COLUMNS:
        rec[m] = _finite(getattr(r, m, None))
        rec[f"{m}_low"] = _finite(getattr(r, f"{m}_low", None))
        rec[f"{m}_high"] = _finite(getattr(r, f"{m}_high", None))
    # a policy-conditioned system has one latency per binding (version)
    p50, p95, thr = latency_by.get((r.classifier, pid), latency_by.get((r.classifier, ""), (None, None, None)))
    rec["p50_ms"] = None if _finite(p50) is None else 1000 * float(p50)
    rec["p95_ms"] = None if _finite(p95) is None else 1000 * float(p95)
    rec["throughput_items_per_s"] = _finite(thr)
    rec["tied_with_leader"] = False
    rec["p_value_vs_leader"] = None
    return rec


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def build_leaderboard(run: Any, *, rank_by: str = "f1", alpha: float = 0.05, n_resamples: int = 1000,
                      seed: int = 0, restricted_as: str | None = None, baselines: bool = True) -> dict[str, Any]:
    """The leaderboard of a stored run as a JSON-able dict.

    Rows carry the all-rows metrics and the contrast metrics (the category's unsafe rows against
    the benign twins that imitate it); ``baselines`` adds the shortcut audit's style and source
    AUCs per version and category (what a model that knows nothing of the policy scores).
    """
    if rank_by not in METRIC_COLUMNS:
        raise InputError(Problem(f"cannot rank by {rank_by!r}; choose one of {', '.join(METRIC_COLUMNS)}",
                                 field="rank_by"))
    rec = run.record
    restricted_as = restricted_as or run.options.restricted_as
    threshold = float(run.options.threshold)
    suite, preds = run.suite, run.predictions
    in_dist = {c.name for c in rec.classifiers
               if (c.endpoint or {}).get("trained_on", {}).get("suite") in _POOL_SUITES
               and rec.suite.name in _POOL_SUITES}
    latency_by = _latency_by_binding(run.latency)
    rows: list[dict[str, Any]] = []
    categories: dict[str, list[str]] = {}
    for pol in sorted(run.policies, key=lambda p: p.id):
        pid = pol.id
        categories[pid] = list(pol.category_keys)
        view = ScoredView(suite, pol, restricted_as)
        bound = {p.name: p for p in bound_to(preds, pid)}
        mdf = run.metrics[run.metrics["policy_version"] == pid]
        for cat in pol.category_keys:
            part = mdf[mdf["category"] == cat].sort_values(["covered", rank_by, "classifier"],
                                                           ascending=[False, False, True], na_position="last")
            leader = None
            for rank, r in enumerate(part.itertuples(index=False), start=1):
                row = _row(r, pid, cat, rank, in_dist, latency_by)
                if leader is not None and row["covered"] and r.classifier in bound and leader in bound:
                    res = paired_test(view, bound[leader], bound[r.classifier], cat, rank_by,
                                      n_resamples=n_resamples, seed=seed, threshold=threshold)
                    p = None if res is None else _finite(res.p_value)
                    row["p_value_vs_leader"] = p
                    row["tied_with_leader"] = bool(p is not None and p >= alpha)
                rows.append(row)
                if leader is None and row["covered"]:
                    leader = r.classifier
    provenance = {
        "run_id": rec.run_id,
        "format_version": rec.format_version,
        "suite": rec.suite.model_dump(mode="json"),
        "policy_versions": rec.policy_versions,
        "policy_sha256": {p.id: p.sha256 for p in rec.policies},
        "classifiers": [{"name": n, "version": v} for n, v in sorted({(c.name, c.version) for c in rec.classifiers})],
        "date": rec.finished,
        "commit": rec.git.get("commit"),
        "packages": rec.packages,
        "machine": rec.machine,
        "options": rec.options,
    }
    return {
        "title": "PolicyBench leaderboard",
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rank_by": rank_by, "alpha": alpha, "n_resamples": n_resamples, "reference_policy": REFERENCE_VERSION,
        "ci_columns": list(METRIC_COLUMNS + CONTRAST_COLUMNS),
        "provenance": provenance,
        "policies": sorted(categories), "categories": categories,
        "rows": rows,
        "baselines": _baselines(rec.suite.name, sorted(run.policies, key=lambda p: p.id), restricted_as)
        if baselines else {},
    }


def _fmt(v: Any, lo: Any = None, hi: Any = None) -> str:
    v, lo, hi = _finite(v), _finite(lo), _finite(hi)
    if v is None:
        return "–"
    s = f"{v:.3f}"
    if lo is not None and hi is not None:
        s += f" [{lo:.2f}, {hi:.2f}]"
    return s


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!#~])")


def _md_escape(text: Any) -> str:
    """Text safe in a markdown table cell: no HTML, no links, images or emphasis, no cell breaks.

    Examples
    --------
    >>> _md_escape("[click](http://x.example) <b>|</b>")
    '\\\\[click\\\\]\\\\(http://x.example\\\\) &lt;b&gt;\\\\|&lt;/b&gt;'
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))).replace("|", "\\|")


def _ci(row: dict[str, Any], m: str) -> str:
    return _fmt(row.get(m), row.get(f"{m}_low"), row.get(f"{m}_high"))


def _ms(row: dict[str, Any], k: str) -> str:
    v = _finite(row.get(k))
    return "–" if v is None else f"{v:.2f}"


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
        f"from the leader of its category (paired bootstrap, p ≥ {board['alpha']}). Categories a classifier does not "
        f"speak are listed last as *not covered*. **Contrast** columns are measured on the category's unsafe rows "
        f"and the benign minimal-pair twins that imitate them: contrast recall, over-blocking (false-positive rate "
        f"on the twins) and contrast ROC-AUC; the other columns on every scored row. *in-distribution*: trained on "
        f"the train split of this suite's pool. – = undefined (no positives, no predicted positives).", "",
        "Classifiers: " + ", ".join(f"{_md_escape(c['name'])} {_md_escape(c['version'])}" for c in prov.get("classifiers", [])), "",
    ]
    df = pd.DataFrame(board["rows"])
    for pid in board["policies"]:
        lines += [f"## Policy {pid}", ""]
        sub = df[(df["policy_version"] == pid) & df["covered"]]
        cols = list(CONTRAST_COLUMNS + METRIC_COLUMNS)
        grouped = sub.groupby("classifier")[cols]
        macro = grouped.mean().sort_values("contrast_roc_auc", ascending=False, na_position="last")
        counts = grouped.count()
        lines += ["### Macro average over the categories where each number is defined", "",
                  "| classifier | contrast AUC | contrast recall | over-blocking | precision | recall | F1 | AP | categories |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for clf, r in macro.iterrows():
            lines.append(f"| {_md_escape(clf)} | {_fmt(r['contrast_roc_auc'])} | {_fmt(r['contrast_recall'])} | "
                         f"{_fmt(r['contrast_fpr'])} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | "
                         f"{_fmt(r['f1'])} | {_fmt(r['average_precision'])} | "
                         f"{int(counts.loc[clf, 'f1'])} (F1), {int(counts.loc[clf, 'contrast_roc_auc'])} (contrast) |")
        lines.append("")
        for cat in board["categories"][pid]:
            part = df[(df["policy_version"] == pid) & (df["category"] == cat)]
            if part.empty:
                continue
            npos, nneg = int(part["n_positive"].max()), int(part["n_negative"].max())
            nu = _finite(part["contrast_n_unsafe"].max())
            nb = _finite(part["contrast_n_benign"].max())
            lines += [f"### {pid} · {cat} ({npos} positive, {nneg} negative; contrast set {int(nu or 0)} unsafe, "
                      f"{int(nb or 0)} twins)", "",
                      "| # | classifier | contrast recall | over-blocking | contrast AUC | precision | recall | F1 | AP | p50 ms | p95 ms |",
                      "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for r in part.sort_values(["covered", "rank"], ascending=[False, True]).to_dict("records"):
                tie = " ≈" if r["tied_with_leader"] else ""
                rank = int(r["rank"]) if r["covered"] else "–"
                name = (_md_escape(r["classifier"]) + ("" if r["covered"] else " *(not covered)*")
                        + (" *(in-distribution)*" if r.get("in_distribution") else ""))
                ap = "no positives" if npos == 0 else _ci(r, "average_precision")
                lines.append(
                    f"| {rank}{tie} | {name} | {_ci(r, 'contrast_recall')} | {_ci(r, 'contrast_fpr')} | "
                    f"{_ci(r, 'contrast_roc_auc')} | {_ci(r, 'precision')} | {_ci(r, 'recall')} | {_ci(r, 'f1')} | {ap} | "
                    f"{_ms(r, 'p50_ms')} | {_ms(r, 'p95_ms')} |")
            base = board.get("baselines", {}).get(pid, {}).get(cat)
            if base:
                lines.append(f"| – | *style baseline: length + first two words* | – | – | {_fmt(base.get('surface_auc'))} "
                             f"| – | – | – | – | – | – |")
                lines.append(f"| – | *source-only baseline* | – | – | {_fmt(base.get('source_auc'))} | – | – | – | – | – | – |")
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
