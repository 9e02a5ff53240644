"""Policy versions as data: loading, validation, diffs and projections."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import yaml

from harness.errors import InputError, UnknownPolicyVersion
from harness.policies import (
    CATEGORY_KEYS,
    Policy,
    diff,
    label_category_matrix,
    list_versions,
    load_policy,
    load_topics,
    project_scores,
    project_truth,
    topic_category_matrix,
    topic_keys,
)
from harness.policies.model import is_violation

VERSIONS = ["2021-11-15", "2022-06-07", "2023-02-15", "2024-01-10", "2025-01-29", "2025-10-29"]


def test_versions_listed_by_date():
    assert list_versions() == VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_loads_and_is_complete(version):
    p = load_policy(version)
    assert p.id == version and str(p.date) == version
    assert set(p.topics) == set(topic_keys())
    assert set(p.category_keys) <= set(CATEGORY_KEYS)
    for topic, v in p.topics.items():
        if v.verdict in ("disallowed", "restricted"):
            assert v.category in p.category_keys, (topic, v.category)
            assert v.quote, f"{version}: {topic} has no quote"
        if v.category is not None:
            assert v.category in p.category_keys
    # every declared category is used by at least one violation
    used = {v.category for v in p.topics.values() if v.verdict in ("disallowed", "restricted")}
    assert used == set(p.category_keys)


def test_provenance_kinds():
    kinds = {v: load_policy(v).provenance.kind for v in VERSIONS}
    assert kinds["2021-11-15"] == kinds["2022-06-07"] == "reconstructed"
    assert all(kinds[v] == "verbatim" for v in VERSIONS[2:])
    assert load_policy("2022-06-07").provenance.caveats


def test_reference_version_has_all_categories_and_disclosure_restrictions():
    p = load_policy("2023-02-15")
    assert p.category_keys == CATEGORY_KEYS
    assert p.verdict("impersonation").verdict == "restricted"
    assert p.verdict("undisclosed_bot").verdict == "restricted"
    assert p.verdict("dating_apps").quote == "Adult content, adult industries, and dating apps"
    assert p.disallowed_topics("adult") == ["adult_sexual_content", "adult_industries", "dating_apps"]
    assert "tailored_legal_advice" not in p.disallowed_topics("legal", restricted_as="allowed")
    assert p.disallowed_topics("legal") == ["tailored_legal_advice"]


def test_topics_file():
    topics = load_topics()
    assert len(topics) == len(topic_keys()) == len(set(topic_keys()))
    assert {t.reference_category for t in topics} - {None} <= set(CATEGORY_KEYS)


@pytest.mark.parametrize("topic, v1, v2, before, after", [
    ("dating_apps", "2023-02-15", "2024-01-10", "disallowed", {"allowed", "not_mentioned"}),
    ("mlm", "2023-02-15", "2024-01-10", "disallowed", {"allowed", "not_mentioned"}),
    ("military_warfare", "2023-02-15", "2024-01-10", "disallowed", {"not_mentioned"}),
    ("medical_diagnosis_treatment", "2023-02-15", "2024-01-10", "disallowed", {"restricted"}),
    ("defamation", "2023-02-15", "2024-01-10", "not_mentioned", {"disallowed"}),
    ("safeguard_circumvention", "2023-02-15", "2024-01-10", "not_mentioned", {"disallowed"}),
    ("emotion_inference_workplace", "2024-01-10", "2025-01-29", "not_mentioned", {"disallowed"}),
    ("adult_sexual_content", "2025-01-29", "2025-10-29", "disallowed", {"allowed", "not_mentioned"}),
    ("payday_lending", "2025-01-29", "2025-10-29", "disallowed", {"allowed", "not_mentioned"}),
])
def test_expected_drift(topic, v1, v2, before, after):
    change = diff(v1, v2).change(topic)
    assert change is not None
    assert change.before.verdict == before
    assert change.after.verdict in after


def test_advice_restricted_after_2023():
    for v in ("2024-01-10", "2025-01-29", "2025-10-29"):
        p = load_policy(v)
        for t, cat in [("tailored_legal_advice", "legal"), ("tailored_financial_advice", "financial"),
                       ("medical_diagnosis_treatment", "health")]:
            assert (p.verdict(t).verdict, p.verdict(t).category) == ("restricted", cat), (v, t)
    # API vs GPT-builder difference is recorded in a note
    assert "GPT builders" in load_policy("2024-01-10").verdict("tailored_legal_advice").note


def test_diff_2023_to_2024():
    d = diff("2023-02-15", "2024-01-10")
    assert {"dating_apps", "mlm"} <= set(d.newly_allowed())
    assert "medical_diagnosis_treatment" not in d.newly_allowed()
    assert "medical_diagnosis_treatment" in d.newly_allowed(restricted_as="allowed")
    assert {"defamation", "safeguard_circumvention"} <= set(d.newly_disallowed())
    data = json.loads(json.dumps(d.to_dict()))
    assert data["before"] == "2023-02-15" and data["after"] == "2024-01-10"
    changed = {c["topic"]: c for c in data["changes"]}
    assert changed["dating_apps"]["before"] == {"verdict": "disallowed", "category": "adult"}
    assert "hate" not in changed  # unchanged topics are not listed


def test_diff_categories_and_objects():
    d = diff(load_policy("2025-01-29"), "2025-10-29")
    assert d.categories_removed == ["adult"] and d.categories_added == []
    assert len(diff("2023-02-15", "2023-02-15")) == 0


def test_unknown_version_lists_available():
    with pytest.raises(UnknownPolicyVersion) as e:
        load_policy("2019-01-01")
    msg = str(e.value)
    assert "2019-01-01" in msg and "2023-02-15" in msg and "2025-10-29" in msg


def test_unknown_topic_and_bad_option():
    p = load_policy("2023-02-15")
    with pytest.raises(InputError, match="unknown topic"):
        p.verdict("no_such_topic")
    with pytest.raises(InputError, match="restricted_as"):
        topic_category_matrix(p, ["mlm"], restricted_as="maybe")
    with pytest.raises(InputError, match="unknown category key"):
        p.disallowed_topics("adults")


# ---------------------------------------------------------------------------------- user files
def _reference_data() -> dict:
    from harness.paths import policies_dir

    return yaml.safe_load((policies_dir() / "2023-02-15.yaml").read_text(encoding="utf-8"))


def test_user_policy_file_loads(tmp_path):
    data = _reference_data()
    data["id"] = "my-policy"
    data["topics"]["dating_apps"] = {"verdict": "allowed", "category": None}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    p = load_policy(path)
    assert p.id == "my-policy" and p.verdict("dating_apps").verdict == "allowed"
    assert load_policy(str(path)) is p  # cached until the file changes
    data["topics"]["mlm"] = {"verdict": "allowed"}
    time.sleep(0.01)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert load_policy(path).verdict("mlm").verdict == "allowed"


def test_bad_verdict_names_file_line_and_field(tmp_path):
    text = tmp_path / "bad.yaml"
    src = yaml.safe_dump(_reference_data(), allow_unicode=True, sort_keys=False)
    src = src.replace("  dating_apps:\n    verdict: disallowed", "  dating_apps:\n    verdict: forbidden", 1)
    assert "verdict: forbidden" in src
    text.write_text(src, encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_policy(text)
    (problem,) = e.value.problems
    assert problem.file == str(text)
    assert problem.field == "topics.dating_apps.verdict"
    lines = src.splitlines()
    assert lines[problem.line - 1].strip() == "verdict: forbidden"


def test_undeclared_category_and_missing_topic(tmp_path):
    data = _reference_data()
    data["categories"] = [c for c in data["categories"] if c["key"] != "gov_decision"]
    del data["topics"]["payday_lending"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_policy(path)
    fields = {p.field for p in e.value.problems}
    assert {"topics.law_enforcement_decisions.category", "topics.migration_decisions.category"} <= fields
    assert all(p.line for p in e.value.problems)
    data["categories"].append({"key": "gov_decision", "title": "High risk government decision-making"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError, match="payday_lending") as e:
        load_policy(path)
    assert e.value.problems[0].field == "topics"


def test_invalid_yaml_reports_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text('id: "x"\ndate: 2024-01-01\ntopics: [unclosed\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_policy(path)
    assert e.value.problems[0].file == str(path) and e.value.problems[0].line is not None


def test_policy_model_rejects_unknown_category_key():
    with pytest.raises(Exception, match="unknown category key"):
        Policy(id="x", date="2024-01-01", title="x", provenance={"kind": "verbatim", "source": "s"},
               categories=[{"key": "adults", "title": "Adult"}], topics={})


# ---------------------------------------------------------------------------------- projections
def test_project_truth_follows_the_version():
    topics = [["dating_apps"], ["dating_apps"], ["dating_apps"], ["malware", "scams"], []]
    labels = ["unsafe", "benign", "unknown", "unsafe", "unsafe"]
    y23 = project_truth(topics, labels, "2023-02-15")
    y24 = project_truth(topics, labels, "2024-01-10")
    assert y23.dtype == np.uint8 and y23.shape == (5, 14)
    adult = load_policy("2023-02-15").category_keys.index("adult")
    assert y23[0, adult] == 1 and y23[0].sum() == 1
    assert y24[0].sum() == 0  # dating apps are no longer a violation
    assert y23[1:3].sum() == 0 and y24[1:3].sum() == 0  # benign and unknown rows
    p24 = load_policy("2024-01-10")
    assert {p24.category_keys[j] for j in np.flatnonzero(y24[3])} == {"malware", "fraud_deception"}
    assert y24[4].sum() == 0


def test_restricted_as_changes_truth():
    topics, labels = [["tailored_legal_advice"]], ["unsafe"]
    p = load_policy("2024-01-10")
    legal = p.category_keys.index("legal")
    assert project_truth(topics, labels, p)[0, legal] == 1
    assert project_truth(topics, labels, p, restricted_as="allowed")[0].sum() == 0


def test_project_truth_matches_naive_loop():
    rng = np.random.default_rng(7)
    keys = topic_keys()
    topics = [[keys[j] for j in rng.choice(len(keys), rng.integers(0, 4), replace=False)] for _ in range(500)]
    labels = rng.choice(["unsafe", "benign", "unknown"], 500)
    for version in ("2022-06-07", "2025-10-29"):
        p = load_policy(version)
        for ra in ("violation", "allowed"):
            y = project_truth(topics, labels, p, restricted_as=ra)
            for i, (ts, lab) in enumerate(zip(topics, labels)):
                exp = np.zeros(len(p.category_keys), np.uint8)
                for t in ts:
                    v = p.verdict(t)
                    if lab == "unsafe" and is_violation(v.verdict, ra):
                        exp[p.category_keys.index(v.category)] = 1
                np.testing.assert_array_equal(y[i], exp)


def test_project_truth_rejects_unknown_topics():
    with pytest.raises(InputError, match="example 1 has unknown topic 'nope'"):
        project_truth([["mlm"], ["nope"]], ["unsafe", "unsafe"], "2023-02-15")
    with pytest.raises(InputError, match="labels"):
        project_truth([["mlm"]], ["unsafe", "benign"], "2023-02-15")


def test_topic_category_matrix():
    p = load_policy("2023-02-15")
    M = topic_category_matrix(p, ["dating_apps", "defamation", "undisclosed_bot"])
    assert M.dtype == bool and M.shape == (3, 14)
    assert M[0, p.category_keys.index("adult")] and not M[1].any()
    assert M[2].any() and not topic_category_matrix(p, ["undisclosed_bot"], restricted_as="allowed").any()


def test_label_category_matrix_policy_and_topics():
    p = load_policy("2025-10-29")
    M = label_category_matrix(["adult", "malware"], "policy:2023-02-15", p)
    assert not M[0].any()  # a 2023 pack's adult label has no column under 2025-10-29
    assert M[1, p.category_keys.index("malware")] and M[1].sum() == 1
    from harness.classifiers.base import Taxonomy

    T = label_category_matrix(["gambling", "payday_lending"], Taxonomy.topics(), p)
    assert T[0, p.category_keys.index("economic_harm")] and not T[1].any()
    with pytest.raises(InputError, match="not category keys"):
        label_category_matrix(["adults"], Taxonomy.for_policy("2023-02-15"), p)
    with pytest.raises(InputError, match="taxonomy kind"):
        label_category_matrix(["x"], "bogus", p)


def test_project_scores():
    S = np.array([[0.1, 0.9, 0.4], [0.5, 0.2, 0.3]], dtype=np.float32)
    M = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1]], dtype=bool)
    out = project_scores(S, M)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.9, 0.0, 0.4], [0.5, 0.0, 0.5]])
    with pytest.raises(InputError):
        project_scores(S, M[:2])


# ---------------------------------------------------------------------------------- format version, constants
def _policy_file(tmp_path, data):
    path = tmp_path / "v.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_files_declare_format_version_1_and_old_files_without_it_still_load(tmp_path):
    from harness.paths import policies_dir

    for path in [*policies_dir().glob("*.yaml"), *(policies_dir() / "crosswalks").glob("*.yaml")]:
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["format_version"] == 1, path
    assert load_policy("2023-02-15").format_version == 1
    data = _reference_data()
    del data["format_version"]
    old = load_policy(_policy_file(tmp_path, data))
    assert old.format_version == 1 and old.topics == load_policy("2023-02-15").topics


@pytest.mark.parametrize("value", [2, "1", 1.5, None])
def test_an_unknown_format_version_is_one_clear_error_naming_file_line_and_field(tmp_path, value):
    data = _reference_data()
    data["format_version"] = value
    data["topics"] = "not even a mapping"  # a newer format may mean anything: only the version is reported
    path = _policy_file(tmp_path, data)
    with pytest.raises(InputError) as e:
        load_policy(path)
    (p,) = e.value.problems
    assert p.file == str(path) and p.field == "format_version" and "unknown format_version" in p.message
    assert path.read_text(encoding="utf-8").splitlines()[p.line - 1].startswith("format_version:")


def test_a_topic_vocabulary_of_an_unknown_format_is_rejected(tmp_path, monkeypatch):
    import harness.policies.topics as topics_mod

    bad = tmp_path / "topics.yaml"
    bad.write_text("format_version: 3\ntopics: []\n", encoding="utf-8")
    monkeypatch.setattr(topics_mod, "topics_path", lambda: bad)
    with pytest.raises(InputError) as e:
        load_topics()
    assert (e.value.problems[0].field, e.value.problems[0].line) == ("format_version", 1)


def test_reference_version_and_restricted_as_are_defined_once():
    from typing import get_args

    from harness.policies import REFERENCE_VERSION, RESTRICTED_AS, RestrictedAs

    assert REFERENCE_VERSION == "2023-02-15" and REFERENCE_VERSION in list_versions()
    assert set(load_policy(REFERENCE_VERSION).category_keys) == set(CATEGORY_KEYS)
    assert RESTRICTED_AS == get_args(RestrictedAs) == ("violation", "allowed")


@pytest.mark.parametrize("restricted_as", ["violation", "allowed"])
def test_topic_change_effect_agrees_with_the_diff(restricted_as):
    for a, b in zip(VERSIONS[:-1], VERSIONS[1:]):
        d = diff(a, b)
        effects = {c.topic: c.effect(restricted_as) for c in d.changes}
        assert sorted(t for t, e in effects.items() if e == "relaxed") == sorted(d.newly_allowed(restricted_as=restricted_as))
        assert sorted(t for t, e in effects.items() if e == "tightened") == sorted(
            d.newly_disallowed(restricted_as=restricted_as))
        pa, pb = load_policy(a), load_policy(b)
        for t, e in effects.items():
            both = pa.is_violation(t, restricted_as=restricted_as) and pb.is_violation(t, restricted_as=restricted_as)
            assert (e == "moved") == (both and pa.verdict(t).category != pb.verdict(t).category), (a, b, t)
    # 2024-01-10 files market manipulation under illegal activity, 2023-02-15 under economic harm
    assert diff("2023-02-15", "2024-01-10").change("market_manipulation").effect() == "moved"
    assert diff("2023-02-15", "2024-01-10").change("dating_apps").effect(restricted_as) == "relaxed"


def test_a_policy_file_renamed_to_another_id_is_rejected_even_when_cached(tmp_path, monkeypatch):
    import harness.policies.load as load_mod

    data = _reference_data()
    path = _policy_file(tmp_path, data)
    assert load_policy(path).id == "2023-02-15"  # cached by path
    monkeypatch.setattr(load_mod, "_version_files", lambda: {"2024-01-10": path})
    with pytest.raises(InputError, match="does not match the file name") as e:
        load_policy("2024-01-10")
    assert e.value.problems[0].field == "id" and e.value.problems[0].line is not None
