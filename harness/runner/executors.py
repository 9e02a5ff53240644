"""Executors: where prediction batches are computed.

``local`` computes in this process, in order. ``dask`` spreads the batches (the
(classifier, suite shard) work items) over a dask.distributed cluster — a ``LocalCluster``
when no scheduler address is given. Results come back to this process, which commits each
batch to the prediction cache as it arrives, so a killed run resumes the same way with either
executor, and both give identical predictions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

EXECUTORS = ("local", "dask")

_WORKER_CLASSIFIERS: dict[tuple, Any] = {}


def _worker_classifier(clf: Any, spec: str | None, binding: str) -> Any:
    """Rebuild (once per worker process) a registry classifier from its name and binding."""
    if spec is None:
        return clf
    key = (spec, binding)
    if key not in _WORKER_CLASSIFIERS:
        from harness.classifiers import registry
        from harness.policies import load_policy
        from harness.runner.predict import warm_up

        obj: Any = registry.get_classifier(spec)
        if binding:
            obj = obj.for_policy(load_policy(binding))
        warm_up(obj)
        _WORKER_CLASSIFIERS[key] = obj
    return _WORKER_CLASSIFIERS[key]


def _remote_batch(clf: Any, spec: str | None, binding: str, texts: list[str], n_single: int) -> dict:
    from harness.runner.predict import predict_batch

    return predict_batch(_worker_classifier(clf, spec, binding), texts, n_single=n_single)


class DaskCompute:
    """A factory of ``compute`` hooks backed by one dask.distributed client."""

    def __init__(self, scheduler: str | None = None, *, n_workers: int = 2):
        from harness.errors import PolicyBenchError

        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise PolicyBenchError(f"the dask executor needs dask[distributed]: {exc}") from exc
        self._cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
        else:
            self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)

    def __call__(self, clf: Any, spec: str | None, binding: str) -> Callable:
        from dask.distributed import as_completed

        ship = None if spec else clf

        def compute(work: list[tuple[int, list[str]]]) -> Iterator[tuple[int, dict]]:
            futures = {}
            for j, (n_single, texts) in enumerate(work):
                fut = self.client.submit(_remote_batch, ship, spec, binding, texts, n_single, pure=False)
                futures[fut] = j
            for fut in as_completed(list(futures)):
                yield futures[fut], fut.result()

        return compute

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_compute(executor: str, scheduler: str | None = None) -> DaskCompute | None:
    """``None`` for the local executor, else a :class:`DaskCompute`."""
    from harness.errors import InputError, Problem

    if executor == "local":
        return None
    if executor == "dask":
        return DaskCompute(scheduler)
    raise InputError(Problem(f"unknown executor {executor!r}; choose one of {EXECUTORS}", field="executor"))
