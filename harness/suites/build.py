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
from harness.paths import sources_dir, suites_dir
from harness.suites.cards import (REFERENCE_POLICY, PolicyView, count_table, drift_topics, dump_yaml,
                                  policy_view, render_readme)
from harness.suites.dedupe import THRESHOLD, dedupe
from harness.suites.normalize import stable_unit, text_hash
from harness.suites.schema import COLUMNS
from harness.suites.sources import CURATED, SOURCES, SourceRow, read_source
from harness.suites.split import assign_splits

SEED = "policybench-suites-1"
VERSION = "1.0.0"
CATEGORY_QUOTA = 100   # unsafe and benign test examples per reference category (core)
DRIFT_QUOTA = 30       # unsafe test examples per topic whose verdict changes between versions
SMOKE_PER_CELL = 11    # smoke: examples per (category, label) cell, drawn from core's test split
SMOKE_GENERIC = 10     # smoke: benign examples with no category


@dataclass
class Pool:
    """The de-duplicated, split rows every suite is drawn from."""

    rows: list[SourceRow]
    splits: list[str]
    view: PolicyView
    drift: list[str]
    stats: dict


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
    res = dedupe([r.text for r in rows], [r.label for r in rows], priority=lambda i: (rank[i], i),
                 hints=[f"{r.source}:{r.group_hint}" if r.group_hint else "" for r in rows])
    log(f"kept {len(res.kept)}; dropped {res.count('exact')} exact, {res.count('near')} near duplicates, "
        f"{res.count('conflict')} with conflicting labels")
    kept = [rows[i] for i in res.kept]
    view = policy_view()
    drift = drift_topics()
    # quota cells per split group
    groups: dict[int, list[int]] = {}
    for k, i in enumerate(res.kept):
        groups.setdefault(res.group[i], []).append(k)
    gids = sorted(groups)
    keys, cells = [], []
    for g in gids:
        members = groups[g]
        keys.append(min(text_hash(kept[k].text) for k in members))
        c: Counter = Counter()
        for k in members:
            r = kept[k]
            if r.label == "unknown":
                continue
            for cat in view.categories_of(r.topics, r.label):
                c[("category", cat, r.label)] += 1
            if r.label == "unsafe":
                for t in r.topics:
                    if t in drift:
                        c[("topic", t, "unsafe")] += 1
        cells.append(c)
    quotas = {("category", cat, lab): CATEGORY_QUOTA for cat in view.categories for lab in ("unsafe", "benign")}
    quotas.update({("topic", t, "unsafe"): DRIFT_QUOTA for t in drift})
    gsplit = assign_splits(keys, cells, quotas, seed=SEED)
    splits = [""] * len(kept)
    for g, s in zip(gids, gsplit):
        for k in groups[g]:
            splits[k] = s
    per_source = Counter(r.source for r in kept)
    stats = {
        "rows_read": sum(read.values()),
        "dropped_unmappable": sum(unmapped.values()),
        "dropped_exact_duplicates": res.count("exact"),
        "dropped_near_duplicates": res.count("near"),
        "dropped_label_conflicts": res.count("conflict"),
        "kept": len(kept),
        "near_duplicate_threshold": THRESHOLD,
        "per_source": {n: {"read": read[n], "unmappable": unmapped[n], "kept": per_source.get(n, 0)}
                       for n in SOURCES},
    }
    return Pool(rows=kept, splits=splits, view=view, drift=drift, stats=stats)


# ----------------------------------------------------------------------------- suite subsets
def _is_lookalike(r: SourceRow) -> bool:
    if r.source == CURATED:
        return True
    return r.source == "coconot" and r.subset in ("eval", "contrast", "pref") and bool(r.topics)


SUITES: dict[str, tuple[str, Callable[[SourceRow], bool]]] = {
    "core": ("All 14 categories of the 2023-02-15 OpenAI usage policy: public safety datasets mapped to "
             "topics, plus curated examples where public data is thin, with benign contrast examples in "
             "every category. The main PolicyBench suite.", lambda r: True),
    "hate": ("Hateful, harassing and violent content: HateCheck functional tests (hateful cases and their "
             "non-hateful contrasts: counter-speech, negation, reclaimed slurs, identity statements) and "
             "ToxiGen human-written seed statements (implicit hate and neutral statements about the same groups).",
             lambda r: r.source in ("hatecheck", "toxigen")),
    "malware": ("Malware and intrusion: CyberSecEval MITRE ATT&CK prompts (unsafe) with its false-refusal-rate "
                "set of benign security and system-administration requests as contrast.",
                lambda r: r.source == "cyberseceval"),
    "overrefusal": ("Over-refusal: benign look-alikes that share the vocabulary of a disallowed topic "
                    "(CoCoNot contrast and preference prompts, curated XSTest-style contrasts), with the "
                    "matching unsafe requests (CoCoNot safety prompts, curated unsafe) as controls.",
                    _is_lookalike),
    "smoke": ("A small deterministic sample of core's test split: every category with both labels, for fast "
              "tests, notebooks and CI. Not for reporting results.", lambda r: True),
}

#: (sources the limitation concerns, or None for every suite; text)
LIMITATIONS: list[tuple[frozenset[str] | None, str]] = [
    (None, "Topics come from each source's own labels, refined by keywords inside the labelled family; the "
           "keyword refinement is approximate (see datasets/sources/<name>/topic_map.yaml)."),
    (frozenset({"advbench", "harmfulqa"}),
     "AdvBench and HarmfulQA have no category labels: their topics are keyword-mapped (label_provenance=mapped); "
     "HarmfulQA questions the keywords cannot map, or that are not requests to do harm, are dropped."),
    (frozenset({"ailuminate"}),
     "AILuminate spc_* prompts (elections, financial, health and legal advice; 100 rows) are contextual hazards: "
     "many are ordinary questions whose hazard lies in an unqualified answer. They are kept with their topic and "
     "labelled unknown (never scored)."),
    (frozenset({"forbidden_question_set"}),
     "The forbidden_question_set 'Gov Decision' questions ask how to evade police and border control, not for "
     "automated government decisions; they are mapped to the crimes they describe. Its 'Pornography' rows include "
     "informational questions about the adult industry that the source labels forbidden; they are kept as unsafe."),
    (frozenset({CURATED}),
     "Unsafe gov_decision rows, and benign contrasts for child, adult, political, legal, financial, health, "
     "gov_decision and economic_harm, are almost all curated: written new for PolicyBench with LLM assistance and "
     "reviewed for label correctness, not drawn from real user traffic."),
    (frozenset({CURATED}),
     "Curated unsafe advice requests (legal, financial, health, gov_decision) carry the person's own situation, so "
     "they are longer and more often first-person than their benign contrasts, which are more often questions: "
     "surface cues a bag-of-words model can partly exploit (curators reduced, but did not remove, them; see "
     "datasets/sources/curated/NOTES_curator_a.md)."),
    (None, "Near duplicates are removed across all sources at Jaccard >= 0.8 over character 5-grams (one "
           "representative kept); looser paraphrases remain. Near-duplicate contrast pairs with different labels, "
           "HateCheck template variants and SafeText scenarios are each kept within one split."),
    (frozenset({"hatecheck"}),
     "Most HateCheck spelling-variation cases (leet speak, added or removed spaces, swapped characters) are near "
     "duplicates of their originals and were removed, so this suite tests spelling robustness only partly."),
    (frozenset({"coconot"}),
     "CoCoNot 'wildchats' prompts (real user requests) that no keyword maps to a topic are dropped; 'dangerous or "
     "sensitive topics' prompts without a more specific keyword get dangerous_activities. Only the prompts are used."),
    (frozenset({"safetext"}), "SafeText rows are advice statements (output-side text), not user requests."),
    (frozenset({"cyberseceval"}),
     "CyberSecEval MITRE prompts are LLM-written, long, often framed as research and dual-use; some annotators "
     "would call a share of them borderline."),
    (frozenset({"forbidden_question_set", "jailbreakbench", "harmbench", "advbench", "strongreject"}),
     "The upstream MIT notices of forbidden_question_set, JailbreakBench, HarmBench, AdvBench and StrongREJECT "
     "were added from the known upstream licences; the files were copied from redistributing repositories and "
     "their bytes were not re-verified against upstream."),
    (frozenset({"toxigen"}),
     "ToxiGen is released under MIT + CDLA-Permissive-2.0, but its README states the data is intended for "
     "research purposes only: do not use this suite commercially without review."),
]
SUITE_LIMITATIONS: dict[str, list[str]] = {
    "core": ["Test quotas (>= 100 unsafe and >= 100 benign test examples per category, >= 30 unsafe per topic "
             "whose verdict changes between versions) put nearly all rows of thin categories in test, leaving "
             "little training data for them."],
    "overrefusal": ["Unsafe rows are controls; benign look-alikes are the point of this suite (report false "
                    "positive rates on them)."],
    "smoke": ["About 11 examples per category and label: far too few for reporting; use core for results."],
}


def _smoke_indices(pool: Pool, core: list[int]) -> list[int]:
    test = [i for i in core if pool.splits[i] == "test" and pool.rows[i].label != "unknown"]
    order = sorted(test, key=lambda i: (stable_unit(SEED, "smoke", pool.rows[i].source, pool.rows[i].source_row), i))
    chosen: set[int] = set()
    have: Counter = Counter()
    cats = {i: pool.view.categories_of(pool.rows[i].topics, pool.rows[i].label) for i in order}
    for cat in pool.view.categories:
        for lab in ("unsafe", "benign"):
            for i in order:
                if have[(cat, lab)] >= SMOKE_PER_CELL:
                    break
                if i not in chosen and pool.rows[i].label == lab and cat in cats[i]:
                    chosen.add(i)
                    for c in cats[i]:
                        have[(c, lab)] += 1
    generic = [i for i in order if not cats[i] and pool.rows[i].label == "benign" and i not in chosen]
    chosen.update(generic[:SMOKE_GENERIC])
    return sorted(chosen)


def _example(name: str, r: SourceRow, split: str) -> dict:
    return dict(zip(COLUMNS, (_sanitize(f"{name}-{r.source}-{r.source_row}"), r.text, list(r.topics), r.label,
                              split, r.source, r.source_row, r.license, r.label_provenance)))


def write_suite(folder: Path, name: str, pool: Pool, indices: list[int]) -> None:
    """Write ``examples.jsonl``, ``suite.yaml`` and ``README.md`` of one suite into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    examples = sorted((_example(name, pool.rows[i], pool.splits[i]) for i in indices), key=lambda e: e["id"])
    ids = [e["id"] for e in examples]
    if len(set(ids)) != len(ids):
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise InputError(Problem(f"suite {name}: id {dup!r} is not unique", field="id"))
    with open(folder / "examples.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for e in examples:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
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
        "quotas": {"category_test_min": CATEGORY_QUOTA, "drift_topic_unsafe_test_min": DRIFT_QUOTA,
                   "drift_topics": pool.drift},
        "dedupe": {k: v for k, v in pool.stats.items() if k != "per_source"},
        "limitations": limitations,
    }
    (folder / "suite.yaml").write_text(dump_yaml(card), encoding="utf-8", newline="\n")
    by_source = Counter((e["source"], e["label"]) for e in examples)
    extra = ["## Rows by source", "", "| source | unsafe | benign | unknown |", "|---|---:|---:|---:|"]
    extra += [f"| {l['source']} | {by_source[(l['source'], 'unsafe')]} | {by_source[(l['source'], 'benign')]} | "
              f"{by_source[(l['source'], 'unknown')]} |" for l in licenses]
    if name == "core":
        extra += ["", "Per source before and after de-duplication (all suites share one pool):", "",
                  "| source | rows read | dropped as unmappable | kept in the pool |", "|---|---:|---:|---:|"]
        extra += [f"| {n} | {v['read']} | {v['unmappable']} | {v['kept']} |" for n, v in pool.stats["per_source"].items()]
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
