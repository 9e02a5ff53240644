"""Build the built-in suites from ``datasets/sources`` (``policybench suites build``).

One pool for all suites: every source is read (:mod:`~harness.suites.sources`), exact and
near duplicates are removed across all of them (:mod:`~harness.suites.dedupe`), and every
split group gets one split (:mod:`~harness.suites.split`) with test quotas computed on the
whole pool (= ``core``). Each suite is a subset of the pool, so a text has the same split in
every suite: nothing in one suite's test split appears in another suite's train split.
Suites are written into a temporary folder and moved into place at the end.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError, Problem
from harness.paths import suites_dir
from harness.policies import Policy
from harness.suites.cards import category_hits, count_table, drift_topics, reference_policy
from harness.suites.dedupe import THRESHOLD, dedupe
from harness.suites.definitions import Sample, SuitesFile, load_definitions
from harness.suites.normalize import dedupe_hash, sanitize_id, stable_unit
from harness.suites.schema import COLUMNS
from harness.suites.source_info import SourceInfo
from harness.suites.sources import SourceRow, read_source, source_infos
from harness.suites.split import assign_splits
from harness.suites.write import install, staging, suite_card, write_card, write_examples

__all__ = ["Pool", "build_pool", "build_suites", "install", "write_suite"]


@dataclass
class Pool:
    """The de-duplicated, split rows every suite is drawn from."""

    rows: list[SourceRow]
    splits: list[str]
    policy: Policy  # the reference policy: its categories are the quota cells
    categories: list[list[str]]  # the reference categories each row counts toward (cards.category_hits)
    drift: list[str]
    stats: dict
    groups: list[str]  # the split group of each row (rows of one group always share a split)
    all_hatecheck: list[SourceRow]  # every HateCheck row read, before de-duplication (for the card)
    spec: SuitesFile  # the definitions the pool was built with
    infos: dict[str, SourceInfo]  # the pool's sources, in pool order


def build_pool(root: Path | None = None, *, spec: SuitesFile | None = None,
               log: Callable[[str], None] = lambda s: None) -> Pool:
    """Read, de-duplicate and split every pool source under ``root`` (default ``datasets/sources``).

    ``spec`` is the suite definitions (default :func:`~harness.suites.definitions.load_definitions`).
    """
    spec = spec or load_definitions(sources_root=root)
    pool_spec = spec.pool
    names = pool_spec.sources
    eval_sources = frozenset(pool_spec.eval_sources)
    infos = source_infos(root)
    rows: list[SourceRow] = []
    rank: list[int] = []
    read, unmapped = {}, {}
    for k, name in enumerate(names):
        got, dropped = read_source(name, infos=infos)
        read[name], unmapped[name] = len(got) + dropped, dropped
        rows += got
        rank += [k] * len(got)
    log(f"read {len(rows)} rows from {len(names)} sources")
    # e.g. curated pairs win ties: a public row that duplicates a twin is dropped, not the twin
    prio = {name: (0 if name in pool_spec.wins_ties else 1) for name in names}
    res = dedupe([r.text for r in rows], [r.label for r in rows], priority=lambda i: (prio[rows[i].source], rank[i], i),
                 hints=[f"{r.source}:{r.group_hint}" if r.group_hint else "" for r in rows],
                 group_threshold=pool_spec.split_group_threshold)
    log(f"kept {len(res.kept)}; dropped {res.count('exact')} exact, {res.count('near')} near duplicates, "
        f"{res.count('conflict')} with conflicting labels")
    policy = reference_policy()
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
            elif has_pair and r.source not in eval_sources:
                leaks += 1
            else:
                kept_idx.append(i)
    kept_idx.sort()
    kept = [rows[i] for i in kept_idx]
    hits = category_hits([r.topics for r in kept], [r.label for r in kept], policy)
    cats_of = [[policy.category_keys[j] for j in row.nonzero()[0]] for row in hits]
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
        keys.append(min(dedupe_hash(kept[k].text) for k in members))
        fixed.append(None if all(kept[k].source in eval_sources for k in members) else "train")
        c: Counter = Counter()
        for k in members:
            r = kept[k]
            if r.label == "unknown":
                continue
            for cat in cats_of[k]:
                c[("category", cat, r.label)] += 1
            if r.pair_id and r.label == "unsafe":
                for t in r.topics[:1]:
                    if t in drift:
                        c[("topic", t, "pairs")] += 1
        cells.append(c)
    q, labs = spec.quotas, ("unsafe", "benign")
    quotas: dict[Hashable, int] = {("category", cat, lab): q.category_test_min for cat in policy.category_keys for lab in labs}
    quotas.update({("topic", t, "pairs"): q.drift_topic_test_pairs_min for t in drift})
    dev_quotas: dict[Hashable, int] = {("category", cat, lab): q.category_dev_min for cat in policy.category_keys for lab in labs}
    gsplit = assign_splits(keys, cells, quotas, seed=spec.seed, test_share=pool_spec.test_share,
                           dev_share=pool_spec.dev_share, fixed=fixed, dev_quotas=dev_quotas)
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
        "split_group_threshold": pool_spec.split_group_threshold,
        "per_source": {n: {"read": read[n], "unmappable": unmapped[n], "kept": per_source.get(n, 0)}
                       for n in names},
    }
    return Pool(rows=kept, splits=splits, policy=policy, categories=cats_of, drift=drift, stats=stats,
                groups=group_keys, all_hatecheck=[r for r in rows if r.source == "hatecheck"], spec=spec,
                infos={n: infos[n] for n in names})


# ----------------------------------------------------------------------------- suites
def _sample_indices(pool: Pool, name: str, indices: list[int], sample: Sample) -> list[int]:
    """Whole minimal pairs of ``sample.split``, ``sample.pairs_per_category`` per reference category.

    Pairs are taken in a seeded order (the build seed, the suite name and the pair id); a pair
    counts toward every category its unsafe twin violates.
    """
    test = [i for i in indices if pool.splits[i] == sample.split and pool.rows[i].pair_id]
    twins: dict[str, list[int]] = {}
    for i in test:
        twins.setdefault(pool.rows[i].pair_id, []).append(i)
    order = sorted(twins, key=lambda p: (stable_unit(pool.spec.seed, name, p), p))
    chosen: set[int] = set()
    have: Counter = Counter()
    for cat in pool.policy.category_keys:
        for p in order:
            if have[cat] >= sample.pairs_per_category:
                break
            members = twins[p]
            unsafe = [i for i in members if pool.rows[i].label == "unsafe"]
            if len(members) == 2 and unsafe and cat in pool.categories[unsafe[0]] \
                    and not chosen.intersection(members):
                chosen.update(members)
                for c in pool.categories[unsafe[0]]:
                    have[c] += 1
    return sorted(chosen)


def suite_indices(pool: Pool, name: str) -> list[int]:
    """The pool rows of suite ``name``: its ``include`` filters, then its ``sample`` if any."""
    suite = pool.spec.suites[name]
    idx = [i for i, r in enumerate(pool.rows) if suite.keeps(r)]
    return _sample_indices(pool, name, idx, suite.sample) if suite.sample else idx


def _example(name: str, r: SourceRow, split: str, group: str) -> dict:
    row = dict(zip(COLUMNS, (sanitize_id(f"{name}-{r.source}-{r.source_row}"), r.text, list(r.topics), r.label,
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
    spec = pool.spec
    examples = sorted((_example(name, pool.rows[i], pool.splits[i], pool.groups[i]) for i in indices), key=lambda e: e["id"])
    ids = [e["id"] for e in examples]
    if len(set(ids)) != len(ids):
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise InputError(Problem(f"suite {name}: id {dup!r} is not unique", field="id"))
    write_examples(folder, examples)
    audit = _card_audit(folder, name)
    present = {e["source"] for e in examples}
    licenses = [{"source": src, "license": info.license, "attribution": info.attribution, "url": info.url,
                 "notes": info.notes} for src, info in pool.infos.items() if src in present]
    table = count_table(examples, pool.policy)
    limitations = [lim.text for lim in spec.limitations if lim.applies(present)] + spec.suites[name].limitations
    card = suite_card(
        name, spec.suites[name].description, version=spec.version, licenses=licenses, table=table,
        build={"generator": "policybench suites build", "seed": spec.seed},
        review_share=table["review_share"],
        quotas={**spec.quotas.model_dump(), "drift_topics": pool.drift},
        dedupe={k: v for k, v in pool.stats.items() if k != "per_source"},
        limitations=limitations,
        audit=audit,
    )
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
    write_card(folder, card, table, extra="\n".join(extra))


def build_suites(names: list[str] | None = None, *, out_dir: Path | None = None,
                 progress: bool = True) -> dict[str, Path]:
    """Build the built-in suites (all by default) and return ``{name: folder}``.

    Deterministic: the same sources give byte-identical files. Everything is written to a
    temporary folder next to ``out_dir`` first and moved into place at the end.

    Which suites exist and what they hold is ``datasets/suites/suites.yaml``
    (:mod:`harness.suites.definitions`).

    Examples
    --------
    The built-in suites (``build_suites(["smoke"], out_dir=tmp)`` builds one into ``tmp``):

    >>> list(load_definitions().suites)
    ['core', 'hate', 'malware', 'overrefusal', 'smoke']
    """
    spec = load_definitions()
    known = list(spec.suites)
    names = known if not names else list(dict.fromkeys(names))
    unknown = [n for n in names if n not in spec.suites]
    if unknown:
        raise InputError(Problem(f"unknown suite(s) {unknown}; built-in suites: {', '.join(known)}", field="name"))
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        if progress:
            print(f"[suites build {time.perf_counter() - t0:5.1f}s] {msg}", file=sys.stderr)

    pool = build_pool(spec=spec, log=log)
    out_dir = Path(out_dir) if out_dir else suites_dir()
    with staging(out_dir, ".suites-build-") as tmp:
        for name in names:
            idx = suite_indices(pool, name)
            write_suite(tmp / name, name, pool, idx)
            log(f"wrote {name}: {len(idx)} examples")
        result = {name: install(tmp / name, out_dir / name, trash=tmp / f".old-{name}") for name in names}
    log(f"done in {time.perf_counter() - t0:.1f}s")
    return result
