"""The prediction half of a run: suite + classifiers + policy versions → predictions.

    resolve (suite split, policies, classifiers) ─► bind (a policy-conditioned classifier once
    per version it supports) ─► predict (cached per classifier binding and text)

Scoring (:mod:`harness.scoring`) and the run record and store (:mod:`harness.results`) are the
layers above; :func:`harness.run_benchmark` chains the three.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError, PolicyBenchError, Problem
from harness.options import RunOptions
from harness.paths import cache_dir
from harness.policies import Policy, list_versions, load_policy
from harness.runner.cache import PredictionCache, classifier_key, config_hash
from harness.runner.executors import make_compute
from harness.runner.manifest import utcnow
from harness.runner.predict import Predictions, ProgressCounter, run_classifier, shared_work
from harness.suites import Suite, load_suite

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Binding:
    """One classifier as run: bound to a policy version (``policy_id``) or unbound (``""``).

    ``spec`` is the registry name it was built from (lets remote executors rebuild it).
    """

    classifier: Any
    policy_id: str = ""
    spec: str | None = None

    @property
    def name(self) -> str:
        return str(getattr(self.classifier, "name", type(self.classifier).__name__))

    @property
    def label(self) -> str:
        return self.name + (f"@{self.policy_id}" if self.policy_id else "")

    @property
    def config(self) -> dict[str, Any]:
        cfg = getattr(self.classifier, "config", None)
        return dict(cfg()) if callable(cfg) else {}

    @property
    def key(self) -> str:
        """The prediction-cache key: name, version, configuration and binding."""
        return classifier_key(self.name, str(getattr(self.classifier, "version", "0")), self.config, self.policy_id)


@dataclass
class Predicted:
    """What the prediction step produced, ready to be scored and recorded."""

    suite: Suite                    # the examples predicted (split and limit applied)
    full_suite: Suite               # the suite they were drawn from (its hash identifies the data)
    policies: list[Policy]
    predictions: list[Predictions]  # one per binding, in run order
    config_hashes: dict[str, str]   # cache key → sha of the classifier's configuration
    skipped: list[dict[str, str]] = field(default_factory=list)
    started: str = ""


def resolve_policies(policies: Sequence[str | Path | Policy] | None) -> list[Policy]:
    """Policy objects for ids, files or objects; every built-in version when empty."""
    if not policies:
        return [load_policy(v) for v in list_versions()]
    return [p if isinstance(p, Policy) else load_policy(p) for p in policies]


def resolve_classifiers(classifiers: Sequence[Any] | None) -> list[Binding]:
    """Unbound :class:`Binding` s for registry names or objects; the default field when empty."""
    from harness.classifiers import registry

    out = []
    for c in list(classifiers) if classifiers else list(registry.DEFAULT_FIELD):
        if isinstance(c, str):
            out.append(Binding(registry.get_classifier(c), spec=c))
        elif not hasattr(c, "predict") or not hasattr(c, "labels"):
            raise InputError(Problem(f"{c!r} has no predict() and labels", field="classifier"))
        else:
            out.append(Binding(c))
    return out


def select_examples(suite: str | Path | Suite, opts: RunOptions) -> tuple[Suite, Suite]:
    """``(examples to run, full suite)``: the suite's split, cut to ``opts.limit``."""
    full = suite if isinstance(suite, Suite) else load_suite(suite)
    s = full.select(split=opts.split) if opts.split else full
    if opts.limit:
        s = Suite.from_examples(s.name, s.examples[: opts.limit], version=s.version, card=s.card)
        s.path = full.path
    if len(s) == 0:
        raise InputError(Problem(f"suite {full.name!r} has no examples in split {opts.split!r}", field="split"))
    return s, full


def bind(b: Binding, policies: Sequence[Policy], skipped: list[dict[str, str]]) -> list[Binding]:
    """A policy-conditioned classifier bound to every version it supports (the others recorded
    in ``skipped`` with the reason); any other classifier as it is."""
    if not getattr(b.classifier, "policy_conditioned", False):
        return [b]
    out = []
    for p in policies:
        try:
            out.append(Binding(b.classifier.for_policy(p), p.id, b.spec))
        except PolicyBenchError as exc:
            skipped.append({"classifier": b.name, "policy_version": p.id,
                            "reason": str(exc).splitlines()[-1].strip()})
    return out


def predict_all(
    suite: str | Path | Suite,
    classifiers: Sequence[Any] | None = None,
    policies: Sequence[str | Path | Policy] | None = None,
    *,
    options: RunOptions | None = None,
    cache_root: Path | None = None,
    progress: Progress | None = None,
) -> Predicted:
    """Predict every classifier binding over the selected examples (cached per binding and text)."""
    opts = options or RunOptions()
    started = utcnow()
    pols = resolve_policies(policies)
    s, full = select_examples(suite, opts)
    unbound = resolve_classifiers(classifiers)
    root = Path(cache_root) if cache_root else cache_dir() / "predictions"
    texts = s.texts
    compute_factory = make_compute(opts.executor, opts.scheduler)
    out = Predicted(suite=s, full_suite=full, policies=pols, predictions=[], config_hashes={}, started=started)
    try:
        with shared_work(b.classifier for b in unbound):  # e.g. each text embedded once for all MiniLM systems
            for b in (bb for u in unbound for bb in bind(u, pols, out.skipped)):
                tick = ProgressCounter(b.label, len(texts), progress)
                if progress:
                    progress(b.label, 0, len(texts))
                compute = compute_factory(b.classifier, b.spec, b.policy_id) if compute_factory else None
                pred = run_classifier(b.classifier, texts, PredictionCache(root, b.key, read=opts.use_cache),
                                      batch_size=opts.batch_size, latency_sample=opts.latency_sample,
                                      on_batch=tick, compute=compute)
                pred.binding = b.policy_id
                out.predictions.append(pred)
                out.config_hashes[pred.key] = config_hash(b.config)
    finally:
        if compute_factory is not None:
            compute_factory.close()
    return out
