"""Crosswalks: foreign classifier taxonomies mapped to topics, and their projection."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from harness.classifiers.base import Taxonomy
from harness.errors import InputError
from harness.policies import (
    label_category_matrix,
    list_crosswalks,
    load_crosswalk,
    load_policy,
    project_scores,
    topic_category_matrix,
    topic_keys,
)
from harness.policies.crosswalk import crosswalks_dir

EXPECTED = {
    "openai-moderation-2022": ["hate", "hate/threatening", "self-harm", "sexual", "sexual/minors",
                               "violence", "violence/graphic"],
    "openai-moderation-2023": ["harassment", "harassment/threatening", "hate", "hate/threatening", "self-harm",
                               "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors",
                               "violence", "violence/graphic"],
    "omni-moderation": ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
                        "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
                        "sexual/minors", "violence", "violence/graphic"],
    "llama-guard-3": [f"S{i}" for i in range(1, 15)],
    "llama-guard-4": [f"S{i}" for i in range(1, 15)],
    "ailuminate": ["vcr", "src", "cse", "ssh", "iwp", "ipv", "dfm", "ncr", "hte", "prv", "spc_ele", "spc_fin",
                   "spc_hlt", "spc_lgl", "sxc_prn"],
}


def test_all_crosswalks_listed():
    assert list_crosswalks() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crosswalk_loads_with_exact_labels_and_known_topics(name):
    cw = load_crosswalk(name)
    assert cw.name == name and cw.source
    assert sorted(cw.labels_keys) == sorted(EXPECTED[name])
    known = set(topic_keys())
    for lab in cw.labels:
        assert lab.topics, f"{name}:{lab.key} maps to no topic"
        assert set(lab.topics) <= known
        assert lab.title and lab.description


def test_aliases_resolve_to_api_keys():
    cw = load_crosswalk("openai-moderation-2023")
    assert cw.label("self_harm_intent").key == "self-harm/intent"
    assert cw.topics_for("self_harm_intent") == cw.topics_for("self-harm/intent")
    assert load_crosswalk("openai-moderation-2022").label("H2").key == "hate/threatening"
    with pytest.raises(InputError, match="no label 'S15'"):
        load_crosswalk("llama-guard-3").label("S15")


def test_unknown_crosswalk():
    with pytest.raises(InputError, match="llama-guard-3"):
        load_crosswalk("llama-guard-9")


def test_crosswalk_with_unknown_topic_names_file_and_label(tmp_path):
    data = yaml.safe_load((crosswalks_dir() / "llama-guard-3.yaml").read_text(encoding="utf-8"))
    data["labels"][11]["topics"] = ["adult_sexual_content", "erotica"]
    path = tmp_path / "lg.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_crosswalk(path)
    (p,) = e.value.problems
    assert p.file == str(path) and "'S12'" in p.message and "'erotica'" in p.message
    assert p.field == "labels.11.topics.1" and p.line is not None


def test_duplicate_label_names_rejected(tmp_path):
    data = yaml.safe_load((crosswalks_dir() / "omni-moderation.yaml").read_text(encoding="utf-8"))
    data["labels"][1]["aliases"] = ["harassment"]
    path = tmp_path / "omni.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError, match="used twice"):
        load_crosswalk(path)


def test_llama_guard_sexual_content_follows_policy():
    tax = Taxonomy.for_crosswalk("llama-guard-3")
    p23, p25 = load_policy("2023-02-15"), load_policy("2025-10-29")
    M23 = label_category_matrix(["S12"], tax, p23)
    M25 = label_category_matrix(["S12"], tax, p25)
    assert M23[0, p23.category_keys.index("adult")] and M23.sum() == 1
    assert not M25.any()  # adult sexual content is not a violation under 2025-10-29
    # S1 violent crimes still counts for illegal under both
    for p in (p23, p25):
        assert label_category_matrix(["S1"], tax, p)[0, p.category_keys.index("illegal")]


def test_crosswalk_matrix_is_or_of_topic_rows():
    for name in ("omni-moderation", "ailuminate"):
        cw = load_crosswalk(name)
        for version in ("2023-02-15", "2025-10-29"):
            p = load_policy(version)
            for ra in ("violation", "allowed"):
                M = label_category_matrix(cw.labels_keys, f"crosswalk:{name}", p, restricted_as=ra)
                for i, lab in enumerate(cw.labels_keys):
                    T = topic_category_matrix(p, cw.topics_for(lab), restricted_as=ra)
                    np.testing.assert_array_equal(M[i], T.any(axis=0))


def test_restricted_advice_labels_depend_on_option():
    p = load_policy("2024-01-10")
    M = label_category_matrix(["spc_lgl"], "crosswalk:ailuminate", p)
    assert M[0, p.category_keys.index("legal")]
    assert not label_category_matrix(["spc_lgl"], "crosswalk:ailuminate", p, restricted_as="allowed").any()


def test_scores_project_through_crosswalk():
    p = load_policy("2023-02-15")
    labels = ["sexual", "sexual/minors", "violence"]
    M = label_category_matrix(labels, "crosswalk:openai-moderation-2022", p)
    S = np.array([[0.8, 0.1, 0.3]], dtype=np.float32)
    out = project_scores(S, M)
    keys = p.category_keys
    assert out[0, keys.index("adult")] == pytest.approx(0.8)
    assert out[0, keys.index("child")] == pytest.approx(0.1)
    assert out[0, keys.index("illegal")] == pytest.approx(0.3)  # violence -> violent_crime -> illegal
    assert out[0, keys.index("malware")] == 0.0


def test_crosswalk_taxonomy_needs_a_name():
    with pytest.raises(InputError, match="crosswalk name"):
        label_category_matrix(["S1"], Taxonomy("crosswalk"), "2023-02-15")


def test_crosswalk_format_version_missing_means_1_and_unknown_is_rejected(tmp_path):
    data = yaml.safe_load((crosswalks_dir() / "llama-guard-3.yaml").read_text(encoding="utf-8"))
    assert data["format_version"] == 1
    del data["format_version"]
    path = tmp_path / "lg.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert load_crosswalk(path).labels == load_crosswalk("llama-guard-3").labels
    data = {"format_version": 2, **data}
    path = tmp_path / "lg2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_crosswalk(path)
    (p,) = e.value.problems
    assert (p.file, p.line, p.field) == (str(path), 1, "format_version") and "unknown format_version 2" in p.message
