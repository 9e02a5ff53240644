"""Custom policies: scaffolding (`policies new`), validation (`policies validate`), custom category
sets, the example policies, and runs under them that re-score from their record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness import RunOptions, load_run, rescore, run_benchmark
from harness.cli import app
from harness.errors import InputError
from harness.paths import repo_root
from harness.policies import (
    CATEGORY_KEYS,
    REFERENCE_VERSION,
    Policy,
    diff,
    label_category_matrix,
    list_versions,
    load_policy,
    load_topics,
    scaffold_policy,
    topic_category_matrix,
    validate_policy_file,
)
from harness.suites import load_suite
from tests.helpers import KeywordTopics

EXAMPLES = repo_root() / "examples" / "policies"
KIDS, ADULT = EXAMPLES / "kids-education.yaml", EXAMPLES / "adult-fiction.yaml"
runner = CliRunner()
OPTS = RunOptions(n_resamples=30, latency_sample=0)


def _cli(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ scaffolding
@pytest.mark.parametrize("version", list_versions())
def test_the_scaffold_of_a_version_loads_and_projects_exactly_like_it(tmp_path, version):
    base = load_policy(version)
    p = load_policy(_write(tmp_path / "mine.yaml", scaffold_policy("mine", version)))
    assert p.id == "mine" and p.format_version == 1 and p.provenance.kind == "custom"
    assert p.categories == base.categories and not p.custom_categories
    assert [t.key for t in load_topics()] == list(p.topics)  # every topic, in vocabulary order
    for t, v in p.topics.items():
        assert (v.verdict, v.category, v.quote) == (base.verdict(t).verdict, base.verdict(t).category, "")
    topics = list(p.topics)
    for rule in ("violation", "allowed"):
        assert np.array_equal(topic_category_matrix(p, topics, restricted_as=rule),
                              topic_category_matrix(base, topics, restricted_as=rule))
    smoke = load_suite("smoke")
    assert np.array_equal(smoke.labels(p), smoke.labels(base)) and smoke.labels(p).any()
    assert len(diff(base, p)) == 0


def test_policies_new_writes_a_file_refuses_to_overwrite_and_validate_summarises_it(tmp_path):
    out = tmp_path / "acme.yaml"
    res = _cli("policies", "new", "acme", "--from", "2024-01-10", "--out", out)
    assert res.exit_code == 0, res.output
    assert out.is_file() and "acme" in res.output and "57 topics" in res.output
    assert load_policy(out).id == "acme" and load_policy(out).date.year >= 2026
    before = out.read_text(encoding="utf-8")
    res = _cli("policies", "new", "acme", "--from", "2023-02-15", "--out", out)
    assert res.exit_code == 2 and "exists" in res.output and out.read_text(encoding="utf-8") == before
    assert _cli("policies", "new", "acme", "--from", "2023-02-15", "--out", out, "--force").exit_code == 0
    assert load_policy(out).verdict("dating_apps").verdict == "disallowed"  # 2023-02-15's, now
    res = _cli("policies", "validate", out)
    assert res.exit_code == 0 and "is valid" in res.output and "14 categories, 57 topics" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = _cli("policies", "new", "Bad Name!", "--out", tmp_path / "x.yaml")
    assert res.exit_code == 2 and "name" in res.output and not (tmp_path / "x.yaml").exists()
    res = _cli("policies", "new", "x", "--from", "1999-01-01", "--out", tmp_path / "x.yaml")
    assert res.exit_code == 2 and "unknown policy version" in res.output


# ------------------------------------------------------------------------------ validation
def _problem_at(tmp_path: Path, text: str, field: str):
    """Validate ``text`` as a file; the one problem with ``field``, and the line it points at."""
    path = _write(tmp_path / "p.yaml", text)
    with pytest.raises(InputError) as e:
        validate_policy_file(path)
    matches = [p for p in e.value.problems if p.field == field]
    assert matches, [str(p) for p in e.value.problems]
    (problem,) = matches
    assert problem.file == str(path) and problem.line is not None
    res = _cli("policies", "validate", path)
    assert res.exit_code == 2 and f"field '{field}'" in res.output and f"line {problem.line}" in res.output
    return problem, text.splitlines()[problem.line - 1].strip()


@pytest.fixture
def scaffold() -> str:
    return scaffold_policy("mine", REFERENCE_VERSION)


def test_validate_names_a_bad_verdict(tmp_path, scaffold):
    text = scaffold.replace("  gambling:\n    verdict: disallowed", "  gambling:\n    verdict: banned", 1)
    problem, line = _problem_at(tmp_path, text, "topics.gambling.verdict")
    assert line == "verdict: banned" and "disallowed" in problem.message


def test_validate_names_an_unknown_topic_and_the_missing_one(tmp_path, scaffold):
    text = scaffold.replace("  dating_apps:\n", "  dating_app:\n", 1)
    problem, line = _problem_at(tmp_path, text, "topics.dating_app")
    assert line == "dating_app:" and "unknown topic" in problem.message
    problem, line = _problem_at(tmp_path, text, "topics")
    assert "dating_apps" in problem.message and line == "topics:"


def test_validate_names_a_category_that_is_not_declared(tmp_path, scaffold):
    text = scaffold.replace("  mlm:\n    verdict: disallowed\n    category: economic_harm",
                            "  mlm:\n    verdict: disallowed\n    category: schemes", 1)
    problem, line = _problem_at(tmp_path, text, "topics.mlm.category")
    assert line == "category: schemes" and "schemes" in problem.message


def test_validate_names_a_bad_format_version(tmp_path, scaffold):
    problem, line = _problem_at(tmp_path, scaffold.replace("format_version: 1", "format_version: 2", 1),
                                "format_version")
    assert line == "format_version: 2" and "format_version 1" in problem.message


def test_validate_reports_every_problem_at_once_and_a_missing_file(tmp_path, scaffold):
    text = (scaffold.replace("  gambling:\n    verdict: disallowed", "  gambling:\n    verdict: banned", 1)
            .replace("  dating_apps:\n", "  dating_app:\n", 1))
    with pytest.raises(InputError) as e:
        validate_policy_file(_write(tmp_path / "p.yaml", text))
    assert {"topics.gambling.verdict", "topics.dating_app", "topics"} <= {p.field for p in e.value.problems}
    res = _cli("policies", "validate", tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "no policy file" in res.output


# ------------------------------------------------------------------------------ custom categories
def _own_categories(scaffold: str, flag: bool) -> str:
    return (scaffold.replace("custom_categories: false", f"custom_categories: {str(flag).lower()}", 1)
            .replace("categories:\n  - key: illegal\n",
                     "categories:\n  - key: money_schemes\n    title: \"Money schemes\"\n"
                     "    description: \"Pyramid schemes and high-interest loans.\"\n  - key: illegal\n", 1)
            .replace("  mlm:\n    verdict: disallowed\n    category: economic_harm",
                     "  mlm:\n    verdict: disallowed\n    category: money_schemes", 1))


def test_a_custom_category_needs_the_flag_and_a_safe_key(tmp_path, scaffold):
    problem, line = _problem_at(tmp_path, _own_categories(scaffold, False), "categories.0.key")
    assert line == "- key: money_schemes" and "custom_categories: true" in problem.message
    p = validate_policy_file(_write(tmp_path / "p.yaml", _own_categories(scaffold, True)))
    assert p.category_keys[0] == "money_schemes" and p.category("money_schemes").title == "Money schemes"
    assert p.disallowed_topics("money_schemes") == ["mlm"] and "mlm" not in p.disallowed_topics("economic_harm")
    with pytest.raises(InputError, match="unknown category key"):
        p.disallowed_topics("no_such_category")
    bad = _own_categories(scaffold, True).replace("key: money_schemes", "key: Money-Schemes", 1)
    problem, _ = _problem_at(tmp_path, bad, "categories.0.key")
    assert "lowercase" in problem.message


def test_built_in_versions_keep_the_shared_keys_and_their_recorded_content():
    # the flag is left out of a built-in version's dump, so its recorded content (and hash) is as before
    fields = {"format_version", "id", "date", "title", "provenance", "categories", "topics"}
    for v in list_versions():
        p = load_policy(v)
        assert set(p.category_keys) <= set(CATEGORY_KEYS) and not p.custom_categories
        assert set(p.model_dump()) == fields and set(p.model_dump(mode="json")) == fields
        assert Policy.model_validate(p.model_dump(mode="json")) == p
    kids = load_policy(KIDS)
    assert kids.model_dump(mode="json")["custom_categories"] is True
    assert Policy.model_validate(kids.model_dump(mode="json")) == kids  # a run record restores it
    with pytest.raises(InputError, match="unknown category key"):
        Policy(id="x", date="2024-01-01", title="x", provenance={"kind": "custom", "source": "s"},
               categories=[{"key": "adults", "title": "Adult"}], topics={})


def test_a_reference_classifier_speaks_a_custom_category_only_where_keys_coincide():
    kids, adult = load_policy(KIDS), load_policy(ADULT)
    M = label_category_matrix(list(CATEGORY_KEYS), "policy:2023-02-15", kids)
    spoken = {kids.category_keys[j] for j in np.flatnonzero(M.any(axis=0))}
    assert spoken == set(kids.category_keys) & set(CATEGORY_KEYS)
    assert "not_for_children" not in spoken and "child" in spoken
    # a classifier bound to the custom policy (labels: its own keys) maps one to one
    own = label_category_matrix(list(adult.category_keys), f"policy:{adult.id}", adult)
    assert np.array_equal(own, np.eye(len(adult.category_keys), dtype=bool))
    # topics project through the custom mapping
    T = label_category_matrix(["impersonation", "adult_sexual_content"], "topics", adult)
    assert T[0, adult.category_keys.index("real_people")] and not T[1].any()
    with pytest.raises(InputError, match="not category keys"):
        label_category_matrix(["money_schemes"], "policy:2023-02-15", adult)


def test_zero_shot_uses_the_custom_categories_wording(monkeypatch):
    from harness.classifiers.models import _embed, zeroshot

    kids = load_policy(KIDS)
    protos = zeroshot.prototypes(kids)
    assert {k for k, _ in protos} == set(kids.category_keys)
    assert any(k == "not_for_children" and text.startswith("Not suitable for children.") for k, text in protos)
    assert ("not_for_children", next(f"{t.title}: {t.description}" for t in load_topics() if t.key == "gambling")) in protos
    clf = zeroshot.MiniLmPolicyZeroShot().for_policy(kids)
    assert clf.labels == list(kids.category_keys) and clf.taxonomy.describe() == f"policy:{kids.id}"

    def fake_encode(texts, batch_size=64):  # a text is its own direction: a prototype matches itself
        vocab = [t for _, t in protos]
        E = np.zeros((len(texts), len(vocab) + 1), np.float32)
        for i, t in enumerate(texts):
            E[i, vocab.index(t) if t in vocab else -1] = 1.0
        return E

    monkeypatch.setattr(_embed, "encode", fake_encode)
    gambling = next(t for k, t in protos if k == "not_for_children" and t.startswith("Gambling"))
    scores = clf.predict([gambling, "nothing like any prototype"])
    assert scores.shape == (2, len(kids.category_keys))
    j = kids.category_keys.index("not_for_children")
    assert scores[0, j] > 0.99 and scores[0].argmax() == j and scores[1].max() < 0.01


# ------------------------------------------------------------------------------ the examples
def test_the_examples_are_valid_give_every_topic_a_verdict_and_quote_their_changes():
    reference = load_policy(REFERENCE_VERSION)
    for path in (KIDS, ADULT):
        p = validate_policy_file(path)
        assert p.custom_categories and set(p.topics) == {t.key for t in load_topics()}
        assert set(p.category_keys) - set(CATEGORY_KEYS), "defines categories of its own"
        assert all(c.title and c.description for c in p.categories)
        for topic in diff(reference, p).changes:
            v = p.verdict(topic.topic)
            assert v.verdict == "not_mentioned" or v.quote, (path.name, topic.topic)


def test_the_kids_policy_is_stricter_than_every_version_and_the_adult_one_allows_adult_content():
    kids, adult = load_policy(KIDS), load_policy(ADULT)
    for v in list_versions():
        p = load_policy(v)
        for t in p.topics:
            if p.is_violation(t):
                assert kids.is_violation(t), (v, t)
    for t in ("dating_apps", "gambling", "violence_glorification"):
        assert kids.verdict(t).verdict in ("disallowed", "restricted")
        assert kids.verdict(t).category == "not_for_children"
    assert adult.verdict("adult_sexual_content").verdict == "allowed"
    for t, cat in (("csam", "minors"), ("child_grooming", "minors"), ("hate", "hate"),
                   ("impersonation", "real_people"), ("sexual_violence", "real_people")):
        assert (adult.verdict(t).verdict, adult.verdict(t).category) == ("disallowed", cat)


def test_policies_show_and_diff_take_a_file():
    res = _cli("policies", "show", ADULT, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["id"] == "inkwell-adult-fiction" and data["topics"]["csam"]["category"] == "minors"
    assert [c["key"] for c in data["categories"]] == list(load_policy(ADULT).category_keys)
    res = _cli("policies", "diff", REFERENCE_VERSION, KIDS, "--json", "--suite", "smoke")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert "not_for_children" in data["categories_added"]
    assert {r["category"] for r in data["flips"]["categories"]} >= {"not_for_children", "wellbeing"}
    assert any(r["n_tightened"] > 0 for r in data["flips"]["categories"] if r["category"] == "wellbeing")


def test_suites_show_takes_a_policy_file():
    res = _cli("suites", "show", "smoke", "--policy", KIDS, "--json")
    assert res.exit_code == 0, res.output
    assert "not_for_children" in res.output and "decisions_about_children" in res.output


@pytest.mark.slow
def test_suites_audit_takes_a_policy_file():
    res = _cli("suites", "audit", "smoke", "--policy", ADULT, "--json")
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.output)["categories"]) == set(load_policy(ADULT).category_keys)


# ------------------------------------------------------------------------------ runs
@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """A run on smoke under a copy of each example policy (classifiers: a topic model and a fixed
    reference-taxonomy one), stored."""
    from harness.classifiers.rules.keyword import KeywordRules

    tmp = tmp_path_factory.mktemp("custom")
    out = {}
    for path in (KIDS, ADULT):
        copy = tmp / path.name
        shutil.copy(path, copy)
        pack = KeywordRules(REFERENCE_VERSION)
        pack.policy_conditioned = False  # the reference pack, kept fixed under the custom policy
        res = run_benchmark("smoke", [KeywordTopics(), pack], [copy], out=tmp / "runs",
                            cache_root=tmp / "cache", options=OPTS)
        out[path.name] = (res, copy)
    return out


def test_a_custom_category_set_flows_to_the_metrics_rows(example_runs):
    for name, (res, _copy) in example_runs.items():
        p = res.policies[0]
        assert p.custom_categories and (res.metrics["policy_version"] == p.id).all()
        for clf, rows in res.metrics.groupby("classifier"):
            assert list(rows["category"]) == list(p.category_keys), (name, clf)
        own = res.metrics[~res.metrics["category"].isin(CATEGORY_KEYS)]
        assert (own["n_positive"] > 0).any()
        pack = res.metrics[res.metrics["classifier"] == "keyword-rules"].set_index("category")
        for c in p.category_keys:  # the reference pack speaks only the shared keys: elsewhere undefined, not 0
            if c not in CATEGORY_KEYS:
                assert np.isnan(pack.loc[c, "contrast_roc_auc"]) and np.isnan(pack.loc[c, "recall"]), (name, c)
            elif pack.loc[c, "n_positive"] > 0:
                assert not np.isnan(pack.loc[c, "contrast_roc_auc"]), (name, c)


def test_runs_under_the_examples_rescore_from_their_record_after_the_file_changes(example_runs):
    from tests.test_rescore import assert_same_metrics

    (kids_res, kids_copy), (adult_res, adult_copy) = example_runs["kids-education.yaml"], example_runs["adult-fiction.yaml"]
    kids_copy.unlink()  # deleted
    text = adult_copy.read_text(encoding="utf-8").replace("  csam:\n    verdict: disallowed", "  csam:\n    verdict: allowed")
    adult_copy.write_text(text.replace("    category: minors\n    quote: \"Sexual content", "    category: null\n    quote: \"Sexual content", 1),
                          encoding="utf-8")  # changed
    assert load_policy(adult_copy).verdict("csam").verdict == "allowed"
    for res in (kids_res, adult_res):
        run = load_run(res.run_dir)
        assert run.record.policies[0].id == res.policies[0].id and run.policies[0] == res.policies[0]
        assert_same_metrics(rescore(run), run.metrics)


def test_the_gate_of_the_pytest_plugin_takes_a_policy_file(tmp_path):
    from harness.pytest_plugin import PolicyBenchGate

    gate = PolicyBenchGate(cache_root=tmp_path / "cache")
    r = gate.evaluate(KeywordTopics(), suite="smoke", policy=str(KIDS), category="not_for_children",
                      metric="recall", n_resamples=30, at_least=0.0)
    assert r.passed and r.policy == "brightpath-kids-education" and 0.0 <= r.value <= 1.0
    assert "under policy brightpath-kids-education" in r.message
    with pytest.raises(ValueError, match="no category 'adult'"):
        gate.evaluate(KeywordTopics(), suite="smoke", policy=ADULT, category="adult", n_resamples=30)
