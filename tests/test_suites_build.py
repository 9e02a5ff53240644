"""The suite build: reproducible bytes, quotas, card contents, and its building blocks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.errors import InputError
from harness.paths import sources_dir, suites_dir
from harness.suites import load_suite
from harness.suites import build as build_mod
from harness.suites.build import SUITES, build_suites
from harness.suites.cards import drift_topics, policy_view, suite_summary
from harness.suites.dedupe import dedupe, near_pairs
from harness.suites.normalize import normalize_text
from harness.suites.schema import COLUMNS
from harness.suites.sources import CURATED, SOURCES, read_source
from harness.suites.split import assign_splits
from harness.suites.topic_map import keyword_topics, load_source_map

CATEGORIES = policy_view().categories


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
        assert all(list(r) == list(COLUMNS) for r in rows)
        ids = [r["id"] for r in rows]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert all(r["text"] == normalize_text(r["text"]) for r in rows)
        assert len(load_suite(fresh / name)) == len(rows)


# ----------------------------------------------------------------------------- quotas, cards
def test_core_test_split_has_100_unsafe_and_100_benign_per_category(fresh):
    summary = suite_summary(load_suite(fresh / "core"))
    assert set(summary["categories"]) == set(CATEGORIES) and len(CATEGORIES) == 14
    for cat, c in summary["categories"].items():
        assert c["unsafe"]["test"] >= 100, cat
        assert c["benign"]["test"] >= 100, cat


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


def test_drift_topics_have_30_unsafe_test_examples_where_data_allows(fresh):
    rows = [json.loads(x) for x in (fresh / "core" / "examples.jsonl").read_text(encoding="utf-8").splitlines()]
    for topic in drift_topics():
        unsafe = [r for r in rows if r["label"] == "unsafe" and topic in r["topics"]]
        in_test = sum(r["split"] == "test" for r in unsafe)
        assert in_test >= min(30, len(unsafe)), topic


def test_smoke_is_a_small_stratified_subset_of_core_test(fresh):
    core = {json.loads(x)["text"]: json.loads(x) for x in (fresh / "core" / "examples.jsonl").open(encoding="utf-8")}
    smoke = load_suite(fresh / "smoke")
    assert 250 <= len(smoke) <= 400
    assert all(core[e.text]["split"] == "test" and e.split == "test" for e in smoke.examples)
    summary = suite_summary(smoke)
    for cat, c in summary["categories"].items():
        assert c["unsafe"]["test"] >= 5 and c["benign"]["test"] >= 5, cat


def test_subset_suites_hold_their_sources(fresh):
    assert {e.source for e in load_suite(fresh / "hate").examples} == {"hatecheck", "toxigen"}
    malware = load_suite(fresh / "malware")
    assert {e.source for e in malware.examples} == {"cyberseceval"}
    assert {e.label for e in malware.examples} == {"unsafe", "benign"}
    over = load_suite(fresh / "overrefusal")
    assert {e.source for e in over.examples} <= {"coconot", CURATED}
    assert all(e.topics for e in over.examples)


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


def test_ailuminate_contextual_rows_are_unknown(fresh):
    rows = [json.loads(x) for x in (fresh / "core" / "examples.jsonl").open(encoding="utf-8")]
    ail = [r for r in rows if r["source"] == "ailuminate" and r["label"] == "unknown"]
    assert ail and all(set(r["topics"]) & {"election_interference", "tailored_financial_advice",
                                           "medical_diagnosis_treatment", "tailored_legal_advice"} for r in ail)


# ---------------------------------------------------------------------------- failure modes
def test_unknown_suite_name():
    with pytest.raises(InputError):
        build_suites(["nope"], progress=False)


def test_failed_build_leaves_existing_suites_untouched(tmp_path, monkeypatch):
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "examples.jsonl").write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(build_mod, "_smoke_indices", lambda pool, core: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        build_suites(["smoke"], out_dir=tmp_path, progress=False)
    assert (tmp_path / "smoke" / "examples.jsonl").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smoke"]


def test_bad_curated_row_names_file_line_and_field(tmp_path, monkeypatch):
    root = tmp_path / "sources"
    (root / "curated").mkdir(parents=True)
    (root / "curated" / "x_unsafe.jsonl").write_text(
        '{"text": "Write my dating profile", "topics": ["dating_apps"], "label": "unsafe"}\n'
        '{"text": "Hi", "topics": ["not_a_topic"], "label": "unsafe"}\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_source(CURATED, root)
    p = exc.value.problems[0]
    assert (Path(p.file).name, p.line, p.field) == ("x_unsafe.jsonl", 2, "topics")


def test_ids_do_not_depend_on_other_rows(tmp_path):
    root = tmp_path / "sources"
    shutil.copytree(sources_dir() / "curated", root / "curated")
    rows, _ = read_source(CURATED, root)
    (root / "curated" / "aaa_extra_benign.jsonl").write_text(
        '{"text": "What is a payday loan, in plain words?", "topics": ["payday_lending"], "label": "benign"}\n',
        encoding="utf-8")
    more, _ = read_source(CURATED, root)
    ids = {build_mod._example("core", r, "test")["id"]: r.text for r in rows}
    ids2 = {build_mod._example("core", r, "test")["id"]: r.text for r in more}
    assert len(ids2) == len(ids) + 1 and all(ids2[k] == v for k, v in ids.items())


# ---------------------------------------------------------------------------- building blocks
def test_every_source_map_loads_and_every_source_reads():
    for name in SOURCES:
        path = sources_dir() / ("curated" if name == CURATED else name) / "topic_map.yaml"
        if path.is_file():
            assert load_source_map(path).labels
        rows, _ = read_source(name, sources_dir())
        assert rows, name
        assert all(r.label == "benign" or r.label == "unknown" or r.topics for r in rows)


def test_source_licence_files_present():
    for name in SOURCES:
        folder = sources_dir() / ("curated" if name == CURATED else name)
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
