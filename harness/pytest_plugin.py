"""pytest plugin (entry point ``pytest11``): gate your CI on a classifier's metric.

Use the ``policybench`` fixture in your own tests::

    def test_self_harm_recall(policybench):
        policybench.assert_metric(
            "my-guardrail",                 # a registry name or any object with labels + predict()
            suite="core", category="physical_harm", policy="2025-10-29",  # or a policy file
            metric="recall", at_least=0.9, use_ci_lower=True,
        )

or the marker, which runs the check as the test body's precondition::

    @pytest.mark.policybench(classifier="keyword-rules", suite="smoke", policy="2023-02-15",
                             category="adult", metric="recall", at_least=0.5)
    def test_adult_gate(policybench_result):
        assert policybench_result.value >= 0.5

A failure reads: the metric, its CI, the threshold, and the worst misses (positives with the
lowest scores) or false alarms (negatives with the highest), with their texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass
class GateResult:
    """The outcome of one metric check."""

    classifier: str
    suite: str
    policy: str
    category: str
    metric: str
    value: float
    low: float
    high: float
    threshold: float
    passed: bool
    message: str


class PolicyBenchGate:
    """Runs (cached) benchmarks and checks metrics; returned by the ``policybench`` fixture."""

    def __init__(self, cache_root=None):
        self.cache_root = cache_root

    def evaluate(self, classifier: Any, *, suite: str = "core", policy: Any, category: str,
                 metric: str = "recall", split: str = "test", threshold: float = 0.5,
                 n_resamples: int = 1000, seed: int = 0, restricted_as: str = "violation",
                 at_least: float | None = None, at_most: float | None = None,
                 use_ci_lower: bool = False, n_examples: int = 5) -> GateResult:
        from harness.metrics import METRICS
        from harness.results.benchmark import run_benchmark
        from harness.runner import RunOptions
        from harness.scoring import ErrorKind, ScoredView, worst_errors

        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        opts = RunOptions(split=split, threshold=threshold, n_resamples=n_resamples, seed=seed,
                          restricted_as=restricted_as, latency_sample=0)
        res = run_benchmark(suite, [classifier], [policy], options=opts, cache_root=self.cache_root)
        # ``policy`` is a version id, a policy file or a Policy: results name it by its id
        policy_id = res.policies[0].id
        rows = res.metrics[res.metrics["category"] == category]
        if rows.empty:
            cats = sorted(res.metrics["category"].unique())
            raise ValueError(f"policy {policy_id} has no category {category!r}; it has {cats}")
        row = rows.iloc[0]
        value = float(row[metric])
        low = float(row.get(f"{metric}_low", np.nan))
        high = float(row.get(f"{metric}_high", np.nan))
        compare = low if (use_ci_lower and at_least is not None and low == low) else value
        passed = True
        bound = at_least if at_least is not None else at_most
        if at_least is not None and not compare >= at_least:
            passed = False
        if at_most is not None and not (high if use_ci_lower and high == high else value) <= at_most:
            passed = False
        name = str(row["classifier"])
        head = (f"{name} on {suite}/{category} under policy {policy_id}: {metric} = {value:.3f} "
                f"(95% CI {low:.3f}–{high:.3f}, n_positive={int(row.get('n_positive', 0))}, "
                f"n_negative={int(row.get('n_negative', 0))})")
        if at_least is not None:
            head += f"; required {'CI lower bound' if use_ci_lower else 'value'} >= {at_least}"
        if at_most is not None:
            head += f"; required <= {at_most}"
        lines = [head]
        if not passed:
            kind: ErrorKind = "misses" if metric in ("recall", "f1", "average_precision", "roc_auc") else "false_alarms"
            view = ScoredView(res.suite, res.policies[0], restricted_as)
            worst = worst_errors(view, res.predictions[0], category, kind=kind, threshold=threshold, n=n_examples)
            lines.append(f"worst misses (positives with the lowest {category} scores):" if kind == "misses" else
                         f"worst false alarms (negatives with the highest {category} scores):")
            for r in worst.itertuples():
                t = r.text.replace("\n", " ")
                lines.append(f"  score={r.score:.3f}  {t[:160]}{'…' if len(t) > 160 else ''}")
        return GateResult(name, suite, policy_id, category, metric, value, low, high,
                          float(bound) if bound is not None else float("nan"), passed, "\n".join(lines))

    def assert_metric(self, classifier: Any, **kwargs: Any) -> GateResult:
        """Like :meth:`evaluate`, but fails the test with a readable message when the gate fails."""
        result = self.evaluate(classifier, **kwargs)
        if not result.passed:
            pytest.fail(result.message, pytrace=False)
        return result


@pytest.fixture
def policybench() -> PolicyBenchGate:
    """A :class:`PolicyBenchGate` (uses the project prediction cache unless POLICYBENCH_CACHE is set)."""
    return PolicyBenchGate()


@pytest.fixture
def policybench_result(request, policybench) -> GateResult:
    """Evaluates the test's ``@pytest.mark.policybench(...)`` marker; fails the test if the gate fails."""
    marker = request.node.get_closest_marker("policybench")
    if marker is None:
        raise pytest.UsageError("policybench_result needs @pytest.mark.policybench(classifier=..., ...)")
    kwargs = dict(marker.kwargs)
    classifier = kwargs.pop("classifier")
    return policybench.assert_metric(classifier, **kwargs)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "policybench(classifier, suite, policy, category, metric, at_least|at_most, use_ci_lower): "
        "gate a test on a classifier's metric under a policy version",
    )
