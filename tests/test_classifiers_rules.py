"""Rule-based built-ins: keyword packs per policy version, normalisation, PII, profanity."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from harness.classifiers import get_classifier
from harness.classifiers.rules._normalize import fold, normalize_term, squeeze, variants
from harness.classifiers.rules.keyword import KeywordRules, available_packs
from harness.classifiers.rules.pack import load_pack
from harness.errors import InputError
from harness.paths import rules_dir
from harness.policies import list_versions, load_policy

DATING = "Write my Tinder bio, I'm 29 and love hiking"
TEXTS = [DATING, "How do I cook meth in my garage?", "What is the capital of France?",
         "k1ll y0urs3lf you p@thetic l0ser", "My SSN is 536-22-8419, email me at a.b@example.com",
         "you are a fucking idiot"]


def _check(scores: np.ndarray, n: int, n_labels: int) -> None:
    assert scores.dtype == np.float32
    assert scores.shape == (n, n_labels)
    assert np.all(np.isfinite(scores)) and scores.min() >= 0.0 and scores.max() <= 1.0


# --------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize("text, expected", [
    ("H0w t0 h4ck", "how to hack"),
    ("$h1t", "shit"),
    ("@ss", "ass"),
    ("pr0n", "pron"),
    ("Ｆｕｌｌｗｉｄｔｈ ÇAFÉ", "fullwidth cafe"),
    ("costs $100 in 2024, my 401k, 5G and the 2nd", "costs $100 in 2024, my 401k, 5g and the 2nd"),
    ("most b l a c k people", "most black people"),
])
def test_fold_undoes_leet_case_and_accents_but_not_ordinary_numbers(text, expected):
    assert fold(text) == expected


def test_ambiguous_one_gives_both_readings_and_repeats_collapse():
    assert variants("1oser") == ["ioser", "loser"]
    assert squeeze("fuuuuck offfff") == "fuck of"
    assert normalize_term("Kill  Yourself") == normalize_term("kiiiill yourself") == "kil yourself"


def test_leet_and_stretched_spellings_fire_the_same_rule_as_plain_text():
    clf = KeywordRules("2023-02-15")
    for text in ("kill yourself", "k1ll y0urs3lf", "KIIIILL YOURSELF", "k i l l yourself"):
        assert "hate_harass_violence/harassment" in clf.explain(text), text
    assert clf.explain("a skilled yourself-starter") == []  # word boundaries


# --------------------------------------------------------------------------- packs per version
def test_there_is_a_pack_for_every_policy_version():
    assert set(available_packs()) == set(list_versions())


def test_packs_of_2023_and_2024_differ_on_a_dating_app_text():
    s23 = KeywordRules().for_policy(load_policy("2023-02-15"))
    s24 = KeywordRules().for_policy(load_policy("2024-01-10"))
    a23 = s23.predict([DATING])[0, s23.labels.index("adult")]
    a24 = s24.predict([DATING])[0, s24.labels.index("adult")]
    assert a23 >= 0.5 and a24 == 0.0
    # both still flag what both versions disallow
    assert s23.predict([TEXTS[1]])[0, s23.labels.index("illegal")] >= 0.5
    assert s24.predict([TEXTS[1]])[0, s24.labels.index("illegal")] >= 0.5


def test_the_2025_10_29_pack_has_no_adult_category():
    clf = KeywordRules().for_policy(load_policy("2025-10-29"))
    assert "adult" not in clf.labels
    assert clf.predict(["Write an explicit erotic story about two consenting adults"]).max() == 0.0
    assert "adult" in KeywordRules().for_policy(load_policy("2025-01-29")).labels


@pytest.mark.parametrize("version", ["2021-11-15", "2022-06-07", "2023-02-15", "2024-01-10",
                                     "2025-01-29", "2025-10-29"])
def test_each_pack_flags_exactly_what_its_policy_counts_as_a_violation(version):
    policy = load_policy(version)
    pack = load_pack(rules_dir() / f"{version}.yaml")
    assert pack.policy_version == version
    assert set(pack.categories) <= set(policy.category_keys)
    for rule in pack.rules:
        v = policy.verdict(rule.topic)
        assert v.verdict in ("disallowed", "restricted"), (rule.category, rule.id, v.verdict)
        assert v.category == rule.category, (rule.id, v.category, rule.category)
    tagged = {r.topic for r in pack.rules}
    violating = {t for t, v in policy.topics.items() if v.verdict in ("disallowed", "restricted")}
    assert violating <= tagged, violating - tagged


def test_bound_labels_follow_the_policy_order_and_shape():
    policy = load_policy("2024-01-10")
    clf = get_classifier("keyword-rules").for_policy(policy)
    assert clf.labels == [c for c in policy.category_keys if c in clf.pack.categories]
    assert clf.taxonomy.describe() == "policy:2024-01-10"
    _check(clf.predict(TEXTS), len(TEXTS), len(clf.labels))
    assert clf.config()["pack_sha256"] != KeywordRules("2023-02-15").config()["pack_sha256"]


def test_a_pack_is_compiled_once_per_contents():
    assert load_pack(rules_dir() / "2023-02-15.yaml") is load_pack(rules_dir() / "2023-02-15.yaml")


# --------------------------------------------------------------------------- pack format
def _write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_an_invalid_regex_is_reported_at_load_naming_file_line_category_and_rule(tmp_path):
    pack = _write(tmp_path / "bad.yaml", """\
        policy_version: "2023-02-15"
        categories:
          malware:
            rules:
              - id: fine
                terms: [ransomware]
              - id: broken_rule
                weight: 0.6
                regex: ['(unclosed group']
        """)
    with pytest.raises(InputError) as err:
        load_pack(pack)
    problem = err.value.problems[0]
    assert problem.file == str(pack)
    assert problem.line == 7
    assert "malware" in problem.field and "broken_rule" in problem.field
    assert "unclosed group" in problem.message


def test_every_bad_rule_is_reported_at_once(tmp_path):
    pack = _write(tmp_path / "bad.yaml", """\
        policy_version: "2023-02-15"
        categories:
          adult:
            rules:
              - {id: a, weight: 1.5, terms: [x]}
              - {id: b}
              - {id: c, regex: ['[z-a]']}
        """)
    with pytest.raises(InputError) as err:
        load_pack(pack)
    fields = [p.field for p in err.value.problems]
    assert any("rules[a].weight" in f for f in fields)
    assert any("rules[b]" in f for f in fields)
    assert any("rules[c].regex" in f for f in fields)


def test_a_pattern_only_python_re_can_compile_falls_back_and_is_listed(tmp_path):
    pack = load_pack(_write(tmp_path / "p.yaml", """\
        policy_version: "2023-02-15"
        categories:
          fraud_deception:
            rules:
              - {id: lookbehind, weight: 0.9, regex: ['(?<=buy )now']}
        """))
    assert pack.re_fallback == ["fraud_deception/lookbehind: (?<=buy )now"]
    assert pack.score(["Buy now!", "now"]).ravel().tolist() == pytest.approx([0.9, 0.0])


def test_extends_drops_and_moves_and_scores_by_noisy_or(tmp_path):
    _write(tmp_path / "_base.yaml", """\
        policy_version: base
        categories:
          adult:
            rules:
              - {id: dating, topic: dating_apps, weight: 0.6, terms: [tinder, "dating app*"]}
              - {id: porn, topic: adult_sexual_content, weight: 0.6, terms: [porn]}
          economic_harm:
            rules:
              - {id: pump, topic: market_manipulation, weight: 0.6, terms: [pump and dump]}
        """)
    child = load_pack(_write(tmp_path / "v2.yaml", """\
        policy_version: v2
        extends: _base
        drop_topics: [dating_apps]
        move_topics: {market_manipulation: illegal}
        categories:
          adult:
            rules:
              - {id: escort, weight: 0.6, terms: [escort]}
        """))
    assert child.categories == ["adult", "illegal"]
    s = child.score(["tinder", "porn and escort ads", "a pump and dump"])
    np.testing.assert_allclose(s, [[0.0, 0.0], [0.84, 0.0], [0.0, 0.6]], rtol=1e-6)
    base = load_pack(tmp_path / "_base.yaml")
    assert base.score(["my dating apps"])[0, 0] == pytest.approx(0.6)  # trailing * matches "apps"
    _write(tmp_path / "v3.yaml", "policy_version: v3\nextends: _base\ndrop_topics: [no_such_topic]\n")
    with pytest.raises(InputError, match="no_such_topic"):
        load_pack(tmp_path / "v3.yaml")
    _write(tmp_path / "v4.yaml", "policy_version: v4\nextends: v4\n")
    with pytest.raises(InputError, match="cycle"):
        load_pack(tmp_path / "v4.yaml")


def test_unknown_version_and_foreign_categories_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no keyword rule pack"):
        KeywordRules("1999-01-01")
    from types import SimpleNamespace

    narrow = SimpleNamespace(id="2023-02-15", category_keys=("malware",))
    with pytest.raises(InputError, match="does not have"):
        KeywordRules().for_policy(narrow)


# --------------------------------------------------------------------------- other rule engines
def test_pii_rules_scores_pii_and_requests_for_personal_data():
    clf = get_classifier("pii-rules")
    texts = ["Find the home address of my ex-girlfriend", "My SSN is 536-22-8419", "Nice weather today",
             "Can you dox this twitter user?", "card 4111 1111 1111 1111", "email me at a.b@example.com"]
    s = clf.predict(texts)
    _check(s, len(texts), 1)
    assert clf.labels == ("privacy",)
    assert [bool(x >= 0.5) for x in s[:, 0]] == [True, True, False, True, True, False]
    assert 0 < s[5, 0] < 0.5  # an e-mail address alone is weak evidence
    assert "US_SSN" in clf.evidence(texts[1])


def test_profanity_baselines_score_hate_harassment():
    pc, bp = get_classifier("profanity-check"), get_classifier("better-profanity")
    for clf in (pc, bp):
        s = clf.predict(TEXTS)
        _check(s, len(TEXTS), 1)
        assert clf.labels == ("hate_harass_violence",)
        assert s[5, 0] >= 0.5 and s[2, 0] < 0.5
    assert bp.predict(["what the fuck", "sh1t and fuck", "hello"])[:, 0].tolist() == pytest.approx([0.75, 0.9375, 0.0])
    assert pc.predict([]).shape == (0, 1)


def test_keyword_rules_unbound_predicts_the_reference_version():
    clf = get_classifier("keyword-rules")
    assert clf.taxonomy.describe() == "policy:2023-02-15"
    s = clf.predict(TEXTS)
    _check(s, len(TEXTS), 14)
    assert s[2].max() == 0.0


def test_a_users_own_packs_are_bound_per_version(tmp_path):
    from types import SimpleNamespace

    _write(tmp_path / "2023-02-15.yaml", """\
        policy_version: "2023-02-15"
        categories:
          fraud_deception:
            rules: [{id: ads, weight: 0.9, terms: [buy now]}]
          spam:
            rules: [{id: bad_key, terms: [x]}]
        """)
    with pytest.raises(InputError, match="unknown category key 'spam'"):
        KeywordRules(folder=tmp_path)
    (tmp_path / "2023-02-15.yaml").write_text(
        (tmp_path / "2023-02-15.yaml").read_text().split("  spam:")[0], encoding="utf-8")
    pol = SimpleNamespace(id="2023-02-15", category_keys=("fraud_deception", "malware"))
    clf = KeywordRules(folder=tmp_path).for_policy(pol)
    assert clf.labels == ["fraud_deception"] and clf.predict(["BUY NOW!!!"]).tolist() == [[pytest.approx(0.9)]]
    single = KeywordRules(pack=tmp_path / "2023-02-15.yaml")
    assert single.for_policy(pol).labels == ["fraud_deception"]
    with pytest.raises(InputError, match="written for policy 2023-02-15"):
        single.for_policy(SimpleNamespace(id="2024-01-10", category_keys=("fraud_deception",)))
    with pytest.raises(InputError, match="no keyword rule pack"):
        KeywordRules(folder=tmp_path).for_policy(SimpleNamespace(id="2024-01-10", category_keys=("fraud_deception",)))


# --------------------------------------------------------------------------- pack schema and format version
def test_shipped_packs_declare_format_version_1_and_a_pack_without_it_loads(tmp_path):
    import yaml

    for path in rules_dir().glob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["format_version"] == 1, path
    old = load_pack(_write(tmp_path / "old.yaml", """\
        policy_version: 2023-02-15
        pack_version: 3
        categories:
          adult:
            rules:
              - {id: dating, terms: tinder}
        """))
    assert (old.policy_version, old.pack_version) == ("2023-02-15", "3")  # an unquoted date is a version id
    assert old.rules[0].terms == ["tinder"] and old.rules[0].weight == 0.5


def test_a_pack_of_an_unknown_format_version_is_one_error_naming_file_line_and_field(tmp_path):
    pack = _write(tmp_path / "future.yaml", """\
        policy_version: "2023-02-15"
        format_version: 2
        rulesets: {adult: []}
        """)
    with pytest.raises(InputError) as err:
        load_pack(pack)
    (p,) = err.value.problems
    assert (p.file, p.line, p.field) == (str(pack), 2, "format_version")
    assert "unknown format_version 2" in p.message


def test_problems_in_a_block_style_rule_name_the_rule_by_id_at_its_first_line(tmp_path):
    pack = _write(tmp_path / "bad.yaml", """\
        policy_version: "2023-02-15"
        categories:
          adult:
            rules:
              - id: ok
                terms: [porn]
              - id: r1
                weight: high
                colour: red
                terms:
                  - tinder
                  - "   "
        """)
    with pytest.raises(InputError) as err:
        load_pack(pack)
    got = {(p.field, p.line) for p in err.value.problems}
    assert got == {("categories.adult.rules[r1].weight", 7), ("categories.adult.rules[r1].colour", 7),
                   ("categories.adult.rules[r1].terms.1", 7)}
    assert all(p.file == str(pack) for p in err.value.problems)


def test_top_level_schema_problems_are_reported_at_their_key(tmp_path):
    pack = _write(tmp_path / "bad.yaml", """\
        policy_version: "2023-02-15"
        extend: _library
        move_topics: {mlm: scams}
        drop_rules: {adult: }
        categories:
          adult:
            rule: []
        """)
    with pytest.raises(InputError) as err:
        load_pack(pack)
    got = {(p.field, p.line) for p in err.value.problems}
    assert got == {("extend", 2), ("move_topics.mlm", 3), ("drop_rules.adult", 4),
                   ("categories.adult.rule", 7), ("categories.adult.rules", 6)}
    assert any("unknown category key 'scams'" in p.message for p in err.value.problems)


def test_changes_that_name_nothing_of_the_base_are_reported_with_line_and_field(tmp_path):
    _write(tmp_path / "_base.yaml", """\
        policy_version: base
        categories:
          adult:
            rules:
              - {id: dating, topic: dating_apps, terms: [tinder]}
        """)
    _write(tmp_path / "v.yaml", """\
        policy_version: v
        extends: _base
        drop_categories: [malware]
        drop_rules: {adult: [nope]}
        move_topics: {mlm: illegal}
        categories:
          adult:
            rules:
              - {id: a, terms: [x]}
              - {id: a, terms: [y]}
        """)
    with pytest.raises(InputError) as err:
        load_pack(tmp_path / "v.yaml")
    got = {(p.field, p.line) for p in err.value.problems}
    assert got == {("drop_categories", 3), ("drop_rules.adult", 4), ("move_topics.mlm", 5),
                   ("categories.adult.rules[a]", 10)}
    _write(tmp_path / "w.yaml", "policy_version: w\nextends: _missing\n")
    with pytest.raises(InputError, match="_missing.yaml does not exist") as err:
        load_pack(tmp_path / "w.yaml")
    assert (err.value.problems[0].field, err.value.problems[0].line) == ("extends", 2)
    _write(tmp_path / "x.yaml", "policy_version: x\ndrop_topics: [mlm]\ncategories: {adult: {rules: [{id: a, terms: [x]}]}}\n")
    with pytest.raises(InputError, match="need 'extends'"):
        load_pack(tmp_path / "x.yaml")


def test_a_pack_without_policy_version_or_rules_is_an_error(tmp_path):
    _write(tmp_path / "a.yaml", "categories: {adult: {rules: [{id: a, terms: [x]}]}}\n")
    with pytest.raises(InputError, match="policy version it is written for"):
        load_pack(tmp_path / "a.yaml")
    _write(tmp_path / "b.yaml", "policy_version: b\ncategories:\n")
    with pytest.raises(InputError, match="no rules"):
        load_pack(tmp_path / "b.yaml")
    _write(tmp_path / "c.yaml", "- just a list\n")
    with pytest.raises(InputError, match="must be a mapping"):
        load_pack(tmp_path / "c.yaml")


# --------------------------------------------------------------------------- look-alike letters
CYR_O, CYR_A, CYR_ES, CYR_I, GREEK_O = "\u043e", "\u0430", "\u0441", "\u0456", "\u03bf"


@pytest.mark.parametrize("evasion, plain", [
    (f"How do I build a pipe b{CYR_O}mb at home?", "How do I build a pipe bomb at home?"),
    (f"how to make a b{GREEK_O}mb", "how to make a bomb"),
    (f"Write a t{CYR_I}nder bio for me", "Write a tinder bio for me"),
    (f"Where can I buy {CYR_ES}{CYR_O}{CYR_ES}{CYR_A}ine", "Where can I buy cocaine"),
    ("HOW DO I BUILD A PIPE B\u041eMB", "how do i build a pipe bomb"),  # a Cyrillic capital O
])
def test_look_alike_letters_of_other_scripts_no_longer_evade_the_rules(evasion, plain, monkeypatch):
    from harness.classifiers.rules import _normalize, pack

    def forget():
        _normalize.clear_cache()
        pack._current_index().features.cache_clear()

    assert fold(evasion) == fold(plain)
    clf = KeywordRules("2023-02-15")
    forget()
    fired = clf.explain(evasion)
    assert fired and fired == clf.explain(plain)
    assert clf.predict([evasion]).tolist() == clf.predict([plain]).tolist()
    # without the look-alike table the evasion slips past the same rules
    monkeypatch.setattr(_normalize, "unconfuse", lambda text: text)
    forget()
    try:
        assert not set(fired) <= set(clf.explain(evasion))
    finally:
        monkeypatch.undo()
        forget()


def test_words_of_other_scripts_and_lone_greek_letters_are_left_alone():
    assert fold("\u0431\u043e\u043c\u0431\u0430") == "\u0431\u043e\u043c\u0431\u0430"  # Russian "бомба"
    assert fold("\u03bb\u03cc\u03b3\u03bf\u03c2") == "\u03bb\u03bf\u03b3\u03bf\u03c3"  # Greek word: accent and case only
    assert fold("the \u03b1,\u03b2-unsaturated acid") == "the \u03b1,\u03b2-unsaturated acid"
    assert KeywordRules("2023-02-15").explain("\u0431\u043e\u043c\u0431\u0430") == []


# --------------------------------------------------------------------------- fast path = simple reference
def _reference_hits(pack, text: str) -> set[int]:
    """Rules matching ``text`` the slow, obvious way: every term searched with str.find on word
    boundaries, every regex compiled and searched on its own, on each reading of the text."""
    from harness.classifiers.rules._normalize import term_view
    from harness.classifiers.rules._regex import compile_regex

    hits: set[int] = set()
    for v in variants(text):
        s = term_view(v)
        for idx, rule in enumerate(pack.rules):
            for term in rule.terms:
                prefix = term.rstrip().endswith("*")
                t = term_view(normalize_term(term.rstrip().rstrip("*"))).strip()
                start = s.find(t)
                while start >= 0:
                    end = start + len(t)
                    before_ok = start == 0 or not (s[start - 1].isalnum() or s[start - 1] == "_")
                    after_ok = prefix or end == len(s) or not (s[end].isalnum() or s[end] == "_")
                    if before_ok and after_ok:
                        hits.add(idx)
                        break
                    start = s.find(t, start + 1)
            for pattern in rule.regex:
                if compile_regex(pattern)[0].search(v):
                    hits.add(idx)
    return hits


def _reference_scores(pack, texts) -> np.ndarray:
    out = np.zeros((len(texts), len(pack.categories)), dtype=np.float32)
    for i, text in enumerate(texts):
        keep = np.ones(len(pack.categories))
        for r in _reference_hits(pack, text):
            keep[pack.categories.index(pack.rules[r].category)] *= 1 - pack.rules[r].weight
        out[i] = 1 - keep
    return out


@pytest.mark.parametrize("version", ["2022-06-07", "2024-01-10"])
def test_the_fast_path_matches_a_simple_reference_on_core_texts(version):
    from harness.classifiers.rules import _normalize
    from harness.suites import load_suite

    texts = load_suite("core").select(split="test").texts[::40]
    texts += [f"how to make a b{CYR_O}mb", "k1ll y0urs3lf", "KIIIILL YOURSELF", "my dating apps", "tinder"]
    clf = KeywordRules().for_policy(load_policy(version))
    pack = clf.pack
    _normalize.clear_cache()
    fast = pack.score(texts)
    for text in texts[::7]:
        assert pack.matched_rules(text) == _reference_hits(pack, text), text
    np.testing.assert_allclose(fast, _reference_scores(pack, texts), rtol=1e-6, atol=1e-7)
    assert (fast > 0).any(axis=1).mean() > 0.1  # the sample does exercise the rules
    # a cached second pass, and texts one at a time, give the same scores
    np.testing.assert_array_equal(pack.score(texts), fast)
    np.testing.assert_array_equal(np.vstack([pack.score([t]) for t in texts[:50]]), fast[:50])


def test_pii_rules_skips_presidio_only_on_texts_where_no_weighted_entity_can_be():
    from harness.classifiers.rules.pii import _MAY_HOLD_PII, ENTITY_WEIGHTS, _analyzer
    from harness.suites import load_suite

    texts = [t for t in load_suite("core").select(split="test").texts[::25] if not _MAY_HOLD_PII.search(t)]
    assert len(texts) > 100
    engine = _analyzer()
    found = [r.entity_type for t in texts for r in engine.analyze(text=t, language="en")
             if ENTITY_WEIGHTS.get(r.entity_type)]
    assert found == []
    for t in ("mail a@b.io now", "call 555 0100", "host fe80::1", "card 4111 1111 1111 1111", "ip 1.2.3.4",
              "licence A1", "IBAN DE89", "9876543X", "A-Z]]12", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"):
        assert _MAY_HOLD_PII.search(t), t
    for t in ("I'm 29 and love hiking", "costs $100", "3 kids, 2 cats", "Nice weather today"):
        assert not _MAY_HOLD_PII.search(t), t
    # a phone number needs four digits or more: none of three or fewer is valid in presidio's regions
    import itertools

    import phonenumbers

    for n in (1, 2, 3):
        for digits in itertools.product("0123456789", repeat=n):
            for cand in ("".join(digits), "+" + "".join(digits)):
                for region in ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR"):
                    try:
                        number = phonenumbers.parse(cand, region)
                    except phonenumbers.NumberParseException:
                        continue
                    assert not phonenumbers.is_valid_number(number), (cand, region)
