"""The self-contained HTML template of the leaderboard (no CDN, works offline).

Data is embedded as JSON in a ``<script type="application/json">`` block (with ``<``, ``>`` and
``&`` escaped) and rendered with ``textContent`` only, so no string from a dataset, a card or a
classifier is ever parsed as HTML.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{{TITLE}}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; color: #111; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  .controls { display: flex; gap: 1.2rem; flex-wrap: wrap; margin: 1rem 0; align-items: end; }
  label { font-weight: 600; display: flex; flex-direction: column; gap: .2rem; }
  select { font-size: 1rem; padding: .25rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { padding: .35rem .5rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
  th:nth-child(2), td:nth-child(2) { text-align: left; }
  th { cursor: pointer; background: #f3f3f3; position: sticky; top: 0; user-select: none; }
  th[aria-sort="ascending"]::after { content: " ▲"; }
  th[aria-sort="descending"]::after { content: " ▼"; }
  tr.uncovered td { color: #777; }
  .ci { color: #555; font-size: .85em; }
  .tie { color: #0072B2; font-weight: 700; }
  .note { color: #444; font-size: .92rem; }
  details { margin-top: 1.5rem; }
  pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: .82rem; }
</style>
</head>
<body>
<h1 id="title"></h1>
<p class="note" id="summary"></p>
<div class="controls">
  <label>Policy version <select id="policy"></select></label>
  <label>Category <select id="category"></select></label>
</div>
<table id="board" aria-live="polite">
  <thead><tr id="head"></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p class="note" id="baselines"></p>
<p class="note">Contrast columns: on this category's unsafe rows and the benign twins that imitate them.
≈ = not significantly different from the leader, rank 1 (paired bootstrap on the same resamples).
In-distribution: trained on the train split of the suite it is scored on. – = undefined (e.g. no positives).
Brackets give 95% bootstrap confidence intervals. Greyed rows: the classifier does not cover this category.</p>
<details><summary>Provenance</summary><pre id="provenance"></pre></details>
<script type="application/json" id="leaderboard-data">{{DATA}}</script>
<script>
"use strict";
(function () {
  const board = JSON.parse(document.getElementById("leaderboard-data").textContent);
  const $ = (id) => document.getElementById(id);
  const columns = [
    ["rank", "#"], ["classifier", "classifier"], ["contrast_recall", "contrast recall"],
    ["contrast_fpr", "over-blocking (FPR on twins)"], ["contrast_roc_auc", "contrast AUC"],
    ["precision", "precision"], ["recall", "recall"],
    ["f1", "F1"], ["average_precision", "AP"], ["n_positive", "positives"], ["n_negative", "negatives"],
    ["p50_ms", "p50 ms"], ["p95_ms", "p95 ms"]
  ];
  const withCI = new Set(board.ci_columns);
  let sortKey = "rank", sortDir = 1;

  $("title").textContent = board.title;
  const s = board.provenance.suite || {};
  $("summary").textContent = "Suite " + s.name + " " + s.version + " (" + s.split + " split, " + s.n_examples +
    " examples). Ranked by " + board.rank_by + ". Run " + board.provenance.run_id + ", commit " +
    String(board.provenance.commit).slice(0, 12) + ", " + board.provenance.date + ".";
  $("provenance").textContent = JSON.stringify(board.provenance, null, 2);

  function option(sel, value, text) {
    const o = document.createElement("option");
    o.value = value; o.textContent = text; sel.appendChild(o);
  }
  board.policies.forEach((p) => option($("policy"), p, p));
  $("policy").value = board.policies.includes(board.reference_policy) ? board.reference_policy : board.policies[0];

  function fillCategories() {
    const sel = $("category"), keep = sel.value;
    while (sel.firstChild) sel.removeChild(sel.firstChild);
    (board.categories[$("policy").value] || []).forEach((c) => option(sel, c, c));
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }

  function header() {
    const tr = $("head");
    while (tr.firstChild) tr.removeChild(tr.firstChild);
    columns.forEach(([key, label]) => {
      const th = document.createElement("th");
      th.textContent = label; th.dataset.key = key; th.scope = "col";
      if (key === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      th.addEventListener("click", () => {
        if (sortKey === key) sortDir = -sortDir; else { sortKey = key; sortDir = (key === "rank" || key === "classifier" || key.endsWith("_ms")) ? 1 : -1; }
        render();
      });
      tr.appendChild(th);
    });
  }

  function fmt(v) { return (v === null || v === undefined) ? "–" : Number(v).toFixed(3); }

  function render() {
    header();
    const pol = $("policy").value, cat = $("category").value;
    const rows = board.rows.filter((r) => r.policy_version === pol && r.category === cat);
    rows.sort((a, b) => {
      if (a.covered !== b.covered) return a.covered ? -1 : 1;
      const x = a[sortKey], y = b[sortKey];
      if (x === y) return a.rank - b.rank;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    const base = ((board.baselines || {})[pol] || {})[cat];
    $("baselines").textContent = base ? ("What style alone scores here: a length + first-two-words model reaches " +
      "contrast AUC " + fmt(base.surface_auc) + ", a source-only model " + fmt(base.source_auc) +
      " (0.5 = chance; fitted on the train split).") : "";
    const body = $("rows");
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach((r) => {
      const tr = document.createElement("tr");
      if (!r.covered) tr.className = "uncovered";
      columns.forEach(([key]) => {
        const td = document.createElement("td");
        if (key === "rank") {
          td.textContent = r.rank === null ? "–" : String(r.rank);
          if (r.tied_with_leader) {
            const t = document.createElement("span");
            t.className = "tie"; t.textContent = " ≈";
            t.title = "p = " + fmt(r.p_value_vs_leader) + " vs the leader";
            td.appendChild(t);
          }
        } else if (key === "classifier") {
          td.textContent = r.classifier + " " + r.classifier_version + (r.covered ? "" : " (not covered)") +
            (r.in_distribution ? " (in-distribution)" : "");
        } else if (withCI.has(key)) {
          td.textContent = (r[key] === null && key === "average_precision" && r.n_positive === 0) ? "no positives" : fmt(r[key]);
          if (r[key + "_low"] !== null && r[key + "_low"] !== undefined) {
            const ci = document.createElement("span");
            ci.className = "ci";
            ci.textContent = " [" + Number(r[key + "_low"]).toFixed(2) + ", " + Number(r[key + "_high"]).toFixed(2) + "]";
            td.appendChild(ci);
          }
        } else if (key.endsWith("_ms")) {
          td.textContent = (r[key] === null || r[key] === undefined) ? "–" : Number(r[key]).toFixed(2);
        } else {
          td.textContent = String(r[key]);
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  $("policy").addEventListener("change", () => { fillCategories(); render(); });
  $("category").addEventListener("change", render);
  fillCategories();
  render();
})();
</script>
</body>
</html>
"""
