"""Build the built-in suites from ``datasets/sources`` (``policybench suites build``).

One pool for all suites: every source is read (:mod:`~harness.suites.sources`), exact and
near duplicates are removed across all of them (:mod:`~harness.suites.dedupe`), and every
split group gets one split (:mod:`~harness.suites.split`) with test quotas computed on the
whole pool (= ``core``). Each suite is a subset of the pool, so a text has the same split in
every suite: nothing in one suite's test split appears in another suite's train split.
Suites are written into a temporary folder and moved into place at the end.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.errors import InputError, Problem
from harness.paths import as_umask, sources_dir, suites_dir
from harness.suites.cards import (REFERENCE_POLICY, PolicyView, count_table, drift_topics, dump_yaml,
                                  policy_view, render_readme)
from harness.suites.dedupe import THRESHOLD, dedupe
from harness.suites.normalize import stable_unit, text_hash
from harness.suites.schema import COLUMNS
from harness.suites.sources import CURATED, SOURCES, SourceRow, read_source
from harness.suites.split import assign_splits

SEED = "policybench-suites-2"
VERSION = "2.0.0"
CATEGORY_QUOTA = 150   # unsafe and benign test examples per reference category (core)
DRIFT_QUOTA = 30       # minimal pairs in test per topic whose verdict changes between versions
DEV_QUOTA = 20         # unsafe and benign dev examples per reference category
TEST_SHARE = 0.70      # of the groups that may be evaluated on (the rest: dev, then train)
DEV_SHARE = 0.12
#: Rows at this char-5-gram Jaccard or above share a split group (removal stays at THRESHOLD).
GROUP_THRESHOLD = 0.5
#: Sources whose rows may be evaluated on (dev/test): the curated minimal pairs, and public
#: sources that supply both labels from shared templates (HateCheck functional tests, ToxiGen
#: statements about the same groups). Every other public source supplies one label per
#: category, so its source (and style) would predict the label: its rows are kept for training
#: only (split ``train``), with the label audits in ``datasets/sources/<name>/audit.yaml``.
EVAL_SOURCES = frozenset({CURATED, "hatecheck", "toxigen"})
SMOKE_PER_CELL = 11    # smoke: minimal pairs per category, drawn from core's test split


@dataclass
class Pool:
    """The de-duplicated, split rows every suite is drawn from."""

    rows: list[SourceRow]
    splits: list[str]
    view: PolicyView
    drift: list[str]
    stats: dict
    groups: list[str]  # the split group of each row (rows of one group always share a split)
    all_hatecheck: list[SourceRow]  # every HateCheck row read, before de-duplication (for the card)


def _sanitize(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("_")


def build_pool(root: Path | None = None, *, log: Callable[[str], None] = lambda s: None) -> Pool:
    """Read, de-duplicate and split every source under ``root`` (default ``datasets/sources``)."""
    root = root or sources_dir()
    rows: list[SourceRow] = []
    rank: list[int] = []
    read, unmapped = {}, {}
    for k, name in enumerate(SOURCES):
        got, dropped = read_source(name, root)
        read[name], unmapped[name] = len(got) + dropped, dropped
        rows += got
        rank += [k] * len(got)
    log(f"read {len(rows)} rows from {len(SOURCES)} sources")
    # curated pairs win ties: a public row that duplicates a twin is dropped, not the twin
    prio = {name: (0 if name == CURATED else 1) for name in SOURCES}
    res = dedupe([r.text for r in rows], [r.label for r in rows], priority=lambda i: (prio[rows[i].source], rank[i], i),
                 hints=[f"{r.source}:{r.group_hint}" if r.group_hint else "" for r in rows],
                 group_threshold=GROUP_THRESHOLD)
    log(f"kept {len(res.kept)}; dropped {res.count('exact')} exact, {res.count('near')} near duplicates, "
        f"{res.count('conflict')} with conflicting labels")
    view = policy_view()
    drift = drift_topics()
    groups: dict[int, list[int]] = {}
    for i in res.kept:
        groups.setdefault(res.group[i], []).append(i)
    # a twin's half dropped as a duplicate orphans the other half: drop it too; a training-only
    # row in a pair's group (a paraphrase of a twin) is dropped so that nothing leaks into test
    pair_rows = Counter(rows[i].pair_id for i in res.kept if rows[i].pair_id)
    orphans = leaks = 0
    kept_idx: list[int] = []
    for g in sorted(groups):
        members = groups[g]
        has_pair = any(rows[i].pair_id for i in members)
        for i in members:
            r = rows[i]
            if r.pair_id and pair_rows[r.pair_id] != 2:
                orphans += 1
            elif has_pair and r.source not in EVAL_SOURCES:
                leaks += 1
            else:
                kept_idx.append(i)
    kept_idx.sort()
    kept = [rows[i] for i in kept_idx]
    log(f"dropped {orphans} twins whose other half was a duplicate, {leaks} training rows near a twin")
    # quota cells per split group
    gof = {i: res.group[i] for i in kept_idx}
    by_group: dict[int, list[int]] = {}
    for k, i in enumerate(kept_idx):
        by_group.setdefault(gof[i], []).append(k)
    gids = sorted(by_group)
    keys, cells, fixed = [], [], []
    for g in gids:
        members = by_group[g]
        keys.append(min(text_hash(kept[k].text) for k in members))
        fixed.append(None if all(kept[k].source in EVAL_SOURCES for k in members) else "train")
        c: Counter = Counter()
        for k in members:
            r = kept[k]
            if r.label == "unknown":
                continue
            for cat in view.categories_of(r.topics, r.label):
                c[("category", cat, r.label)] += 1
            if r.pair_id and r.label == "unsafe":
                for t in r.topics[:1]:
                    if t in drift:
                        c[("topic", t, "pairs")] += 1
        cells.append(c)
    quotas = {("category", cat, lab): CATEGORY_QUOTA for cat in view.categories for lab in ("unsafe", "benign")}
    quotas.update({("topic", t, "pairs"): DRIFT_QUOTA for t in drift})
    dev_quotas = {("category", cat, lab): DEV_QUOTA for cat in view.categories for lab in ("unsafe", "benign")}
    gsplit = assign_splits(keys, cells, quotas, seed=SEED, test_share=TEST_SHARE, dev_share=DEV_SHARE,
                           fixed=fixed, dev_quotas=dev_quotas)
    splits = [""] * len(kept)
    group_keys = [""] * len(kept)
    for g, s, key in zip(gids, gsplit, keys):
        for k in by_group[g]:
            splits[k] = s
            group_keys[k] = key[:16]
    per_source = Counter(r.source for r in kept)
    stats = {
        "rows_read": sum(read.values()),
        "dropped_unmappable": sum(unmapped.values()),
        "dropped_exact_duplicates": res.count("exact"),
        "dropped_near_duplicates": res.count("near"),
        "dropped_label_conflicts": res.count("conflict"),
        "dropped_orphaned_twins": orphans,
        "dropped_training_rows_near_a_twin": leaks,
        "kept": len(kept),
        "near_duplicate_threshold": THRESHOLD,
        "split_group_threshold": GROUP_THRESHOLD,
        "per_source": {n: {"read": read[n], "unmappable": unmapped[n], "kept": per_source.get(n, 0)}
                       for n in SOURCES},
    }
    return Pool(rows=kept, splits=splits, view=view, drift=drift, stats=stats, groups=group_keys,
                all_hatecheck=[r for r in rows if r.source == "hatecheck"])


# ----------------------------------------------------------------------------- suite subsets
HATE_TOPICS = frozenset({"hate", "harassment", "violence_glorification", "terrorism"})
MALWARE_TOPICS = frozenset({"malware", "hacking_intrusion"})


def _is_lookalike(r: SourceRow) -> bool:
    if r.source == CURATED:
        return True
    return r.source == "coconot" and r.subset in ("contrast", "pref") and bool(r.topics)


SUITES: dict[str, tuple[str, Callable[[SourceRow], bool]]] = {
    "core": ("All 14 categories of the 2023-02-15 OpenAI usage policy, evaluated on minimal pairs: every unsafe "
             "request has a benign twin of the same form and length that differs only in what the policy cares "
             "about, plus HateCheck and ToxiGen (both labels from shared templates). Public one-label datasets "
             "are kept for training only. The main PolicyBench suite.", lambda r: True),
    "hate": ("Hateful, harassing and violent content: HateCheck functional tests, ToxiGen statements, and the "
             "curated hate/harassment/violence/terrorism minimal pairs of core.",
             lambda r: r.source in ("hatecheck", "toxigen") or bool(HATE_TOPICS & set(r.topics))),
    "malware": ("Malware and intrusion: core's curated malware and hacking minimal pairs (evaluation) and the "
                "audited CyberSecEval MITRE and FRR prompts (training only).",
                lambda r: bool(MALWARE_TOPICS & set(r.topics)) or r.source == "cyberseceval"),
    "overrefusal": ("Over-refusal: benign twins that share the vocabulary and form of a disallowed request (curated "
                    "minimal pairs; CoCoNot contrast and preference prompts for training), with their unsafe twins "
                    "as controls.", _is_lookalike),
    "smoke": ("A small deterministic sample of core's test split: 11 minimal pairs per category (both twins), "
              "for fast tests, notebooks and CI. Not for reporting results.", lambda r: True),
}

#: (sources the limitation concerns, or None for every suite; text)
LIMITATIONS: list[tuple[frozenset[str] | None, str]] = [
    (frozenset({CURATED}),
     "The minimal pairs are written new for PolicyBench with LLM assistance, following the labelling guide "
     "(datasets/suites/LABELLING.md), and checked by the build (form, length within 30%, topics) and by "
     "`policybench suites audit`; they are not real user traffic. Named people, places and companies are "
     "fictional."),
    (None, "Only the curated pairs, HateCheck and ToxiGen are evaluated on (dev/test). The other public datasets "
           "give one label per category, so their source and style predict the label; they are in train only, "
           "with the label audits of datasets/sources/<name>/audit.yaml applied."),
    (frozenset({"advbench", "harmfulqa"}),
     "AdvBench and HarmfulQA have no category labels: their topics are keyword-mapped (label_provenance=mapped); "
     "HarmfulQA questions the keywords cannot map, or that are not requests to do harm, are dropped."),
    (None, "Topics of public rows come from each source's own labels, refined by keywords inside the labelled "
           "family; the keyword refinement is approximate (see datasets/sources/<name>/topic_map.yaml)."),
    (None, "Exact duplicates and near duplicates (Jaccard >= 0.8 over character 5-grams, same label) are removed "
           "across all sources; rows at Jaccard >= 0.5, minimal pairs, HateCheck templates and SafeText scenarios "
           "each stay within one split."),
    (frozenset({"hatecheck"}),
     "HateCheck spelling-variation cases (leet speak, added or removed spaces, swapped characters) that are near "
     "duplicates of their originals are removed or share their original's split group; the counts kept are in "
     "this card's README (rows by HateCheck functionality)."),
    (frozenset({"safetext"}), "SafeText rows are advice statements (output-side text), not user requests."),
    (frozenset({"forbidden_question_set", "jailbreakbench", "harmbench", "advbench", "strongreject"}),
     "The upstream MIT notices of forbidden_question_set, JailbreakBench, HarmBench, AdvBench and StrongREJECT "
     "were added from the known upstream licences; the files were copied from redistributing repositories and "
     "their bytes were not re-verified against upstream."),
    (frozenset({"toxigen"}),
     "ToxiGen is released under MIT + CDLA-Permissive-2.0, but its README states the data is intended for "
     "research purposes only: do not use this suite commercially without review."),
]
SUITE_LIMITATIONS: dict[str, list[str]] = {
    "core": ["Under versions other than 2023-02-15 some categories have few or no positives (e.g. adult in "
             "2025-10-29); such cells are reported as undefined, never as 0."],
    "overrefusal": ["Unsafe rows are controls; benign look-alikes are the point of this suite (report false "
                    "positive rates on them)."],
    "smoke": ["11 minimal pairs per category: far too few for reporting; use core for results."],
}


def _smoke_indices(pool: Pool, core: list[int]) -> list[int]:
    test = [i for i in core if pool.splits[i] == "test" and pool.rows[i].pair_id]
    twins: dict[str, list[int]] = {}
    for i in test:
        twins.setdefault(pool.rows[i].pair_id, []).append(i)
    order = sorted(twins, key=lambda p: (stable_unit(SEED, "smoke", p), p))
    chosen: set[int] = set()
    have: Counter = Counter()
    for cat in pool.view.categories:
        for p in order:
            if have[cat] >= SMOKE_PER_CELL:
                break
            members = twins[p]
            unsafe = [i for i in members if pool.rows[i].label == "unsafe"]
            if len(members) == 2 and unsafe and cat in pool.view.categories_of(pool.rows[unsafe[0]].topics, "unsafe") \
                    and not chosen.intersection(members):
                chosen.update(members)
                for c in pool.view.categories_of(pool.rows[unsafe[0]].topics, "unsafe"):
                    have[c] += 1
    return sorted(chosen)


def _example(name: str, r: SourceRow, split: str, group: str) -> dict:
    row = dict(zip(COLUMNS, (_sanitize(f"{name}-{r.source}-{r.source_row}"), r.text, list(r.topics), r.label,
                             split, r.source, r.source_row, r.license, r.label_provenance)))
    row["review"] = r.review
    row["group"] = group
    if r.pair_id:
        row.update(pair_id=r.pair_id, form=r.form, contrast=r.contrast)
    return row


def _card_audit(folder: Path, name: str) -> dict:
    """The shortcut audit of a written suite, rounded for its card (deterministic)."""
    from harness.suites.audit import audit_suite
    from harness.suites.load import read_examples
    from harness.suites.suite import Suite

    suite = Suite.from_examples(name, read_examples(folder / "examples.jsonl"))
    split = "test" if any(e.split == "test" for e in suite.examples) else "train"
    a = audit_suite(suite, split=split)
    rnd = lambda v: None if v is None or v != v else round(float(v), 3)  # noqa: E731
    cats = {c: {k: (rnd(v) if isinstance(v, float) else v) for k, v in r.items()} for c, r in a["categories"].items()}
    return {"generator": "policybench suites audit", "policy": a["policy"], "split": a["split"], "gates": a["gates"],
            "near_duplicates_train_eval": a["near_duplicates_train_eval"], "categories": cats}


def audit_markdown(audit: dict) -> list[str]:
    """The audit section of a suite README."""
    g = audit["gates"]
    lines = ["## Shortcut audit", "",
             f"`policybench suites audit` on the {audit['split']} split, categories of {audit['policy']}: per category, "
             "the ROC-AUC of models that know nothing of the policy at telling the category's unsafe rows from the "
             "benign rows that imitate them (0.5 = chance). (a) length + first two words, (b) source only, each "
             "fitted on train (or 5-fold cross-validated by split group: *cv5*); (c) bag of words fitted on the "
             "other categories only. *Twin nearest*: share of benign twins whose nearest unsafe row (TF-IDF) is "
             f"their own twin. Gates for core: (a) <= {g['surface_auc_max']}, (b) <= {g['source_auc_max']}.", "",
             "| category | unsafe | benign | pairs | fit | (a) surface | (b) source | (c) BoW other | (a) cv5 | (b) cv5 "
             "| twin nearest |", "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
    for c, r in audit["categories"].items():
        lines.append(f"| {c} | {r['n_unsafe']} | {r['n_benign']} | {r['n_pairs']} | {r['fit']} | {f(r['surface_auc'])} | "
                     f"{f(r['source_auc'])} | {f(r['bow_other_auc'])} | {f(r['surface_auc_cv'])} | "
                     f"{f(r['source_auc_cv'])} | {f(r['twin_nearest_share'])} |")
    lines += ["", f"Near-duplicate pairs (char 5-gram Jaccard >= 0.5) between train and {audit['split']}: "
              f"{audit['near_duplicates_train_eval']}."]
    return lines


def write_suite(folder: Path, name: str, pool: Pool, indices: list[int]) -> None:
    """Write ``examples.jsonl``, ``suite.yaml`` and ``README.md`` of one suite into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    examples = sorted((_example(name, pool.rows[i], pool.splits[i], pool.groups[i]) for i in indices), key=lambda e: e["id"])
    ids = [e["id"] for e in examples]
    if len(set(ids)) != len(ids):
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise InputError(Problem(f"suite {name}: id {dup!r} is not unique", field="id"))
    with open(folder / "examples.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for e in examples:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    audit = _card_audit(folder, name)
    present = {e["source"] for e in examples}
    licenses = []
    for src, (_, info) in SOURCES.items():
        if src in present:
            licenses.append({"source": src, "license": info.license, "attribution": info.attribution,
                             "url": info.url, "notes": info.notes})
    table = count_table(examples, pool.view)
    limitations = [text for srcs, text in LIMITATIONS if srcs is None or srcs & present]
    limitations += SUITE_LIMITATIONS.get(name, [])
    card = {
        "name": name,
        "version": VERSION,
        "description": SUITES[name][0],
        "data": "examples.jsonl",
        "reference_policy": REFERENCE_POLICY,
        "licenses": licenses,
        "sources": [l["source"] for l in licenses],
        "build": {"generator": "policybench suites build", "seed": SEED},
        "counts": {"categories": table["categories"], "all": table["totals"]["by_label"],
                   "unsafe_not_violating": table["totals"]["unsafe_not_violating"]},
        "provenance_share": table["provenance_share"],
        "review_share": table["review_share"],
        "quotas": {"category_test_min": CATEGORY_QUOTA, "category_dev_min": DEV_QUOTA, "drift_topic_test_pairs_min": DRIFT_QUOTA,
                   "drift_topics": pool.drift},
        "dedupe": {k: v for k, v in pool.stats.items() if k != "per_source"},
        "limitations": limitations,
        "audit": audit,
    }
    (folder / "suite.yaml").write_text(dump_yaml(card), encoding="utf-8", newline="\n")
    by_source = Counter((e["source"], e["label"]) for e in examples)
    extra = ["## Rows by source", "", "| source | unsafe | benign | unknown |", "|---|---:|---:|---:|"]
    extra += [f"| {l['source']} | {by_source[(l['source'], 'unsafe')]} | {by_source[(l['source'], 'benign')]} | "
              f"{by_source[(l['source'], 'unknown')]} |" for l in licenses]
    if "hatecheck" in present:
        read_func = Counter(r.source_labels[0] for r in pool.all_hatecheck)
        kept_func = Counter(pool.rows[i].source_labels[0] for i in indices if pool.rows[i].source == "hatecheck")
        extra += ["", "HateCheck spelling-variation cases (leet speak, added or removed spaces, swapped or deleted "
                  "characters) kept in this suite:", "", "| functionality | in HateCheck | kept |", "|---|---:|---:|"]
        extra += [f"| {f} | {read_func[f]} | {kept_func[f]} |" for f in sorted(read_func) if f.startswith("spell_")]
    if name == "core":
        extra += ["", "Per source before and after de-duplication (all suites share one pool):", "",
                  "| source | rows read | dropped as unmappable | kept in the pool |", "|---|---:|---:|---:|"]
        extra += [f"| {n} | {v['read']} | {v['unmappable']} | {v['kept']} |" for n, v in pool.stats["per_source"].items()]
    extra += ["", *audit_markdown(audit)]
    (folder / "README.md").write_text(render_readme(card, table, extra="\n".join(extra)), encoding="utf-8",
                                      newline="\n")


def install(staged: Path, final: Path, *, trash: Path) -> Path:
    """Move a fully written ``staged`` folder to ``final``, replacing it (old copy moved to ``trash``)."""
    if final.exists():
        final.rename(trash)
    staged.rename(final)
    return final


def build_suites(names: list[str] | None = None, *, out_dir: Path | None = None,
                 progress: bool = True) -> dict[str, Path]:
    """Build the built-in suites (all by default) and return ``{name: folder}``.

    Deterministic: the same sources give byte-identical files. Everything is written to a
    temporary folder next to ``out_dir`` first and moved into place at the end.

    Examples
    --------
    The built-in suites (``build_suites(["smoke"], out_dir=tmp)`` builds one into ``tmp``):

    >>> list(SUITES)
    ['core', 'hate', 'malware', 'overrefusal', 'smoke']
    """
    names = list(SUITES) if not names else list(dict.fromkeys(names))
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise InputError(Problem(f"unknown suite(s) {unknown}; built-in suites: {', '.join(SUITES)}", field="name"))
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        if progress:
            print(f"[suites build {time.perf_counter() - t0:5.1f}s] {msg}", file=sys.stderr)

    pool = build_pool(log=log)
    out_dir = Path(out_dir) if out_dir else suites_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    core = list(range(len(pool.rows)))
    tmp = Path(tempfile.mkdtemp(prefix=".suites-build-", dir=out_dir))
    as_umask(tmp, directory=True)
    try:
        for name in names:
            if name == "smoke":
                idx = _smoke_indices(pool, core)
            else:
                keep = SUITES[name][1]
                idx = [i for i in core if keep(pool.rows[i])]
            write_suite(tmp / name, name, pool, idx)
            log(f"wrote {name}: {len(idx)} examples")
        result = {}
        for name in names:
            result[name] = install(tmp / name, out_dir / name, trash=tmp / f".old-{name}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"done in {time.perf_counter() - t0:.1f}s")
    return result
