"""What the hosted adapters share: settings from the environment, per-item errors, endpoint info.

A hosted adapter turns texts into requests, sends them with a :class:`JsonClient` and turns
each reply into a row of scores. An item whose request failed, timed out or whose answer is
malformed (or scored outside [0, 1]) gets a row of zeros and an error message
(:meth:`HostedClassifier.predict_with_errors`); :meth:`HostedClassifier.predict` raises
:class:`HostedItemErrors` when any item failed.

Request options (timeout, attempts, the run's deadline) come from the ``options`` argument, else
from ``POLICYBENCH_TIMEOUT``, ``POLICYBENCH_MAX_ATTEMPTS`` and ``POLICYBENCH_DEADLINE`` (which
``policybench run --timeout/--max-attempts/--deadline`` set); the deadline's clock starts when
the classifier is built and is shared by its policy-bound copies.

Everything an adapter keeps from a server (error messages, the reported model and system
fingerprint, headers) is redacted before it is stored or shown: the key's value, bearer tokens
and ``sk-`` keys become ``***``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, check_scores
from harness.classifiers.hosted._http import (
    Deadline,
    HttpOptions,
    JsonClient,
    Reply,
    RequestFailed,
    check_key,
    key_problem,
    public_url,
    redact,
    redact_value,
)
from harness.errors import ClassifierError


class MalformedAnswer(ValueError):
    """An endpoint answered, but not in the expected form (wrong schema, unparseable verdict)."""


class HostedItemErrors(ClassifierError):
    """Some items failed; ``scores`` (zeros on failed rows) and ``errors`` are kept for the caller."""

    def __init__(self, who: str, scores: np.ndarray, errors: list[str | None]):
        bad = [i for i, e in enumerate(errors) if e is not None]
        first = errors[bad[0]] if bad else ""
        super().__init__(
            f"classifier {who!r}: {len(bad)} of {len(errors)} items failed; first (item {bad[0]}): {first}"
        )
        self.scores = scores
        self.errors = errors


class _EnvSetting:
    """Class-level description of the environment variables an adapter reads."""

    def __init__(self, base_url: str, model: str | None, api_key: str | None, *,
                 key_required: bool, default_base_url: str | None = None,
                 default_model: str | None = None):
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.key_required = key_required
        self.default_base_url = default_base_url
        self.default_model = default_model


class _hybridmethod:
    """A method that works on the class (checks the environment) and on an instance."""

    def __init__(self, func: Callable[..., Any]):
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: type) -> Callable[..., Any]:
        target = obj if obj is not None else owner
        return lambda *a, **k: self.func(target, *a, **k)


class HostedClassifier(Classifier):
    """Base of the hosted adapters (not registered itself).

    Subclasses set ``env`` (an :class:`_EnvSetting`), ``labels``/``taxonomy`` and implement
    ``_score(texts) -> (scores, errors)``.
    """

    env: _EnvSetting
    version = "1"
    batch_size = 32
    requirements = ("httpx",)

    def __init__(self, *, model: str | None = None, base_url: str | None = None,
                 options: HttpOptions | None = None, concurrency: int | None = None,
                 timeout: float | None = None, max_attempts: int | None = None,
                 deadline: float | None = None):
        e = self.env
        self.model = model or (os.environ.get(e.model) if e.model else None) or e.default_model
        self.base_url = (base_url or os.environ.get(e.base_url) or e.default_base_url or "").rstrip("/")
        check_key(e.api_key)  # a key no header can carry: a configuration error now, before anything runs
        self.options = (options if options is not None else HttpOptions.from_env()).with_overrides(
            concurrency=concurrency, read_timeout=timeout, max_attempts=max_attempts, deadline=deadline)
        #: The run's deadline: starts now, shared with the copies made by ``for_policy``.
        self._deadline = Deadline(self.options.deadline)
        self._client: JsonClient | None = None
        self._fresh_state()

    # -- availability and identity ---------------------------------------------------------
    @_hybridmethod
    def available(target: Any) -> tuple[bool, str]:  # type: ignore[override]  # class and instance
        """``(True, "")`` when the endpoint, model and (if required) key are configured."""
        e = target.env
        inst = not isinstance(target, type)
        base = target.base_url if inst else (os.environ.get(e.base_url) or e.default_base_url)
        model = target.model if inst else ((os.environ.get(e.model) if e.model else None) or e.default_model)
        missing = []
        if not base:
            missing.append(e.base_url)
        if not model and e.model:
            missing.append(e.model)
        if e.key_required and e.api_key and not os.environ.get(e.api_key):
            missing.append(e.api_key)
        if missing:
            return False, f"set the environment variable{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        bad_key = key_problem(e.api_key)
        if bad_key is not None:
            return False, str(bad_key)
        return True, ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={public_url(self.base_url)!r})"

    def config(self) -> dict[str, Any]:
        """Settings that change predictions: adapter, model, endpoint (never the key)."""
        return {"adapter": self.name, "model": self.model, "base_url": public_url(self.base_url)}

    def endpoint_info(self) -> dict[str, Any]:
        """What the endpoint reported (model, system_fingerprint) and request counters."""
        with self._seen_lock:
            seen = {k: sorted(v) for k, v in self._seen.items()}
        stats = dict(self._closed_stats)
        if self._client is not None:
            for k, v in self._client.stats.items():
                stats[k] = stats.get(k, 0) + v

        def one(values: list[str]) -> str | list[str] | None:
            return None if not values else values[0] if len(values) == 1 else values

        o = self.options
        return self._redact_all({
            "adapter": self.name,
            "base_url": public_url(self.base_url),
            "requested_model": self.model,
            "reported_model": one(seen["model"]),
            "system_fingerprint": one(seen["system_fingerprint"]),
            **stats,
            "timeout_s": o.read_timeout,
            "max_attempts": o.max_attempts,
            "deadline_s": o.deadline,
        })

    # -- requests ----------------------------------------------------------------------------
    def client(self) -> JsonClient:
        """The HTTP client; a key that cannot be sent is an InputError naming its variable."""
        check_key(self.env.api_key)  # before any request, every time: the key is read at send time
        if self._client is None:
            ok, why = self.available()
            if not ok:
                raise ClassifierError(f"classifier {self.name!r} is not configured: {why}")
            self._client = JsonClient(self.base_url, api_key_env=self.env.api_key, options=self.options,
                                      deadline=self._deadline)
        return self._client

    def close(self) -> None:
        """Close the HTTP connections (also done when the classifier is garbage-collected)."""
        client, self._client = self._client, None
        if client is not None:
            for k, v in client.stats.items():
                self._closed_stats[k] = self._closed_stats.get(k, 0) + v
            client.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def _fresh_state(self) -> None:
        """Own client and counters (for a copy made by ``for_policy``)."""
        self._client = None
        self._closed_stats = {"requests": 0, "attempts": 0, "retries": 0, "failed": 0}
        self._seen_lock = threading.Lock()
        self._seen: dict[str, set[str]] = {"model": set(), "system_fingerprint": set()}

    def _note(self, reply: Reply) -> None:
        body = reply.body if isinstance(reply.body, dict) else {}
        with self._seen_lock:
            for key in ("model", "system_fingerprint"):
                if isinstance(body.get(key), str) and body[key]:
                    self._seen[key].add(self._redact(body[key])[:200])

    def _redact(self, text: str) -> str:
        return redact(text, secret_envs=[self.env.api_key] if self.env.api_key else [])

    def _redact_all(self, value: Any) -> Any:
        return redact_value(value, secret_envs=[self.env.api_key] if self.env.api_key else [])

    def _collect(self, replies: Sequence[Reply | RequestFailed],
                 parse: Callable[[Any], np.ndarray]) -> tuple[np.ndarray, list[str | None]]:
        """Parse each reply into a score row; a failure or a malformed answer is an error."""
        scores = np.zeros((len(replies), len(self.labels)), dtype=np.float32)
        errors: list[str | None] = [None] * len(replies)
        for i, reply in enumerate(replies):
            if isinstance(reply, RequestFailed):
                errors[i] = str(reply)
                continue
            self._note(reply)
            try:
                scores[i] = parse(reply.body)
            except MalformedAnswer as exc:
                errors[i] = self._redact(f"malformed answer: {exc}")
        return scores, errors

    def _post_each(self, path: str, bodies: Sequence[Any],
                   parse: Callable[[Any], np.ndarray]) -> tuple[np.ndarray, list[str | None]]:
        """One request per item: POST each body, parse each reply into a score row."""
        return self._collect(self.client().post_many(path, bodies), parse)

    # -- the protocol ------------------------------------------------------------------------
    def _score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:  # pragma: no cover
        raise NotImplementedError

    def predict_with_errors(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        """Scores ``(len(texts), len(labels))`` float32 and one error message (or None) per item.

        A failed item's row is all zeros; the other items are unaffected.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32), []
        scores, errors = self._score(texts)
        scores = np.array(scores, dtype=np.float32)  # a copy: failed or invalid rows are zeroed below
        errors = [None if e is None else self._redact(str(e)) for e in errors]
        if scores.shape == (len(texts), len(self.labels)):
            for i in np.flatnonzero(~np.all(np.isfinite(scores) & (scores >= 0) & (scores <= 1), axis=1)):
                if errors[i] is None:  # an answer parsed into an impossible score: that item failed
                    j = int(np.flatnonzero(~(np.isfinite(scores[i]) & (scores[i] >= 0) & (scores[i] <= 1)))[0])
                    errors[i] = (f"malformed answer: score {float(scores[i, j])!r} for label "
                                 f"{self.labels[j]!r} is not in [0, 1]")
                scores[i] = 0.0
            scores[[e is not None for e in errors]] = 0.0
        return check_scores(scores, len(texts), len(self.labels), who=self.name), errors

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Scores for ``texts``; raises :class:`HostedItemErrors` if any item failed."""
        scores, errors = self.predict_with_errors(texts)
        if any(e is not None for e in errors):
            raise HostedItemErrors(self.name, scores, errors)
        return scores
