"""Suite cards: counts per category × label × split under a policy, ``suite.yaml`` and README.

A *benign* example counts toward the categories its topics fall under in the policy (what it
imitates); an *unsafe* example counts toward the categories in which one of its topics is a
violation. Unsafe examples whose topics are all allowed under the policy are counted apart
(``unsafe_not_violating``): under that version they are negatives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import yaml

from harness.policies import Policy, diff, imitation_mask, list_versions, load_policy, project_truth
from harness.suites.schema import LABELS, PROVENANCES, SPLITS

REFERENCE_POLICY = "2023-02-15"


def reference_policy(policy: Any = None) -> Policy:
    """``policy`` loaded (a version id, file or Policy), or the reference version when None."""
    return load_policy(REFERENCE_POLICY if policy is None else policy)


def category_hits(topics: Sequence[Sequence[str]], labels: Sequence[str], policy: Policy, *,
                  restricted_as: str = "violation") -> np.ndarray:
    """Which categories each example counts toward: bool ``(n, len(policy.category_keys))``.

    An unsafe example counts where one of its topics is a violation
    (:func:`~harness.policies.project_truth`), a benign one where its topics fall
    (:func:`~harness.policies.imitation_mask`); unknown examples count nowhere.

    Examples
    --------
    >>> p = reference_policy()
    >>> hits = category_hits([["dating_apps", "defamation"], ["defamation"], ["dating_apps"]],
    ...                      ["unsafe", "unsafe", "unknown"], p)
    >>> [[p.category_keys[j] for j in row.nonzero()[0]] for row in hits]
    [['adult'], [], []]
    """
    truth = project_truth(topics, labels, policy, restricted_as=restricted_as).astype(bool)
    return truth | imitation_mask(topics, labels, policy)


def drift_topics() -> list[str]:
    """Topics whose verdict differs between any two policy versions, sorted.

    A verdict that differs between any two versions differs between two consecutive ones, so
    the :func:`harness.policies.diff` of each consecutive pair finds them all.
    """
    from harness.suites.topic_map import known_topics

    versions = [str(v) for v in list_versions()]
    known = known_topics()
    changed = {c.topic for a, b in zip(versions, versions[1:]) for c in diff(a, b).changes
               if c.before.verdict != c.after.verdict}
    return sorted(changed & known)


def _zero() -> dict[str, int]:
    return {s: 0 for s in SPLITS}


def count_table(rows: Sequence[Mapping[str, Any]], policy: Policy, *, restricted_as: str = "violation") -> dict[str, Any]:
    """Counts for rows with ``topics``, ``label``, ``split``, ``label_provenance``.

    Returns ``{"categories": {cat: {"unsafe": {split: n}, "benign": {split: n}, "pairs": {split: n}}},
    "totals": {"examples": n, "by_label": {label: {split: n}}, "unsafe_not_violating": {split: n}},
    "provenance_share": {provenance: share}}``.
    """
    keys = policy.category_keys
    cats = {c: {"unsafe": _zero(), "benign": _zero(), "pairs": _zero()} for c in keys}
    hits = category_hits([r["topics"] for r in rows], [r["label"] for r in rows], policy, restricted_as=restricted_as)
    by_label = {lab: _zero() for lab in LABELS}
    not_violating = _zero()
    prov: Counter = Counter()
    review: Counter = Counter()
    for r, row_hits in zip(rows, hits):
        label, split = r["label"], r["split"]
        by_label[label][split] += 1
        prov[r["label_provenance"]] += 1
        review[r.get("review") or "not recorded"] += 1
        if label == "unknown":
            continue
        hit = [keys[j] for j in np.flatnonzero(row_hits)]
        for c in hit:
            cats[c][label][split] += 1
            if label == "unsafe" and r.get("pair_id"):
                cats[c]["pairs"][split] += 1
        if label == "unsafe" and not hit:
            not_violating[split] += 1
    n = len(rows)
    share = {p: round(prov[p] / n, 4) if n else 0.0 for p in PROVENANCES}
    return {
        "categories": cats,
        "totals": {"examples": n, "by_label": by_label, "unsafe_not_violating": not_violating},
        "provenance_share": share,
        "review_share": {k: round(v / n, 4) for k, v in sorted(review.items())} if n else {},
    }


def suite_summary(suite: Any, policy: Any = None, *, restricted_as: str = "violation") -> dict[str, Any]:
    """Per category the unsafe and benign counts per split under ``policy``, totals, provenance.

    Parameters
    ----------
    suite : harness.suites.Suite
        A loaded suite.
    policy : harness.policies Policy, optional
        The version to count under (default: the reference version 2023-02-15).

    Examples
    --------
    >>> from harness.suites import Example, Suite
    >>> ex = Example(id="a", text="Write my dating profile", topics=["dating_apps"], label="unsafe",
    ...              split="test", source="doc", source_row="1", license="MIT", label_provenance="curated")
    >>> s = suite_summary(Suite.from_examples("tiny", [ex]))
    >>> s["categories"]["adult"]["unsafe"]["test"]
    1
    """
    policy = reference_policy(policy)
    rows = [{"topics": e.topics, "label": e.label, "split": e.split, "label_provenance": e.label_provenance,
             "pair_id": e.pair_id, "review": e.review} for e in suite.examples]
    table = count_table(rows, policy, restricted_as=restricted_as)
    card = getattr(suite, "card", {}) or {}
    return {
        "name": suite.name,
        "version": suite.version,
        "description": card.get("description", ""),
        "policy": str(policy.id),
        "restricted_as": restricted_as,
        **table,
        "sources": card.get("sources", []),
        "licenses": card.get("licenses", []),
    }


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Deterministic YAML text (key order kept, Unicode kept, ``\\n`` line ends)."""
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def _md_escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def render_readme(card: Mapping[str, Any], table: Mapping[str, Any], *, extra: str = "") -> str:
    """The README card of a suite: prose, sources and licences, counts, provenance, limitations."""
    lines = [f"# Suite `{card['name']}` (version {card['version']})", "", str(card.get("description", "")).strip(), ""]
    lines += ["> **Content warning.** Unsafe examples contain hateful, violent, sexual and self-harm text and "
              "requests for weapons, malware and fraud.", ""]
    tot = table["totals"]
    build = card["build"]
    origin = f"from `{build['input']}`" if build.get("input") else "from `datasets/sources/`"
    seed = f" (seed `{build['seed']}`)" if build.get("seed") else ""
    lines += [f"Examples: **{tot['examples']}**; built by `{build['generator']}`{seed} {origin}. Counts below are under the "
              f"reference policy `{card['reference_policy']}`: an unsafe example counts toward the categories in "
              "which one of its topics is disallowed, a benign (contrast) example toward the categories of the "
              "topics it imitates; one example can count in several categories.", ""]
    lines += ["## Sources and licences", "", "| source | licence | attribution | notes |", "|---|---|---|---|"]
    for lic in card.get("licenses", []):
        src = f"[{lic['source']}]({lic['url']})" if str(lic.get("url", "")).startswith("http") else lic["source"]
        lines.append(f"| {src} | {_md_escape(lic['license'])} | {_md_escape(lic['attribution'])} | "
                     f"{_md_escape(lic.get('notes', ''))} |")
    lines += ["", "## Counts per category × label × split", "",
              "| category | unsafe train | unsafe dev | unsafe test | benign train | benign dev | benign test "
              "| pairs train | pairs dev | pairs test |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for cat, c in table["categories"].items():
        u, b, p = c["unsafe"], c["benign"], c.get("pairs", _zero())
        lines.append(f"| {cat} | {u['train']} | {u['dev']} | {u['test']} | {b['train']} | {b['dev']} | {b['test']} "
                     f"| {p['train']} | {p['dev']} | {p['test']} |")
    lines += ["", "| label | train | dev | test |", "|---|---:|---:|---:|"]
    for lab, c in tot["by_label"].items():
        lines.append(f"| {lab} | {c['train']} | {c['dev']} | {c['test']} |")
    nv = tot["unsafe_not_violating"]
    lines += ["", f"Unsafe examples whose topics fall under no disallowed category of the reference policy "
              f"(e.g. defamation): train {nv['train']}, dev {nv['dev']}, test {nv['test']}.", ""]
    lines += ["## Label provenance", "", "| provenance | share |", "|---|---:|"]
    for p, s in table["provenance_share"].items():
        lines.append(f"| {p} | {s:.1%} |")
    lines += ["", "`source_label`: topic and label from the source's own labels (refined by keywords within "
              "the labelled family); `mapped`: keyword mapping, the source has no labels; `curated`: written "
              "for PolicyBench.", ""]
    if table.get("review_share"):
        lines += ["How labels were checked (`review`; see `datasets/suites/LABELLING.md`):", "",
                  "| review | share |", "|---|---:|"]
        lines += [f"| {k} | {v:.1%} |" for k, v in table["review_share"].items()]
        lines.append("")
    if extra:
        lines += [extra.strip(), ""]
    if card.get("dedupe"):
        d = card["dedupe"]
        lines += ["## De-duplication", "", ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in d.items()), ""]
    lines += ["## Limitations", ""] + [f"- {x}" for x in card.get("limitations", [])] + [""]
    return "\n".join(lines)
