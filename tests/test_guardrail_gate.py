"""The pytest plugin, used the way a user gates their guardrail in CI."""

import pytest


# --- as a user writes it -------------------------------------------------------------------
def test_tfidf_health_recall_holds(policybench):
    policybench.assert_metric("tfidf-logreg", suite="smoke", policy="2023-02-15",
                              category="health", metric="recall", at_least=0.6)


@pytest.mark.policybench(classifier="keyword-rules", suite="core", policy="2023-02-15",
                         category="adult", metric="precision", at_least=0.4, use_ci_lower=True)
def test_keyword_rules_adult_precision(policybench_result, policybench):
    # The fixture has already failed the test unless the CI lower bound is >= 0.4; what is left to
    # check is that the marker's arguments reached the gate, use_ci_lower included.
    r = policybench_result
    assert (r.classifier, r.suite, r.policy, r.category, r.metric, r.threshold) == (
        "keyword-rules", "core", "2023-02-15", "adult", "precision", 0.4)
    assert "required CI lower bound >= 0.4" in r.message
    # a bound between the CI's lower end and the value passes on the value, fails on the lower end
    assert r.low < r.value
    gate = dict(suite="core", policy="2023-02-15", category="adult", metric="precision",
                at_least=(r.low + r.value) / 2)
    assert policybench.evaluate("keyword-rules", **gate).passed
    assert not policybench.evaluate("keyword-rules", use_ci_lower=True, **gate).passed


# --- what a failing gate looks like ---------------------------------------------------------
def test_failing_gate_is_readable(pytester):
    pytester.makepyfile(test_user_gate='''
        def test_adult_recall(policybench):
            policybench.assert_metric("keyword-rules", suite="smoke", policy="2023-02-15",
                                      category="adult", metric="recall", at_least=0.99,
                                      use_ci_lower=True, n_resamples=200)
    ''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "addopts=")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "recall = 0." in text and "95% CI" in text
    assert "required CI lower bound >= 0.99" in text
    assert "worst misses" in text and "score=" in text


def test_gate_passes_and_fails_on_the_number(policybench):
    ok = policybench.evaluate("tfidf-logreg", suite="smoke", policy="2023-02-15", category="health",
                              metric="recall", at_least=0.5, n_resamples=200)
    bad = policybench.evaluate("tfidf-logreg", suite="smoke", policy="2023-02-15", category="illegal",
                               metric="fpr", at_most=0.0, n_resamples=200)
    assert ok.passed and ok.value >= 0.5
    assert bad.value > 0 and not bad.passed
    assert "worst false alarms" in bad.message and "score=" in bad.message
