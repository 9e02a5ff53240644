"""Suite cards: counts per category × label × split under a policy, ``suite.yaml`` and README.

A *benign* example counts toward the categories its topics fall under in the policy (what it
imitates); an *unsafe* example counts toward the categories in which one of its topics is a
violation. Unsafe examples whose topics are all allowed under the policy are counted apart
(``unsafe_not_violating``): under that version they are negatives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import yaml

from harness.suites.schema import LABELS, PROVENANCES, SPLITS

REFERENCE_POLICY = "2023-02-15"


@dataclass(frozen=True)
class PolicyView:
    """What cards need from a policy version: each topic's category and whether it violates."""

    id: str
    categories: tuple[str, ...]
    topic_category: Mapping[str, str | None]
    violation: Mapping[str, bool]

    def categories_of(self, topics: Iterable[str], label: str) -> list[str]:
        """Categories an example with ``topics`` and ``label`` counts toward (see module doc).

        Examples
        --------
        >>> v = PolicyView("x", ("adult", "health"), {"dating_apps": "adult", "mlm": None},
        ...                {"dating_apps": True, "mlm": False})
        >>> v.categories_of(["dating_apps", "mlm"], "unsafe"), v.categories_of(["mlm"], "benign")
        (['adult'], [])
        """
        out: list[str] = []
        for t in topics:
            cat = self.topic_category.get(t)
            if cat is None or cat in out:
                continue
            if label == "benign" or (label == "unsafe" and self.violation.get(t, False)):
                out.append(cat)
        return out


def policy_view(policy: Any = None, *, restricted_as: str = "violation") -> PolicyView:
    """A :class:`PolicyView` of ``policy`` (a ``harness.policies`` Policy), or of the reference.

    Without a policy, the reference version is loaded with ``harness.policies.load_policy``;
    if that package offers no loader yet, ``topics.yaml``'s ``reference_category`` is used
    (every topic with a reference category counts as disallowed).
    """
    from harness.suites.topic_map import reference_categories

    refs = reference_categories()
    if policy is None:
        versions = _policy_versions()
        if REFERENCE_POLICY not in versions:
            cats = tuple(dict.fromkeys(c for c in refs.values() if c))
            return PolicyView(REFERENCE_POLICY, cats, dict(refs), {t: c is not None for t, c in refs.items()})
        from harness.policies import load_policy

        policy = load_policy(REFERENCE_POLICY)
    from harness.policies.model import is_violation

    topic_category: dict[str, str | None] = {}
    violation: dict[str, bool] = {}
    for t in refs:
        try:
            v = policy.verdict(t)
        except Exception:  # a topic the version does not list counts as not mentioned
            topic_category[t], violation[t] = None, False
            continue
        topic_category[t] = v.category
        violation[t] = is_violation(v.verdict, restricted_as)
    return PolicyView(str(policy.id), tuple(policy.category_keys), topic_category, violation)


def _policy_versions() -> list[str]:
    try:
        from harness.policies import list_versions
    except ImportError:
        return []
    return [str(v) for v in list_versions()]


#: Used when no policy files exist yet: the topics the issue names as changing between versions.
FALLBACK_DRIFT_TOPICS: tuple[str, ...] = (
    "dating_apps", "mlm", "payday_lending", "military_warfare", "pseudo_pharmaceuticals",
    "medical_diagnosis_treatment", "tailored_legal_advice", "tailored_financial_advice",
    "emotion_inference_workplace", "defamation", "adult_sexual_content", "adult_industries",
    "election_interference", "safeguard_circumvention", "social_scoring", "critical_infrastructure",
)


def drift_topics() -> list[str]:
    """Topics whose verdict differs between any two policy versions, sorted.

    Read from ``datasets/policies/*.yaml`` through ``harness.policies``; before any policy
    file exists, :data:`FALLBACK_DRIFT_TOPICS`.
    """
    versions = _policy_versions()
    if len(versions) < 2:
        return sorted(FALLBACK_DRIFT_TOPICS)
    from harness.policies import load_policy
    from harness.suites.topic_map import known_topics

    policies = [load_policy(v) for v in versions]
    out = []
    for t in sorted(known_topics()):
        verdicts = {p.topics[t].verdict if t in p.topics else "not_mentioned" for p in policies}
        if len(verdicts) > 1:
            out.append(t)
    return out


def _zero() -> dict[str, int]:
    return {s: 0 for s in SPLITS}


def count_table(rows: Sequence[Mapping[str, Any]], view: PolicyView) -> dict[str, Any]:
    """Counts for rows with ``topics``, ``label``, ``split``, ``label_provenance``.

    Returns ``{"categories": {cat: {"unsafe": {split: n}, "benign": {split: n}, "pairs": {split: n}}},
    "totals": {"examples": n, "by_label": {label: {split: n}}, "unsafe_not_violating": {split: n}},
    "provenance_share": {provenance: share}}``.
    """
    cats = {c: {"unsafe": _zero(), "benign": _zero(), "pairs": _zero()} for c in view.categories}
    by_label = {lab: _zero() for lab in LABELS}
    not_violating = _zero()
    prov: Counter = Counter()
    review: Counter = Counter()
    for r in rows:
        label, split = r["label"], r["split"]
        by_label[label][split] += 1
        prov[r["label_provenance"]] += 1
        review[r.get("review") or "not recorded"] += 1
        if label == "unknown":
            continue
        hit = view.categories_of(r["topics"], label)
        for c in hit:
            if c in cats:
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
    view = policy_view(policy, restricted_as=restricted_as)
    rows = [{"topics": e.topics, "label": e.label, "split": e.split, "label_provenance": e.label_provenance,
             "pair_id": e.pair_id, "review": e.review} for e in suite.examples]
    table = count_table(rows, view)
    card = getattr(suite, "card", {}) or {}
    return {
        "name": suite.name,
        "version": suite.version,
        "description": card.get("description", ""),
        "policy": view.id,
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
