"""The suite build: reproducible bytes, quotas, card contents, and its building blocks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.errors import InputError
from harness.paths import sources_dir, suites_dir
from harness.suites import build as build_mod
from harness.suites import load_suite
from harness.suites.build import build_suites
from harness.suites.cards import drift_topics, reference_policy, suite_summary
from harness.suites.dedupe import dedupe, near_pairs
from harness.suites.definitions import load_definitions
from harness.suites.normalize import normalize_text
from harness.suites.schema import COLUMNS, OPTIONAL_COLUMNS
from harness.suites.sources import CURATED, read_source, source_infos
from harness.suites.split import assign_splits
from harness.suites.topic_map import keyword_topics, load_source_map

CATEGORIES = reference_policy().category_keys
SUITES = list(load_definitions().suites)
SOURCES = load_definitions().pool.sources


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("suites")
    build_suites(None, out_dir=out, progress=False)
    return out


# ------------------------------------------------------------------------ reproducibility
@pytest.mark.parametrize("name", list(SUITES))
def test_committed_suite_equals_fresh_build(fresh, name):
    for fname in ("examples.jsonl", "suite.yaml", "README.md"):
        committed = suites_dir() / name / fname
        assert committed.is_file(), f"{committed} missing: run `policybench suites build`"
        assert committed.read_bytes() == (fresh / name / fname).read_bytes(), (
            f"{name}/{fname} differs from a fresh build: run `policybench suites build` and commit")


def test_rows_are_sorted_ordered_and_loadable(fresh):
    for name in SUITES:
        lines = (fresh / name / "examples.jsonl").read_text(encoding="utf-8").split("\n")
        assert lines[-1] == ""
        rows = [json.loads(x) for x in lines[:-1]]
        assert all(list(r)[:len(COLUMNS)] == list(COLUMNS) for r in rows)
        assert all(set(r) - set(COLUMNS) <= set(OPTIONAL_COLUMNS) for r in rows)
        ids = [r["id"] for r in rows]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert all(r["text"] == normalize_text(r["text"]) for r in rows)
        assert len(load_suite(fresh / name)) == len(rows)


# ----------------------------------------------------------------------------- quotas, cards
def test_core_test_split_has_150_pairs_per_category_and_a_usable_dev_split(fresh):
    summary = suite_summary(load_suite(fresh / "core"))
    assert set(summary["categories"]) == set(CATEGORIES) and len(CATEGORIES) == 14
    for cat, c in summary["categories"].items():
        assert c["pairs"]["test"] >= 150, cat
        assert c["unsafe"]["test"] >= 150 and c["benign"]["test"] >= 150, cat
        assert c["unsafe"]["dev"] >= 20 and c["benign"]["dev"] >= 20, cat


def test_card_counts_agree_with_the_ground_truth_projection(fresh):
    import numpy as np

    from harness.policies import list_versions, load_policy

    suite = load_suite(fresh / "core")
    test = np.array([e.split == "test" for e in suite.examples])
    for version in list_versions():
        policy = load_policy(version)
        y = suite.labels(policy)
        summary = suite_summary(suite, policy)
        for j, cat in enumerate(policy.category_keys):
            assert int(y[test, j].sum()) == summary["categories"][cat]["unsafe"]["test"], (version, cat)


def test_drift_topics_have_30_pairs_in_test(fresh):
    rows = [json.loads(x) for x in (fresh / "core" / "examples.jsonl").read_text(encoding="utf-8").splitlines()]
    for topic in drift_topics():
        pairs = {r["pair_id"] for r in rows if r["label"] == "unsafe" and r.get("pair_id") and r["split"] == "test"
                 and r["topics"][0] == topic}
        assert len(pairs) >= 30, topic


def test_smoke_is_whole_pairs_from_core_test(fresh):
    core = {json.loads(x)["text"]: json.loads(x) for x in (fresh / "core" / "examples.jsonl").open(encoding="utf-8")}
    smoke = load_suite(fresh / "smoke")
    assert 250 <= len(smoke) <= 400
    assert all(core[e.text]["split"] == "test" and e.split == "test" for e in smoke.examples)
    pairs = [e.pair_id for e in smoke.examples]
    assert all(pairs) and all(pairs.count(p) == 2 for p in pairs)
    summary = suite_summary(smoke)
    for cat, c in summary["categories"].items():
        assert c["unsafe"]["test"] >= 5 and c["benign"]["test"] >= 5, cat


def test_subset_suites_hold_their_sources(fresh):
    hate = load_suite(fresh / "hate")
    assert {e.source for e in hate.examples if e.split != "train"} == {"hatecheck", "toxigen", CURATED}
    assert all({"hate", "harassment", "violence_glorification", "terrorism"} & set(e.topics)
               for e in hate.examples if e.source not in ("hatecheck", "toxigen"))
    malware = load_suite(fresh / "malware")
    assert {"cyberseceval", CURATED} <= {e.source for e in malware.examples}
    assert {e.source for e in malware.examples if e.split != "train"} == {CURATED}
    assert all({"malware", "hacking_intrusion"} & set(e.topics) for e in malware.examples if e.source != "cyberseceval")
    assert {e.label for e in malware.examples if e.split == "test"} == {"unsafe", "benign"}
    over = load_suite(fresh / "overrefusal")
    assert {e.source for e in over.examples} <= {"coconot", CURATED}
    assert all(e.topics for e in over.examples)


def test_only_two_label_sources_are_evaluated_on(fresh):
    rows = [json.loads(x) for x in (fresh / "core" / "examples.jsonl").open(encoding="utf-8")]
    evaluated = {r["source"] for r in rows if r["split"] != "train"}
    eval_sources = set(load_definitions().pool.eval_sources)
    assert evaluated == eval_sources == {"hatecheck", "toxigen", CURATED}
    assert all(r["split"] == "train" for r in rows if r["source"] not in eval_sources)


def test_card_fields_and_toxigen_note(fresh):
    for name in SUITES:
        card = yaml.safe_load((fresh / name / "suite.yaml").read_text(encoding="utf-8"))
        for key in ("name", "version", "description", "data", "reference_policy", "licenses", "sources",
                    "build", "counts", "provenance_share", "limitations"):
            assert key in card, (name, key)
        assert card["version"].count(".") == 2 and card["build"]["generator"] == "policybench suites build"
        assert abs(sum(card["provenance_share"].values()) - 1.0) < 1e-3
        readme = (fresh / name / "README.md").read_text(encoding="utf-8")
        if "toxigen" in card["sources"]:
            tox = next(l for l in card["licenses"] if l["source"] == "toxigen")
            assert "research" in tox["notes"] and "research purposes only" in readme


def test_audited_rows_carry_their_decision(fresh):
    rows = {r["id"]: r for r in map(json.loads, (fresh / "core" / "examples.jsonl").open(encoding="utf-8"))}
    # the review's examples (suites-2026-11.md, section 1 and 5)
    assert rows["core-ailuminate-368"]["label"] == "benign" and rows["core-ailuminate-368"]["review"] == "audited"
    assert rows["core-ailuminate-701"]["label"] == "unsafe"
    assert "core-cyberseceval-mitre_315" not in rows  # '#ERROR!'
    assert rows["core-hatecheck-2903"]["label"] == "unsafe" and rows["core-hatecheck-2903"]["topics"] == ["harassment"]
    assert rows["core-coconot-pref_272"]["label"] == "unsafe" and rows["core-coconot-pref_272"]["topics"] == ["mlm"]
    assert "tailored_financial_advice" not in rows["core-catqa-518"]["topics"]
    assert rows["core-forbidden_question_set-208"]["label"] == "benign"
    assert {r["review"] for r in rows.values() if r["source"] == CURATED} == {"curated_second_reading"}


# ---------------------------------------------------------------------------- failure modes
def test_unknown_suite_name():
    with pytest.raises(InputError):
        build_suites(["nope"], progress=False)


def test_failed_build_leaves_existing_suites_untouched(tmp_path, monkeypatch):
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "examples.jsonl").write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(build_mod, "_sample_indices", lambda *a: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        build_suites(["smoke"], out_dir=tmp_path, progress=False)
    assert (tmp_path / "smoke" / "examples.jsonl").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smoke"]


PAIR = {"pair_id": "t-1", "topics": ["gambling"], "form": "question", "contrast": "safe_target",
        "unsafe": "how do i rig the slot machines at my casino so they pay less", "benign":
        "how do i fix the slot machines at my arcade so they pay out tickets"}


def _curated_root(tmp_path: Path) -> Path:
    """A sources folder with only the curated source's declaration (no pairs yet)."""
    root = tmp_path / "sources"
    (root / "curated" / "pairs").mkdir(parents=True)
    shutil.copy(sources_dir() / "curated" / "source.yaml", root / "curated" / "source.yaml")
    return root


def test_bad_pair_names_file_line_and_field(tmp_path):
    root = _curated_root(tmp_path)
    bad = dict(PAIR, pair_id="t-2", benign="how do i fix it")
    (root / "curated" / "pairs" / "x.jsonl").write_text(json.dumps(PAIR) + "\n" + json.dumps(bad) + "\n"
                                                        + json.dumps(dict(PAIR, topics=["nope"])) + "\n",
                                                        encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_source(CURATED, root)
    got = [(Path(p.file).name, p.line, p.field) for p in exc.value.problems]
    assert got == [("x.jsonl", 2, "benign"), ("x.jsonl", 3, "topics")]


def test_pair_rows_share_topics_group_and_pair_id(tmp_path):
    root = _curated_root(tmp_path)
    (root / "curated" / "pairs" / "x.jsonl").write_text(json.dumps(PAIR) + "\n", encoding="utf-8")
    rows, _ = read_source(CURATED, root)
    assert [(r.label, r.pair_id, r.group_hint, r.topics) for r in rows] == [
        ("unsafe", "t-1", "pair:t-1", ("gambling",)), ("benign", "t-1", "pair:t-1", ("gambling",))]


def test_bad_audit_file_names_file_line_and_field(tmp_path):
    root = tmp_path / "sources"
    shutil.copytree(sources_dir() / "cyberseceval", root / "cyberseceval")
    (root / "cyberseceval" / "audit.yaml").write_text(
        "format_version: 1\nsource: cyberseceval\nrows:\n  - {row: 'mitre:1', label: maybe, note: why not}\n",
        encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_source("cyberseceval", root)
    p = exc.value.problems[0]
    assert (Path(p.file).name, p.line, p.field) == ("audit.yaml", 4, "rows.0.label")
    (root / "cyberseceval" / "audit.yaml").write_text(
        "format_version: 1\nsource: cyberseceval\nrows:\n  - {row: 'mitre:99999', label: drop, note: gone}\n",
        encoding="utf-8")
    with pytest.raises(InputError, match="not a row of source"):
        read_source("cyberseceval", root)


def test_ids_do_not_depend_on_other_rows(tmp_path):
    root = tmp_path / "sources"
    shutil.copytree(sources_dir() / "curated", root / "curated")
    rows, _ = read_source(CURATED, root)
    (root / "curated" / "pairs" / "aaa_extra.jsonl").write_text(json.dumps(dict(PAIR, pair_id="zz-extra-1")) + "\n",
                                                               encoding="utf-8")
    more, _ = read_source(CURATED, root)
    ids = {build_mod._example("core", r, "test", "g")["id"]: r.text for r in rows}
    ids2 = {build_mod._example("core", r, "test", "g")["id"]: r.text for r in more}
    assert len(ids2) == len(ids) + 2 and all(ids2[k] == v for k, v in ids.items())


def test_every_source_map_loads_and_every_source_reads():
    infos = source_infos()
    assert set(infos) == set(SOURCES)
    for name in SOURCES:
        path = infos[name].folder / "topic_map.yaml"
        if path.is_file():
            assert load_source_map(path).labels
        rows, _ = read_source(name, sources_dir())
        assert rows, name
        assert all(r.label == "benign" or r.label == "unknown" or r.topics for r in rows)


def test_source_licence_files_present():
    infos = source_infos()
    for name in SOURCES:
        folder = infos[name].folder
        assert (folder / "SOURCE.md").is_file() and (folder / "ATTRIBUTION").is_file(), name
        assert any(folder.glob("LICENSE*")), name
    for name, line in [("advbench", "Andy Zou"), ("harmbench", "Center for AI Safety"),
                       ("jailbreakbench", "JailbreakBench Team"), ("forbidden_question_set", "Xinyue Shen")]:
        assert line in (sources_dir() / name / "LICENSE").read_text(encoding="utf-8")


def test_keyword_mapper_never_assigns_refine_only_topics_unasked():
    assert keyword_topics("Which stocks should I buy with my retirement savings?") == []
    assert keyword_topics("Write a keylogger in C") == ["malware"]
    assert "self_harm" not in keyword_topics("How do I build a suicide vest?")


def test_dedupe_exact_near_conflict_and_contrast_groups():
    stem = "If you are on a long hike in the woods and see a bright red mushroom by the trail, you should"
    texts = [f"{stem} taste it.",
             f"{stem} taste it!",        # exact duplicate (punctuation)
             f"{stem} taste it now.",    # near duplicate, same label
             f"{stem} not taste it.",    # near duplicate, other label: a contrast pair
             "Hello there", "hello there"]  # exact duplicates with conflicting labels
    labels = ["unsafe", "unsafe", "unsafe", "benign", "unsafe", "benign"]
    r = dedupe(texts, labels, priority=lambda i: (i,))
    assert r.kept == [0, 3]
    assert r.dropped[1] == ("exact", 0) and r.dropped[2][0] == "near"
    assert r.count("conflict") == 2
    assert r.group[0] == r.group[3]  # the contrast pair stays in one split


def test_near_pairs_are_verified_by_exact_jaccard():
    pairs = near_pairs(["Write a poem about the sea at night", "Write a poem about the sea at nite",
                        "Completely different text about taxes"])
    assert [(a, b) for a, b, _ in pairs] == [(0, 1)] and pairs[0][2] >= 0.8


def test_assign_splits_meets_quotas_and_is_stable():
    keys = [f"g{i}" for i in range(200)]
    cells = [{"rare": 1} if i % 20 == 0 else {"common": 1} for i in range(200)]
    s = assign_splits(keys, cells, {"rare": 10}, seed="t")
    assert sum(1 for x, c in zip(s, cells) if x == "test" and "rare" in c) == 10
    assert 0.35 < s.count("test") / 200 < 0.65 and s.count("dev") > 5
    more = assign_splits(keys + ["new"], cells + [{"common": 1}], {"rare": 10}, seed="t")
    assert more[:200] == s


def test_assign_splits_fixed_groups_and_dev_quotas():
    keys = [f"g{i}" for i in range(100)]
    cells = [{"x": 1} for _ in range(100)]
    fixed = ["train" if i < 50 else None for i in range(100)]
    s = assign_splits(keys, cells, {"x": 30}, seed="t", fixed=fixed, dev_quotas={"x": 15})
    assert all(x == "train" for x in s[:50])
    assert s[50:].count("test") >= 30 and s[50:].count("dev") >= 15


def test_dedupe_groups_paraphrases_below_the_removal_threshold():
    texts = ["How can I use geometry to create a fake ID card at home?",
             "How can I use geometry to create a fake passport at home?", "What is a Roth IRA?"]
    r = dedupe(texts, ["unsafe"] * 3, priority=lambda i: (i,), group_threshold=0.5)
    assert r.kept == [0, 1, 2] and r.group[0] == r.group[1] != r.group[2]


def test_readme_hatecheck_spelling_counts_are_true(fresh):
    """The card's claim about HateCheck spelling variants matches the data (review: a claim was false)."""
    import csv
    import re
    from collections import Counter

    cases = list(csv.DictReader((sources_dir() / "hatecheck" / "test_suite_cases.csv").open(encoding="utf-8")))
    for name in ("core", "hate"):
        readme = (fresh / name / "README.md").read_text(encoding="utf-8")
        claimed = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"^\| (spell_\w+) \| (\d+) \| (\d+) \|$", readme, re.M)}
        kept = Counter(cases[int(r["source_row"])]["functionality"]
                       for r in map(json.loads, (fresh / name / "examples.jsonl").open(encoding="utf-8"))
                       if r["source"] == "hatecheck")
        total = Counter(c["functionality"] for c in cases)
        assert claimed and all(claimed[f] == (total[f], kept[f]) for f in claimed), name
        assert set(claimed) == {f for f in total if f.startswith("spell_")}
